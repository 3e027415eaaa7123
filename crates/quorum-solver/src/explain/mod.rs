//! Explaining "no": the outcome, irreducible conflicts, approvable
//! relaxations, escalation codes and (on request) per-start rejections.
//! Decisions are made on constraint switches (`rules`); each kind of
//! constraint (`crate::constraints`) names itself as data and searches its
//! own relaxations, and `proof` builds the derivation tree. Nothing here
//! writes sentences: the reporter at the edge does, in the reader's zone.

mod combine;
mod conflict;
mod diagnosis;
mod groups;
mod incremental;
mod proof;
mod rejections;
mod relax;
pub(crate) mod rules;

use crate::{SolverError, StopSignal, constraints::HoursCache, presolve::Presolve, ranking::Costs};
use quorum_domain::{Conflict, Explanation, Outcome, RejectedStarts};
pub use rejections::RejectionLimits;
pub use relax::approvers as relaxation_approvers;
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
    let ranked = costs.ranked(0..presolve.grid.starts);
    let relaxations = match conflicts.sets.as_slice() {
        [only] => relax::relaxations(&rules, costs, only, &ranked, stop)?,
        _ => Vec::new(),
    };
    // Several disjoint conflicts: one change per conflict, when they are
    // all known (a conflict not found would stand after the changes).
    let combinations = match conflicts.sets.len() {
        2..=combine::MAX_CONFLICTS_COMBINED if !conflicts.more_may_exist => {
            combine::combinations(&rules, costs, &conflicts.sets, &ranked, stop)?
        }
        _ => Vec::new(),
    };
    let outcome = if conflicts.sets.is_empty() {
        Outcome::Feasible
    } else if relaxations.is_empty() && combinations.is_empty() {
        Outcome::Infeasible
    } else {
        Outcome::NeedsException
    };
    let diagnosis = diagnosis::diagnose(&rules, &relaxations, &ranked);
    let derivation = proof::derive(&rules, &diagnosis, &relaxations);
    let mut hours = HoursCache::new();
    Ok(Explanation {
        outcome,
        primary_reason: Some(diagnosis.primary),
        secondary_reasons: diagnosis.secondary,
        decisive_fact: Some(diagnosis.fact),
        derivation: Some(derivation),
        conflicts: conflicts
            .sets
            .iter()
            .map(|set| {
                let set = groups::request_wide_first(set);
                Conflict {
                    groups: groups::pool_groups(presolve, &set),
                    constraints: set
                        .iter()
                        .map(|c| c.describe(presolve, &mut hours))
                        .collect(),
                }
            })
            .collect(),
        more_conflicts_may_exist: conflicts.more_may_exist,
        relaxations,
        combinations,
        rejected_starts,
    })
}
