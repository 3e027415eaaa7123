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

criterion_group!(benches, sizes, scaling);
criterion_main!(benches);
