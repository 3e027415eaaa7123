//! The joint planner against the brute-force reference on thousands of small
//! generated programmes, both engines against each other, and a meta-test
//! that the generator really produces the cases these tests are for.

mod reference;

use chrono::Duration;
use quorum_domain::{Plan, ProgrammeLimits, ReleaseProgramme, RoleBasis};
use quorum_solver::{NeverStop, ProgrammeEngine, plan_release};
use reference::{Reference, ReferencePlan, add_busy, as_reference, programme};

const CASES: u64 = 3_000;

fn generated(seed: u64) -> ReleaseProgramme {
    let mut p = programme(seed);
    if seed.is_multiple_of(3) {
        add_busy(&mut p, seed);
    }
    p
}

fn solve(p: &ReleaseProgramme, engine: ProgrammeEngine) -> (Vec<Plan>, ProgrammeEngine) {
    let validated = p
        .clone()
        .validate(&ProgrammeLimits::default())
        .unwrap_or_else(|v| panic!("generated programme is invalid: {v:?}"));
    let found = plan_release(&validated, engine, &NeverStop).expect("solves");
    (found.plans, found.engine)
}

#[test]
fn prop_top_k_plans_equal_the_brute_force_reference() {
    let mut feasible = 0;
    for seed in 0..CASES {
        let p = generated(seed);
        let expected = Reference::new(&p).plans();
        let (plans, engine) = solve(&p, ProgrammeEngine::Auto);
        let got: Vec<ReferencePlan> = plans.iter().map(as_reference).collect();
        assert_eq!(got, expected, "seed {seed}: {p:#?}");
        for plan in &plans {
            let sum: i64 = plan.milestones.iter().map(|m| m.slot.score.cost).sum();
            assert_eq!(
                sum, plan.cost,
                "seed {seed}: plan cost is the sum of milestone costs"
            );
        }
        assert_eq!(engine, ProgrammeEngine::BranchAndBound, "seed {seed}");
        feasible += usize::from(!plans.is_empty());
    }
    assert!(feasible > 500 && feasible < 2_900, "{feasible} feasible");
}

/// `AUTO` hands a chain to the dynamic program when branch and bound
/// outgrows its budget (here a budget of one partial plan), and the plans
/// stay exact; a programme that is not a chain has no such fallback.
#[test]
fn prop_auto_falls_back_to_the_chain_program_past_its_budget() {
    let mut fell_back = 0;
    for seed in 0..CASES {
        let p = generated(seed);
        let tight = ProgrammeLimits {
            max_search_nodes: 1,
            ..ProgrammeLimits::default()
        };
        let validated = p.clone().validate(&tight).expect("valid");
        let chain = solve(&p, ProgrammeEngine::ChainDp).1 == ProgrammeEngine::ChainDp;
        match plan_release(&validated, ProgrammeEngine::Auto, &NeverStop) {
            Ok(found) => {
                let got: Vec<ReferencePlan> = found.plans.iter().map(as_reference).collect();
                assert_eq!(got, Reference::new(&p).plans(), "seed {seed}");
                if found.engine == ProgrammeEngine::ChainDp {
                    assert!(chain, "seed {seed}: the dynamic program ran on a non-chain");
                    fell_back += 1;
                }
            }
            Err(quorum_solver::SolverError::SearchTooLarge { .. }) => {
                // Explaining a chain with no plan solves relaxed programmes
                // that need not be chains (a dropped gap), which may refuse.
                let planless = Reference::new(&p).plans().is_empty();
                assert!(!chain || planless, "seed {seed}: a chain was refused");
            }
            Err(other) => panic!("seed {seed}: {other}"),
        }
    }
    assert!(fell_back > 100, "{fell_back} fell back");
}

#[test]
fn prop_chain_program_and_branch_and_bound_agree() {
    let mut compared = 0;
    for seed in 0..CASES {
        let p = generated(seed);
        let (dp, engine) = solve(&p, ProgrammeEngine::ChainDp);
        if engine != ProgrammeEngine::ChainDp {
            continue;
        }
        let (bb, engine) = solve(&p, ProgrammeEngine::BranchAndBound);
        assert_eq!(engine, ProgrammeEngine::BranchAndBound);
        assert_eq!(dp, bb, "seed {seed}");
        compared += 1;
    }
    assert!(compared > 500, "{compared} chains compared");
}

