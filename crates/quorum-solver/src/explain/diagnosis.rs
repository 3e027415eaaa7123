//! The root cause of "no slot", in stages, so a pipeline that routes on one
//! code sends it to the team that can act. The stages are checked in order on
//! the window [not-before, evidence deadline] and the first that fails is the
//! primary reason:
//!
//! 1. no grid start lies in the window (`DEADLINE_TOO_EARLY`);
//! 2. some role has nobody available at any start of it (`ROLE_POOL_UNAVAILABLE`);
//! 3. every role is staffed at some start, never all at one (`NO_COMMON_WORKING_HOURS`);
//! 4. all roles have someone at some start, never distinct people (`ROLES_NEED_SAME_PERSON`);
//! 5. the team can meet ("staffable" starts) but freezes and/or the review
//!    capacity block every such start (`FREEZE_WINDOW`, `REVIEW_CAPACITY_FULL`;
//!    both, freeze first, when neither alone blocks them all).
//!
//! Secondary: `DEADLINE_TOO_EARLY` when ignoring not-before and the deadline
//! would admit a slot; `AFTER_HOURS_ONLY` when an after-hours relaxation opens one.

use super::rules::{Constraint, Enforced, Rules};
use crate::matching::StartRoles;
use fixedbitset::FixedBitSet;
use quorum_domain::{EscalationReason, Relaxation, RelaxationKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub primary: EscalationReason,
    pub secondary: Vec<EscalationReason>,
}

pub fn diagnose(rules: &Rules<'_>, relaxations: &[Relaxation]) -> Diagnosis {
    let (primary, mut secondary) = first_failing_stage(rules);
    if primary != EscalationReason::DeadlineTooEarly {
        let all = Enforced::all(rules.presolve);
        let unbounded = all
            .without(Constraint::NotBefore)
            .without(Constraint::Deadline);
        if rules.feasible(&unbounded) {
            secondary.push(EscalationReason::DeadlineTooEarly);
        }
    }
    if relaxations
        .iter()
        .any(|r| matches!(r.kind, RelaxationKind::AfterHours { .. }))
    {
        secondary.push(EscalationReason::AfterHoursOnly);
    }
    Diagnosis { primary, secondary }
}

fn first_failing_stage(rules: &Rules<'_>) -> (EscalationReason, Vec<EscalationReason>) {
    let p = rules.presolve;
    let mut window = p.not_before_ok.clone();
    window.intersect_with(&p.deadline_ok);
    if window.is_clear() {
        return (EscalationReason::DeadlineTooEarly, Vec::new());
    }
    let mut all_roles = window.clone();
    for r in 0..p.roles.len() {
        let mut coverage = p.role_coverage(r);
        coverage.intersect_with(&window);
        if coverage.is_clear() {
            return (EscalationReason::RolePoolUnavailable, Vec::new());
        }
        all_roles.intersect_with(&coverage);
    }
    if all_roles.is_clear() {
        return (EscalationReason::NoCommonWorkingHours, Vec::new());
    }
    let shared = p.problem.allow_multiple_roles_per_person;
    let staffable: Vec<usize> = all_roles
        .ones()
        .filter(|&s| StartRoles::at(p, s).fillable(shared))
        .collect();
    if staffable.is_empty() {
        return (EscalationReason::RolesNeedSamePerson, Vec::new());
    }
    blocked_by_rules(&staffable, &p.freeze_ok, &p.capacity_ok)
}

/// Stage 5: which of freeze and capacity block the staffable starts.
fn blocked_by_rules(
    staffable: &[usize],
    freeze_ok: &FixedBitSet,
    capacity_ok: &FixedBitSet,
) -> (EscalationReason, Vec<EscalationReason>) {
    let frozen = staffable.iter().any(|&s| !freeze_ok.contains(s));
    let capacity_alone = staffable
        .iter()
        .any(|&s| freeze_ok.contains(s) && !capacity_ok.contains(s));
    match (frozen, capacity_alone) {
        (true, true) => (
            EscalationReason::FreezeWindow,
            vec![EscalationReason::ReviewCapacityFull],
        ),
        (true, false) => (EscalationReason::FreezeWindow, Vec::new()),
        (false, _) => (EscalationReason::ReviewCapacityFull, Vec::new()),
    }
}
