//! Release-programme rules on small hand-made programmes, each built to test
//! one rule: overlapping milestones never share a working-hours attendee
//! (on-call cover never conflicts, touching is not overlapping); a "no" that
//! only the combination causes is explained as such, with its irreducible
//! conflict; a maximum gap too short is relaxed by lengthening it; a full
//! resource is relaxed for one milestone, approved by its owner; and a
//! dependency blocked by one person's working hours is offered FindSlots'
//! after-hours change for the later milestone.
//! Planned locally through the service's own conversion (`plan_request`).

use quorum::{json, pb, release_planner::plan_request};
use quorum_domain::ProgrammeLimits;
use quorum_solver::NeverStop;
use serde_json::{Value, json};

/// Two one-hour milestones on Monday 7 Dec 2026 (UTC): `review-a` pinned
/// to 10:00–11:00, `review-b` pinned to start at `b_start` (HH:MM), one role
/// each. ana and bo work 09:00–17:00 UTC; ana is on call all day.
fn two_reviews(b_start: &str, a_pool: &[&str], b_pool: &[&str], bases: [&str; 2]) -> Value {
    let at = |hm: &str| format!("2026-12-07T{hm}:00Z");
    let b_end = {
        let (h, m) = b_start.split_once(':').unwrap();
        format!("{:02}:{m}", h.parse::<u32>().unwrap() + 1)
    };
    let person = |id: &str| {
        json!({"id": id, "timeZone": "UTC",
               "workingHours": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]})
    };
    let milestone = |id: &str, from: &str, to: &str, pool: &[&str], basis: &str| {
        json!({"id": id, "kind": "MEETING", "durationMinutes": 60,
               "notBefore": at(from), "deadline": at(to),
               "roles": [{"role": {"id": format!("{id}-approver"), "pool": pool}, "basis": basis}]})
    };
    json!({
        "changeTicket": "CHG-RULES",
        "horizon": {"start": at("00:00"), "end": "2026-12-08T00:00:00Z"},
        "bucketMinutes": 30,
        "people": [person("ana"), person("bo")],
        "onCall": [{"personId": "ana", "start": at("00:00"), "end": "2026-12-08T00:00:00Z"}],
        "milestones": [
            milestone("review-a", "10:00", "11:00", a_pool, bases[0]),
            milestone("review-b", b_start, &b_end, b_pool, bases[1]),
        ],
        "topK": 1
    })
}

const WORKING: &str = "BASIS_WORKING_HOURS";
const ON_CALL: &str = "BASIS_ON_CALL";

fn plan(request: &Value) -> pb::PlanReleaseResponse {
    let request: pb::PlanReleaseRequest =
        json::from_json("quorum.v1.PlanReleaseRequest", &request.to_string()).expect("valid");
    plan_request(request, &ProgrammeLimits::default(), &NeverStop).expect("plans")
}

/// Who fills each milestone of the best plan, in order.
fn attendees(response: &pb::PlanReleaseResponse) -> Vec<Vec<String>> {
    response.plans[0]
        .milestones
        .iter()
        .map(|m| m.assignments.iter().map(|a| a.person_id.clone()).collect())
        .collect()
}

#[test]
fn overlapping_milestones_never_share_a_working_hours_attendee() {
    // 10:00–11:00 and 10:30–11:30, ana the only one who may fill either.
    let clash = plan(&two_reviews(
        "10:30",
        &["ana"],
        &["ana"],
        [WORKING, WORKING],
    ));
    assert!(clash.plans.is_empty(), "{:?}", clash.plans);
    // With bo in the second pool, bo takes it.
    let shared = plan(&two_reviews(
        "10:30",
        &["ana"],
        &["ana", "bo"],
        [WORKING, WORKING],
    ));
    assert_eq!(attendees(&shared), [vec!["ana"], vec!["bo"]]);
}

