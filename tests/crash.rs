//! Durability: the real server binary, killed with SIGKILL at random moments
//! during a stream of hold and confirm writes, restarted on the same file,
//! many times. Every acknowledged write and its audit record must be there,
//! and SQLite's integrity check must pass.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::As;
use quorum::{convert::to_timestamp, pb};
use quorum_domain::SystemClock;
use quorum_holds::{HoldPolicy, SqliteHoldStore};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

type Broker = pb::hold_broker_client::HoldBrokerClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, As>,
>;

/// Starts `quorum serve` on an ephemeral port and reads the port from its log.
fn start(store: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--holds-only",
            "--log-json",
            "--store",
        ])
        .arg(store)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("server logs its address")
            .expect("readable log");
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(address) = json.pointer("/fields/address").and_then(|a| a.as_str()) {
            break address.to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{address}"))
}

#[derive(Debug, Clone)]
struct Acknowledged {
    hold: String,
    ticket: String,
    confirmed: bool,
}

async fn write_until_killed(
    url: String,
    cycle: u32,
    acked: Arc<std::sync::Mutex<Vec<Acknowledged>>>,
) {
    let Ok(channel) = tonic::transport::Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
    else {
        return;
    };
    let mut bot: Broker =
        pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel.clone(), As("bot"));
    let mut olga: Broker =
        pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel, As("olga"));
    let base = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    for i in 0u32.. {
        let ticket = format!("CHG-K{cycle}-{i}");
        let start = base + Duration::hours(i64::from(cycle * 10_000 + i));
        let request = pb::PlaceHoldRequest {
            change_ticket: ticket.clone(),
            start: Some(to_timestamp(start)),
            end: Some(to_timestamp(start + Duration::minutes(30))),
            attendees: vec![pb::HoldAttendee {
                person_id: "ana".into(),
                role_id: "rm".into(),
            }],
            ttl_seconds: 3600,
            idempotency_key: ticket.clone(),
            release_owner: "olga".into(),
        };
        let Ok(hold) = bot.place_hold(request).await else {
            return;
        };
        let hold = hold.into_inner().id;
        let mut record = Acknowledged {
            hold: hold.clone(),
            ticket,
            confirmed: false,
        };
        acked.lock().expect("lock").push(record.clone());
        if i % 2 == 0 {
            let approve = pb::ApproveHoldRequest {
                hold_id: hold.clone(),
                ..Default::default()
            };
            let Ok(grant) = olga.approve_hold(approve).await else {
                return;
            };
            let confirm = pb::ConfirmHoldRequest {
                hold_id: hold,
                approval_token: grant.into_inner().approval_token,
            };
            if bot.confirm_hold(confirm).await.is_err() {
                return;
            }
            record.confirmed = true;
            let mut list = acked.lock().expect("lock");
            if let Some(last) = list.last_mut() {
                *last = record;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("holds.db");
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    for cycle in 0..6u32 {
        let (mut child, url) = start(&store);
        let writer = tokio::spawn(write_until_killed(url, cycle, acked.clone()));
        // A different moment each cycle, inside the stream of writes.
        tokio::time::sleep(std::time::Duration::from_millis(
            150 + u64::from(cycle) * 97 % 400,
        ))
        .await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        writer.await.expect("writer ends when the server dies");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 12,
        "too few writes were acknowledged to prove anything: {}",
        acked.len()
    );
    let check = SqliteHoldStore::open(&store, Arc::new(SystemClock), None, HoldPolicy::default())
        .expect("reopens");
    assert_eq!(check.integrity_check().expect("check"), "ok");
    let (mut child, url) = start(&store);
    let channel = tonic::transport::Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connects");
    let mut bot = pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel, As("bot"));
    for ack in &acked {
        let hold = bot
            .get_hold(pb::GetHoldRequest {
                hold_id: ack.hold.clone(),
            })
            .await
            .expect("acknowledged hold survives")
            .into_inner();
        let log = bot
            .get_audit_log(pb::GetAuditLogRequest {
                change_ticket: ack.ticket.clone(),
                ..Default::default()
            })
            .await
            .expect("log")
            .into_inner();
        let actions: Vec<_> = log.records.iter().map(|r| r.action.as_str()).collect();
        assert!(
            actions.contains(&"HOLD_PLACED"),
            "{}: {actions:?}",
            ack.ticket
        );
        if ack.confirmed {
            assert_eq!(hold.state, pb::HoldState::Confirmed as i32, "{}", ack.hold);
            assert!(
                actions.contains(&"HOLD_CONFIRMED"),
                "{}: {actions:?}",
                ack.ticket
            );
        }
    }
    child.kill().expect("stop");
    child.wait().expect("reaped");
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, url) = start(&dir.path().join("holds.db"));
    let channel = tonic::transport::Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("serving");
    drop(channel);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    // Poll rather than block, so this runtime stays free to close connections.
    for _ in 0..200 {
        if let Some(exit) = child.try_wait().expect("waitable") {
            assert!(exit.success(), "{exit:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().expect("SIGKILL");
    panic!("the server did not stop within 10 s of SIGTERM");
}
