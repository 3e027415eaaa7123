//! Freeze windows: no change meeting may overlap one. Each relaxes by an
//! override its owner approves.

use super::Opened;
use crate::{
    explain::rules::{Enforced, Rules},
    grid::Grid,
    presolve::Presolve,
};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintKind, ConstraintRef, FreezeWindow, RelaxationKind, SlotProblem};

pub const WAIVABLE: bool = true;

/// Starts clear of one freeze window.
pub fn allowed(grid: &Grid, freeze: &FreezeWindow) -> FixedBitSet {
    grid.starts_clear_of(&[freeze.range])
}

/// Starts clear of every freeze window.
pub fn allowed_by_all(grid: &Grid, problem: &SlotProblem) -> FixedBitSet {
    let ranges: Vec<_> = problem.freeze_windows.iter().map(|f| f.range).collect();
    grid.starts_clear_of(&ranges)
}

pub fn describe(presolve: &Presolve<'_>, f: usize) -> ConstraintRef {
    let freeze = &presolve.problem.freeze_windows[f];
    ConstraintRef {
        kind: ConstraintKind::FreezeWindow,
        id: freeze.id.clone(),
        ranges: vec![freeze.range],
    }
}

fn override_of(rules: &Rules<'_>, f: usize) -> RelaxationKind {
    RelaxationKind::OverrideFreezeWindow {
        id: rules.presolve.problem.freeze_windows[f].id.clone(),
    }
}

/// The best ranked slot with freeze `f` overridden.
pub fn relaxation(
    rules: &Rules<'_>,
    enforced: &Enforced,
    f: usize,
    ranked: &[usize],
) -> Option<Opened> {
    let start = rules
        .admitted(enforced, None, ranked.iter().copied())
        .next()?;
    Some((override_of(rules, f), start, None))
}

pub fn change_at(rules: &Rules<'_>, f: usize, start: usize) -> Option<RelaxationKind> {
    (!rules.freeze_ok(f).contains(start)).then(|| override_of(rules, f))
}