#[test]
fn touching_milestones_do_not_overlap() {
    // 10:00–11:00 then 11:00–12:00: ana attends both.
    let touching = plan(&two_reviews(
        "11:00",
        &["ana"],
        &["ana"],
        [WORKING, WORKING],
    ));
    assert_eq!(attendees(&touching), [vec!["ana"], vec!["ana"]]);
}

#[test]
fn on_call_cover_never_conflicts() {
    // ana on call for one and attending the other, or on call for both, at
    // overlapping times: allowed, the rule is about working-hours roles only.
    for bases in [[ON_CALL, WORKING], [WORKING, ON_CALL], [ON_CALL, ON_CALL]] {
        let covered = plan(&two_reviews("10:30", &["ana"], &["ana"], bases));
        assert_eq!(attendees(&covered), [vec!["ana"], vec!["ana"]], "{bases:?}");
    }
}

#[test]
fn only_the_combination_fails_and_both_pins_form_the_conflict() {
    let response = plan(&two_reviews(
        "10:30",
        &["ana"],
        &["ana"],
        [WORKING, WORKING],
    ));
    assert!(response.plans.is_empty());
    let reason = response.reason.as_ref().expect("a reason");
    // Each milestone has a start on its own, and there is no dependency:
    // only the two together (one person, overlapping times) fail.
    assert_eq!(reason.kind, pb::NoPlanReasonKind::Combination as i32);
    let conflict: Vec<(i32, &str)> = response
        .conflict
        .iter()
        .map(|c| (c.kind, c.milestone_id.as_str()))
        .collect();
    let deadline = pb::ProgrammeConstraintKind::MilestoneDeadline as i32;
    assert_eq!(conflict, [(deadline, "review-a"), (deadline, "review-b")]);
    assert_eq!(response.outcome, pb::Outcome::NeedsException as i32);
    let moved: Vec<&str> = response
        .relaxations
        .iter()
        .filter(|r| r.kind == pb::ProgrammeRelaxationKind::MoveDeadline as i32)
        .map(|r| r.milestone_id.as_str())
        .collect();
    assert_eq!(moved, ["review-a", "review-b"]);
}

#[test]
fn a_maximum_gap_too_short_is_relaxed_by_lengthening_it() {
    // review-b may start at 15:00 at the earliest, but at most 60 minutes
    // after review-a (pinned to end 11:00) ends: the gap must become 240.
    let mut request = two_reviews("15:00", &["ana"], &["bo"], [WORKING, WORKING]);
    request["milestones"][1]["deadline"] = json!("2026-12-07T17:00:00Z");
    request["dependencies"] = json!([
        {"before": "review-a", "after": "review-b", "minGapMinutes": 0, "maxGapMinutes": 60}
    ]);
    let response = plan(&request);
    assert!(response.plans.is_empty());
    let reason = response.reason.as_ref().expect("a reason");
    assert_eq!(
        reason.kind,
        pb::NoPlanReasonKind::DependencyImpossible as i32
    );
    let lengthen = response
        .relaxations
        .iter()
        .find(|r| r.kind == pb::ProgrammeRelaxationKind::LengthenGap as i32)
        .expect("lengthening the gap is offered");
    assert_eq!(lengthen.dependency_index, 0);
    assert_eq!(lengthen.max_gap_minutes, 240);
    let opened = lengthen.plan.as_ref().expect("the plan it opens");
    let starts: Vec<i64> = opened
        .milestones
        .iter()
        .map(|m| m.start.as_ref().expect("start").seconds)
        .collect();
    assert_eq!(starts[1] - starts[0], 5 * 3600, "10:00 and 15:00");
    // No minimum gap to shorten: that relaxation is not offered.
    assert!(
        !response
            .relaxations
            .iter()
            .any(|r| r.kind == pb::ProgrammeRelaxationKind::ShortenGap as i32)
    );
}

