//! The bench workloads in `fixtures/bench/` are exactly what the deterministic
//! generator makes, so benches, tests and any gRPC client share them. Set
//! QUORUM_BLESS=1 to rewrite them after changing the generator.

mod common;

use quorum::{convert, json};
use quorum_solver::Engine;
use quorum_testkit::{ProblemShape, bench_problem};

#[test]
fn bench_fixtures_match_their_generator() {
    let bless = std::env::var_os("QUORUM_BLESS").is_some();
    for name in ["small", "medium", "large", "infeasible-medium"] {
        let problem = bench_problem(name).expect("known bench problem");
        let text = json::request_to_json(&convert::problem_to_request(&problem, Engine::Enumerate))
            .expect("serialises");
        let path = common::fixture_path(&format!("bench/{name}.json"));
        if bless {
            std::fs::write(&path, &text).expect("writable");
        } else {
            let stored = std::fs::read_to_string(&path).expect("bench fixture exists");
            assert!(
                stored == text,
                "{} differs from the generator; run with QUORUM_BLESS=1",
                path.display()
            );
        }
    }
    assert!(bench_problem("enormous").is_none());
    assert_eq!(ProblemShape::medium().roles, 5);
}
