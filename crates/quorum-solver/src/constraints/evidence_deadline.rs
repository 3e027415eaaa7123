//! The evidence deadline: the meeting must end by it. It relaxes by moving
//! the deadline later, which the release owner approves; a deadline that
//! leaves no room after not-before is a plan that contradicts itself and
//! needs re-planning, not an approved exception, so it then does not relax.

use super::Opened;
use crate::{
    explain::rules::{Enforced, Rules},
    grid::Grid,
    presolve::Presolve,
};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange};

pub const WAIVABLE: bool = true;

/// Starts whose meeting ends by the deadline (the horizon's end when unset).
pub fn allowed(grid: &Grid, problem: &SlotProblem) -> FixedBitSet {
    grid.meetings_ending_by(problem.window().end)
}

/// What it forbids: the horizon after the deadline.
pub fn describe(presolve: &Presolve<'_>) -> ConstraintRef {
    let horizon = presolve.problem.horizon;
    let at = presolve.problem.evidence_deadline.unwrap_or(horizon.end);
    ConstraintRef {
        kind: ConstraintKind::EvidenceDeadline,
        id: String::new(),
        ranges: super::clip(presolve, vec![TimeRange::new(at, horizon.end)]),
    }
}

/// The deadline, when moving it is an exception someone can approve.
fn movable(problem: &SlotProblem) -> Option<chrono::DateTime<chrono::Utc>> {
    let due = problem.evidence_deadline?;
    let earliest_end =
        problem.not_before.unwrap_or(problem.horizon.start) + problem.meeting_duration();
    (due >= earliest_end).then_some(due)
}

/// The smallest move of the deadline that opens a slot: the first start in
/// time order without it, and how far past the deadline that meeting ends.
pub fn relaxation(rules: &Rules<'_>, enforced: &Enforced) -> Option<Opened> {
    let due = movable(rules.presolve.problem)?;
    let start = rules
        .admitted(enforced, None, 0..rules.grid().starts)
        .next()?;
    let end = rules.grid().meeting_range(start).end;
    let minutes = ((end - due).num_seconds() + 59).div_euclid(60).max(1);
    Some((
        RelaxationKind::MoveEvidenceDeadline { minutes },
        start,
        None,
    ))
}

pub fn change_at(rules: &Rules<'_>, start: usize) -> Option<RelaxationKind> {
    let due = movable(rules.presolve.problem)?;
    let late = (rules.grid().meeting_range(start).end - due).num_seconds();
    (late > 0).then(|| RelaxationKind::MoveEvidenceDeadline {
        minutes: (late + 59).div_euclid(60),
    })
}
