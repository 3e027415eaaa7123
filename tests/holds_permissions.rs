//! Least privilege over the wire, with a token file (no development mode):
//! scopes from the file, release owners from registration, separation of
//! duties, reads limited to what the caller may see, every refusal audited,
//! and one status code for a genuine token whose hold moved on.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{BearerBroker, TestServer, bearer};
use quorum::{convert::to_timestamp, pb};
use quorum_domain::ManualClock;
use std::sync::Arc;
use tonic::Code;

const TOKENS: &str = "\
t-bot bot pipeline
t-bot2 bot2 pipeline
t-eve eve pipeline
t-olga olga release-owner
t-bob bob pipeline,release-owner
t-root root admin
t-auditor auditor read
";

async fn start() -> (TestServer, tempfile::TempDir, Arc<ManualClock>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, TOKENS).expect("token file written");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
    ));
    let mut broker = quorum::server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.token_file = Some(tokens);
    broker.clock = clock.clone();
    let config = quorum::server::ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    (TestServer::start(config).await, dir, clock)
}

async fn as_(server: &TestServer, who: &str) -> BearerBroker {
    bearer(server, &format!("t-{who}")).await
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
}

fn place(ticket: &str, person: &str, hour: u32, key: &str) -> pb::PlaceHoldRequest {
    pb::PlaceHoldRequest {
        change_ticket: ticket.into(),
        start: Some(to_timestamp(at(hour))),
        end: Some(to_timestamp(at(hour) + Duration::hours(1))),
        attendees: vec![pb::HoldAttendee {
            person_id: person.into(),
            role_id: "rm".into(),
        }],
        ttl_seconds: 3600,
        idempotency_key: key.into(),
        release_owner: String::new(),
    }
}

async fn register(server: &TestServer, ticket: &str, owner: &str) {
    as_(server, "root")
        .await
        .register_ticket(pb::RegisterTicketRequest {
            change_ticket: ticket.into(),
            release_owner: owner.into(),
        })
        .await
        .expect("registered by the admin");
}

async fn approve(client: &mut BearerBroker, hold: &str) -> Result<String, tonic::Status> {
    client
        .approve_hold(pb::ApproveHoldRequest {
            hold_id: hold.into(),
            substitutions: Vec::new(),
            token_ttl_seconds: 600,
        })
        .await
        .map(|r| r.into_inner().approval_token)
}

fn release(hold: &str, reason: &str) -> pb::ReleaseHoldRequest {
    pb::ReleaseHoldRequest {
        hold_id: hold.into(),
        reason: reason.into(),
    }
}

fn confirm(hold: &str, token: &str) -> pb::ConfirmHoldRequest {
    pb::ConfirmHoldRequest {
        hold_id: hold.into(),
        approval_token: token.into(),
    }
}

async fn actions(server: &TestServer, ticket: &str) -> Vec<(String, String)> {
    as_(server, "auditor")
        .await
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: ticket.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("the auditor reads every log")
        .into_inner()
        .records
        .into_iter()
        .map(|r| (r.actor, r.action))
        .collect()
}

fn has(log: &[(String, String)], actor: &str, action: &str) -> bool {
    log.iter().any(|(a, b)| a == actor && b == action)
}

#[tokio::test]
async fn a_stranger_cannot_release_or_extend_and_a_confirmed_booking_needs_the_owner_and_a_reason()
{
    let (server, _dir, _clock) = start().await;
    register(&server, "CHG-P", "olga").await;
    let (mut bot, mut eve, mut olga) = (
        as_(&server, "bot").await,
        as_(&server, "eve").await,
        as_(&server, "olga").await,
    );
    let hold = bot
        .place_hold(place("CHG-P", "ana", 9, "p"))
        .await
        .expect("placed")
        .into_inner();
    let extend = pb::ExtendHoldRequest {
        hold_id: hold.id.clone(),
        extend_by_seconds: 60,
    };
    let status = eve.extend_hold(extend.clone()).await.expect_err("stranger");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = eve
        .release_hold(release(&hold.id, "mine now"))
        .await
        .expect_err("stranger");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    bot.extend_hold(extend)
        .await
        .expect("the requester extends");
    let token = approve(&mut olga, &hold.id).await.expect("owner approves");
    bot.confirm_hold(confirm(&hold.id, &token))
        .await
        .expect("the requester confirms");
    let status = bot
        .release_hold(release(&hold.id, "changed my mind"))
        .await
        .expect_err("a confirmed booking is the owner's");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = olga
        .release_hold(release(&hold.id, ""))
        .await
        .expect_err("needs a reason");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let released = olga
        .release_hold(release(&hold.id, "cutover cancelled"))
        .await
        .expect("the owner releases with a reason")
        .into_inner();
    assert_eq!(released.state, pb::HoldState::Released as i32);
    let log = actions(&server, "CHG-P").await;
    assert!(has(&log, "eve", "EXTEND_REFUSED"), "{log:?}");
    assert!(has(&log, "eve", "RELEASE_REFUSED"), "{log:?}");
    assert!(has(&log, "bot", "RELEASE_REFUSED"), "{log:?}");
    assert!(has(&log, "olga", "HOLD_RELEASED"), "{log:?}");
    server.stop().await;
}

