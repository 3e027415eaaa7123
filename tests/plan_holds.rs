//! Held plans over the wire: the fixtures' best plans are planned and held
//! whole (approved once, confirmed once), and 32 callers racing to hold
//! overlapping plans leave exactly one plan held and no partial plan behind —
//! checked by listing every ticket's holds and reading its audit log.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{Broker, TestServer, broker_server, fixture_path};
use quorum::{convert, json, pb};
use quorum_domain::ManualClock;
use std::sync::Arc;
use tonic::Code;

fn programme(name: &str) -> pb::PlanReleaseRequest {
    let text = std::fs::read_to_string(fixture_path("programmes").join(name)).expect("readable");
    json::from_json("quorum.v1.PlanReleaseRequest", &text).expect("a PlanReleaseRequest")
}

/// The server's clock: the day before the fixture's horizon, so its slots
/// are still to come.
fn clock_before(request: &pb::PlanReleaseRequest) -> Arc<ManualClock> {
    let start = request
        .horizon
        .as_ref()
        .and_then(|h| h.start.as_ref())
        .and_then(convert::from_timestamp)
        .expect("horizon start");
    Arc::new(ManualClock::new(start - Duration::days(1)))
}

async fn plan_on(server: &TestServer, request: pb::PlanReleaseRequest) -> pb::PlanReleaseResponse {
    pb::release_planner_client::ReleasePlannerClient::new(server.channel().await)
        .plan_release(request)
        .await
        .expect("planned")
        .into_inner()
}

