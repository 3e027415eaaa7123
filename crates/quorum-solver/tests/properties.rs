//! Property tests: the solver against the brute-force reference, the two
//! engines against each other, and metamorphic properties that must hold for
//! any problem.

mod support;

use proptest::prelude::*;
use quorum_domain::{ProblemLimits, SlotProblem, ValidatedProblem};
use quorum_solver::{Engine, NeverStop, find_slots};
use support::{
    clock_change::{ChangeCase, change_cases, dst_case},
    random::random_problem,
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
    // The reference reads the clock at every minute of every meeting, so fewer cases.
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn prop_working_hours_across_clock_changes_match_reference(seed in any::<u64>()) {
        let (_, problem) = dst_case(seed);
        prop_assert_eq!(solve(&problem, Engine::Enumerate), reference_slots(&problem));
    }
}

/// The clock-change property above means something only if its generator
/// really makes windows that end inside, start inside and span a repeated
/// hour in each fall-back zone, touch a skipped hour in each spring-forward
/// zone, and mix in Kolkata and Kathmandu people.
#[test]
fn meta_clock_change_generator_makes_every_case() {
    use chrono_tz::{America::New_York, Australia::Lord_Howe, Europe::London};
    use std::collections::BTreeMap;
    let mut seen: BTreeMap<(String, ChangeCase), usize> = BTreeMap::new();
    for seed in 0..1000 {
        let (change, problem) = dst_case(seed);
        for case in change_cases(change, &problem) {
            *seen
                .entry((change.zone.name().to_owned(), case))
                .or_default() += 1;
        }
    }
    let count = |zone: chrono_tz::Tz, case| {
        seen.get(&(zone.name().to_owned(), case))
            .copied()
            .unwrap_or(0)
    };
    for zone in [New_York, London, Lord_Howe] {
        for case in [
            ChangeCase::EndsInsideRepeatedHour,
            ChangeCase::StartsInsideRepeatedHour,
            ChangeCase::SpansRepeatedHour,
            ChangeCase::TouchesSkippedHour,
        ] {
            assert!(
                count(zone, case) >= 15,
                "{case:?} in {zone} only {} times in 1000 problems: {seen:?}",
                count(zone, case)
            );
        }
    }
    let off_grid: usize = seen
        .iter()
        .filter(|((_, case), _)| *case == ChangeCase::OffGridZone)
        .map(|(_, n)| n)
        .sum();
    assert!(off_grid >= 100, "only {off_grid} Kolkata/Kathmandu people");
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
