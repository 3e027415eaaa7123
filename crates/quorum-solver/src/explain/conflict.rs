//! Irreducible conflicts by a deletion filter: drop each constraint in turn
//! and keep it dropped if the rest still admits no slot. Feasibility only grows
//! as constraints go, so what remains admits no slot while dropping any one of
//! its members admits one. Further conflicts are searched among the
//! constraints no earlier conflict used, so the conflicts returned are disjoint.

use super::rules::{Constraint, Enforced, Rules};
use crate::{SolverError, StopSignal};

/// How many disjoint conflicts to look for before saying more may exist.
pub const MAX_CONFLICTS: usize = 5;

pub struct Conflicts {
    pub sets: Vec<Vec<Constraint>>,
    pub more_may_exist: bool,
}

pub fn find(rules: &Rules<'_>, stop: &dyn StopSignal) -> Result<Conflicts, SolverError> {
    let mut within = Enforced::all(rules.presolve);
    let mut sets = Vec::new();
    loop {
        if rules.feasible(&within) {
            return Ok(Conflicts {
                sets,
                more_may_exist: false,
            });
        }
        if sets.len() == MAX_CONFLICTS {
            return Ok(Conflicts {
                sets,
                more_may_exist: true,
            });
        }
        let conflict = deletion_filter(rules, &within, stop)?;
        if conflict.is_empty() {
            // Only the frame (horizon, grid, meeting length) is left, and it
            // admits no start: nothing a constraint could explain.
            return Ok(Conflicts {
                sets,
                more_may_exist: false,
            });
        }
        for &c in &conflict {
            within.set(c, false);
        }
        sets.push(conflict);
    }
}

fn deletion_filter(
    rules: &Rules<'_>,
    within: &Enforced,
    stop: &dyn StopSignal,
) -> Result<Vec<Constraint>, SolverError> {
    let mut current = within.clone();
    for &constraint in &rules.universe {
        if !current.contains(constraint) {
            continue;
        }
        stop.check()?;
        let less = current.without(constraint);
        if !rules.feasible(&less) {
            current = less;
        }
    }
    Ok(rules
        .universe
        .iter()
        .copied()
        .filter(|c| current.contains(*c))
        .collect())
}
