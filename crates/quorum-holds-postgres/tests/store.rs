//! The PostgreSQL store's own guarantees, on a throwaway server: the audit
//! log refuses every way of rewriting it, active holds reach FindSlots as
//! busy time, and a clash names the attendee in the way.

#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use chrono::{Duration, TimeZone, Utc};
use quorum_domain::{HoldAttendee, ManualClock, PersonId, RoleId, TimeRange};
use quorum_holds::{Broker, HoldError, HoldPolicy, HoldStore, PlaceHold, Principal};
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use std::sync::Arc;

#[test]
fn audit_log_is_append_only_and_holds_are_busy_time() {
    let Some(server) = postgres_server::TestPostgres::start() else {
        return;
    };
    let url = server.create_database("store");
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let storage =
        PostgresStorage::open(&url, Some(clock.clone()), &PoolSettings::default()).expect("opens");
    let policy = HoldPolicy {
        owner_from_first_hold: true,
        ..HoldPolicy::default()
    };
    let store = Broker::new(storage, None, policy).expect("broker");
    let start = now + Duration::hours(2);
    let slot = TimeRange::new(start, start + Duration::hours(1));
    let person = |p: &str| HoldAttendee {
        person: PersonId(p.into()),
        role: RoleId("rm".into()),
    };
    store
        .place(
            PlaceHold {
                change_ticket: "CHG-1".into(),
                slot,
                attendees: vec![person("ana"), person("bo")],
                ttl: Duration::hours(1),
                idempotency_key: "k1".into(),
                release_owner: Some("olga".into()),
            },
            &Principal::with_every_scope("bot"),
        )
        .expect("placed");

    let day = TimeRange::new(now, now + Duration::days(1));
    let people = [PersonId("ana".into()), PersonId("cy".into())];
    let busy = store.busy_from_holds(&people, day, "CHG-2").expect("busy");
    let busy: Vec<_> = busy
        .into_iter()
        .map(|h| (h.person, h.range, h.change_ticket))
        .collect();
    assert_eq!(
        busy,
        vec![(PersonId("ana".into()), slot, "CHG-1".to_owned())]
    );
    // A clash names the attendee in the way, not the free ones: the
    // exclusion constraint's refusal is read back per person.
    let refused = store.place(
        PlaceHold {
            change_ticket: "CHG-2".into(),
            slot,
            attendees: vec![person("cy"), person("bo")],
            ttl: Duration::hours(1),
            idempotency_key: "k2".into(),
            release_owner: Some("olga".into()),
        },
        &Principal::with_every_scope("bot"),
    );
    match refused {
        Err(HoldError::Conflict { clashes }) => {
            let people: Vec<&str> = clashes.iter().map(|c| c.person.0.as_str()).collect();
            assert_eq!(people, ["bo"]);
        }
        other => panic!("expected a conflict on bo, got {other:?}"),
    }
    // The ticket's own holds are not in its way.
    assert!(
        store
            .busy_from_holds(&people, day, "CHG-1")
            .expect("busy")
            .is_empty()
    );
    // Nor is a hold once it has expired, swept or not.
    clock.advance(Duration::hours(1));
    assert!(
        store
            .busy_from_holds(&people, day, "CHG-2")
            .expect("busy")
            .is_empty()
    );

    let mut sql = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let records: i64 = sql
        .query_one("SELECT count(*) FROM audit_log", &[])
        .expect("count")
        .get(0);
    assert!(records >= 1);
    for statement in [
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "INSERT INTO audit_log (sequence, at_ns, actor, change_ticket, action, reason) VALUES (1, 0, 'mallory', 'CHG-1', 'X', 'rewritten')",
        "INSERT INTO audit_log OVERRIDING SYSTEM VALUE (sequence, at_ns, actor, change_ticket, action, reason) VALUES (1, 0, 'mallory', 'CHG-1', 'X', '') ON CONFLICT (sequence) DO UPDATE SET actor = 'mallory'",
    ] {
        assert!(
            sql.batch_execute(statement).is_err(),
            "{statement} was allowed"
        );
    }
    let actors: i64 = sql
        .query_one(
            "SELECT count(*) FROM audit_log WHERE actor = 'mallory'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(actors, 0);
    // Appending stays allowed.
    sql.batch_execute(
        "INSERT INTO audit_log (at_ns, actor, change_ticket, action, reason) VALUES (0, 'root', 'CHG-1', 'NOTE', '')",
    )
    .expect("append");
}
