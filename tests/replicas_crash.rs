//! A replica killed with SIGKILL mid-write, twenty times, while two others
//! keep serving from the same PostgreSQL database: every acknowledged hold,
//! confirmation and audit record is there, and the other replicas never
//! fail a call.

mod common;
#[path = "support/postgres.rs"]
mod postgres_server;
#[path = "support/replicas.rs"]
mod replicas;

use chrono::{Duration, TimeZone, Utc};
use common::BearerBroker;
use quorum::{convert::to_timestamp, pb};
use replicas::{ADMIN, BOT, Cluster, OLGA, client, register};
use std::sync::{Arc, Mutex};

const CYCLES: u32 = 20;

#[derive(Debug, Clone)]
struct Acknowledged {
    hold: String,
    confirmed: bool,
}

fn request(ticket: &str, key: String, slot: i64) -> pb::PlaceHoldRequest {
    let base = Utc.with_ymd_and_hms(2027, 9, 1, 0, 0, 0).unwrap();
    let start = base + Duration::hours(slot);
    pb::PlaceHoldRequest {
        change_ticket: ticket.into(),
        start: Some(to_timestamp(start)),
        end: Some(to_timestamp(start + Duration::minutes(30))),
        attendees: vec![pb::HoldAttendee {
            person_id: format!("p{}", slot % 7),
            role_id: "rm".into(),
        }],
        ttl_seconds: 3600,
        idempotency_key: key,
        release_owner: String::new(),
    }
}

/// Places, approves and confirms holds until a call fails; every answer
/// that arrived is recorded as acknowledged.
async fn write(
    mut bot: BearerBroker,
    mut olga: BearerBroker,
    ticket: &'static str,
    stream: i64,
    acked: Arc<Mutex<Vec<Acknowledged>>>,
) -> u32 {
    for i in 0u32.. {
        let slot = stream * 1_000 + i64::from(i);
        let placed = bot.place_hold(request(ticket, format!("{ticket}-{slot}"), slot));
        let Ok(hold) = placed.await else { return i };
        let hold = hold.into_inner().id;
        acked.lock().expect("lock").push(Acknowledged {
            hold: hold.clone(),
            confirmed: false,
        });
        if i % 2 == 1 {
            continue;
        }
        let approve = pb::ApproveHoldRequest {
            hold_id: hold.clone(),
            ..Default::default()
        };
        let Ok(grant) = olga.approve_hold(approve).await else {
            return i;
        };
        let confirm = pb::ConfirmHoldRequest {
            hold_id: hold.clone(),
            approval_token: grant.into_inner().approval_token,
        };
        if bot.confirm_hold(confirm).await.is_err() {
            return i;
        }
        acked.lock().expect("lock").push(Acknowledged {
            hold,
            confirmed: true,
        });
    }
    unreachable!("the loop only ends by returning")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_a_replica_loses_nothing_and_the_others_keep_serving() {
    let Some(cluster) = Cluster::start("crash") else {
        return;
    };
    let survivors = [cluster.replica(), cluster.replica()];
    let mut admin = client(&survivors[0].url, ADMIN).await;
    register(&mut admin, "CHG-VICTIM").await;
    register(&mut admin, "CHG-STEADY").await;
    let acked = Arc::new(Mutex::new(Vec::new()));

    // The steady stream alternates between the two survivors, and must
    // never see a failure while the third replica dies again and again.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let steady = {
        let (acked, stop) = (acked.clone(), stop.clone());
        let urls: Vec<String> = survivors.iter().map(|r| r.url.clone()).collect();
        tokio::spawn(async move {
            let mut calls = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = &urls[calls as usize % 2];
                let (bot, olga) = (client(url, BOT).await, client(url, OLGA).await);
                let stream = 1_000 + i64::from(calls);
                let done = write_some(bot, olga, stream, acked.clone()).await;
                calls += 1;
                assert_eq!(done, 4, "a surviving replica failed a call");
            }
            calls
        })
    };

    for cycle in 0..CYCLES {
        let mut victim = cluster.replica();
        let (bot, olga) = (
            client(&victim.url, BOT).await,
            client(&victim.url, OLGA).await,
        );
        let writer = tokio::spawn(write(
            bot,
            olga,
            "CHG-VICTIM",
            i64::from(cycle),
            acked.clone(),
        ));
        // A different moment each cycle, inside the stream of writes.
        let pause = 80 + u64::from(cycle) * 37 % 300;
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        victim.kill();
        writer.await.expect("the writer ends when its replica dies");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let steady_streams = steady.await.expect("the survivors never failed a call");
    assert!(steady_streams > 0);

    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 40,
        "too few writes to prove anything: {}",
        acked.len()
    );
    for record in &acked {
        let (state, action) = if record.confirmed {
            ("CONFIRMED", "HOLD_CONFIRMED")
        } else {
            ("%", "HOLD_PLACED")
        };
        let id = &record.hold;
        let found = cluster.count(&format!(
            "SELECT count(*) FROM holds WHERE id = '{id}' AND state LIKE '{state}'"
        ));
        assert_eq!(found, 1, "acknowledged {record:?} is missing");
        let audited = cluster.count(&format!(
            "SELECT count(*) FROM audit_log WHERE hold_id = '{id}' AND action = '{action}'"
        ));
        assert_eq!(audited, 1, "the audit record of {record:?} is missing");
    }
}

/// Two placements and one confirmation on a survivor; how many succeeded.
async fn write_some(
    mut bot: BearerBroker,
    mut olga: BearerBroker,
    stream: i64,
    acked: Arc<Mutex<Vec<Acknowledged>>>,
) -> u32 {
    let mut done = 0;
    let mut last = String::new();
    for i in 0..2 {
        let slot = stream * 1_000 + i;
        let key = format!("steady-{slot}");
        let hold = match bot.place_hold(request("CHG-STEADY", key, slot)).await {
            Ok(hold) => hold,
            Err(status) => panic!("a surviving replica refused a hold: {status:?}"),
        };
        last = hold.into_inner().id;
        acked.lock().expect("lock").push(Acknowledged {
            hold: last.clone(),
            confirmed: false,
        });
        done += 1;
    }
    let approve = pb::ApproveHoldRequest {
        hold_id: last.clone(),
        ..Default::default()
    };
    let Ok(grant) = olga.approve_hold(approve).await else {
        return done;
    };
    done += 1;
    let confirm = pb::ConfirmHoldRequest {
        hold_id: last.clone(),
        approval_token: grant.into_inner().approval_token,
    };
    if let Err(status) = bot.confirm_hold(confirm).await {
        panic!("a surviving replica refused a confirmation: {status:?}");
    }
    {
        acked.lock().expect("lock").push(Acknowledged {
            hold: last,
            confirmed: true,
        });
        done += 1;
    }
    done
}
