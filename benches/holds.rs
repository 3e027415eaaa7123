//! PlaceHold on the embedded SQLite store, durable (WAL, synchronous=FULL):
//! each iteration is one check-and-insert transaction with its audit record,
//! committed to disk.

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quorum_domain::{HoldAttendee, PersonId, RoleId, SystemClock, TimeRange};
use quorum_holds::{HoldPolicy, HoldStore, PlaceHold, Principal, Scope, SqliteHoldStore};
use std::sync::Arc;

fn place_hold(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteHoldStore::open(
        &dir.path().join("bench.db"),
        Arc::new(SystemClock),
        None,
        HoldPolicy {
            owner_from_first_hold: true,
            ..HoldPolicy::default()
        },
    )
    .expect("store opens");
    let base = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let bench = Principal::new("bench", [Scope::Pipeline]);
    let mut n: i64 = 0;
    let mut group = c.benchmark_group("holds");
    group.throughput(Throughput::Elements(1));
    group.bench_function("place_hold/sqlite_durable", |b| {
        b.iter(|| {
            n += 1;
            // Ten people in rotation, each hold later than the last: no conflicts,
            // but every check reads a growing index.
            let start = base + Duration::minutes(30 * n);
            let request = PlaceHold {
                change_ticket: format!("CHG-B{n}"),
                slot: TimeRange::new(start, start + Duration::minutes(30)),
                attendees: vec![HoldAttendee {
                    person: PersonId(format!("p{}", n % 10)),
                    role: RoleId("rm".into()),
                }],
                ttl: Duration::hours(1),
                idempotency_key: format!("k{n}"),
                release_owner: Some("olga".into()),
            };
            store.place(request, &bench).expect("placed")
        })
    });
    group.finish();
}

criterion_group!(benches, place_hold);
criterion_main!(benches);