/// The integer program is the baseline: on generated programmes its plans
/// equal the brute-force reference's and branch and bound's, plan for plan
/// (costs, starts in tie order, and the canonical assignments).
#[test]
fn prop_integer_program_equals_the_reference_and_branch_and_bound() {
    let mut feasible = 0;
    let mut coupled = 0;
    for seed in 0..CASES / 3 {
        let p = generated(seed);
        let (ip, engine) = solve(&p, ProgrammeEngine::IntegerProgram);
        assert_eq!(engine, ProgrammeEngine::IntegerProgram);
        let got: Vec<ReferencePlan> = ip.iter().map(as_reference).collect();
        assert_eq!(got, Reference::new(&p).plans(), "seed {seed}: {p:#?}");
        let (bb, _) = solve(&p, ProgrammeEngine::BranchAndBound);
        assert_eq!(ip, bb, "seed {seed}");
        feasible += usize::from(!ip.is_empty());
        coupled +=
            usize::from(!p.resources.is_empty() || p.dependencies.len() + 1 < p.milestones.len());
    }
    assert!(feasible > 150, "{feasible} feasible");
    assert!(
        coupled > 150,
        "{coupled} with resources or parallel branches"
    );
}

/// The features each generated programme exercises, read off the programme
/// and the reference's plans.
#[derive(Debug, Default)]
struct Seen {
    parallel_branches_sharing_a_person: usize,
    capacity_counting_own_milestones: usize,
    on_call_handover_used: usize,
    soak_crossing_a_shift_end: usize,
    gap_exactly_at_minimum: usize,
    gap_one_minute_short: usize,
    gap_exactly_at_maximum: usize,
    dst_inside_a_gap: usize,
}

fn features(p: &ReleaseProgramme, seen: &mut Seen) {
    let plans = Reference::new(p).plans();
    let n = p.milestones.len();
    let linked = |a: &str, b: &str| {
        p.dependencies
            .iter()
            .any(|d| (d.before == a && d.after == b) || (d.before == b && d.after == a))
    };
    let working_people = |m: usize| -> Vec<_> {
        p.milestones[m]
            .roles
            .iter()
            .filter(|r| r.basis == RoleBasis::WorkingHours)
            .flat_map(|r| r.role.pool.clone())
            .collect()
    };
    for a in 0..n {
        for b in a + 1..n {
            let (ma, mb) = (&p.milestones[a], &p.milestones[b]);
            let shared = working_people(a)
                .iter()
                .any(|x| working_people(b).contains(x));
            let overlapping = plans.iter().any(|plan| {
                let wa =
                    quorum_domain::TimeRange::new(plan.starts[a], plan.starts[a] + ma.duration());
                let wb =
                    quorum_domain::TimeRange::new(plan.starts[b], plan.starts[b] + mb.duration());
                wa.overlaps(&wb)
            });
            if !linked(&ma.id, &mb.id) && shared && overlapping {
                seen.parallel_branches_sharing_a_person += 1;
            }
            if !ma.resources.is_empty() && ma.resources == mb.resources && !linked(&ma.id, &mb.id) {
                seen.capacity_counting_own_milestones += 1;
            }
        }
    }
    for d in &p.dependencies {
        let b = p.milestone_index(&d.before).unwrap();
        let a = p.milestone_index(&d.after).unwrap();
        let min = Duration::minutes(d.min_gap_minutes.into());
        for plan in &plans {
            let end = plan.starts[b] + p.milestones[b].duration();
            let gap = plan.starts[a] - end;
            seen.gap_exactly_at_minimum += usize::from(gap == min);
            seen.gap_exactly_at_maximum += usize::from(
                d.max_gap_minutes
                    .is_some_and(|g| gap == Duration::minutes(g.into())),
            );
            // The DST change of the Europe/Berlin night falls inside the gap.
            let change =
                chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 29, 1, 0, 0).unwrap();
            seen.dst_inside_a_gap += usize::from(end <= change && change < plan.starts[a]);
        }
        // A start one minute short of the minimum gap exists on the grid.
        let short = min - Duration::minutes(1);
        let step = i64::from(p.bucket.minutes());
        seen.gap_one_minute_short += usize::from(
            (i64::from(p.milestones[b].duration_minutes) + short.num_minutes()) % step == 0
                && short >= Duration::zero(),
        );
    }
    let shifts_of = |id: &quorum_domain::PersonId| -> Vec<_> {
        p.on_call
            .iter()
            .filter(|s| &s.person == id)
            .map(|s| s.range)
            .collect()
    };
    for (m, milestone) in p.milestones.iter().enumerate() {
        for role in milestone
            .roles
            .iter()
            .filter(|r| r.basis == RoleBasis::OnCall)
        {
            for plan in &plans {
                let start = plan.starts[m];
                let window = quorum_domain::TimeRange::new(start, start + milestone.duration());
                let need_end = window.end + Duration::minutes(milestone.soak_minutes.into());
                for id in &role.role.pool {
                    let shifts = shifts_of(id);
                    let handover = shifts.iter().any(|s| {
                        s.end > window.start
                            && s.end < need_end
                            && shifts.iter().any(|t| t.start == s.end)
                    });
                    seen.on_call_handover_used += usize::from(handover);
                    let crossing = shifts.iter().any(|s| {
                        s.contains(window.start) && window.end <= s.end && s.end < need_end
                    });
                    seen.soak_crossing_a_shift_end +=
                        usize::from(crossing && milestone.soak_minutes > 0);
                }
            }
        }
    }
}

