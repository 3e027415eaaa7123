//! Release programmes end to end: the request files in
//! `fixtures/programmes/` are canonical proto3 JSON, plan over the wire to
//! what was checked by hand, and their infeasible variants are explained;
//! bad programmes are refused with field paths.

mod common;

use common::{TestServer, fixture_path, plan_release as plan_remote};
use quorum::{convert, json, pb, release_planner::plan_request, server::ServerConfig};
use quorum_domain::ProgrammeLimits;
use quorum_solver::NeverStop;
use tonic::Code;
use tonic_types::StatusExt;

const REQUEST: &str = "quorum.v1.PlanReleaseRequest";

fn programme(name: &str) -> pb::PlanReleaseRequest {
    let text = std::fs::read_to_string(fixture_path("programmes").join(name)).expect("readable");
    json::from_json(REQUEST, &text).expect("a valid PlanReleaseRequest")
}

/// Each plan's milestone starts, as RFC 3339 UTC.
fn starts(plan: &pb::Plan) -> Vec<String> {
    plan.milestones
        .iter()
        .map(|m| {
            let t = m
                .start
                .as_ref()
                .and_then(convert::from_timestamp)
                .expect("start");
            format!("{} {}", m.milestone_id, t.format("%Y-%m-%dT%H:%MZ"))
        })
        .collect()
}

fn people(m: &pb::PlannedMilestone) -> Vec<&str> {
    m.assignments.iter().map(|a| a.person_id.as_str()).collect()
}

/// Set QUORUM_BLESS=1 to rewrite the files in canonical form.
#[test]
fn programme_fixtures_are_canonical_proto3_json() {
    let bless = std::env::var_os("QUORUM_BLESS").is_some();
    let mut count = 0;
    let files = [fixture_path("programmes"), fixture_path("programmes/bench")]
        .into_iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("dir"))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_file());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let request: pb::PlanReleaseRequest =
            json::from_json(REQUEST, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let canonical = json::to_json(REQUEST, &request).expect("serialises");
        if bless {
            std::fs::write(&path, &canonical).expect("writable");
        } else {
            assert!(
                text == canonical,
                "{} is not canonical; run with QUORUM_BLESS=1",
                path.display()
            );
        }
        count += 1;
    }
    assert_eq!(
        count, 7,
        "two programmes, their infeasible variants, three bench workloads"
    );
}

#[tokio::test]
async fn model_release_plans_over_the_wire_as_checked_by_hand() {
    let server = TestServer::start(ServerConfig::default()).await;
    let request = programme("model-release.json");
    let remote = plan_remote(&server, request.clone()).await.expect("plans");
    let local = plan_request(request, &ProgrammeLimits::default(), &NeverStop).expect("plans");
    assert_eq!(remote, local);
    assert_eq!(remote.outcome, pb::Outcome::Feasible as i32);
    // Data readiness waits for dana's busy morning; validation waits for the
    // GPU pool (booked 09–11Z); the governance checkpoint follows it at once
    // (pat is free again); risk review needs Berlin and New York together,
    // 24 h after validation, and the review board is booked Tue 13–15Z; the
    // deployment needs an on-call SRE for window + 2 h soak: sam's shift
    // ends Wed 08:00Z, so omar covers from 08:00Z; the post-release review is
    // 24–48 h after the deployment ends.
    assert_eq!(
        starts(&remote.plans[0]),
        [
            "data-readiness 2026-03-02T10:00Z",
            "validation 2026-03-02T11:00Z",
            "governance 2026-03-02T12:00Z",
            "risk-review 2026-03-03T15:00Z",
            "deployment 2026-03-04T08:00Z",
            "post-release 2026-03-05T09:00Z",
        ]
    );
    assert_eq!(people(&remote.plans[0].milestones[4]), ["pat", "omar"]);
    assert_eq!(remote.plans.len(), 3);
    let total: i64 = remote.plans[0]
        .milestones
        .iter()
        .map(|m| m.score.as_ref().map_or(0, |s| s.cost))
        .sum();
    assert_eq!(total, remote.plans[0].cost);
    assert!(remote.plans.windows(2).all(|w| w[0].cost <= w[1].cost));
    assert_eq!(
        remote.engine,
        pb::PlanEngine::BranchAndBound as i32,
        "a diamond is not a chain"
    );
    server.stop().await;
}

