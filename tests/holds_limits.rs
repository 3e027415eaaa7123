//! Bounded work under hostile input, over the wire: attendee caps, id and key
//! sizes checked before the store is touched, paged listings and audit logs
//! inside the message limit, and a flood of refused calls that cannot grow
//! the store faster than the per-caller refusal budget.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{Broker, TestServer, violated_fields as fields};
use quorum::{convert::to_timestamp, pb};
use quorum_domain::ManualClock;
use std::sync::Arc;
use tonic::Code;

async fn start(
    configure: impl FnOnce(&mut quorum::server::ServerConfig),
) -> (TestServer, tempfile::TempDir, Arc<ManualClock>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
    ));
    let mut broker = quorum::server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.clock = clock.clone();
    let mut config = quorum::server::ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    configure(&mut config);
    (TestServer::start(config).await, dir, clock)
}

fn place(ticket: &str, people: usize, key: &str, hour: i64) -> pb::PlaceHoldRequest {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::hours(hour);
    pb::PlaceHoldRequest {
        change_ticket: ticket.into(),
        start: Some(to_timestamp(start)),
        end: Some(to_timestamp(start + Duration::hours(1))),
        attendees: (0..people)
            .map(|i| pb::HoldAttendee {
                person_id: format!("person-{i}"),
                role_id: "reviewer".into(),
            })
            .collect(),
        ttl_seconds: 3600,
        idempotency_key: key.into(),
        release_owner: "olga".into(),
    }
}

#[tokio::test]
async fn place_hold_caps_attendees_and_finds_duplicates_with_a_field_path() {
    let (server, _dir, _clock) = start(|_| {}).await;
    let mut bot = server.broker("bot").await;
    let status = bot
        .place_hold(place("CHG-A", 20_000, "huge", 0))
        .await
        .expect_err("twenty thousand attendees");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(fields(&status), ["attendees"]);
    let status = bot
        .place_hold(place("CHG-A", 65, "k65", 0))
        .await
        .expect_err("one past the cap");
    assert_eq!(fields(&status), ["attendees"]);
    let mut twice = place("CHG-A", 64, "twice", 0);
    twice.attendees[63].person_id = "person-0".into();
    let status = bot.place_hold(twice).await.expect_err("listed twice");
    assert_eq!(fields(&status), ["attendees[63].person_id"]);
    bot.place_hold(place("CHG-A", 64, "k64", 0))
        .await
        .expect("64 attendees is the cap");
    server.stop().await;
}

async fn audit(
    client: &mut Broker,
    ticket: &str,
    size: u32,
    token: &str,
) -> pb::GetAuditLogResponse {
    client
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: ticket.into(),
            page_size: size,
            page_token: token.into(),
        })
        .await
        .expect("audit page")
        .into_inner()
}

#[tokio::test]
async fn oversized_ids_and_control_characters_are_invalid_argument_and_never_stored() {
    let (server, _dir, _clock) = start(|_| {}).await;
    let mut mallory = server.broker("mallory").await;
    let huge = "H".repeat(3 * 1024 * 1024);
    let status = mallory
        .confirm_hold(pb::ConfirmHoldRequest {
            hold_id: huge.clone(),
            approval_token: "v1.garbage".into(),
        })
        .await
        .expect_err("3 MB hold id");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(fields(&status), ["hold_id"]);
    let status = mallory
        .release_hold(pb::ReleaseHoldRequest {
            hold_id: "H-1".into(),
            reason: "done\r\nX-INJECTED:1".into(),
        })
        .await
        .expect_err("CR LF in a reason");
    assert_eq!(fields(&status), ["reason"]);
    let mut escape = place("CHG-\u{1b}[31m", 1, "k\0", 0);
    escape.release_owner = "o".repeat(129);
    let status = mallory.place_hold(escape).await.expect_err("ESC and NUL");
    assert_eq!(
        fields(&status),
        ["change_ticket", "idempotency_key", "release_owner"]
    );
    let status = mallory
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: huge,
            ..Default::default()
        })
        .await
        .expect_err("3 MB ticket");
    assert_eq!(fields(&status), ["change_ticket"]);
    // Nothing of it reached the store: the log of unknown holds is empty.
    let records = audit(&mut server.broker("root").await, "", 500, "").await;
    assert_eq!(records.records, Vec::new());
    server.stop().await;
}

