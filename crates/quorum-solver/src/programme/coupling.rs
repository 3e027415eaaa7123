//! What ties milestones together beyond their dependencies: a person in
//! working-hours roles of two overlapping milestones, and resource capacity
//! counted pointwise over bookings and the plan's own milestones. Both are
//! checked incrementally, for the milestone just placed against those placed
//! before it, because the milestones placed earlier were already consistent.

use super::space::MilestoneSpace;
use crate::presolve::RoleCandidate;
use chrono::{DateTime, Utc};
use quorum_domain::{RoleBasis, TimeRange};

/// Where bookings alone fill a resource's capacity: no milestone using it may
/// overlap these.
pub fn saturated(booked: &[TimeRange], capacity: u32) -> Vec<TimeRange> {
    let profile = Profile::new(booked);
    profile
        .segments
        .iter()
        .filter(|(_, count)| *count >= i64::from(capacity))
        .map(|(range, _)| *range)
        .collect()
}

/// A resource's booked load as a step function: maximal segments of constant,
/// non-zero count, sorted.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub segments: Vec<(TimeRange, i64)>,
}

impl Profile {
    pub fn new(booked: &[TimeRange]) -> Self {
        let mut events: Vec<(DateTime<Utc>, i64)> = booked
            .iter()
            .filter(|b| !b.is_empty())
            .flat_map(|b| [(b.start, 1), (b.end, -1)])
            .collect();
        events.sort();
        let mut segments = Vec::new();
        let mut running = 0;
        for pair in events.windows(2) {
            running += pair[0].1;
            if running > 0 && pair[0].0 < pair[1].0 {
                segments.push((TimeRange::new(pair[0].0, pair[1].0), running));
            }
        }
        Self { segments }
    }

    /// Segments overlapping `range`, clipped to it.
    fn within(&self, range: TimeRange) -> impl Iterator<Item = (TimeRange, i64)> + '_ {
        let first = self.segments.partition_point(|(r, _)| r.end <= range.start);
        self.segments[first..]
            .iter()
            .take_while(move |(r, _)| r.start < range.end)
            .map(move |(r, count)| (clip(*r, range), *count))
    }
}

fn clip(r: TimeRange, to: TimeRange) -> TimeRange {
    TimeRange::new(r.start.max(to.start), r.end.min(to.end))
}

/// Whether one more milestone occupying `range` keeps a resource of
/// `capacity` within it, given its bookings and the plan's milestones already
/// placed on it (`others`).
pub fn capacity_ok(
    profile: &Profile,
    capacity: u32,
    range: TimeRange,
    others: impl Iterator<Item = TimeRange>,
) -> bool {
    let mut events: Vec<(DateTime<Utc>, i64)> = Vec::new();
    for (r, count) in profile.within(range) {
        events.push((r.start, count));
        events.push((r.end, -count));
    }
    for r in others.filter(|r| r.overlaps(&range)) {
        let r = clip(r, range);
        events.push((r.start, 1));
        events.push((r.end, -1));
    }
    // Ends sort before starts at one instant: touching never overlaps.
    events.sort();
    let limit = i64::from(capacity) - 1;
    let mut running = 0;
    let mut i = 0;
    while i < events.len() {
        let at = events[i].0;
        while i < events.len() && events[i].0 == at {
            running += events[i].1;
            i += 1;
        }
        if running > limit && at < range.end {
            return false;
        }
    }
    true
}

/// A milestone placed at a grid start.
pub type Placement = (usize, usize);

/// People in working-hours roles of `m` able to serve at `s`, sorted.
fn working_people(space: &MilestoneSpace<'_>, s: usize) -> Vec<usize> {
    let mut people: Vec<usize> = space
        .roles
        .iter()
        .filter(|(basis, _)| *basis == RoleBasis::WorkingHours)
        .flat_map(|(_, candidates)| candidates.iter().map(|c| c.person))
        .filter(|&p| space.presolve.is_available(p, s))
        .collect();
    people.sort_unstable();
    people.dedup();
    people
}

fn share_anyone(a: &[usize], b: &[usize]) -> bool {
    a.iter().any(|p| b.binary_search(p).is_ok())
}

