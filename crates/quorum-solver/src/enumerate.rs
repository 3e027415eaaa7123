//! The fast path: walk the presolved starts in rank order and keep those whose
//! roles can be filled by distinct people, until `top_k` are found.
//!
//! It returns exactly what the integer program returns (the tests check this on
//! generated problems), at the cost of one small matching per start visited.

use crate::{SolverError, StopSignal, matching::StartRoles, presolve::Presolve, ranking::Costs};

/// How many starts to check between looks at the stop signal.
const STOP_CHECK_EVERY: usize = 256;

pub fn ranked_starts(
    presolve: &Presolve<'_>,
    costs: &Costs,
    top_k: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<usize>, SolverError> {
    let shared = presolve.problem.allow_multiple_roles_per_person;
    let mut chosen = Vec::with_capacity(top_k);
    for (visited, start) in costs
        .ranked(presolve.candidates.ones())
        .into_iter()
        .enumerate()
    {
        if chosen.len() == top_k {
            break;
        }
        if visited % STOP_CHECK_EVERY == 0 {
            stop.check()?;
        }
        if StartRoles::at(presolve, start).fillable(shared) {
            chosen.push(start);
        }
    }
    Ok(chosen)
}
