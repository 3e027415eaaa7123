//! Irreducible conflicts by a deletion filter: drop each constraint in turn
//! and keep it dropped if the rest still admits no slot. Feasibility only grows
//! as constraints go, so what remains admits no slot while dropping any one of
//! its members admits one. Further conflicts are searched among the
//! constraints no earlier conflict used, so the conflicts returned are disjoint.
//!
//! Which irreducible conflict the filter finds depends on the order it tries
//! members in: it keeps what it tries last. The universe tries individual
//! calendars first, so request-wide rules stay when they can; and when the
//! first order gives a conflict of more than a few members, the filter runs
//! again with the people in reverse order and the smaller conflict is kept
//! (fewer members are fewer things to read and to change).

use super::{
    incremental::Incremental,
    rules::{Constraint, Enforced, Rules},
};
use crate::{SolverError, StopSignal};

/// How many disjoint conflicts to look for before saying more may exist.
pub const MAX_CONFLICTS: usize = 5;
/// Conflicts this small are not worth a second pass of the filter.
const SMALL_ENOUGH: usize = 3;

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
        let mut conflict = deletion_filter(rules, &within, &rules.universe, stop)?;
        if conflict.len() > SMALL_ENOUGH {
            let other = deletion_filter(rules, &within, &reversed_people(&rules.universe), stop)?;
            if other.len() < conflict.len() {
                conflict = other;
            }
        }
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

/// The universe with each kind's people in reverse order, kinds in place.
fn reversed_people(universe: &[Constraint]) -> Vec<Constraint> {
    let mut order = universe.to_vec();
    let person = |c: &Constraint| c.person().is_some();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len()
            && person(&order[j])
            && std::mem::discriminant(&order[j]) == std::mem::discriminant(&order[i])
        {
            j += 1;
        }
        if j > i {
            order[i..j].reverse();
            i = j;
        } else {
            i += 1;
        }
    }
    order
}

fn deletion_filter(
    rules: &Rules<'_>,
    within: &Enforced,
    order: &[Constraint],
    stop: &dyn StopSignal,
) -> Result<Vec<Constraint>, SolverError> {
    let mut current = Incremental::new(rules, within.clone());
    for &constraint in order {
        if !current.enforced().contains(constraint) {
            continue;
        }
        stop.check()?;
        if !current.feasible_without(constraint) {
            current.drop(constraint);
        }
    }
    Ok(rules
        .universe
        .iter()
        .copied()
        .filter(|c| current.enforced().contains(*c))
        .collect())
}
