//! Several replicas, one truth: three real `quorum serve` processes on one
//! PostgreSQL database (started by `tests/support/postgres.sh`), with many
//! clients racing through all of them. Double booking must be impossible,
//! a token must be spent once, and an outage of the database must fail calls
//! with UNAVAILABLE and lose nothing acknowledged.

mod common;
#[path = "support/postgres.rs"]
mod postgres_server;
#[path = "support/replicas.rs"]
mod replicas;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::BearerBroker;
use quorum::{convert::to_timestamp, pb};
use replicas::{
    ADMIN, BOT, Cluster, OLGA, OVERLAPPING_ACTIVE_PAIRS, client, pipeline_token, register,
};
use tonic::Code;

const CLIENTS: usize = 64;
const ROUNDS: usize = 200;

fn place(ticket: &str, key: &str, start: DateTime<Utc>, minutes: i64) -> pb::PlaceHoldRequest {
    pb::PlaceHoldRequest {
        change_ticket: ticket.into(),
        start: Some(to_timestamp(start)),
        end: Some(to_timestamp(start + Duration::minutes(minutes))),
        attendees: vec![pb::HoldAttendee {
            person_id: "ana".into(),
            role_id: "release-manager".into(),
        }],
        ttl_seconds: 3600,
        idempotency_key: key.into(),
        release_owner: String::new(),
    }
}

