//! Review capacity: at most so many reviews at once, counting those already
//! booked. A meeting may not overlap a time the bookings already fill. It
//! relaxes by exceeding the capacity, which the review board approves.

use super::Opened;
use crate::{
    explain::rules::{Enforced, Rules},
    grid::Grid,
    presolve::Presolve,
};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange};

pub const WAIVABLE: bool = true;

/// Starts clear of every time the booked reviews fill the capacity.
pub fn allowed(grid: &Grid, problem: &SlotProblem) -> FixedBitSet {
    grid.starts_clear_of(&saturated_ranges(problem))
}

/// What it forbids: the saturated times.
pub fn describe(presolve: &Presolve<'_>) -> ConstraintRef {
    ConstraintRef {
        kind: ConstraintKind::ReviewCapacity,
        id: String::new(),
        ranges: super::clip(presolve, saturated_ranges(presolve.problem)),
    }
}

/// The best ranked slot with the capacity exceeded.
pub fn relaxation(rules: &Rules<'_>, enforced: &Enforced, ranked: &[usize]) -> Option<Opened> {
    let start = rules
        .admitted(enforced, None, ranked.iter().copied())
        .next()?;
    let kind = RelaxationKind::ExceedReviewCapacity {
        extra_reviews: extra_reviews(rules, start),
    };
    Some((kind, start, None))
}

pub fn change_at(rules: &Rules<'_>, start: usize) -> Option<RelaxationKind> {
    (!rules.presolve.capacity_ok.contains(start)).then(|| RelaxationKind::ExceedReviewCapacity {
        extra_reviews: extra_reviews(rules, start),
    })
}

/// The booked reviews overlapping the slot's busiest instant, beyond capacity.
pub fn extra_reviews(rules: &Rules<'_>, start: usize) -> u32 {
    let Some(capacity) = &rules.presolve.problem.review_capacity else {
        return 0;
    };
    let meeting = rules.grid().meeting_range(start);
    let mut instants = vec![meeting.start];
    instants.extend(
        capacity
            .booked
            .iter()
            .map(|b| b.range.start)
            .filter(|t| meeting.contains(*t)),
    );
    let busiest = instants
        .iter()
        .map(|t| {
            capacity
                .booked
                .iter()
                .filter(|b| b.range.contains(*t))
                .count()
        })
        .max()
        .unwrap_or(0);
    u32::try_from(busiest + 1)
        .unwrap_or(u32::MAX)
        .saturating_sub(capacity.max_concurrent)
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
