//! Not-before: the change may not start before this instant. It is the
//! change's own plan, not an exception anyone approves, so it never relaxes.

use super::Opened;
use crate::{grid::Grid, presolve::Presolve};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange};

/// Not-before is never waived, alone or in a combination.
pub const WAIVABLE: bool = false;

/// Starts at or after not-before (the horizon's start when unset).
pub fn allowed(grid: &Grid, problem: &SlotProblem) -> FixedBitSet {
    grid.starts_at_or_after(problem.window().start)
}

/// What it forbids: the horizon before not-before.
pub fn describe(presolve: &Presolve<'_>) -> ConstraintRef {
    let horizon = presolve.problem.horizon;
    let at = presolve.problem.not_before.unwrap_or(horizon.start);
    ConstraintRef {
        kind: ConstraintKind::NotBefore,
        id: String::new(),
        ranges: super::clip(presolve, vec![TimeRange::new(horizon.start, at)]),
    }
}

pub fn relaxation() -> Vec<Opened> {
    Vec::new()
}

pub fn change_at() -> Option<RelaxationKind> {
    None
}
