//! The hold broker over the wire: races, tokens, expiry, idempotency,
//! ownership, and holds feeding FindSlots. Real server, real database file.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{Broker, broker_server, fixture};
use quorum::{convert::to_timestamp, pb};
use quorum_domain::ManualClock;
use quorum_holds::{HoldPolicy, SqliteHoldStore};
use std::sync::Arc;
use tonic::Code;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
    ))
}

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, hour, minute, 0).unwrap()
}

fn place(
    ticket: &str,
    people: &[&str],
    start: DateTime<Utc>,
    minutes: i64,
    key: &str,
) -> pb::PlaceHoldRequest {
    pb::PlaceHoldRequest {
        change_ticket: ticket.into(),
        start: Some(to_timestamp(start)),
        end: Some(to_timestamp(start + Duration::minutes(minutes))),
        attendees: people
            .iter()
            .map(|p| pb::HoldAttendee {
                person_id: (*p).into(),
                role_id: format!("role-{p}"),
            })
            .collect(),
        ttl_seconds: 3600,
        idempotency_key: key.into(),
        release_owner: "olga".into(),
    }
}

async fn approve(olga: &mut Broker, hold: &str) -> String {
    olga.approve_hold(pb::ApproveHoldRequest {
        hold_id: hold.into(),
        substitutions: Vec::new(),
        token_ttl_seconds: 600,
    })
    .await
    .expect("approved")
    .into_inner()
    .approval_token
}

