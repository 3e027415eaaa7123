//! Busy time: a person's blocking commitments (tentative ones only when the
//! request says so). It relaxes by the person moving commitments out of the
//! way, which they approve: fewest commitments, then fewest minutes,
//! tentative before busy before out-of-office.

use super::Opened;
use crate::{
    explain::rules::{Enforced, Rules},
    grid::Grid,
    presolve::Presolve,
};
use fixedbitset::FixedBitSet;
use quorum_domain::{
    BusyInterval, BusyStatus, ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange,
};

pub const WAIVABLE: bool = true;

/// Starts whose meeting overlaps none of `person`'s blocking busy time.
pub fn allowed(grid: &Grid, problem: &SlotProblem, person: usize) -> FixedBitSet {
    grid.starts_clear_of(&problem.people[person].blocking_busy(problem.tentative_is_free))
}

/// What it forbids: the person's blocking busy time over the horizon.
pub fn describe(presolve: &Presolve<'_>, person: usize) -> ConstraintRef {
    let problem = presolve.problem;
    let who = &problem.people[person];
    ConstraintRef {
        kind: ConstraintKind::BusyTime,
        id: who.id.0.clone(),
        ranges: super::clip(presolve, who.blocking_busy(problem.tentative_is_free)),
    }
}

/// The slot that asks `person` to move the fewest commitments, then the
/// fewest minutes of them, tentative before busy before out-of-office (then
/// the best ranked), with their busy time waived.
pub fn relaxation(
    rules: &Rules<'_>,
    enforced: &Enforced,
    person: usize,
    ranked: &[usize],
) -> Option<Opened> {
    let (_, start) = rules.cheapest_admitted(enforced, ranked, |meeting| {
        let (intervals, minutes, worst) = commitments_in(rules, person, meeting);
        (!intervals.is_empty()).then_some((intervals.len(), minutes, worst))
    })?;
    let (intervals, minutes, _) = commitments_at(rules, person, start);
    Some((
        RelaxationKind::MoveCommitments {
            person: rules.presolve.problem.people[person].id.clone(),
            intervals,
            minutes,
        },
        start,
        None,
    ))
}

pub fn change_at(rules: &Rules<'_>, person: usize, start: usize) -> Option<RelaxationKind> {
    let (intervals, minutes, _) = commitments_at(rules, person, start);
    (!intervals.is_empty()).then(|| RelaxationKind::MoveCommitments {
        person: rules.presolve.problem.people[person].id.clone(),
        intervals,
        minutes,
    })
}

/// Tentative before busy before out-of-office: the order in which people
/// are asked to move a commitment.
fn status_rank(status: BusyStatus) -> u8 {
    match status {
        BusyStatus::Tentative => 0,
        BusyStatus::Busy => 1,
        BusyStatus::OutOfOffice => 2,
    }
}

/// `person`'s commitments that keep them from the meeting at `start`, their
/// total minutes, and the most serious status among them.
pub fn commitments_at(
    rules: &Rules<'_>,
    person: usize,
    start: usize,
) -> (Vec<BusyInterval>, i64, u8) {
    commitments_in(rules, person, &rules.grid().meeting_range(start))
}

fn commitments_in(
    rules: &Rules<'_>,
    person: usize,
    meeting: &TimeRange,
) -> (Vec<BusyInterval>, i64, u8) {
    let problem = rules.presolve.problem;
    let mut intervals: Vec<BusyInterval> = problem.people[person]
        .busy
        .iter()
        .filter(|b| b.blocks(problem.tentative_is_free) && b.range.overlaps(meeting))
        .copied()
        .collect();
    intervals.sort_by_key(|b| (b.range.start, b.range.end, status_rank(b.status)));
    intervals.dedup();
    let seconds: i64 = intervals
        .iter()
        .map(|b| b.range.duration().num_seconds())
        .sum();
    let worst = intervals
        .iter()
        .map(|b| status_rank(b.status))
        .max()
        .unwrap_or(0);
    (intervals, (seconds + 59).div_euclid(60), worst)
}