#[test]
fn a_full_resource_is_relaxed_by_its_owner_for_one_milestone() {
    // The review board (capacity 1) is booked 10:00–12:00, over review-b's
    // only start (10:30): letting review-b run beyond the board's capacity
    // is the fix, and the board's owner approves it.
    let mut request = two_reviews("10:30", &["ana"], &["bo"], [WORKING, WORKING]);
    request["resources"] = json!([{
        "id": "board", "name": "review board", "capacity": 1, "owner": "olga",
        "booked": [{"start": "2026-12-07T10:00:00Z", "end": "2026-12-07T12:00:00Z"}]
    }]);
    request["milestones"][1]["resourceIds"] = json!(["board"]);
    let response = plan(&request);
    assert!(response.plans.is_empty());
    let exceed: Vec<&pb::ProgrammeRelaxation> = response
        .relaxations
        .iter()
        .filter(|r| r.kind == pb::ProgrammeRelaxationKind::ExceedResource as i32)
        .collect();
    let [exceed] = exceed.as_slice() else {
        panic!("one resource relaxation: {:#?}", response.relaxations)
    };
    assert_eq!(
        (exceed.milestone_id.as_str(), exceed.resource_id.as_str()),
        ("review-b", "board")
    );
    assert_eq!(
        exceed.approvers,
        [pb::Approver {
            role: pb::approver::Role::ResourceOwner.into(),
            id: "olga".into(),
        }]
    );
    assert!(exceed.plan.is_some());
    let text = quorum::cli::plan::render_timeline(
        &json::from_json("quorum.v1.PlanReleaseRequest", &request.to_string()).expect("valid"),
        &response,
        chrono_tz::UTC,
    );
    assert!(
        text.contains("let review-b run beyond resource board's capacity"),
        "{text}"
    );
    assert!(text.contains("approved by olga (resource owner)"), "{text}");
}

#[test]
fn a_dependency_blocked_by_working_hours_is_offered_an_after_hours_change() {
    // prep (bo) may not start before 10:30 and so ends at 11:30 at the
    // earliest; sign-off follows it, but kai's day (09:00–17:00 Kolkata)
    // ends at 11:30 UTC. Each milestone is possible alone; the dependency
    // is not — until kai stays an hour longer for sign-off.
    let request = json!({
        "changeTicket": "CHG-NARROWED",
        "horizon": {"start": "2026-12-07T00:00:00Z", "end": "2026-12-08T00:00:00Z"},
        "bucketMinutes": 30,
        "people": [
            {"id": "bo", "timeZone": "UTC",
             "workingHours": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]},
            {"id": "kai", "timeZone": "Asia/Kolkata",
             "workingHours": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]}
        ],
        "milestones": [
            {"id": "prep", "durationMinutes": 60, "notBefore": "2026-12-07T10:30:00Z",
             "roles": [{"role": {"id": "preparer", "pool": ["bo"]}}]},
            {"id": "sign-off", "durationMinutes": 60,
             "roles": [{"role": {"id": "signer", "pool": ["kai"]}}]}
        ],
        "dependencies": [{"before": "prep", "after": "sign-off"}],
        "topK": 1
    });
    let response = plan(&request);
    assert!(response.plans.is_empty());
    let reason = response.reason.as_ref().expect("a reason");
    assert_eq!(
        reason.kind,
        pb::NoPlanReasonKind::DependencyImpossible as i32
    );
    let changes: Vec<(&str, Option<&pb::relaxation::Change>)> = response
        .relaxations
        .iter()
        .filter(|r| r.kind == pb::ProgrammeRelaxationKind::MilestoneChange as i32)
        .map(|r| {
            (
                r.milestone_id.as_str(),
                r.change.as_ref().and_then(|c| c.change.as_ref()),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [(
            "sign-off",
            Some(&pb::relaxation::Change::AfterHours(
                pb::relaxation::AfterHours {
                    person_id: "kai".into(),
                    minutes: 60,
                }
            ))
        )]
    );
}