#[test]
fn meta_generator_produces_every_case_the_properties_need() {
    let mut seen = Seen::default();
    for seed in 0..CASES {
        features(&generated(seed), &mut seen);
    }
    let counts = [
        seen.parallel_branches_sharing_a_person,
        seen.capacity_counting_own_milestones,
        seen.on_call_handover_used,
        seen.soak_crossing_a_shift_end,
        seen.gap_exactly_at_minimum,
        seen.gap_one_minute_short,
        seen.gap_exactly_at_maximum,
        seen.dst_inside_a_gap,
    ];
    assert!(counts.iter().all(|&c| c >= 20), "{seen:#?}");
}

/// The first generated chain of two milestones with a plan.
fn feasible_chain() -> ReleaseProgramme {
    (0..CASES)
        .map(generated)
        .find(|p| {
            p.milestones.len() == 2
                && p.dependencies.len() == 1
                && p.milestones.iter().all(|m| m.deadline.is_none())
                && !solve(p, ProgrammeEngine::Auto).0.is_empty()
        })
        .expect("the generator makes feasible two-milestone chains")
}

fn explained(p: ReleaseProgramme) -> quorum_domain::ProgrammeExplanation {
    let validated = p.validate(&ProgrammeLimits::default()).expect("valid");
    let found = plan_release(&validated, ProgrammeEngine::Auto, &NeverStop).expect("solves");
    assert!(found.plans.is_empty());
    found.explanation
}

#[test]
fn an_impossible_gap_is_the_primary_reason_and_shortening_it_opens_a_plan() {
    use quorum_domain::{NoPlanReason, Outcome, ProgrammeConstraint, ProgrammeRelaxationKind};
    let mut p = feasible_chain();
    p.dependencies[0].min_gap_minutes = u32::try_from(p.horizon.duration().num_minutes()).unwrap();
    p.dependencies[0].max_gap_minutes = None;
    let explanation = explained(p.clone());
    assert_eq!(explanation.outcome, Outcome::NeedsException);
    assert!(
        matches!(
            explanation.reason,
            Some(NoPlanReason::DependencyImpossible { dependency: 0, .. })
        ),
        "{:?}",
        explanation.reason
    );
    assert_eq!(
        explanation.conflict,
        vec![ProgrammeConstraint::Dependency { index: 0 }]
    );
    let shorten = explanation
        .relaxations
        .iter()
        .find(|r| matches!(r.kind, ProgrammeRelaxationKind::ShortenGap { index: 0, .. }))
        .expect("shortening the gap is offered");
    // The plan it opens is the best plan with no minimum gap at all.
    p.dependencies[0].min_gap_minutes = 0;
    p.top_k = 1;
    assert_eq!(
        Some(&shorten.plan),
        solve(&p, ProgrammeEngine::Auto).0.first()
    );
}

#[test]
fn a_milestone_impossible_alone_is_named_and_moving_its_deadline_opens_a_plan() {
    use quorum_domain::{NoPlanReason, ProgrammeConstraint, ProgrammeRelaxationKind};
    let mut p = feasible_chain();
    p.milestones[1].deadline = Some(p.horizon.start + Duration::minutes(1));
    let explanation = explained(p);
    match &explanation.reason {
        Some(NoPlanReason::MilestoneImpossible { milestone, .. }) => assert_eq!(milestone, "m1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        explanation.conflict,
        vec![ProgrammeConstraint::Milestone {
            milestone: "m1".into()
        }]
    );
    assert!(explanation.relaxations.iter().any(|r| matches!(
        &r.kind,
        ProgrammeRelaxationKind::MoveDeadline { milestone, .. } if milestone == "m1"
    )));
}