#[tokio::test]
async fn release_owners_come_from_registration_and_never_approve_their_own_holds() {
    let (server, _dir, _clock) = start().await;
    let (mut bot, mut bob) = (as_(&server, "bot").await, as_(&server, "bob").await);
    let mut naming = place("CHG-N", "ana", 9, "n");
    naming.release_owner = "olga".into();
    let status = bot
        .place_hold(naming.clone())
        .await
        .expect_err("unregistered");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let status = bot
        .register_ticket(pb::RegisterTicketRequest {
            change_ticket: "CHG-N".into(),
            release_owner: "bot".into(),
        })
        .await
        .expect_err("not an admin");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    register(&server, "CHG-N", "olga").await;
    register(&server, "CHG-N", "olga").await;
    let status = as_(&server, "root")
        .await
        .register_ticket(pb::RegisterTicketRequest {
            change_ticket: "CHG-N".into(),
            release_owner: "mallory".into(),
        })
        .await
        .expect_err("fixed");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    bot.place_hold(naming).await.expect("registered now");
    // Naming oneself owner is refused in every mode.
    let mut selfish = place("CHG-N", "ben", 10, "s");
    selfish.release_owner = "bot".into();
    let status = bot.place_hold(selfish).await.expect_err("self-named");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // bob owns CHG-B and may place on it, but never approve what it placed.
    register(&server, "CHG-B", "bob").await;
    let own = bob
        .place_hold(place("CHG-B", "cy", 9, "b"))
        .await
        .expect("placed")
        .into_inner();
    let status = approve(&mut bob, &own.id).await.expect_err("own hold");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let theirs = bot
        .place_hold(place("CHG-B", "dan", 11, "b2"))
        .await
        .expect("placed")
        .into_inner();
    approve(&mut bob, &theirs.id)
        .await
        .expect("bob approves bot's hold");
    let log = actions(&server, "CHG-B").await;
    assert!(has(&log, "bob", "APPROVAL_REFUSED"), "{log:?}");
    assert!(has(&log, "root", "TICKET_REGISTERED"), "{log:?}");
    assert!(has(
        &actions(&server, "CHG-N").await,
        "bot",
        "REGISTRATION_REFUSED"
    ));
    server.stop().await;
}

async fn listed(client: &mut BearerBroker, ticket: &str) -> Result<Vec<String>, tonic::Status> {
    client
        .list_holds(pb::ListHoldsRequest {
            change_ticket: ticket.into(),
            include_inactive: true,
            ..Default::default()
        })
        .await
        .map(|r| {
            let mut tickets: Vec<String> = r
                .into_inner()
                .holds
                .into_iter()
                .map(|h| h.change_ticket)
                .collect();
            tickets.sort();
            tickets
        })
}