async fn holds_of(broker: &mut Broker, ticket: &str) -> Vec<pb::Hold> {
    broker
        .list_holds(pb::ListHoldsRequest {
            change_ticket: ticket.into(),
            include_inactive: true,
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("listing")
        .into_inner()
        .holds
}

async fn actions_of(broker: &mut Broker, ticket: &str) -> Vec<pb::AuditRecord> {
    broker
        .get_audit_log(pb::GetAuditLogRequest {
            change_ticket: ticket.into(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .expect("audit log")
        .into_inner()
        .records
}

async fn hold_fixture_plan(name: &str) {
    let request = programme(name);
    let (server, _dir) = broker_server(clock_before(&request)).await;
    let ticket = request.change_ticket.clone();
    let planned = plan_on(&server, request).await;
    let best = planned.plans.first().expect("a plan");
    let mut bot = server.broker("release-bot").await;
    let mut olga = server.broker("olga").await;
    let place = convert::plan_holds::hold_plan_request(
        &ticket,
        best,
        3600,
        format!("{ticket}-plan-1"),
        "olga".into(),
    );
    let held = bot.place_plan_hold(place).await.expect("held").into_inner();
    assert_eq!(held.state, pb::HoldState::Tentative as i32);
    assert_eq!(held.milestones.len(), best.milestones.len());
    for (member, milestone) in held.milestones.iter().zip(&best.milestones) {
        let hold = member.hold.as_ref().expect("a hold");
        assert_eq!(member.milestone_id, milestone.milestone_id);
        assert_eq!((hold.start, hold.end), (milestone.start, milestone.end));
        assert_eq!(hold.change_ticket, ticket);
        let mut people: Vec<&str> = hold
            .attendees
            .iter()
            .map(|a| a.person_id.as_str())
            .collect();
        let mut assigned: Vec<&str> = milestone
            .assignments
            .iter()
            .map(|a| a.person_id.as_str())
            .collect();
        people.sort_unstable();
        assigned.sort_unstable();
        assigned.dedup();
        assert_eq!(people, assigned, "{}", member.milestone_id);
    }
    assert_eq!(
        holds_of(&mut bot, &ticket).await.len(),
        best.milestones.len()
    );
    // A milestone's hold alone is not released: the plan is.
    let first = held.milestones[0].hold.as_ref().expect("hold").id.clone();
    let alone = bot
        .release_hold(pb::ReleaseHoldRequest {
            hold_id: first,
            reason: String::new(),
        })
        .await
        .expect_err("a milestone alone");
    assert_eq!(alone.code(), Code::FailedPrecondition, "{alone:?}");

    let token = olga
        .approve_plan_hold(pb::ApprovePlanHoldRequest {
            plan_id: held.plan_id.clone(),
            token_ttl_seconds: 600,
        })
        .await
        .expect("approved")
        .into_inner()
        .approval_token;
    let confirmed = bot
        .confirm_plan_hold(pb::ConfirmPlanHoldRequest {
            plan_id: held.plan_id.clone(),
            approval_token: token,
        })
        .await
        .expect("confirmed")
        .into_inner();
    assert_eq!(confirmed.state, pb::HoldState::Confirmed as i32);
    let seen = olga
        .get_plan_hold(pb::GetPlanHoldRequest {
            plan_id: held.plan_id.clone(),
        })
        .await
        .expect("plan")
        .into_inner();
    for member in &seen.milestones {
        let hold = member.hold.as_ref().expect("hold");
        assert_eq!(hold.state, pb::HoldState::Confirmed as i32);
    }
    let log = actions_of(&mut olga, &ticket).await;
    let confirmations = log.iter().filter(|r| r.action == "HOLD_CONFIRMED").count();
    assert_eq!(confirmations, best.milestones.len());
    // Every record names the plan, the refused lone release included.
    assert!(
        log.iter().all(|r| r.reason.contains(&held.plan_id)),
        "{log:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_model_release_plans_and_holds_end_to_end() {
    hold_fixture_plan("model-release.json").await;
}

#[tokio::test]
async fn the_multi_service_cutover_plans_and_holds_end_to_end() {
    hold_fixture_plan("multi-service-cutover.json").await;
}

fn at(day: u32, hour: u32, minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap() + Duration::minutes(minute)
}

fn milestone(id: &str, start: DateTime<Utc>, people: &[&str]) -> pb::PlanMilestoneSlot {
    pb::PlanMilestoneSlot {
        milestone_id: id.into(),
        start: Some(convert::to_timestamp(start)),
        end: Some(convert::to_timestamp(start + Duration::hours(1))),
        attendees: people
            .iter()
            .map(|p| pb::HoldAttendee {
                person_id: (*p).into(),
                role_id: "role".into(),
            })
            .collect(),
    }
}

const CALLERS: usize = 32;
const ROUNDS: u32 = 5;

/// Every round, 32 callers (one ticket each) place three-milestone plans
/// whose first two milestones are each caller's own and whose cutovers all
/// share one SRE at overlapping times: a store that held milestones one
/// transaction at a time would leave the losers' first two behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_callers_racing_overlapping_plans_one_wins_nothing_partial() {
    let clock = Arc::new(ManualClock::new(at(1, 0, 0)));
    let (server, _dir) = broker_server(clock).await;
    let mut auditor = server.broker("auditor").await;
    for round in 0..ROUNDS {
        let day = 2 + round;
        let calls = (0..CALLERS).map(|c| {
            let server_url = server.url();
            async move {
                let channel = tonic::transport::Endpoint::from_shared(server_url)
                    .expect("url")
                    .connect()
                    .await
                    .expect("connects");
                let mut bot = pb::hold_broker_client::HoldBrokerClient::with_interceptor(
                    channel,
                    common::As("release-bot"),
                );
                let own = format!("own-{round}-{c}");
                let request = pb::PlacePlanHoldRequest {
                    change_ticket: format!("CHG-{round}-{c}"),
                    milestones: vec![
                        milestone("prepare", at(day, 8, 0), &[&own]),
                        milestone("review", at(day, 10, 0), &[&own]),
                        milestone("cutover", at(day, 14, (c % 30) as i64), &["sre", &own]),
                    ],
                    ttl_seconds: 3600,
                    idempotency_key: format!("race-{round}-{c}"),
                    release_owner: "olga".into(),
                };
                bot.place_plan_hold(request).await.map(|r| r.into_inner())
            }
        });
        let tasks: Vec<_> = calls.map(tokio::spawn).collect();
        let mut outcomes = Vec::with_capacity(CALLERS);
        for task in tasks {
            outcomes.push(task.await.expect("task"));
        }
        let winners: Vec<&pb::PlanHold> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        for outcome in &outcomes {
            if let Err(status) = outcome {
                assert_eq!(status.code(), Code::Aborted, "round {round}: {status:?}");
            }
        }
        let winner = winners[0].change_ticket.clone();
        for c in 0..CALLERS {
            let ticket = format!("CHG-{round}-{c}");
            let expected = if ticket == winner { 3 } else { 0 };
            let holds = holds_of(&mut auditor, &ticket).await;
            assert_eq!(holds.len(), expected, "{ticket}: {holds:?}");
            let placed = actions_of(&mut auditor, &ticket)
                .await
                .into_iter()
                .filter(|r| r.action == "HOLD_PLACED")
                .count();
            assert_eq!(placed, expected, "{ticket}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_plan_with_a_milestone_already_past_is_refused_naming_it() {
    let clock = Arc::new(ManualClock::new(at(2, 12, 0)));
    let (server, _dir) = broker_server(clock).await;
    let mut bot = server.broker("release-bot").await;
    let status = bot
        .place_plan_hold(pb::PlacePlanHoldRequest {
            change_ticket: "CHG-1".into(),
            milestones: vec![
                milestone("prepare", at(2, 8, 0), &["ana"]),
                milestone("cutover", at(3, 8, 0), &["ana"]),
            ],
            ttl_seconds: 3600,
            idempotency_key: "k".into(),
            release_owner: "olga".into(),
        })
        .await
        .expect_err("past");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("prepare"), "{status:?}");
    server.stop().await;
}
