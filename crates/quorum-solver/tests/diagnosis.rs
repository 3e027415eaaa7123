//! The root cause of "no slot" against a staged diagnosis written
//! independently on absolute instants, and a check that the generator gives
//! every stage enough cases for that comparison to mean something.

mod support;

use proptest::prelude::*;
use quorum_domain::{
    Claim, Derivation, EscalationReason, ProblemLimits, ProofStep, SlotProblem, SlotSearch,
    TimeRange,
};
use quorum_solver::{Engine, NeverStop, find_slots};
use std::collections::HashMap;
use support::random::infeasible_leaning_problem;
use support::reference::{
    grid_starts, minutes_outside_hours, person_can_attend, reference_diagnosis, reference_slots,
    touches_working_window,
};

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

/// The grid starts in [not-before, deadline] at which someone of `role` can
/// attend, by the reference's own reading of calendars.
fn staffed_meetings(problem: &SlotProblem, role: &str) -> Vec<TimeRange> {
    let window = problem.window();
    let Some(role) = problem.roles.iter().find(|r| r.id.0 == role) else {
        return Vec::new();
    };
    grid_starts(problem)
        .into_iter()
        .map(|s| TimeRange::new(s, s + problem.meeting_duration()))
        .filter(|m| window.contains_range(m))
        .filter(|m| {
            role.candidates()
                .any(|(id, _)| person_can_attend(problem, id, m))
        })
        .collect()
}

/// The proof is well formed and says what is true: every step refers only
/// to earlier ones, the root is the primary reason, each role's lemma names
/// exactly the meetings the reference finds it staffed in, and in stage 5
/// the team lemma is one step shared by every blocker, whose meetings
/// together cover all of the team's.
fn check_proof(
    problem: &SlotProblem,
    proof: &Derivation,
    primary: EscalationReason,
) -> Result<(), TestCaseError> {
    for (i, step) in proof.steps.iter().enumerate() {
        if let ProofStep::Lemma { because, .. } = step {
            prop_assert!(
                because.iter().all(|&c| (c as usize) < i),
                "step {i} refers forward"
            );
        }
    }
    let root = proof.root().and_then(|r| proof.step(r));
    let Some(ProofStep::Lemma {
        claim: Claim::NoSlot { reason },
        because,
    }) = root
    else {
        return Err(TestCaseError::fail(format!("root is not NoSlot: {root:?}")));
    };
    prop_assert_eq!(*reason, primary);
    prop_assert!(!because.is_empty());
    let mut team = None;
    let mut blocked: Vec<TimeRange> = Vec::new();
    for (i, step) in proof.steps.iter().enumerate() {
        let ProofStep::Lemma { claim, because } = step else {
            continue;
        };
        match claim {
            Claim::RoleStaffedOnlyIn { role, meetings, .. } => {
                let staffed = staffed_meetings(problem, &role.0);
                for m in &staffed {
                    prop_assert!(
                        meetings.iter().any(|l| l.contains_range(m)),
                        "{role} staffed at {m} outside its lemma {meetings:?}"
                    );
                }
                for l in meetings {
                    prop_assert!(staffed.iter().any(|m| m.start == l.start), "{role}: {l}");
                    prop_assert!(staffed.iter().any(|m| m.end == l.end), "{role}: {l}");
                }
                if primary == EscalationReason::RolePoolUnavailable && reason_rests_on(proof, i) {
                    prop_assert!(meetings.is_empty());
                }
            }
            Claim::TeamMeetsOnlyIn { meetings } => {
                prop_assert!(team.is_none(), "the team lemma is written twice");
                team = Some((i as u32, meetings.clone()));
            }
            Claim::FrozenIn { meetings, .. } | Claim::CapacityFullIn { meetings, .. } => {
                let (index, _) = team.as_ref().expect("a blocker rests on the team lemma");
                prop_assert!(because.contains(index), "a blocker without the team lemma");
                blocked.extend(meetings.iter().copied());
            }
            _ => {}
        }
    }
    if let Some((_, meetings)) = team {
        prop_assert!(matches!(
            primary,
            EscalationReason::FreezeWindow | EscalationReason::ReviewCapacityFull
        ));
        for m in &meetings {
            prop_assert!(
                covered(m, &blocked),
                "team meeting {m} is blocked by nothing in the proof"
            );
        }
    }
    Ok(())
}

/// Whether step `i` is one the root rests on directly.
fn reason_rests_on(proof: &Derivation, i: usize) -> bool {
    match proof.root().and_then(|r| proof.step(r)) {
        Some(ProofStep::Lemma { because, .. }) => because.contains(&(i as u32)),
        _ => false,
    }
}

