//! The root cause of "no slot" against a staged diagnosis written
//! independently on absolute instants, and a check that the generator gives
//! every stage enough cases for that comparison to mean something.

mod support;

use proptest::prelude::*;
use quorum_domain::{EscalationReason, ProblemLimits, SlotProblem, SlotSearch};
use quorum_solver::{Engine, NeverStop, find_slots};
use std::collections::HashMap;
use support::random::infeasible_leaning_problem;
use support::reference::reference_diagnosis;

fn search(problem: &SlotProblem) -> SlotSearch {
    let valid = problem
        .clone()
        .validate(&ProblemLimits::default())
        .expect("valid");
    find_slots(&valid, Engine::Enumerate, &NeverStop).expect("solves")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn prop_primary_and_secondary_reasons_match_the_staged_reference(seed in any::<u64>()) {
        let problem = infeasible_leaning_problem(seed);
        let found = search(&problem);
        let explanation = &found.explanation;
        if !found.slots.is_empty() {
            prop_assert_eq!(explanation.primary_reason, None);
            prop_assert!(explanation.secondary_reasons.is_empty());
            return Ok(());
        }
        let (primary, secondary) = reference_diagnosis(&problem);
        prop_assert_eq!(explanation.primary_reason, Some(primary));
        prop_assert_eq!(&explanation.secondary_reasons, &secondary);
        prop_assert_eq!(explanation.escalation_reasons()[0], primary);
        // The decisive fact is the one of the primary reason's stage.
        use quorum_domain::DecisiveFact as F;
        let stage_of_fact = match explanation.decisive_fact.as_ref() {
            Some(F::EmptyWindow { .. }) => Some(EscalationReason::DeadlineTooEarly),
            Some(F::RolesNeverStaffed { roles, .. }) => {
                prop_assert!(!roles.is_empty());
                Some(EscalationReason::RolePoolUnavailable)
            }
            Some(F::RolesNeverTogether { .. }) => Some(EscalationReason::NoCommonWorkingHours),
            Some(F::SamePersonNeeded { meetings }) => {
                prop_assert!(!meetings.is_empty());
                Some(EscalationReason::RolesNeedSamePerson)
            }
            Some(F::TeamMeetsOnlyIn { meetings, freezes, capacity_full }) => {
                prop_assert!(!meetings.is_empty());
                prop_assert!(!freezes.is_empty() || *capacity_full);
                Some(if freezes.is_empty() {
                    EscalationReason::ReviewCapacityFull
                } else {
                    EscalationReason::FreezeWindow
                })
            }
            None => None,
        };
        prop_assert_eq!(stage_of_fact, Some(primary));
    }
}

/// Each primary reason, and each secondary one, turns up in at least 2% of
/// the infeasible problems the generator makes, so the property above is
/// exercised on every stage rather than on the two that happen to be easy.
#[test]
fn generator_produces_every_stage_in_meaningful_numbers() {
    const PROBLEMS: u64 = 1_500;
    let mut primary: HashMap<EscalationReason, usize> = HashMap::new();
    let mut secondary: HashMap<EscalationReason, usize> = HashMap::new();
    let mut infeasible = 0;
    for seed in 0..PROBLEMS {
        let found = search(&infeasible_leaning_problem(seed));
        let Some(reason) = found.explanation.primary_reason else {
            continue;
        };
        infeasible += 1;
        *primary.entry(reason).or_default() += 1;
        for r in &found.explanation.secondary_reasons {
            *secondary.entry(*r).or_default() += 1;
        }
    }
    let enough = infeasible / 50;
    use EscalationReason as R;
    for reason in [
        R::DeadlineTooEarly,
        R::RolePoolUnavailable,
        R::NoCommonWorkingHours,
        R::RolesNeedSamePerson,
        R::FreezeWindow,
        R::ReviewCapacityFull,
    ] {
        let seen = primary.get(&reason).copied().unwrap_or(0);
        assert!(
            seen >= enough,
            "primary {reason:?}: {seen} of {infeasible} infeasible problems; {primary:?}"
        );
    }
    for reason in [
        R::DeadlineTooEarly,
        R::AfterHoursOnly,
        R::ReviewCapacityFull,
    ] {
        let seen = secondary.get(&reason).copied().unwrap_or(0);
        assert!(
            seen >= enough,
            "secondary {reason:?}: {seen} of {infeasible}; {secondary:?}"
        );
    }
}