#[tokio::test]
async fn multi_service_cutover_lands_in_the_low_traffic_window_after_the_blackout() {
    let server = TestServer::start(ServerConfig::default()).await;
    let remote = plan_remote(&server, programme("multi-service-cutover.json"))
        .await
        .expect("plans");
    // Tue 20 Oct is blacked out from 12:00Z; on Tue 27 Oct sre2 hands over
    // to sre1 at 14:00Z, and shifts of different people never combine, so
    // the 90-minute window with its 60-minute soak starts at 14:00Z.
    let plan = &remote.plans[0];
    assert_eq!(starts(plan)[1], "cutover 2026-10-27T14:00Z");
    assert_eq!(people(&plan.milestones[1]), ["eng1", "sre1"]);
    let score = plan.milestones[1].score.as_ref().expect("score");
    assert_eq!(score.preference_ids, ["low-traffic-tue-2"]);
    // A chain small enough for best-first search within the chain program's budget.
    assert_eq!(remote.engine, pb::PlanEngine::BranchAndBound as i32);
    server.stop().await;
}

#[tokio::test]
async fn infeasible_variants_are_explained() {
    let server = TestServer::start(ServerConfig::default()).await;
    let model = plan_remote(&server, programme("model-release-infeasible.json"))
        .await
        .expect("answers");
    assert!(model.plans.is_empty());
    assert_eq!(model.outcome, pb::Outcome::NeedsException as i32);
    let reason = model.reason.as_ref().expect("reason");
    assert_eq!(
        reason.kind,
        pb::NoPlanReasonKind::DependencyImpossible as i32
    );
    assert_eq!(reason.dependency_index, 1, "validation → risk review, 24 h");
    let conflict: Vec<(i32, &str, u32)> = model
        .conflict
        .iter()
        .map(|c| (c.kind, c.milestone_id.as_str(), c.dependency_index))
        .collect();
    assert_eq!(
        conflict,
        [
            (
                pb::ProgrammeConstraintKind::MilestoneDeadline as i32,
                "risk-review",
                0
            ),
            (pb::ProgrammeConstraintKind::Dependency as i32, "", 1),
        ]
    );
    assert!(model.relaxations.iter().any(|r| r.kind
        == pb::ProgrammeRelaxationKind::MoveDeadline as i32
        && r.milestone_id == "risk-review"
        && r.plan.is_some()));

    let cutover = plan_remote(&server, programme("multi-service-cutover-infeasible.json"))
        .await
        .expect("answers");
    let reason = cutover.reason.as_ref().expect("reason");
    assert_eq!(
        reason.kind,
        pb::NoPlanReasonKind::MilestoneImpossible as i32
    );
    assert_eq!(reason.milestone_id, "cutover");
    assert!(reason.detail.contains("on call"), "{}", reason.detail);
    server.stop().await;
}

#[tokio::test]
async fn a_dependency_cycle_is_refused_with_its_field_path() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut request = programme("multi-service-cutover.json");
    request.dependencies.push(pb::Dependency {
        before: "post-review".into(),
        after: "cab".into(),
        min_gap_minutes: 0,
        max_gap_minutes: None,
    });
    let status = plan_remote(&server, request).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "dependencies[0]");
    assert!(
        violations[0]
            .description
            .contains("cab → cutover → post-review → cab"),
        "{}",
        violations[0].description
    );
    server.stop().await;
}

/// `prep` (bo, 09:00–17:00 UTC) then `sign-off` (kai, 09:00–`kai_end` in
/// Kolkata, i.e. from 03:30 UTC), which may not start before 11:30 UTC, when
/// kai's day (17:00 Kolkata) has ended: sign-off is impossible on its own,
/// and its only fix is kai attending an hour after their day ends.
fn after_hours_only(kai_end: &str) -> pb::PlanReleaseRequest {
    let person = |id: &str, zone: &str, end: &str| {
        serde_json::json!({"id": id, "timeZone": zone,
            "workingHours": [{"weekday": "MONDAY", "start": "09:00", "end": end}]})
    };
    let role = |id: &str, who: &str| serde_json::json!([{"role": {"id": id, "pool": [who]}, "basis": "BASIS_WORKING_HOURS"}]);
    let request = serde_json::json!({
        "changeTicket": "CHG-AFTER-HOURS",
        "horizon": {"start": "2026-12-07T00:00:00Z", "end": "2026-12-08T00:00:00Z"},
        "bucketMinutes": 30,
        "people": [person("bo", "UTC", "17:00"), person("kai", "Asia/Kolkata", kai_end)],
        "milestones": [
            {"id": "prep", "name": "prep", "durationMinutes": 60, "roles": role("preparer", "bo")},
            {"id": "sign-off", "name": "sign-off", "durationMinutes": 60,
             "notBefore": "2026-12-07T11:30:00Z", "roles": role("signer", "kai")}
        ],
        "dependencies": [{"before": "prep", "after": "sign-off"}],
        "topK": 1
    });
    json::from_json(REQUEST, &request.to_string()).expect("a valid PlanReleaseRequest")
}

