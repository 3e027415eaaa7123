//! Presolve: every rule of the problem as a set of grid starts it allows, and
//! their intersection, the starts where each role has someone available.
//!
//! This is where almost all the work happens, at about the cost of scanning the
//! buckets once per person: the integer program and the enumerator then only
//! decide who fills which role among the few starts that survive. The per-rule
//! sets are kept so explanations can say which rule rejected which start.

use crate::{SolverError, StopSignal, grid::Grid};
use chrono_tz::Tz;
use fixedbitset::FixedBitSet;
use quorum_domain::{PersonId, SlotProblem, TimeRange, WorkingHours};
use std::collections::HashMap;

/// The starts one person can attend, and why not the others.
#[derive(Debug, Clone)]
pub struct PersonAvailability {
    /// The meeting lies wholly inside their working hours.
    pub working: FixedBitSet,
    /// The meeting overlaps none of their blocking busy time.
    pub free: FixedBitSet,
    /// Both.
    pub available: FixedBitSet,
}

/// One candidate for a role: an index into `problem.people`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleCandidate {
    pub person: usize,
    pub via_delegate: bool,
}

#[derive(Debug, Clone)]
pub struct Presolve<'p> {
    pub problem: &'p SlotProblem,
    pub grid: Grid,
    pub not_before_ok: FixedBitSet,
    pub deadline_ok: FixedBitSet,
    /// Clear of every freeze window.
    pub freeze_ok: FixedBitSet,
    /// Within review capacity at every instant of the meeting.
    pub capacity_ok: FixedBitSet,
    /// Indexed like `problem.people`; `None` for people no role or attendee names.
    pub people: Vec<Option<PersonAvailability>>,
    /// Per role, its candidates in preference order.
    pub roles: Vec<Vec<RoleCandidate>>,
    /// Per optional attendee: person index and weight.
    pub optional: Vec<(usize, i64)>,
    /// Window, freeze and capacity together.
    pub rules_ok: FixedBitSet,
    /// `rules_ok` and every role has at least one candidate available.
    pub candidates: FixedBitSet,
}

impl<'p> Presolve<'p> {
    pub fn run(problem: &'p SlotProblem, stop: &dyn StopSignal) -> Result<Self, SolverError> {
        let grid = Grid::new(
            problem.horizon,
            problem.bucket.seconds(),
            problem.meeting_duration().num_seconds(),
        );
        let window = problem.window();
        let not_before_ok = grid.starts_at_or_after(window.start);
        let deadline_ok = grid.meetings_ending_by(window.end);
        let freeze: Vec<TimeRange> = problem.freeze_windows.iter().map(|f| f.range).collect();
        let freeze_ok = grid.starts_clear_of(&freeze);
        let capacity_ok = grid.starts_clear_of(&saturated_ranges(problem));
        let index: HashMap<&PersonId, usize> = problem
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id, i))
            .collect();
        let roles = role_candidates(problem, &index);
        let optional = problem
            .optional_attendees
            .iter()
            .filter_map(|(id, w)| Some((*index.get(id)?, problem.attendee_weight(*w))))
            .collect::<Vec<_>>();
        let mut people = vec![None; problem.people.len()];
        // Unconfirmed delegates never fill a role, but the explainer asks what
        // confirming them would open, so their availability is kept too.
        let delegates = problem
            .roles
            .iter()
            .flat_map(|r| &r.delegates)
            .filter_map(|d| index.get(&d.person).copied());
        let needed = roles
            .iter()
            .flatten()
            .map(|c| c.person)
            .chain(optional.iter().map(|o| o.0))
            .chain(delegates);
        let mut shared_hours = WorkingHoursCache::default();
        for person in needed {
            if people[person].is_none() {
                stop.check()?;
                people[person] = Some(availability(problem, &grid, person, &mut shared_hours));
            }
        }
        let mut rules_ok = not_before_ok.clone();
        rules_ok.intersect_with(&deadline_ok);
        rules_ok.intersect_with(&freeze_ok);
        rules_ok.intersect_with(&capacity_ok);
        let mut presolve = Self {
            problem,
            grid,
            not_before_ok,
            deadline_ok,
            freeze_ok,
            capacity_ok,
            people,
            roles,
            optional,
            candidates: rules_ok.clone(),
            rules_ok,
        };
        for r in 0..presolve.roles.len() {
            let covered = presolve.role_coverage(r);
            presolve.candidates.intersect_with(&covered);
        }
        Ok(presolve)
    }

    pub fn available(&self, person: usize) -> Option<&FixedBitSet> {
        self.people.get(person)?.as_ref().map(|a| &a.available)
    }

    pub fn is_available(&self, person: usize, start: usize) -> bool {
        self.available(person).is_some_and(|a| a.contains(start))
    }

    /// Starts at which at least one candidate of role `r` is available.
    pub fn role_coverage(&self, r: usize) -> FixedBitSet {
        let mut union = self.grid.empty_set();
        for candidate in &self.roles[r] {
            if let Some(available) = self.available(candidate.person) {
                union.union_with(available);
            }
        }
        union
    }
}

fn role_candidates(
    problem: &SlotProblem,
    index: &HashMap<&PersonId, usize>,
) -> Vec<Vec<RoleCandidate>> {
    problem
        .roles
        .iter()
        .map(|role| {
            role.candidates()
                .filter_map(|(id, via_delegate)| {
                    Some(RoleCandidate {
                        person: *index.get(id)?,
                        via_delegate,
                    })
                })
                .collect()
        })
        .collect()
}

/// Working-hours sets by zone and weekly pattern. Teams share both, and
/// resolving local windows through the zone's rules was half of a solve.
type WorkingHoursCache<'p> = HashMap<(Tz, &'p [WorkingHours]), FixedBitSet>;

fn availability<'p>(
    problem: &'p SlotProblem,
    grid: &Grid,
    person: usize,
    shared_hours: &mut WorkingHoursCache<'p>,
) -> PersonAvailability {
    let who = &problem.people[person];
    let working = shared_hours
        .entry((who.time_zone, who.working_hours.as_slice()))
        .or_insert_with(|| grid.starts_inside(&who.working_intervals(problem.horizon)))
        .clone();
    let free = grid.starts_clear_of(&who.blocking_busy(problem.tentative_is_free));
    let mut available = working.clone();
    available.intersect_with(&free);
    PersonAvailability {
        working,
        free,
        available,
    }
}

/// The time ranges during which booked reviews already fill the capacity, so a
/// new review may not overlap them.
pub fn saturated_ranges(problem: &SlotProblem) -> Vec<TimeRange> {
    let Some(capacity) = &problem.review_capacity else {
        return Vec::new();
    };
    let mut events: Vec<_> = capacity
        .booked
        .iter()
        .filter(|b| !b.range.is_empty())
        .flat_map(|b| [(b.range.start, 1i64), (b.range.end, -1i64)])
        .collect();
    // Ends sort before starts at the same instant: touching reviews never overlap.
    events.sort();
    let limit = i64::from(capacity.max_concurrent);
    let mut running = 0;
    let mut saturated: Vec<TimeRange> = Vec::new();
    let mut open: Option<chrono::DateTime<chrono::Utc>> = None;
    for (at, delta) in events {
        running += delta;
        match (running >= limit, open) {
            (true, None) => open = Some(at),
            (false, Some(since)) => {
                saturated.push(TimeRange::new(since, at));
                open = None;
            }
            _ => {}
        }
    }
    saturated.retain(|r| !r.is_empty());
    saturated
}
