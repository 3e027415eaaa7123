//! Relaxations: single changes a human could approve that would open a slot,
//! each with the best slot it opens (each kind's module in `constraints/`
//! searches its own). Only members of the conflict can help (a
//! change outside it leaves the conflict standing), so only they are tried;
//! with two disjoint conflicts no single change helps (see `combine`).

use super::rules::{Constraint, Enforced, Rules};
use crate::{SolverError, StopSignal, matching::StartRoles, ranking::Costs, slot};
use quorum_domain::{Approver, Relaxation, RelaxationKind};

pub fn relaxations(
    rules: &Rules<'_>,
    costs: &Costs,
    conflict: &[Constraint],
    ranked: &[usize],
    stop: &dyn StopSignal,
) -> Result<Vec<Relaxation>, SolverError> {
    let all = Enforced::all(rules.presolve);
    let mut found = Vec::new();
    for &constraint in conflict {
        stop.check()?;
        let enforced = all.without(constraint);
        let opened = constraint.relaxations(rules, &all, &enforced, ranked);
        for (kind, start, extra) in opened {
            let enforced = if matches!(kind, RelaxationKind::ConfirmDelegate { .. }) {
                all.clone()
            } else {
                enforced.clone()
            };
            let roles = StartRoles::new(rules.options_at(&enforced, extra, start));
            let best_slot = slot::build(rules.presolve, costs, start, &roles)?;
            found.push(Relaxation {
                approvers: approvers(rules.presolve.problem, &kind),
                kind,
                best_slot,
            });
        }
    }
    found.sort_by_key(|r| {
        (
            tier(&r.kind),
            size(&r.kind),
            r.best_slot.score.cost,
            r.best_slot.range.start,
        )
    });
    Ok(found)
}

/// Who must approve `kind`: the person whose day moves, the release owner
/// for authority and the deadline, the freeze window's owner, the review board.
pub fn approvers(problem: &quorum_domain::SlotProblem, kind: &RelaxationKind) -> Vec<Approver> {
    match kind {
        RelaxationKind::AfterHours { person, .. }
        | RelaxationKind::MoveCommitments { person, .. } => {
            vec![Approver::Person(person.clone())]
        }
        RelaxationKind::ConfirmDelegate { .. } | RelaxationKind::MoveEvidenceDeadline { .. } => {
            vec![Approver::ReleaseOwner]
        }
        RelaxationKind::ExceedReviewCapacity { .. } => vec![Approver::ReviewBoard],
        RelaxationKind::OverrideFreezeWindow { id } => vec![Approver::FreezeWindowOwner {
            freeze_window: id.clone(),
            owner: problem
                .freeze_windows
                .iter()
                .find(|f| &f.id == id)
                .map_or_else(String::new, |f| f.owner.clone()),
        }],
    }
}

/// Least to most serious: confirming authority bends no rule; moving a
/// commitment, after-hours and a later deadline bend a person's or the
/// release's plan; extra capacity and freeze overrides bend production
/// safety rules.
pub(super) fn tier(kind: &RelaxationKind) -> u8 {
    match kind {
        RelaxationKind::ConfirmDelegate { .. } => 0,
        RelaxationKind::AfterHours { .. } | RelaxationKind::MoveCommitments { .. } => 1,
        RelaxationKind::MoveEvidenceDeadline { .. } => 2,
        RelaxationKind::ExceedReviewCapacity { .. } => 3,
        RelaxationKind::OverrideFreezeWindow { .. } => 4,
    }
}

pub(super) fn size(kind: &RelaxationKind) -> i64 {
    match kind {
        RelaxationKind::AfterHours { minutes, .. }
        | RelaxationKind::MoveCommitments { minutes, .. }
        | RelaxationKind::MoveEvidenceDeadline { minutes } => *minutes,
        RelaxationKind::ExceedReviewCapacity { extra_reviews } => i64::from(*extra_reviews),
        RelaxationKind::ConfirmDelegate { .. } | RelaxationKind::OverrideFreezeWindow { .. } => 0,
    }
}