#[tokio::test]
async fn reads_are_limited_to_own_and_owned_tickets_or_a_read_scope() {
    let (server, _dir, _clock) = start().await;
    register(&server, "CHG-R1", "olga").await;
    register(&server, "CHG-R2", "olga").await;
    let (mut bot, mut bot2, mut eve) = (
        as_(&server, "bot").await,
        as_(&server, "bot2").await,
        as_(&server, "eve").await,
    );
    let hold = bot
        .place_hold(place("CHG-R1", "ana", 9, "r1"))
        .await
        .expect("placed")
        .into_inner();
    bot2.place_hold(place("CHG-R2", "ben", 9, "r2"))
        .await
        .expect("placed");
    assert_eq!(
        listed(&mut eve, "").await.expect("list"),
        Vec::<String>::new()
    );
    assert_eq!(listed(&mut bot, "").await.expect("list"), ["CHG-R1"]);
    assert_eq!(listed(&mut bot2, "").await.expect("list"), ["CHG-R2"]);
    let both = ["CHG-R1", "CHG-R2"];
    assert_eq!(
        listed(&mut as_(&server, "olga").await, "")
            .await
            .expect("list"),
        both
    );
    assert_eq!(
        listed(&mut as_(&server, "auditor").await, "")
            .await
            .expect("list"),
        both
    );
    let status = listed(&mut eve, "CHG-R1").await.expect_err("not hers");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let get = pb::GetHoldRequest {
        hold_id: hold.id.clone(),
    };
    let status = eve.get_hold(get).await.expect_err("not hers");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = eve
        .export_i_calendar(pb::ExportICalendarRequest {
            hold_id: hold.id.clone(),
        })
        .await
        .expect_err("not hers");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = eve
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: "CHG-R1".into(),
            ..Default::default()
        })
        .await
        .expect_err("not hers");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let log = actions(&server, "CHG-R1").await;
    assert!(has(&log, "eve", "READ_REFUSED"), "{log:?}");
    server.stop().await;
}

#[tokio::test]
async fn approvals_of_released_or_expired_holds_are_refused_and_audited() {
    let (server, _dir, clock) = start().await;
    register(&server, "CHG-X", "olga").await;
    let (mut bot, mut olga) = (as_(&server, "bot").await, as_(&server, "olga").await);
    let released = bot
        .place_hold(place("CHG-X", "ana", 9, "x1"))
        .await
        .expect("placed")
        .into_inner();
    bot.release_hold(release(&released.id, "moved"))
        .await
        .expect("released");
    let status = approve(&mut olga, &released.id)
        .await
        .expect_err("released");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let mut short = place("CHG-X", "ben", 10, "x2");
    short.ttl_seconds = 60;
    let expired = bot.place_hold(short).await.expect("placed").into_inner();
    clock.advance(Duration::seconds(60));
    let status = approve(&mut olga, &expired.id).await.expect_err("expired");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let log = actions(&server, "CHG-X").await;
    let refused = log
        .iter()
        .filter(|(a, b)| a == "olga" && b == "APPROVAL_REFUSED")
        .count();
    assert_eq!(refused, 2, "{log:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_genuine_token_for_a_hold_that_moved_on_is_failed_precondition() {
    let (server, _dir, _clock) = start().await;
    register(&server, "CHG-M", "olga").await;
    let (mut bot, mut olga) = (as_(&server, "bot").await, as_(&server, "olga").await);
    let extended = bot
        .place_hold(place("CHG-M", "ana", 9, "m1"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &extended.id).await.expect("approved");
    bot.extend_hold(pb::ExtendHoldRequest {
        hold_id: extended.id.clone(),
        extend_by_seconds: 60,
    })
    .await
    .expect("extended");
    let status = bot
        .confirm_hold(confirm(&extended.id, &token))
        .await
        .expect_err("moved on: extended");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let released = bot
        .place_hold(place("CHG-M", "ben", 9, "m2"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &released.id).await.expect("approved");
    bot.release_hold(release(&released.id, "moved"))
        .await
        .expect("released");
    let status = bot
        .confirm_hold(confirm(&released.id, &token))
        .await
        .expect_err("moved on: released");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    // A stranger holding the genuine token still may not use it.
    let fresh = bot
        .place_hold(place("CHG-M", "cy", 9, "m3"))
        .await
        .expect("placed")
        .into_inner();
    let token = approve(&mut olga, &fresh.id).await.expect("approved");
    let status = as_(&server, "eve")
        .await
        .confirm_hold(confirm(&fresh.id, &token))
        .await
        .expect_err("stranger");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let log = actions(&server, "CHG-M").await;
    let refused = log.iter().filter(|(_, b)| b == "TOKEN_REFUSED").count();
    assert_eq!(refused, 3, "{log:?}");
    server.stop().await;
}