/// The placements whose role assignments depend on each other: linked when
/// they overlap in time and could both seat someone in a working-hours role.
/// Returns the group of `seed` (an index into `placed`), sorted by milestone.
pub fn coupled_group(
    spaces: &[MilestoneSpace<'_>],
    placed: &[Placement],
    seed: usize,
) -> Vec<Placement> {
    let people: Vec<Vec<usize>> = placed
        .iter()
        .map(|&(m, s)| working_people(&spaces[m], s))
        .collect();
    let ranges: Vec<TimeRange> = placed.iter().map(|&(m, s)| spaces[m].range(s)).collect();
    let mut in_group = vec![false; placed.len()];
    in_group[seed] = true;
    let mut queue = vec![seed];
    while let Some(i) = queue.pop() {
        for j in 0..placed.len() {
            if !in_group[j]
                && ranges[i].overlaps(&ranges[j])
                && share_anyone(&people[i], &people[j])
            {
                in_group[j] = true;
                queue.push(j);
            }
        }
    }
    let mut group: Vec<Placement> = placed
        .iter()
        .zip(&in_group)
        .filter(|(_, g)| **g)
        .map(|(p, _)| *p)
        .collect();
    group.sort_unstable();
    group
}

/// One role to fill in a joint assignment.
struct Seat {
    placement: usize,
    basis: RoleBasis,
    options: Vec<RoleCandidate>,
}

/// The canonical joint assignment of `group`: milestones in request order,
/// roles in request order, each taking the first candidate that leaves the
/// rest fillable — a depth-first search in that order finds exactly that one
/// first. `None` when no assignment exists.
pub fn assign(
    spaces: &[MilestoneSpace<'_>],
    group: &[Placement],
) -> Option<Vec<Vec<RoleCandidate>>> {
    let ranges: Vec<TimeRange> = group.iter().map(|&(m, s)| spaces[m].range(s)).collect();
    let seats: Vec<Seat> = group
        .iter()
        .enumerate()
        .flat_map(|(i, &(m, s))| {
            let space = &spaces[m];
            space
                .roles
                .iter()
                .zip(space.options(s))
                .map(move |((basis, _), options)| Seat {
                    placement: i,
                    basis: *basis,
                    options,
                })
        })
        .collect();
    let shared: Vec<bool> = group
        .iter()
        .map(|&(m, _)| spaces[m].presolve.problem.allow_multiple_roles_per_person)
        .collect();
    let mut chosen: Vec<RoleCandidate> = Vec::with_capacity(seats.len());
    let fits = |chosen: &[RoleCandidate], seat: &Seat, c: RoleCandidate| {
        chosen.iter().zip(&seats).all(|(other, other_seat)| {
            if other.person != c.person {
                return true;
            }
            if other_seat.placement == seat.placement {
                return shared[seat.placement];
            }
            let both_working = seat.basis == RoleBasis::WorkingHours
                && other_seat.basis == RoleBasis::WorkingHours;
            !(both_working && ranges[seat.placement].overlaps(&ranges[other_seat.placement]))
        })
    };
    if !search(&seats, &mut chosen, &fits) {
        return None;
    }
    let mut out = vec![Vec::new(); group.len()];
    for (seat, c) in seats.iter().zip(chosen) {
        out[seat.placement].push(c);
    }
    Some(out)
}

fn search(
    seats: &[Seat],
    chosen: &mut Vec<RoleCandidate>,
    fits: &dyn Fn(&[RoleCandidate], &Seat, RoleCandidate) -> bool,
) -> bool {
    let Some(seat) = seats.get(chosen.len()) else {
        return true;
    };
    for &c in &seat.options {
        if fits(chosen, seat, c) {
            chosen.push(c);
            if search(seats, chosen, fits) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn r(a: u32, b: u32) -> TimeRange {
        let t = |h| Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).unwrap();
        TimeRange::new(t(a), t(b))
    }

    #[test]
    fn capacity_counts_the_plans_own_milestones() {
        let profile = Profile::new(&[r(9, 10)]);
        // One booked review and one placed milestone fill a capacity of 2.
        assert!(capacity_ok(&profile, 2, r(9, 11), std::iter::empty()));
        assert!(!capacity_ok(&profile, 2, r(9, 11), [r(8, 10)].into_iter()));
        // Touching is not overlapping.
        assert!(capacity_ok(&profile, 2, r(10, 11), [r(8, 10)].into_iter()));
        // Two placed milestones that never overlap each other only count once.
        assert!(capacity_ok(
            &Profile::default(),
            2,
            r(9, 13),
            [r(9, 10), r(12, 13)].into_iter()
        ));
        assert!(!capacity_ok(
            &Profile::default(),
            2,
            r(9, 13),
            [r(9, 11), r(10, 12)].into_iter()
        ));
    }

    #[test]
    fn saturated_ranges_are_where_bookings_fill_the_capacity() {
        assert_eq!(saturated(&[r(9, 11), r(10, 12)], 2), vec![r(10, 11)]);
        assert_eq!(
            saturated(&[r(9, 10), r(10, 11)], 2),
            Vec::<TimeRange>::new()
        );
        assert_eq!(
            saturated(&[r(9, 10), r(10, 11)], 1),
            vec![r(9, 10), r(10, 11)]
        );
    }
}
