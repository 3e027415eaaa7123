//! Release-programme benches on the workloads in `fixtures/programmes/bench/`
//! (small: 3 milestones in a week; medium: 6 in three weeks on 15-minute
//! buckets, 4 zones, a shared review board and an on-call rota; large: 10
//! with two parallel branches sharing people, four weeks): the optimal plan
//! and the top 10, the chain dynamic program, branch and bound and the
//! time-indexed integer program side by side. BENCHMARKS.md records the
//! numbers.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quorum::{convert, json, pb};
use quorum_domain::{ProgrammeLimits, ValidatedProgramme};
use quorum_solver::{NeverStop, ProgrammeEngine, plan_release};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn load(name: &str, top_k: usize) -> ValidatedProgramme {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("fixtures/programmes/bench/{name}.json"));
    let text = std::fs::read_to_string(&path).expect("bench programme");
    let request: pb::PlanReleaseRequest =
        json::from_json("quorum.v1.PlanReleaseRequest", &text).expect("valid request");
    let (mut programme, _) = convert::release_programme(request).expect("parses");
    programme.top_k = top_k;
    programme
        .validate(&ProgrammeLimits::default())
        .expect("valid programme")
}

fn programmes(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_release");
    group.measurement_time(Duration::from_secs(4));
    // The integer program takes seconds where the search takes milliseconds.
    group.sample_size(10);
    for name in ["small", "medium", "large"] {
        for top_k in [1, 10] {
            let programme = load(name, top_k);
            for (label, engine) in [
                ("dp", ProgrammeEngine::ChainDp),
                ("bnb", ProgrammeEngine::BranchAndBound),
                ("ip", ProgrammeEngine::IntegerProgram),
            ] {
                let ran = match plan_release(&programme, engine, &NeverStop) {
                    Ok(answer) => answer.engine,
                    Err(refused) => {
                        // The integer program is refused beyond the term limit.
                        eprintln!("{label}_top{top_k}/{name}: {refused}");
                        continue;
                    }
                };
                if ran != engine {
                    // The dynamic program only runs on chains; large is not one.
                    continue;
                }
                group.bench_function(BenchmarkId::new(format!("{label}_top{top_k}"), name), |b| {
                    b.iter(|| {
                        plan_release(black_box(&programme), engine, &NeverStop).expect("plans")
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, programmes);
criterion_main!(benches);
