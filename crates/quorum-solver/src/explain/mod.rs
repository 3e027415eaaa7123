//! Explaining "no": the outcome, irreducible conflicts, approvable
//! relaxations, escalation codes and (on request) per-start rejections.
//! Decisions are made on constraint switches (`rules`); `report` words them.

mod conflict;
mod diagnosis;
mod rejections;
mod relax;
mod report;
mod rules;

use crate::{SolverError, StopSignal, presolve::Presolve, ranking::Costs};
use quorum_domain::{Conflict, Explanation, Outcome, RejectedStarts};
pub use rejections::RejectionLimits;
use rules::Rules;

/// The explanation for a search that returned `starts` (grid indices, best first).
pub fn explain(
    presolve: &Presolve<'_>,
    costs: &Costs,
    starts: &[usize],
    limits: rejections::RejectionLimits,
    stop: &dyn StopSignal,
) -> Result<Explanation, SolverError> {
    let rules = Rules::new(presolve);
    let rejected_starts = if presolve.problem.explain {
        let upto = starts
            .iter()
            .max()
            .map_or(presolve.grid.starts, |last| *last);
        rejections::rejected_starts(&rules, upto, limits, stop)?
    } else {
        RejectedStarts::default()
    };
    if !starts.is_empty() {
        return Ok(Explanation {
            rejected_starts,
            ..Explanation::default()
        });
    }
    let conflicts = conflict::find(&rules, stop)?;
    let relaxations = match conflicts.sets.as_slice() {
        [only] => {
            let ranked = costs.ranked(0..presolve.grid.starts);
            relax::relaxations(&rules, costs, only, &ranked, stop)?
        }
        _ => Vec::new(),
    };
    let outcome = if conflicts.sets.is_empty() {
        Outcome::Feasible
    } else if relaxations.is_empty() {
        Outcome::Infeasible
    } else {
        Outcome::NeedsException
    };
    let diagnosis = diagnosis::diagnose(&rules, &relaxations);
    let mut hours = report::HoursCache::new();
    Ok(Explanation {
        outcome,
        primary_reason: Some(diagnosis.primary),
        secondary_reasons: diagnosis.secondary,
        decisive_fact: Some(diagnosis.fact),
        conflicts: conflicts
            .sets
            .iter()
            .map(|set| {
                let constraints: Vec<_> = set
                    .iter()
                    .map(|c| report::describe(presolve, &mut hours, *c))
                    .collect();
                Conflict {
                    explanation: report::conflict_sentence(presolve.problem, &constraints),
                    constraints,
                }
            })
            .collect(),
        more_conflicts_may_exist: conflicts.more_may_exist,
        relaxations,
        rejected_starts,
    })
}