/// Whether the union of `ranges` covers `range`.
fn covered(range: &TimeRange, ranges: &[TimeRange]) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| r.start);
    let mut reached = range.start;
    for r in sorted {
        if r.start <= reached && r.end > reached {
            reached = r.end;
        }
    }
    reached >= range.end
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn prop_the_proof_rests_on_true_lemmas_and_ends_in_the_primary_reason(seed in any::<u64>()) {
        let problem = infeasible_leaning_problem(seed);
        let found = search(&problem);
        let explanation = &found.explanation;
        let Some(primary) = explanation.primary_reason else {
            prop_assert!(explanation.derivation.is_none());
            return Ok(());
        };
        let proof = explanation.derivation.as_ref().expect("a proof with every primary reason");
        check_proof(&problem, proof, primary)?;
    }
}

/// Whether the brute-force reference finds a slot at exactly `meeting`.
fn reference_admits(problem: &SlotProblem, meeting: &TimeRange) -> bool {
    let mut all = problem.clone();
    all.top_k = usize::MAX;
    reference_slots(&all).iter().any(|s| s.range == *meeting)
}

/// The kinds and ids of the facts a lemma rests on.
fn fact_names(proof: &Derivation, because: &[u32]) -> Vec<(quorum_domain::ConstraintKind, String)> {
    because
        .iter()
        .filter_map(|&i| match proof.step(i) {
            Some(ProofStep::Fact(f)) => Some((f.kind, f.id.clone())),
            _ => None,
        })
        .collect()
}

/// Every secondary code has exactly one lemma in the proof's secondary list,
/// in the same order, and each lemma is true by brute force: the meeting it
/// names without the window is a slot once not-before and the deadline are
/// dropped; the after-hours meeting is a slot once that person's hours are
/// waived, extends their day, and lies exactly `minutes` outside it.
fn check_secondary(
    problem: &SlotProblem,
    proof: &Derivation,
    secondary: &[EscalationReason],
) -> Result<(), TestCaseError> {
    use quorum_domain::ConstraintKind as K;
    let root = proof.root().expect("a root");
    prop_assert!(
        proof.secondary.iter().all(|&i| i < root),
        "{:?}",
        proof.secondary
    );
    let codes: Vec<Option<EscalationReason>> = proof
        .secondary_claims()
        .map(|(_, c)| c.secondary_reason())
        .collect();
    let expected: Vec<Option<EscalationReason>> = secondary.iter().copied().map(Some).collect();
    prop_assert_eq!(codes, expected);
    prop_assert_eq!(proof.secondary.len(), secondary.len());
    let (mut without_window, mut after_hours) = (0, 0);
    for step in &proof.steps {
        let ProofStep::Lemma { claim, because } = step else {
            continue;
        };
        match claim {
            Claim::SlotWithoutWindow { meeting } => {
                without_window += 1;
                let mut unbounded = problem.clone();
                unbounded.not_before = None;
                unbounded.evidence_deadline = None;
                // Not just a slot: the best-ranked one, as a reader expects
                // of "the roles could meet …".
                unbounded.top_k = 1;
                let best = reference_slots(&unbounded);
                prop_assert_eq!(
                    best.first().map(|s| s.range),
                    Some(*meeting),
                    "the best slot without the window is not {}",
                    meeting
                );
                let names = fact_names(proof, because);
                prop_assert!(!names.is_empty() && names.len() == because.len());
                prop_assert!(
                    names
                        .iter()
                        .all(|(k, _)| matches!(k, K::NotBefore | K::EvidenceDeadline))
                );
            }
            Claim::AfterHoursOpens {
                person,
                minutes,
                meeting,
                outside,
            } => {
                after_hours += 1;
                let mut waived = problem.clone();
                let who = waived
                    .people
                    .iter_mut()
                    .find(|p| &p.id == person)
                    .expect("person");
                who.working_hours = support::changes::all_week();
                prop_assert!(
                    reference_admits(&waived, meeting),
                    "{person}: no slot at {meeting}"
                );
                prop_assert!(touches_working_window(problem, person, meeting));
                prop_assert_eq!(minutes_outside_hours(problem, person, meeting), *minutes);
                let seconds: i64 = outside.iter().map(|r| r.duration().num_seconds()).sum();
                prop_assert_eq!((seconds + 59) / 60, *minutes, "outside {:?}", outside);
                prop_assert!(outside.iter().all(|r| meeting.contains_range(r)));
                prop_assert_eq!(
                    fact_names(proof, because),
                    vec![(K::WorkingHours, person.0.clone())]
                );
            }
            _ => {}
        }
    }
    let wanted = |code| usize::from(secondary.contains(&code));
    prop_assert_eq!(without_window, wanted(EscalationReason::DeadlineTooEarly));
    prop_assert_eq!(after_hours, wanted(EscalationReason::AfterHoursOnly));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn prop_each_secondary_reason_rests_on_one_true_lemma(seed in any::<u64>()) {
        let problem = infeasible_leaning_problem(seed);
        let found = search(&problem);
        let explanation = &found.explanation;
        let Some(proof) = explanation.derivation.as_ref() else {
            return Ok(());
        };
        check_secondary(&problem, proof, &explanation.secondary_reasons)?;
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
