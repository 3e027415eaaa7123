//! Drawing big answers: the picture of `fixtures/bench/large.json` (230
//! people in 20 roles over four weeks on a 5-minute grid, 5,000 busy
//! intervals), solved once with explain on, then rendered repeatedly; and
//! the same with one role's pool busy for the first week, so every start of
//! that week is a drawn rejected run. The
//! page's size is printed once so BENCHMARKS.md can record it beside the time.

use criterion::{Criterion, criterion_group, criterion_main};
use quorum::{json, pb, picture, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;
use std::path::Path;
use std::time::Duration;

fn large() -> pb::FindSlotsRequest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench/large.json");
    let mut request =
        json::request_from_json(&std::fs::read_to_string(path).expect("fixture")).expect("request");
    request.explain = true;
    request
}

/// Large with the first role's whole pool busy for the first week: every
/// start of that week is explained and drawn as a rejected run.
fn large_first_week_busy() -> pb::FindSlotsRequest {
    let mut request = large();
    let start = request.horizon.expect("a horizon").start.expect("a start");
    let week_later = prost_types::Timestamp {
        seconds: start.seconds + 7 * 24 * 3600,
        nanos: 0,
    };
    let pool = request.roles[0].pool.clone();
    for person in request.people.iter_mut().filter(|p| pool.contains(&p.id)) {
        person.busy.push(pb::BusyInterval {
            start: Some(start),
            end: Some(week_later),
            status: pb::BusyStatus::Busy.into(),
        });
    }
    request
}

fn render(c: &mut Criterion) {
    let zone = chrono_tz::Europe::Berlin;
    let mut group = c.benchmark_group("picture");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    for (name, request) in [
        ("large", large()),
        ("large-first-week-busy", large_first_week_busy()),
    ] {
        // Explaining every start of four weeks takes more than the default
        // 8 MB explain budget; the bench measures drawing the worst case.
        let limits = ProblemLimits {
            max_explanation_bytes: 1 << 30,
            ..ProblemLimits::default()
        };
        let response = solve_request(request.clone(), &limits, &NeverStop).expect("solves");
        let html = picture::render_slots(&request, &response, zone).expect("renders");
        eprintln!(
            "picture/{name}: {} people, {} slots, {} rejected runs, {} bytes of HTML",
            request.people.len(),
            response.slots.len(),
            response.rejected_starts.as_ref().map_or(0, |t| t
                .groups
                .iter()
                .map(|g| g.runs.len())
                .sum::<usize>()),
            html.len()
        );
        group.bench_function(format!("render_slots/{name}"), |b| {
            b.iter(|| picture::render_slots(&request, &response, zone).expect("renders"))
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
