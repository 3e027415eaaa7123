//! The PostgreSQL store's own guarantees, on a throwaway server: the audit
//! log refuses every way of rewriting it, active holds reach FindSlots as
//! busy time, and a clash names the attendee in the way.

#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use chrono::{Duration, TimeZone, Utc};
use quorum_domain::{HoldAttendee, ManualClock, PersonId, RoleId, TimeRange};
use quorum_holds::{Broker, HoldError, HoldPolicy, HoldStore, PageRequest, PlaceHold, Principal};
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

/// The identity sequence is handed out at insert, not at commit: a record
/// whose transaction commits after a later-numbered one was read must still
/// be on a later page, not skipped. Here a transaction appends a record and
/// stays open while the broker commits a later one; the reader pages with
/// the last record's sequence as its token (the broker's token format).
#[test]
fn audit_pages_never_skip_a_record_committed_late() {
    let Some(server) = postgres_server::TestPostgres::start() else {
        return;
    };
    let url = server.create_database("horizon");
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let storage =
        PostgresStorage::open(&url, Some(clock.clone()), &PoolSettings::default()).expect("opens");
    let policy = HoldPolicy {
        owner_from_first_hold: true,
        ..HoldPolicy::default()
    };
    let store = Broker::new(storage, None, policy).expect("broker");
    let bot = Principal::with_every_scope("bot");
    let start = now + Duration::hours(2);
    let hold = store
        .place(
            PlaceHold {
                change_ticket: "CHG-LATE".into(),
                slot: TimeRange::new(start, start + Duration::hours(1)),
                attendees: vec![HoldAttendee {
                    person: PersonId("ana".into()),
                    role: RoleId("rm".into()),
                }],
                ttl: Duration::hours(1),
                idempotency_key: "k1".into(),
                release_owner: Some("olga".into()),
            },
            &bot,
        )
        .expect("placed");

    let mut late = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let mut open = late.transaction().expect("begin");
    open.batch_execute(
        "INSERT INTO audit_log (at_ns, actor, change_ticket, action, reason) VALUES (0, 'late', 'CHG-LATE', 'NOTE', 'committed late')",
    )
    .expect("append in an open transaction");
    store
        .extend(&hold.id, Duration::minutes(10), &bot)
        .expect("extended: a later record, committed first");

    let mut seen: Vec<(u64, String)> = Vec::new();
    let read_all = |seen: &mut Vec<(u64, String)>| {
        loop {
            let token = seen.last().map(|(sequence, _)| sequence.to_string());
            let page = store
                .audit_log("CHG-LATE", &PageRequest { size: 1, token }, &bot)
                .expect("page");
            if page.items.is_empty() {
                break;
            }
            seen.extend(page.items.into_iter().map(|r| (r.sequence, r.actor)));
        }
    };
    read_all(&mut seen);
    open.commit().expect("the late record commits");
    read_all(&mut seen);

    let actors: Vec<&str> = seen.iter().map(|(_, actor)| actor.as_str()).collect();
    assert_eq!(actors.len(), 3, "every record, once: {seen:?}");
    assert_eq!(
        actors.iter().filter(|a| **a == "late").count(),
        1,
        "{seen:?}"
    );
}