fn confirm(hold: &str, token: &str) -> pb::ConfirmHoldRequest {
    pb::ConfirmHoldRequest {
        hold_id: hold.into(),
        approval_token: token.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_race_and_exactly_one_wins_each_round() {
    let (server, dir) = broker_server(clock()).await;
    let mut clients = Vec::new();
    for _ in 0..32 {
        clients.push(server.broker("bot").await);
    }
    for round in 0..12i64 {
        let start = at(6, 0) + Duration::hours(round);
        let calls = clients.iter().cloned().enumerate().map(|(i, mut client)| {
            // Overlapping but not identical slots, each for another ticket.
            let request = place(
                &format!("CHG-R{round}-{i}"),
                &["ana"],
                start + Duration::minutes(i as i64 % 7),
                30,
                &format!("r{round}-{i}"),
            );
            tokio::spawn(async move { client.place_hold(request).await })
        });
        let mut won = 0;
        for call in calls.collect::<Vec<_>>() {
            match call.await.expect("task") {
                Ok(_) => won += 1,
                Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
            }
        }
        assert_eq!(won, 1, "round {round}");
    }
    let store = SqliteHoldStore::open(
        &dir.path().join("holds.db"),
        clock(),
        None,
        HoldPolicy::default(),
    )
    .expect("opens");
    assert_eq!(store.overlapping_active_holds().expect("query"), Vec::new());
    server.stop().await;
}

/// A development-mode server whose refusal budget does not cut in, for tests
/// that count every refusal record.
async fn unbudgeted_server(clock: Arc<ManualClock>) -> (common::TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut broker = quorum::server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.clock = clock;
    broker.policy.audited_refusals_per_minute = 100_000;
    let config = quorum::server::ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    (common::TestServer::start(config).await, dir)
}

#[tokio::test]
async fn every_changed_token_is_refused_audited_and_changes_nothing() {
    let (server, _dir) = unbudgeted_server(clock()).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let hold = bot
        .place_hold(place("CHG-T", &["ana"], at(9, 0), 60, "t1"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &hold.id).await;
    let mut attempts = 0;
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).expect("ascii");
        let status = bot
            .confirm_hold(confirm(&hold.id, &changed))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "byte {i}: {status:?}");
        attempts += 1;
    }
    let now = bot
        .get_hold(pb::GetHoldRequest {
            hold_id: hold.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        (now.state, now.version),
        (pb::HoldState::Tentative as i32, hold.version)
    );
    let log = bot
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: "CHG-T".into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("log")
        .into_inner();
    let refused = log
        .records
        .iter()
        .filter(|r| r.action == "TOKEN_REFUSED")
        .count();
    assert_eq!(refused, attempts);
    // The genuine token still works after all that.
    let confirmed = bot
        .confirm_hold(confirm(&hold.id, &token))
        .await
        .expect("confirms")
        .into_inner();
    assert_eq!(confirmed.state, pb::HoldState::Confirmed as i32);
    server.stop().await;
}

#[tokio::test]
async fn tokens_of_another_hold_or_ticket_and_expired_tokens_are_refused() {
    let clock = clock();
    let (server, _dir) = broker_server(clock.clone()).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let a = bot
        .place_hold(place("CHG-A", &["ana"], at(9, 0), 60, "a"))
        .await
        .expect("a")
        .into_inner();
    let b = bot
        .place_hold(place("CHG-B", &["ben"], at(9, 0), 60, "b"))
        .await
        .expect("b")
        .into_inner();
    let a2 = bot
        .place_hold(place("CHG-A", &["cy"], at(11, 0), 60, "a2"))
        .await
        .expect("a2")
        .into_inner();
    let token_b = approve(&mut olga, &b.id).await;
    let token_a2 = approve(&mut olga, &a2.id).await;
    for (hold, token) in [(&a.id, &token_b), (&a.id, &token_a2)] {
        let status = bot
            .confirm_hold(confirm(hold, token))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
    let token_a = approve(&mut olga, &a.id).await;
    clock.advance(Duration::seconds(601));
    let status = bot
        .confirm_hold(confirm(&a.id, &token_a))
        .await
        .expect_err("expired token");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("expired"), "{}", status.message());
    let eve = server
        .broker("eve")
        .await
        .approve_hold(pb::ApproveHoldRequest {
            hold_id: a.id.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        eve.expect_err("not the owner").code(),
        Code::PermissionDenied
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_confirms_with_one_token_confirm_once() {
    let (server, _dir) = broker_server(clock()).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let hold = bot
        .place_hold(place("CHG-C", &["ana"], at(9, 0), 60, "c"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &hold.id).await;
    let mut calls = Vec::new();
    for _ in 0..16 {
        let mut client = server.broker("bot").await;
        let request = confirm(&hold.id, &token);
        calls.push(tokio::spawn(
            async move { client.confirm_hold(request).await },
        ));
    }
    let mut ok = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => ok += 1,
            Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
        }
    }
    assert_eq!(ok, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_conflict_names_the_attendee_who_clashes_and_holds_show_their_release_owner() {
    let (server, _dir) = broker_server(clock()).await;
    let mut bot = server.broker("bot").await;
    let first = bot
        .place_hold(place("CHG-A", &["ana", "bo"], at(9, 0), 60, "a"))
        .await
        .expect("placed")
        .into_inner();
    assert_eq!(first.release_owner, "olga");
    let blocked = bot
        .place_hold(place("CHG-B", &["cy", "bo", "dee"], at(9, 30), 60, "b"))
        .await
        .expect_err("bo is held by CHG-A");
    assert_eq!(blocked.code(), Code::Aborted);
    let info = tonic_types::StatusExt::get_details_error_info(&blocked).expect("error info");
    assert_eq!(
        info.metadata.get("clashing_attendees"),
        Some(&"bo".to_owned())
    );
    assert_eq!(info.metadata.get("conflicting_holds"), Some(&first.id));
    assert!(
        blocked
            .message()
            .contains(&format!("bo is already held by {}", first.id)),
        "{}",
        blocked.message()
    );
    let listed = bot
        .list_holds(pb::ListHoldsRequest {
            change_ticket: "CHG-A".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let owners: Vec<&str> = listed
        .holds
        .iter()
        .map(|h| h.release_owner.as_str())
        .collect();
    assert_eq!(owners, ["olga"]);
    server.stop().await;
}

#[tokio::test]
async fn expired_hold_blocks_nobody_and_cannot_be_confirmed_without_a_sweeper() {
    let clock = clock();
    let (server, _dir) = broker_server(clock.clone()).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let mut short = place("CHG-E", &["ana"], at(9, 0), 60, "e");
    short.ttl_seconds = 60;
    let hold = bot.place_hold(short).await.expect("placed").into_inner();
    let token = approve(&mut olga, &hold.id).await;
    let blocked = bot
        .place_hold(place("CHG-F", &["ana"], at(9, 30), 60, "f"))
        .await;
    let blocked = blocked.expect_err("still active");
    assert_eq!(blocked.code(), Code::Aborted);
    let info = tonic_types::StatusExt::get_details_error_info(&blocked).expect("error info");
    assert_eq!(info.metadata.get("conflicting_holds"), Some(&hold.id));
    clock.advance(Duration::seconds(60));
    let seen = bot
        .get_hold(pb::GetHoldRequest {
            hold_id: hold.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(seen.state, pb::HoldState::Expired as i32);
    bot.place_hold(place("CHG-F", &["ana"], at(9, 30), 60, "f2"))
        .await
        .expect("expired hold blocks nobody");
    let status = bot
        .confirm_hold(confirm(&hold.id, &token))
        .await
        .expect_err("expired hold");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn idempotency_ownership_extension_and_release() {
    let (server, _dir) = broker_server(clock()).await;
    let mut bot = server.broker("bot").await;
    let first = bot
        .place_hold(place("CHG-I", &["ana"], at(9, 0), 60, "same"))
        .await
        .expect("placed")
        .into_inner();
    let again = bot
        .place_hold(place("CHG-I", &["ana"], at(9, 0), 60, "same"))
        .await
        .expect("retried")
        .into_inner();
    assert_eq!(first.id, again.id);
    let other = bot
        .place_hold(place("CHG-I", &["ana"], at(10, 0), 60, "same"))
        .await;
    assert_eq!(
        other.expect_err("key reused").code(),
        Code::FailedPrecondition
    );
    let mut mallory = place("CHG-I", &["ben"], at(12, 0), 60, "m");
    mallory.release_owner = "mallory".into();
    assert_eq!(
        bot.place_hold(mallory)
            .await
            .expect_err("owner fixed")
            .code(),
        Code::FailedPrecondition
    );
    let mut unnamed = place("CHG-NEW", &["ben"], at(12, 0), 60, "n");
    unnamed.release_owner.clear();
    assert_eq!(
        bot.place_hold(unnamed)
            .await
            .expect_err("needs an owner")
            .code(),
        Code::InvalidArgument
    );
    let too_long = bot
        .extend_hold(pb::ExtendHoldRequest {
            hold_id: first.id.clone(),
            extend_by_seconds: 100 * 3600,
        })
        .await;
    assert_eq!(
        too_long.expect_err("bounded").code(),
        Code::FailedPrecondition
    );
    let extended = bot
        .extend_hold(pb::ExtendHoldRequest {
            hold_id: first.id.clone(),
            extend_by_seconds: 600,
        })
        .await
        .expect("extended")
        .into_inner();
    assert!(extended.version > first.version);
    let released = bot
        .release_hold(pb::ReleaseHoldRequest {
            hold_id: first.id.clone(),
            reason: "window moved".into(),
        })
        .await
        .expect("released")
        .into_inner();
    assert_eq!(released.state, pb::HoldState::Released as i32);
    let ical = bot
        .export_i_calendar(pb::ExportICalendarRequest {
            hold_id: first.id.clone(),
        })
        .await
        .expect("ical")
        .into_inner()
        .icalendar;
    assert!(
        ical.contains("BEGIN:VEVENT") && ical.contains("STATUS:CANCELLED"),
        "{ical}"
    );
    let log = bot
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: "CHG-I".into(),
            ..Default::default()
        })
        .await
        .expect("log")
        .into_inner();
    let actions: Vec<_> = log.records.iter().map(|r| r.action.as_str()).collect();
    // Refused too: the reused idempotency key, the other release owner and
    // the over-long extension.
    assert_eq!(
        actions,
        [
            "HOLD_PLACED",
            "HOLD_REFUSED",
            "HOLD_REFUSED",
            "EXTEND_REFUSED",
            "HOLD_EXTENDED",
            "HOLD_RELEASED"
        ]
    );
    assert!(log.records[1].reason.contains("idempotency key"), "{log:?}");
    assert_eq!(log.json_lines.lines().count(), 6);
    let listed = bot
        .list_holds(pb::ListHoldsRequest {
            person_id: "ana".into(),
            include_inactive: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.holds.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn other_tickets_active_holds_are_busy_time_for_find_slots() {
    let (server, _dir) = broker_server(clock()).await;
    let mut slots = pb::slot_finder_client::SlotFinderClient::new(server.channel().await);
    let request = fixture("identity-cutover.json");
    let before = slots
        .find_slots(request.clone())
        .await
        .expect("solves")
        .into_inner();
    let best = before.slots[0].start.expect("start");
    assert_eq!(best.seconds, at(13, 0).timestamp());
    let mut bot = server.broker("bot").await;
    // A hold of the same ticket does not block its own search.
    bot.place_hold(place(
        "CHG-2291",
        &["sec-ivy", "sec-jon"],
        at(13, 0),
        60,
        "own",
    ))
    .await
    .expect("own hold");
    let same = slots
        .find_slots(request.clone())
        .await
        .expect("solves")
        .into_inner();
    assert_eq!(same.slots[0].start, before.slots[0].start);
    bot.place_hold(place(
        "CHG-9999",
        &["dbm-gus", "dbm-hal"],
        at(13, 0),
        60,
        "other",
    ))
    .await
    .expect("other hold");
    let after = slots
        .find_slots(request)
        .await
        .expect("solves")
        .into_inner();
    assert_ne!(after.slots[0].start, before.slots[0].start);
    server.stop().await;
}

#[tokio::test]
async fn named_substitution_is_applied_on_confirmation_and_checked_for_conflicts() {
    let (server, _dir) = broker_server(clock()).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let hold = bot
        .place_hold(place("CHG-S", &["ana", "ivy"], at(9, 0), 60, "s"))
        .await
        .expect("placed")
        .into_inner();
    bot.place_hold(place("CHG-BUSY", &["dan"], at(9, 0), 60, "busy"))
        .await
        .expect("dan is held elsewhere");
    let substitute = |to: &str| pb::ApproveHoldRequest {
        hold_id: hold.id.clone(),
        substitutions: vec![pb::Substitution {
            role_id: "role-ivy".into(),
            from_person_id: "ivy".into(),
            to_person_id: to.into(),
        }],
        token_ttl_seconds: 600,
    };
    let to_dan = olga
        .approve_hold(substitute("dan"))
        .await
        .expect("approved")
        .into_inner()
        .approval_token;
    let status = bot
        .confirm_hold(confirm(&hold.id, &to_dan))
        .await
        .expect_err("dan is not free");
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    let unnamed = olga
        .approve_hold(pb::ApproveHoldRequest {
            substitutions: vec![pb::Substitution {
                role_id: "role-x".into(),
                from_person_id: "ivy".into(),
                to_person_id: "cy".into(),
            }],
            ..substitute("cy")
        })
        .await;
    assert_eq!(
        unnamed.expect_err("wrong role").code(),
        Code::InvalidArgument
    );
    let to_cy = olga
        .approve_hold(substitute("cy"))
        .await
        .expect("approved")
        .into_inner()
        .approval_token;
    let confirmed = bot
        .confirm_hold(confirm(&hold.id, &to_cy))
        .await
        .expect("confirms")
        .into_inner();
    let people: Vec<_> = confirmed
        .attendees
        .iter()
        .map(|a| a.person_id.as_str())
        .collect();
    assert_eq!(people, ["ana", "cy"]);
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_signed_with_the_configured_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("signing.key");
    std::fs::write(&key_path, [42u8; 32]).expect("key written");
    let mut broker = quorum::server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.signing_key_file = Some(key_path);
    broker.clock = clock();
    let config = quorum::server::ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    let server = common::TestServer::start(config).await;
    let mut bot = server.broker("bot").await;
    let mut olga = server.broker("olga").await;
    let hold = bot
        .place_hold(place("CHG-K", &["ana"], at(9, 0), 60, "k"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &hold.id).await;
    let claims = quorum_holds::TokenSigner::new(vec![42; 32])
        .expect("key")
        .verify(&token)
        .expect("signed with the configured key");
    assert_eq!(
        (claims.hold_id.as_str(), claims.approver.as_str()),
        (hold.id.as_str(), "olga")
    );
    assert!(
        quorum_holds::TokenSigner::new(vec![43; 32])
            .expect("key")
            .verify(&token)
            .is_err()
    );
    server.stop().await;
}

#[tokio::test]
async fn with_a_token_file_only_bearer_tokens_identify_callers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "s3cret-bot bot pipeline\ns3cret-root root admin\n")
        .expect("token file written");
    let mut broker = quorum::server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.token_file = Some(tokens);
    let config = quorum::server::ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    let server = common::TestServer::start(config).await;
    // The development header means nothing once a token file is configured.
    let mut claimed = server.broker("olga").await;
    let status = claimed
        .list_holds(pb::ListHoldsRequest::default())
        .await
        .expect_err("no bearer token");
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut root = common::bearer(&server, "s3cret-root").await;
    root.register_ticket(pb::RegisterTicketRequest {
        change_ticket: "CHG-AUTH".into(),
        release_owner: "olga".into(),
    })
    .await
    .expect("registered by the admin");
    let mut bearer = common::bearer(&server, "s3cret-bot").await;
    let hold = bearer
        .place_hold(place("CHG-AUTH", &["ana"], at(9, 0), 60, "auth"))
        .await
        .expect("placed")
        .into_inner();
    assert_eq!(hold.requester, "bot");
    server.stop().await;
}
