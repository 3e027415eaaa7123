//! Role requirements: every required role is filled by one of its pool or
//! a delegate whose authority is confirmed. A role allows the starts at
//! which one of its candidates can attend; it relaxes by the release owner
//! confirming a delegate's authority, which adds a candidate rather than
//! waiving a rule (so it is no change of a combination).

use super::Opened;
use crate::{
    explain::rules::{Enforced, Rules},
    presolve::{Presolve, RoleCandidate},
};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintKind, ConstraintRef, PersonId, RelaxationKind, SlotProblem};
use std::collections::HashMap;

pub const WAIVABLE: bool = false;

/// Per role, its candidates (pool, then confirmed delegates) in preference
/// order, as indices into `problem.people`.
pub fn candidates(
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

/// Starts at which at least one candidate of role `r` is available.
pub fn allowed(presolve: &Presolve<'_>, r: usize) -> FixedBitSet {
    let mut union = presolve.grid.empty_set();
    for candidate in &presolve.roles[r] {
        if let Some(available) = presolve.available(candidate.person) {
            union.union_with(available);
        }
    }
    union
}

pub fn describe(presolve: &Presolve<'_>, r: usize) -> ConstraintRef {
    ConstraintRef {
        kind: ConstraintKind::RoleRequirement,
        id: presolve.problem.roles[r].id.0.clone(),
        ranges: Vec::new(),
    }
}

/// For each unconfirmed delegate of role `r`, the best slot if confirmed.
pub fn relaxations(rules: &Rules<'_>, all: &Enforced, r: usize, ranked: &[usize]) -> Vec<Opened> {
    let problem = rules.presolve.problem;
    let role = &problem.roles[r];
    role.delegates
        .iter()
        .filter(|d| !d.authority_confirmed && !role.pool.contains(&d.person))
        .filter_map(|d| {
            let person = problem.people.iter().position(|p| p.id == d.person)?;
            let extra = Some((
                r,
                RoleCandidate {
                    person,
                    via_delegate: true,
                },
            ));
            let start = rules.admitted(all, extra, ranked.iter().copied()).next()?;
            Some((
                RelaxationKind::ConfirmDelegate {
                    role: role.id.clone(),
                    person: d.person.clone(),
                },
                start,
                extra,
            ))
        })
        .collect()
}

pub fn change_at() -> Option<RelaxationKind> {
    None
}
