//! Property tests: the solver against the brute-force reference, the two
//! engines against each other, and metamorphic properties that must hold for
//! any problem.

mod support;

use proptest::prelude::*;
use quorum_domain::{ProblemLimits, SlotProblem, ValidatedProblem};
use quorum_solver::{Engine, NeverStop, find_slots};
use support::{
    random::{dst_problem, random_problem},
    reference::reference_slots,
};

fn validated(problem: SlotProblem) -> ValidatedProblem {
    match problem.validate(&ProblemLimits::default()) {
        Ok(valid) => valid,
        Err(violations) => panic!("generated problem is invalid: {violations:?}"),
    }
}

fn solve(problem: &SlotProblem, engine: Engine) -> Vec<quorum_domain::Slot> {
    find_slots(&validated(problem.clone()), engine, &NeverStop)
        .unwrap()
        .slots
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn prop_enumerator_matches_brute_force_reference(seed in any::<u64>()) {
        let problem = random_problem(seed);
        prop_assert_eq!(solve(&problem, Engine::Enumerate), reference_slots(&problem));
    }

    #[test]
    fn prop_removing_busy_time_never_removes_a_slot(seed in any::<u64>()) {
        let mut problem = random_problem(seed);
        problem.top_k = 1_000;
        let before = solve(&problem, Engine::Enumerate);
        for person in &mut problem.people {
            if !person.busy.is_empty() {
                person.busy.remove(0);
            }
        }
        let after: Vec<_> = solve(&problem, Engine::Enumerate).into_iter().map(|s| s.range).collect();
        for slot in before {
            prop_assert!(after.contains(&slot.range), "slot {} vanished", slot.range);
        }
    }

    #[test]
    fn prop_same_request_same_answer(seed in any::<u64>()) {
        let problem = random_problem(seed);
        prop_assert_eq!(solve(&problem, Engine::Enumerate), solve(&problem, Engine::Enumerate));
    }
}

proptest! {
    // The reference resolves clock changes by walking minutes, so fewer cases.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn prop_working_hours_across_clock_changes_match_reference(seed in any::<u64>()) {
        let problem = dst_problem(seed);
        prop_assert_eq!(solve(&problem, Engine::Enumerate), reference_slots(&problem));
    }
}

proptest! {
    // The integer program is solved once per slot, so fewer and smaller cases.
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    #[test]
    fn prop_integer_program_ranks_exactly_like_the_enumerator(seed in any::<u64>()) {
        let mut problem = random_problem(seed);
        problem.top_k = problem.top_k.min(4);
        prop_assert_eq!(solve(&problem, Engine::IntegerProgram), solve(&problem, Engine::Enumerate));
    }
}