#[tokio::test]
async fn a_milestone_needing_after_hours_is_offered_that_change_with_its_plan_and_approver() {
    let server = TestServer::start(ServerConfig::default()).await;
    let response = plan_remote(&server, after_hours_only("17:00"))
        .await
        .expect("answers");
    assert!(response.plans.is_empty());
    assert_eq!(response.outcome, pb::Outcome::NeedsException as i32);
    let reason = response.reason.as_ref().expect("reason");
    assert_eq!(
        reason.kind,
        pb::NoPlanReasonKind::MilestoneImpossible as i32
    );
    assert_eq!(reason.milestone_id, "sign-off");
    // No deadline to move and no gap to shorten: after-hours is the only fix.
    let [relaxation] = response.relaxations.as_slice() else {
        panic!("one relaxation: {:#?}", response.relaxations)
    };
    assert_eq!(
        relaxation.kind,
        pb::ProgrammeRelaxationKind::MilestoneChange as i32
    );
    assert_eq!(relaxation.milestone_id, "sign-off");
    let change = relaxation.change.as_ref().expect("FindSlots' change");
    let Some(pb::relaxation::Change::AfterHours(after)) = &change.change else {
        panic!("after-hours: {change:#?}")
    };
    assert_eq!((after.person_id.as_str(), after.minutes), ("kai", 60));
    assert!(change.description.contains("kai"), "{}", change.description);
    let person = pb::Approver {
        role: pb::approver::Role::Person.into(),
        id: "kai".into(),
    };
    assert_eq!(relaxation.approvers, change.approvers);
    assert_eq!(change.approvers, [person]);
    let opened = relaxation.plan.as_ref().expect("the plan it opens");
    assert_eq!(
        starts(opened),
        ["prep 2026-12-07T09:00Z", "sign-off 2026-12-07T11:30Z"]
    );
    assert_eq!(people(&opened.milestones[1]), ["kai"]);

    // Applied — kai's day runs an hour longer — the same plan is the best.
    let applied = plan_remote(&server, after_hours_only("18:00"))
        .await
        .expect("answers");
    assert_eq!(applied.plans.len(), 1);
    assert_eq!(starts(&applied.plans[0]), starts(opened));
    assert_eq!(applied.plans[0].cost, opened.cost);

    // Words in the reader's zone: the milestone's conflict names the
    // not-before time in Berlin time, as FindSlots would.
    let mut berlin = after_hours_only("17:00");
    berlin.display_time_zone = "Europe/Berlin".into();
    let response = plan_remote(&server, berlin.clone()).await.expect("answers");
    let conflicts = &response
        .reason
        .as_ref()
        .expect("reason")
        .milestone_conflicts;
    assert_eq!(conflicts.len(), 1);
    assert!(
        conflicts[0]
            .explanation
            .starts_with("Because of the not-before time Mon 2026-12-07 12:30 CET, and because of the working hours of kai (signer pool, Asia/Kolkata)"),
        "{}",
        conflicts[0].explanation
    );
    let text = quorum::cli::plan::render_timeline(&berlin, &response, chrono_tz::Europe::Berlin);
    assert!(text.contains(&conflicts[0].explanation), "{text}");
    assert!(
        text.contains(
            "With approval: ask kai to attend sign-off 60 minutes outside their working hours (Mon 17:00–18:00 Asia/Kolkata, their time)"
        ),
        "{text}"
    );
    assert!(text.contains("approved by kai (their own time)"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_display_zone_is_refused_with_its_field_path() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut request = after_hours_only("17:00");
    request.display_time_zone = "Mars/Olympus".into();
    let status = plan_remote(&server, request).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "display_time_zone");
    server.stop().await;
}
