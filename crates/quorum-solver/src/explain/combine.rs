//! Combinations of changes for when no single change helps: with disjoint
//! conflicts, every one of them must lose a member, so a combination takes
//! one change per conflict. Each combination is tried with all its members
//! waived; at each start that then admits a slot, every change is sized for
//! that start (minutes after hours or of commitments, extra reviews, how far
//! the deadline moves), and the start where the changes are smallest wins.
//! Combinations are ranked by how much they bend, then by size.

use super::{
    relax::{approvers, size, tier},
    rules::{Constraint, Enforced, Rules},
};
use crate::{SolverError, StopSignal, matching::StartRoles, ranking::Costs, slot};
use quorum_domain::{Approver, RelaxationCombination, RelaxationKind};

/// Combinations tried before giving up on finding the smallest (conflicts
/// of ten members each give a hundred pairs); each costs a pass over the
/// starts, so this bounds the work on large problems.
const MAX_TRIED: usize = 100;
/// Starts examined between checks of the solve's budget.
const STOP_CHECK_EVERY: usize = 64;
/// Combinations returned.
pub const MAX_COMBINATIONS: usize = 5;
/// Conflicts combined at most: each must lose a member, and beyond three
/// the combinations are too many changes to be an exception anyone signs.
pub const MAX_CONFLICTS_COMBINED: usize = 3;

/// Every choice of one waivable member per conflict, up to `MAX_TRIED`.
fn choices(conflicts: &[Vec<Constraint>]) -> Vec<Vec<Constraint>> {
    let mut tuples: Vec<Vec<Constraint>> = vec![Vec::new()];
    for conflict in conflicts {
        let members: Vec<Constraint> = conflict.iter().copied().filter(|c| c.waivable()).collect();
        tuples = tuples
            .iter()
            .flat_map(|t| {
                members.iter().map(move |&m| {
                    let mut next = t.clone();
                    next.push(m);
                    next
                })
            })
            .take(MAX_TRIED)
            .collect();
    }
    tuples
}

/// How much a set of changes bends: the most serious tier, then all tiers,
/// then the sizes.
type Weight = (u8, u32, i64);

/// A start for one combination: its weight and rank, the start, the changes.
type Candidate = ((Weight, usize), usize, Vec<RelaxationKind>);

fn weight(changes: &[RelaxationKind]) -> Weight {
    (
        changes.iter().map(tier).max().unwrap_or(0),
        changes.iter().map(|c| u32::from(tier(c))).sum(),
        changes.iter().map(size).sum(),
    )
}

pub fn combinations(
    rules: &Rules<'_>,
    costs: &Costs,
    conflicts: &[Vec<Constraint>],
    ranked: &[usize],
    stop: &dyn StopSignal,
) -> Result<Vec<RelaxationCombination>, SolverError> {
    let all = Enforced::all(rules.presolve);
    let mut found: Vec<(Weight, i64, RelaxationCombination)> = Vec::new();
    for tuple in choices(conflicts) {
        stop.check()?;
        let mut enforced = all.clone();
        for &c in &tuple {
            enforced.set(c, false);
        }
        let mut best: Option<Candidate> = None;
        for (rank, s) in rules
            .admitted(&enforced, None, ranked.iter().copied())
            .enumerate()
        {
            // A large grid times many combinations is real work: honour
            // the solve's budget inside it, not only between combinations.
            if rank % STOP_CHECK_EVERY == 0 {
                stop.check()?;
            }
            let changes: Option<Vec<RelaxationKind>> =
                tuple.iter().map(|&c| c.change_at(rules, s)).collect();
            if let Some(changes) = changes {
                let key = (weight(&changes), rank);
                if best.as_ref().is_none_or(|(k, ..)| key < *k) {
                    best = Some((key, s, changes));
                }
            }
        }
        let Some(((weight, _), start, changes)) = best else {
            continue;
        };
        let roles = StartRoles::new(rules.options_at(&enforced, None, start));
        let best_slot = slot::build(rules.presolve, costs, start, &roles)?;
        let mut who: Vec<Approver> = Vec::new();
        for change in &changes {
            for a in approvers(rules.presolve.problem, change) {
                if !who.contains(&a) {
                    who.push(a);
                }
            }
        }
        found.push((
            weight,
            best_slot.score.cost,
            RelaxationCombination {
                changes,
                best_slot,
                approvers: who,
            },
        ));
    }
    found.sort_by(|a, b| {
        (a.0, a.1, a.2.best_slot.range.start).cmp(&(b.0, b.1, b.2.best_slot.range.start))
    });
    Ok(found
        .into_iter()
        .map(|(.., c)| c)
        .take(MAX_COMBINATIONS)
        .collect())
}