async fn clients(urls: &[String], token: &str, n: usize) -> Vec<BearerBroker> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(client(&urls[i % urls.len()], token).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_never_double_book_and_spend_a_token_once() {
    let Some(cluster) = Cluster::start("race") else {
        return;
    };
    let replicas: Vec<_> = (0..3).map(|_| cluster.replica()).collect();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let mut admin = client(&urls[0], ADMIN).await;
    for c in 0..CLIENTS {
        register(&mut admin, &format!("CHG-{c}")).await;
    }
    // Each client is its own pipeline, spread over the replicas.
    let mut bots = Vec::with_capacity(CLIENTS);
    for c in 0..CLIENTS {
        bots.push(client(&urls[c % urls.len()], &pipeline_token(c)).await);
    }
    let base = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
    for round in 0..ROUNDS {
        // Every client's hold overlaps every other's in this round, and
        // none reaches the next round's.
        let round_start = base + Duration::hours(2 * round as i64);
        let calls = bots.iter().enumerate().map(|(c, bot)| {
            let mut bot = bot.clone();
            let request = place(
                &format!("CHG-{c}"),
                &format!("r{round}-c{c}"),
                round_start + Duration::minutes((c % 30) as i64),
                60,
            );
            tokio::spawn(async move { bot.place_hold(request).await.map(|_| ()) })
        });
        let outcomes = futures_join(calls).await;
        let codes: Vec<Code> = outcomes
            .iter()
            .map(|o| o.as_ref().err().map_or(Code::Ok, |s| s.code()))
            .collect();
        let winners = outcomes.iter().filter(|o| o.is_ok()).count();
        // Lost to the winner's hold, named as such: not any ABORTED.
        let aborted = outcomes
            .iter()
            .filter(|o| matches!(o, Err(s) if lost_to_a_hold(s)))
            .count();
        let unexpected: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .filter(|s| !lost_to_a_hold(s))
            .map(|s| format!("{:?}: {}", s.code(), s.message()))
            .take(3)
            .collect();
        assert_eq!(winners, 1, "round {round}: {codes:?} {unexpected:?}");
        assert_eq!(
            aborted,
            CLIENTS - 1,
            "round {round}: {codes:?} {unexpected:?}"
        );
    }
    assert_eq!(cluster.count(OVERLAPPING_ACTIVE_PAIRS), 0);
    let active = cluster.count("SELECT count(*) FROM holds WHERE state = 'TENTATIVE'");
    assert_eq!(active, ROUNDS as i64, "one hold per round");

    // One token, sixteen confirmations through all three replicas at once.
    let mut bot = client(&urls[0], BOT).await;
    register(&mut admin, "CHG-TOKEN").await;
    let later = base + Duration::days(400);
    let hold = bot
        .place_hold(place("CHG-TOKEN", "token-race", later, 30))
        .await
        .expect("placed")
        .into_inner()
        .id;
    let mut olga = client(&urls[1], OLGA).await;
    let token = olga
        .approve_hold(pb::ApproveHoldRequest {
            hold_id: hold.clone(),
            ..Default::default()
        })
        .await
        .expect("approved")
        .into_inner()
        .approval_token;
    let confirmers = clients(&urls, BOT, 16).await;
    let calls = confirmers.into_iter().map(|mut bot| {
        let request = pb::ConfirmHoldRequest {
            hold_id: hold.clone(),
            approval_token: token.clone(),
        };
        tokio::spawn(async move { bot.confirm_hold(request).await.map(|_| ()) })
    });
    let outcomes = futures_join(calls).await;
    let successes = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(successes, 1, "{outcomes:?}");
    for outcome in &outcomes {
        if let Err(status) = outcome {
            assert!(
                matches!(
                    status.code(),
                    Code::FailedPrecondition | Code::PermissionDenied
                ),
                "{status:?}"
            );
        }
    }
    assert_eq!(cluster.count("SELECT count(*) FROM used_tokens"), 1);
}

async fn futures_join(
    calls: impl Iterator<Item = tokio::task::JoinHandle<Result<(), tonic::Status>>>,
) -> Vec<Result<(), tonic::Status>> {
    let handles: Vec<_> = calls.collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("call task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_postgres_is_unavailable_and_loses_nothing_acknowledged() {
    let Some(cluster) = Cluster::start("outage") else {
        return;
    };
    let replicas: Vec<_> = (0..3).map(|_| cluster.replica()).collect();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let mut admin = client(&urls[0], ADMIN).await;
    register(&mut admin, "CHG-OUT").await;
    let mut bots = clients(&urls, BOT, 3).await;
    let base = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap();
    let mut acknowledged = Vec::new();
    for i in 0..9 {
        let start = base + Duration::hours(i);
        let hold = bots[i as usize % 3]
            .place_hold(place("CHG-OUT", &format!("before-{i}"), start, 30))
            .await
            .expect("placed before the outage");
        acknowledged.push(hold.into_inner().id);
    }

    cluster.pg.stop_server();
    for (r, bot) in bots.iter_mut().enumerate() {
        let start = base + Duration::days(1) + Duration::hours(r as i64);
        let refused = bot
            .place_hold(place("CHG-OUT", &format!("during-{r}"), start, 30))
            .await
            .expect_err("no database, no hold");
        assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
        let read = bot
            .get_hold(pb::GetHoldRequest {
                hold_id: acknowledged[0].clone(),
            })
            .await
            .expect_err("no database, no answer");
        assert_eq!(read.code(), Code::Unavailable, "{read:?}");
    }

    cluster.pg.start_server();
    for (r, bot) in bots.iter_mut().enumerate() {
        let start = base + Duration::days(2) + Duration::hours(r as i64);
        let mut placed = None;
        // The pool finds its old connections dead and makes new ones.
        for _ in 0..50 {
            match bot
                .place_hold(place("CHG-OUT", &format!("after-{r}"), start, 30))
                .await
            {
                Ok(hold) => {
                    placed = Some(hold.into_inner().id);
                    break;
                }
                Err(status) => {
                    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
        acknowledged.push(placed.expect("replica {r} recovers when the database returns"));
    }
    for (i, id) in acknowledged.iter().enumerate() {
        let hold = bots[i % 3]
            .get_hold(pb::GetHoldRequest {
                hold_id: id.clone(),
            })
            .await
            .expect("every acknowledged hold is there")
            .into_inner();
        assert_eq!(hold.state, pb::HoldState::Tentative as i32);
    }
}

/// ABORTED because another hold takes the person (its `ErrorInfo` says
/// `HOLD_CONFLICT` and names the person), not a contention abort.
fn lost_to_a_hold(status: &tonic::Status) -> bool {
    status.code() == Code::Aborted
        && tonic_types::StatusExt::get_details_error_info(status).is_some_and(|info| {
            info.reason == "HOLD_CONFLICT"
                && info.metadata.get("clashing_attendees").map(String::as_str) == Some("ana")
        })
}
