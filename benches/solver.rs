//! Solver benches on the shared workloads in `fixtures/bench/`: the full solve
//! (top 10) for each size, the plain availability scan that is the floor any
//! exact engine must pay, and scaling as buckets, people and busy intervals
//! double. BENCHMARKS.md records the numbers and how they were taken.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fixedbitset::FixedBitSet;
use quorum::{convert, json};
use quorum_domain::{ProblemLimits, SlotProblem, ValidatedProblem};
use quorum_solver::{Engine, Grid, NeverStop, find_slots};
use quorum_testkit::{BENCH_SEED, ProblemShape, generate};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn load(name: &str) -> ValidatedProblem {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/bench/{name}.json"));
    let text = std::fs::read_to_string(&path).expect("bench fixture");
    let request = json::request_from_json(&text).expect("valid request");
    let (problem, _) = convert::slot_problem(request).expect("parses");
    validated(problem)
}

fn validated(problem: SlotProblem) -> ValidatedProblem {
    problem
        .validate(&ProblemLimits::default())
        .expect("valid problem")
}

/// The floor: each person's availability as a bitset over the grid starts,
/// OR-ed over each role's pool and AND-ed across roles. No freeze, capacity,
/// ranking or assignment.
fn availability_scan(problem: &SlotProblem) -> FixedBitSet {
    let grid = Grid::new(
        problem.horizon,
        problem.bucket.seconds(),
        problem.meeting_duration().num_seconds(),
    );
    let mut all = grid.full_set();
    for role in &problem.roles {
        let mut any = grid.empty_set();
        for id in &role.pool {
            let Some(person) = problem.person(id) else {
                continue;
            };
            let mut available = grid.starts_inside(&person.working_intervals(problem.horizon));
            available.intersect_with(&grid.starts_clear_of(&person.blocking_busy(false)));
            any.union_with(&available);
        }
        all.intersect_with(&any);
    }
    all
}

fn sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("solve_top10");
    group.measurement_time(Duration::from_secs(4));
    for name in ["small", "medium", "large"] {
        let problem = load(name);
        group.bench_function(BenchmarkId::new("solve", name), |b| {
            b.iter(|| {
                find_slots(black_box(&problem), Engine::Enumerate, &NeverStop).expect("solves")
            })
        });
        group.bench_function(BenchmarkId::new("scan", name), |b| {
            b.iter(|| availability_scan(black_box(&problem)))
        });
    }
    let infeasible = load("infeasible-medium");
    group.bench_function(BenchmarkId::new("explain", "infeasible-medium"), |b| {
        b.iter(|| {
            find_slots(black_box(&infeasible), Engine::Enumerate, &NeverStop).expect("explains")
        })
    });
    let small = load("small");
    group.bench_function(BenchmarkId::new("integer_program", "small"), |b| {
        b.iter(|| {
            find_slots(black_box(&small), Engine::IntegerProgram, &NeverStop).expect("solves")
        })
    });
    group.finish();
}

/// Scales one dimension of a shape by a factor.
type Grow = fn(&mut ProblemShape, usize);

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group.measurement_time(Duration::from_secs(3));
    let base = ProblemShape::medium();
    let axes: [(&str, Grow); 3] = [
        ("days", |s, f| s.days *= f as i64),
        ("candidates_per_role", |s, f| s.candidates_per_role *= f),
        ("busy_intervals", |s, f| s.busy_intervals *= f),
    ];
    for (axis, grow) in axes {
        for factor in [1, 2, 4, 8] {
            let mut shape = base.clone();
            grow(&mut shape, factor);
            let problem = validated(generate(&shape, BENCH_SEED));
            group.bench_function(BenchmarkId::new(axis, factor), |b| {
                b.iter(|| {
                    find_slots(black_box(&problem), Engine::Enumerate, &NeverStop).expect("solves")
                })
            });
        }
    }
    group.finish();
}

/// Large (200 people, four weeks of 5-minute buckets) with one role's whole
/// pool busy to the horizon's end, explained with `explain: true`: every one
/// of the 8,064 starts is rejected and described.
fn infeasible_large() -> ValidatedProblem {
    let mut problem = quorum_testkit::bench_problem("large").expect("large");
    let end = problem.horizon.end;
    quorum_testkit::occupy_role_until(&mut problem, 2, end);
    problem.explain = true;
    validated(problem)
}

fn explanations(c: &mut Criterion) {
    let mut group = c.benchmark_group("explain");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    let large = infeasible_large();
    group.bench_function(BenchmarkId::new("find_slots", "infeasible-large"), |b| {
        b.iter(|| find_slots(black_box(&large), Engine::Enumerate, &NeverStop).expect("explains"))
    });
    // The same without `explain`: the difference is what the rejected runs cost.
    let mut unexplained = (*large).clone();
    unexplained.explain = false;
    let unexplained = validated(unexplained);
    group.bench_function(
        BenchmarkId::new("find_slots", "infeasible-large-no-explain"),
        |b| {
            b.iter(|| {
                find_slots(black_box(&unexplained), Engine::Enumerate, &NeverStop)
                    .expect("explains")
            })
        },
    );
    let search = find_slots(&large, Engine::Enumerate, &NeverStop).expect("explains");
    // The words are part of the response: the reporter runs in the encode.
    let reporter = quorum::report::Reporter::new(&large, chrono_tz::Europe::Berlin);
    let response = convert::search_to_response(
        "CHG-BENCH-LARGE",
        search.clone(),
        Engine::Enumerate,
        &reporter,
    );
    // The size is what this bench is about; criterion only times.
    eprintln!(
        "explain/infeasible-large: {} bytes encoded, {} runs in {} groups, {} constraints",
        prost::Message::encoded_len(&response),
        search.explanation.rejected_starts.run_count(),
        search.explanation.rejected_starts.groups.len(),
        search.explanation.rejected_starts.constraints.len()
    );
    group.bench_function(
        BenchmarkId::new("encode_response", "infeasible-large"),
        |b| {
            b.iter(|| {
                let response = convert::search_to_response(
                    "CHG-BENCH-LARGE",
                    black_box(search.clone()),
                    Engine::Enumerate,
                    &reporter,
                );
                prost::Message::encoded_len(&response)
            })
        },
    );
    group.finish();
}

criterion_group!(benches, sizes, scaling, explanations);
criterion_main!(benches);
