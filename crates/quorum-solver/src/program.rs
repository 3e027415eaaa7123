//! The integer program, built with good_lp and solved with its pure-Rust
//! microlp backend, over the starts that survive presolve.
//!
//! Variables: `x[s]` — the meeting starts at candidate `s`; `z[r][c]` — candidate
//! `c` fills role `r`. Constraints: exactly one start; exactly one candidate per
//! role; each person fills at most one role (unless the request allows more);
//! and `z[r][c] ≤ Σ x[s]` over the starts at which `c` is available — since
//! exactly one `x` is 1, that sum is 1 precisely when `c` can attend the chosen
//! start. That is one row per (role, candidate) instead of one per unavailable
//! (bucket, person), which is what keeps the program small. The objective is the
//! start's position in rank order (cost, then start), which orders exactly like
//! the cost and cannot suffer floating-point ties. The next slot is the optimum
//! with the earlier ones removed.

use crate::{SolverError, StopSignal, matching::StartRoles, presolve::Presolve, ranking::Costs};
use good_lp::{
    Expression, ResolutionError, Solution, SolutionStatus, SolverModel, Variable, WithTimeLimit,
    constraint, microlp, variable, variables,
};

/// Up to `top_k` starts in rank order, each one the program's optimum.
pub fn ranked_starts(
    presolve: &Presolve<'_>,
    costs: &Costs,
    top_k: usize,
    max_terms: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<usize>, SolverError> {
    check_size(presolve, max_terms)?;
    let mut remaining = costs.ranked(presolve.candidates.ones());
    let mut chosen = Vec::new();
    while chosen.len() < top_k && !remaining.is_empty() {
        stop.check()?;
        let Some(position) = solve_once(presolve, &remaining, stop)? else {
            break;
        };
        let start = remaining.remove(position);
        if !StartRoles::at(presolve, start)
            .fillable(presolve.problem.allow_multiple_roles_per_person)
        {
            return Err(SolverError::Inconsistent {
                detail: format!(
                    "the integer program chose grid start {start}, where the roles cannot be filled"
                ),
            });
        }
        chosen.push(start);
    }
    Ok(chosen)
}

/// Refuses a program larger than the problem's limit before any of it is
/// built: its memory, and microlp's, grows with the number of non-zero terms.
fn check_size(presolve: &Presolve<'_>, limit: usize) -> Result<(), SolverError> {
    let starts = presolve.candidates.count_ones(..);
    let mut terms = 2 * starts;
    for role in &presolve.roles {
        for candidate in role {
            if let Some(available) = presolve.available(candidate.person) {
                // z in the fill row, the link row and the load row, plus the
                // starts where the candidate is available.
                terms += 3 + available.intersection_count(&presolve.candidates);
            }
        }
    }
    if terms > limit {
        return Err(SolverError::ProgramTooLarge { terms, limit });
    }
    Ok(())
}

/// Solves the program over `starts` (in rank order) and returns the position of
/// the chosen start, or `None` when no start admits an assignment.
fn solve_once(
    presolve: &Presolve<'_>,
    starts: &[usize],
    stop: &dyn StopSignal,
) -> Result<Option<usize>, SolverError> {
    let mut vars = variables!();
    let x: Vec<Variable> = starts
        .iter()
        .map(|_| vars.add(variable().binary()))
        .collect();
    let objective: Expression = x.iter().enumerate().map(|(pos, v)| pos as f64 * *v).sum();
    let mut constraints = vec![constraint!(x.iter().copied().sum::<Expression>() == 1)];
    let people = presolve.problem.people.len();
    let mut role_load: Vec<Option<Expression>> = vec![None; people];
    for role in &presolve.roles {
        stop.check()?;
        let mut fill = Expression::default();
        for candidate in role {
            let Some(available) = presolve.available(candidate.person) else {
                continue;
            };
            let z = vars.add(variable().binary());
            fill += z;
            let present: Expression = starts
                .iter()
                .zip(&x)
                .filter(|(s, _)| available.contains(**s))
                .map(|(_, v)| *v)
                .sum();
            constraints.push(constraint!(z <= present));
            *role_load[candidate.person].get_or_insert_with(Expression::default) += z;
        }
        constraints.push(constraint!(fill == 1));
    }
    if !presolve.problem.allow_multiple_roles_per_person {
        for load in role_load.into_iter().flatten() {
            constraints.push(constraint!(load <= 1));
        }
    }
    let mut model = vars.minimise(objective).using(microlp);
    if let Some(left) = stop.remaining() {
        model = model.with_time_limit(left.as_secs_f64());
    }
    let model = model.with_all(constraints);
    match model.solve() {
        Ok(solution) if matches!(solution.status(), SolutionStatus::Optimal) => {
            Ok(x.iter().position(|v| solution.value(*v) > 0.5))
        }
        Ok(_) => Err(SolverError::Stopped),
        Err(ResolutionError::Infeasible) => Ok(None),
        // microlp reports its time limit as an error; the limit is ours.
        Err(_) if stop.should_stop() => Err(SolverError::Stopped),
        Err(ResolutionError::Other(text)) if text.contains("Time limit") => {
            Err(SolverError::Stopped)
        }
        Err(other) => Err(SolverError::Program {
            detail: other.to_string(),
        }),
    }
}