#[tokio::test]
async fn audit_log_and_hold_listings_come_in_pages() {
    let (server, _dir, _clock) = start(|_| {}).await;
    let mut bot = server.broker("bot").await;
    for i in 0..250 {
        bot.place_hold(place("CHG-PAGE", 1, &format!("k{i}"), i))
            .await
            .expect("placed");
    }
    let mut root = server.broker("root").await;
    let (mut sequences, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = audit(&mut root, "CHG-PAGE", 100, &token).await;
        assert!(page.records.len() <= 100);
        assert_eq!(page.json_lines.lines().count(), page.records.len());
        sequences.extend(page.records.iter().map(|r| r.sequence));
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((pages, sequences.len()), (3, 250));
    assert!(sequences.windows(2).all(|w| w[0] < w[1]));
    // Asking for more than the most is clamped, not refused.
    assert_eq!(
        audit(&mut root, "CHG-PAGE", 100_000, "")
            .await
            .records
            .len(),
        250
    );
    let (mut ids, mut token) = (Vec::new(), String::new());
    loop {
        let page = root
            .list_holds(pb::ListHoldsRequest {
                change_ticket: "CHG-PAGE".into(),
                page_size: 100,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("list page")
            .into_inner();
        ids.extend(page.holds.into_iter().map(|h| h.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (250, 250));
    let status = root
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: "CHG-PAGE".into(),
            page_token: "not-a-sequence".into(),
            ..Default::default()
        })
        .await
        .expect_err("forged page token");
    assert_eq!(fields(&status), ["page_token"]);
    server.stop().await;
}

#[tokio::test]
async fn hold_broker_answers_are_held_to_the_message_limit() {
    let (server, _dir, _clock) = start(|c| c.max_message_bytes = 32 * 1024).await;
    let mut bot = server.broker("bot").await;
    for i in 0..200 {
        bot.place_hold(place("CHG-BIG", 1, &format!("k{i}"), i))
            .await
            .expect("placed");
    }
    let status = bot
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: "CHG-BIG".into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect_err("an answer past the limit is not sent");
    assert!(
        matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{status:?}"
    );
    audit(&mut bot, "CHG-BIG", 20, "").await;
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_refused_calls_grows_the_audit_log_only_within_the_budget() {
    let (server, _dir, clock) = start(|c| {
        if let Some(broker) = c.hold_broker.as_mut() {
            broker.policy.audited_refusals_per_minute = 10;
        }
    })
    .await;
    let mut mallory = server.broker("mallory").await;
    for i in 0..200 {
        let status = mallory
            .confirm_hold(pb::ConfirmHoldRequest {
                hold_id: format!("H-garbage-{i}"),
                approval_token: "v1.e30.c2ln".into(),
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    let mut root = server.broker("root").await;
    let logged = audit(&mut root, "", 500, "").await.records;
    assert_eq!(logged.len(), 10, "{logged:?}");
    assert!(logged.iter().all(|r| r.action == "TOKEN_REFUSED"));
    clock.advance(Duration::seconds(61));
    mallory
        .confirm_hold(pb::ConfirmHoldRequest {
            hold_id: "H-one-more".into(),
            approval_token: "v1.e30.c2ln".into(),
        })
        .await
        .expect_err("refused");
    let logged = audit(&mut root, "", 500, "").await.records;
    let summary = logged
        .iter()
        .find(|r| r.action == "REFUSALS_SUPPRESSED")
        .expect("the suppressed refusals are summarised");
    assert!(
        summary.reason.starts_with("190 further"),
        "{}",
        summary.reason
    );
    assert_eq!(logged.len(), 12);
    server.stop().await;
}

#[tokio::test]
async fn a_hold_for_a_slot_already_begun_is_refused_naming_start() {
    // The store's clock reads 2026-11-30 08:00Z: 16 hours before hour 0.
    let (server, _dir, _clock) = start(|_| {}).await;
    let mut bot = server.broker("bot").await;
    let status = bot
        .place_hold(place("CHG-PAST", 1, "past", -17))
        .await
        .expect_err("an hour ago");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(fields(&status), ["start"]);
    bot.place_hold(place("CHG-PAST", 1, "now", -16))
        .await
        .expect("a slot starting right now may still be held");
    server.stop().await;
}
