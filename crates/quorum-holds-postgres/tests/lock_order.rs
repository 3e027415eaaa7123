//! Confirming or extending a hold takes the same per-person locks as placing
//! one, in the same order, before it touches the hold's attendee rows
//! (migration 4). Without them a confirmation and a placement for one of its
//! people can each wait on the other's uncommitted row in the exclusion
//! constraint's index — a deadlock PostgreSQL breaks only after a second.
//!
//! That deadlock needs both transactions to insert into the index between
//! each other's insert and check, a window inside one statement that a test
//! cannot hold open, so it cannot be made to happen on demand. What can be
//! shown deterministically is the ordering that rules it out: with a
//! placement for one of the hold's people in flight (its transaction open,
//! its person locked), an extension and a confirmation of the hold wait for
//! that placement to commit instead of going ahead. The wait is observed in
//! `pg_locks`, not timed.

#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use chrono::{Duration, TimeZone, Utc};
use quorum_domain::{HoldAttendee, HoldId, ManualClock, PersonId, RoleId, TimeRange};
use quorum_holds::{Broker, HoldPolicy, HoldStore, PlaceHold, Principal, TokenSigner};
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use std::sync::Arc;
use std::sync::mpsc;

#[test]
fn confirm_and_extend_wait_for_a_placement_of_their_people() {
    let Some(server) = postgres_server::TestPostgres::start() else {
        return;
    };
    let url = server.create_database("lock_order");
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let storage =
        PostgresStorage::open(&url, Some(clock), &PoolSettings::default()).expect("opens");
    let signer = TokenSigner::new(vec![7; 32]).expect("signer");
    let policy = HoldPolicy {
        owner_from_first_hold: true,
        ..HoldPolicy::default()
    };
    let store = Arc::new(Broker::new(storage, Some(signer), policy).expect("broker"));
    let bot = Principal::with_every_scope("bot");
    let start = now + Duration::hours(2);
    let hold = store
        .place(
            PlaceHold {
                change_ticket: "CHG-1".into(),
                slot: TimeRange::new(start, start + Duration::hours(1)),
                attendees: vec![attendee("bo"), attendee("ana")],
                ttl: Duration::hours(1),
                idempotency_key: "k1".into(),
                release_owner: Some("olga".into()),
            },
            &bot,
        )
        .expect("placed");

    let extend = {
        let (store, id, bot) = (store.clone(), hold.id.clone(), bot.clone());
        move || store.extend(&id, Duration::minutes(10), &bot).map(|_| ())
    };
    waits_for_a_placement_of_ana(&url, "extending", extend);

    let olga = Principal::with_every_scope("olga");
    let grant = store
        .approve(&hold.id, &olga, &[], Duration::minutes(10))
        .expect("approved");
    let confirm = {
        let (store, id) = (store.clone(), hold.id.clone());
        move || store.confirm(&id, &grant.token, &bot).map(|_| ())
    };
    waits_for_a_placement_of_ana(&url, "confirming", confirm);
}

fn attendee(person: &str) -> HoldAttendee {
    HoldAttendee {
        person: PersonId(person.into()),
        role: RoleId("rm".into()),
    }
}

/// Opens a placement of ana (a later slot of the same ticket, so it does not
/// clash) and leaves it uncommitted; runs `change` on a thread; checks that
/// the change waits on an advisory lock rather than finishing; commits the
/// placement and checks the change then succeeds.
fn waits_for_a_placement_of_ana(
    url: &str,
    what: &str,
    change: impl FnOnce() -> Result<(), quorum_holds::HoldError> + Send + 'static,
) {
    let mut placer = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let mut placing = placer.transaction().expect("begin");
    let id = HoldId(format!("H-placer-{what}"));
    let later = 2 * 10_i64.pow(18);
    let in_the_way: Option<Vec<String>> = placing
        .query_one(
            "SELECT place_hold($1, 'CHG-1', $2, $3, $4, 0, 'bot', 1, $1, '', ARRAY['ana'], ARRAY['rm'], 0,
                               NULL, NULL, NULL, NULL)",
            &[&id.0, &later, &(later + 1_000), &(later + 2_000)],
        )
        .expect("placement in flight")
        .get(0);
    assert_eq!(in_the_way, None, "the placement in flight was refused");

    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(change());
    });
    let mut watcher = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    // Polled, not timed: the change either shows up waiting on an advisory
    // lock or finishes first, which is the failure. The bound only keeps a
    // hung test from hanging CI.
    let mut waited = false;
    for _ in 0..3_000 {
        if let Ok(outcome) = finished.try_recv() {
            panic!(
                "{what} went ahead while a placement of one of its people was in flight: {outcome:?}"
            );
        }
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                &[],
            )
            .expect("pg_locks")
            .get(0);
        if waiting > 0 {
            waited = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        waited,
        "{what} neither waited for the placer's lock nor finished"
    );
    placing.commit().expect("the placement commits");
    let outcome = finished.recv().expect("the change reports");
    worker.join().expect("the change's thread");
    assert!(outcome.is_ok(), "{what} after the placement: {outcome:?}");
}
