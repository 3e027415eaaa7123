//! One infeasible request per escalation reason in `fixtures/explain/`, each
//! with the explanation a person reads stored beside it and compared exactly,
//! so wording changes show in review. Set QUORUM_BLESS=1 to rewrite them.

mod common;

use common::{TestServer, fixture, fixture_path};
use quorum::{cli::find_slots::render_table, pb, server::ServerConfig, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;

const CASES: [(&str, pb::EscalationReason, pb::Outcome); 9] = [
    // A reviewer committed all day: ask them to move one commitment.
    (
        "move-commitments",
        pb::EscalationReason::RolePoolUnavailable,
        pb::Outcome::NeedsException,
    ),
    // Two disjoint conflicts: only a combination of changes helps.
    (
        "two-conflicts",
        pb::EscalationReason::RolePoolUnavailable,
        pb::Outcome::NeedsException,
    ),
    (
        "role-pool-unavailable",
        pb::EscalationReason::RolePoolUnavailable,
        pb::Outcome::NeedsException,
    ),
    (
        "no-common-working-hours",
        pb::EscalationReason::NoCommonWorkingHours,
        // An hour between the two days: no after-hours meeting extends
        // either person's day, so no single change a person would accept.
        pb::Outcome::Infeasible,
    ),
    (
        "freeze-window",
        pb::EscalationReason::FreezeWindow,
        pb::Outcome::NeedsException,
    ),
    (
        "review-capacity-full",
        pb::EscalationReason::ReviewCapacityFull,
        pb::Outcome::NeedsException,
    ),
    (
        "deadline-too-early",
        pb::EscalationReason::DeadlineTooEarly,
        pb::Outcome::Infeasible,
    ),
    (
        "after-hours-only",
        pb::EscalationReason::AfterHoursOnly,
        pb::Outcome::NeedsException,
    ),
    (
        "roles-need-same-person",
        pb::EscalationReason::RolesNeedSamePerson,
        // ben, the other release manager, is busy throughout: asking him
        // to move that commitment is the one change that opens a slot.
        pb::Outcome::NeedsException,
    ),
];

/// The response as the CLI gets it for a reader in `zone`: the service's
/// reporter writes its words in the request's `display_time_zone`.
fn solve_in(request: &pb::FindSlotsRequest, zone: chrono_tz::Tz) -> pb::FindSlotsResponse {
    let mut request = request.clone();
    request.display_time_zone = zone.name().to_owned();
    solve_request(request, &ProblemLimits::default(), &NeverStop).expect("solves")
}

/// The code each lemma of the derivation's secondary list shows, read off
/// the proto claim's kind, as `secondary_reasons` would write it.
fn secondary_lemma_codes(response: &pb::FindSlotsResponse) -> Vec<i32> {
    use pb::claim::Claim as C;
    use pb::proof_step::Step;
    let Some(proof) = &response.derivation else {
        return Vec::new();
    };
    proof
        .secondary
        .iter()
        .map(|&i| {
            let claim = match proof.steps.get(i as usize).and_then(|s| s.step.as_ref()) {
                Some(Step::Lemma(lemma)) => lemma.claim.as_ref().and_then(|c| c.claim.as_ref()),
                _ => None,
            };
            let code = match claim {
                Some(C::SlotWithoutWindow(_)) => pb::EscalationReason::DeadlineTooEarly,
                Some(C::AfterHoursOpens(_)) => pb::EscalationReason::AfterHoursOnly,
                Some(C::CapacityFullIn(_)) => pb::EscalationReason::ReviewCapacityFull,
                other => panic!("secondary step {i} is {other:?}"),
            };
            code as i32
        })
        .collect()
}

#[test]
fn each_reason_code_has_an_infeasible_fixture_with_exact_text() {
    let bless = std::env::var_os("QUORUM_BLESS").is_some();
    for (name, reason, outcome) in CASES {
        let request = fixture(&format!("explain/{name}.json"));
        let response = solve_in(&request, chrono_tz::UTC);
        assert!(response.slots.is_empty(), "{name} has slots");
        assert_eq!(response.outcome, outcome as i32, "{name}");
        // Each stage's fixture fails at that stage; after-hours is a later fact.
        if reason == pb::EscalationReason::AfterHoursOnly {
            assert!(
                response.secondary_reasons.contains(&(reason as i32)),
                "{name}: {:?}",
                response.secondary_reasons
            );
        } else {
            assert_eq!(response.primary_reason, reason as i32, "{name}");
        }
        assert_eq!(
            response.escalation_reasons.first(),
            Some(&response.primary_reason),
            "{name}"
        );
        assert!(
            response.relaxations.iter().all(|r| r.requires_approval),
            "{name}"
        );
        assert_eq!(
            secondary_lemma_codes(&response),
            response.secondary_reasons,
            "{name}: each secondary reason has its lemma, in order"
        );
        // The headline comes first, in the reader's zone.
        for (zone, suffix) in [(chrono_tz::UTC, ""), (chrono_tz::Europe::Berlin, ".berlin")] {
            let response = solve_in(&request, zone);
            let text = render_table(&request, &response, zone);
            assert!(text.starts_with("No slot: "), "{name}{suffix}: {text}");
            let path = fixture_path(&format!("explain/{name}{suffix}.expected.txt"));
            if bless {
                std::fs::write(&path, &text).expect("writable");
            } else {
                let expected = std::fs::read_to_string(&path).expect("expected text exists");
                assert!(
                    text == expected,
                    "{name}{suffix} explanation changed:\n{text}"
                );
            }
        }
    }
}

/// `explain: true` in the reader's zone: each group of rejected runs under
/// its reasons, a role pool's calendars with their role. Two zones, so a time
/// written in UTC where the reader asked for Berlin shows.
#[test]
fn explain_true_fixture_has_exact_text_in_two_zones() {
    let bless = std::env::var_os("QUORUM_BLESS").is_some();
    let request = fixture("explain/explain-true.json");
    for (zone, suffix) in [
        (chrono_tz::UTC, "utc"),
        (chrono_tz::Europe::Berlin, "berlin"),
    ] {
        let response = solve_in(&request, zone);
        let rejected = response.rejected_starts.as_ref().expect("rejected starts");
        assert!(!rejected.run_cap_reached);
        let text = render_table(&request, &response, zone);
        let path = fixture_path(&format!("explain/explain-true.{suffix}.expected.txt"));
        if bless {
            std::fs::write(&path, &text).expect("writable");
        } else {
            let expected = std::fs::read_to_string(&path).expect("expected text exists");
            assert!(text == expected, "explain-true ({suffix}) changed:\n{text}");
        }
    }
}

#[test]
fn unconfirmed_delegate_is_suggested_but_never_used() {
    let response = solve_request(
        fixture("identity-cutover-infeasible.json"),
        &ProblemLimits::default(),
        &NeverStop,
    )
    .expect("solves");
    assert!(response.slots.is_empty());
    assert_eq!(response.outcome, pb::Outcome::NeedsException as i32);
    let delegate = &response.relaxations[0];
    let Some(pb::relaxation::Change::ConfirmDelegate(change)) = &delegate.change else {
        panic!("not a delegate: {delegate:?}");
    };
    assert_eq!(change.person_id, "dbm-hal");
    assert_eq!(delegate.approvers.len(), 1);
    assert_eq!(
        delegate.approvers[0].role,
        pb::approver::Role::ReleaseOwner as i32
    );
    let slot = delegate.best_slot.as_ref().expect("best slot");
    let filled = slot
        .assignments
        .iter()
        .find(|a| a.role_id == "db-migration-owner")
        .expect("role filled");
    assert_eq!(filled.person_id, "dbm-hal");
    assert!(filled.via_delegate);
}

#[test]
fn confirmed_delegate_fills_the_role_and_the_slot_says_so() {
    let mut request = fixture("identity-cutover-infeasible.json");
    request.roles[3].delegates[0].authority_confirmed = true;
    let response = solve_request(request, &ProblemLimits::default(), &NeverStop).expect("solves");
    assert_eq!(response.outcome, pb::Outcome::Feasible as i32);
    let filled = response.slots[0]
        .assignments
        .iter()
        .find(|a| a.role_id == "db-migration-owner")
        .expect("filled");
    assert_eq!(
        (filled.person_id.as_str(), filled.via_delegate),
        ("dbm-hal", true)
    );
}

#[tokio::test]
async fn explain_over_the_wire_lists_rejected_starts_as_ranges() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = pb::slot_finder_client::SlotFinderClient::new(server.channel().await);
    let mut request = fixture("identity-cutover.json");
    request.explain = true;
    let response = client
        .find_slots(request)
        .await
        .expect("solves")
        .into_inner();
    assert_eq!(response.outcome, pb::Outcome::Feasible as i32);
    let rejected = response.rejected_starts.expect("rejected starts");
    assert!(!rejected.run_cap_reached);
    let runs: Vec<&pb::StartRun> = rejected.groups.iter().flat_map(|g| &g.runs).collect();
    // Runs, not one line per bucket: far fewer runs than rejected starts.
    assert!(runs.len() * 4 < response.grid.expect("grid").bucket_count as usize);
    // Each constraint once, referred to by index.
    assert!(
        rejected
            .groups
            .iter()
            .flat_map(|g| &g.reasons)
            .all(|&i| (i as usize) < rejected.constraints.len())
    );
    let first = rejected
        .groups
        .iter()
        .find(|g| {
            g.runs
                .iter()
                .any(|r| r.first_start.as_ref().map(|t| t.seconds) == Some(1_795_996_800))
        })
        .expect("a run from the horizon start, Mon 2026-11-30 00:00 UTC");
    let not_before = first
        .reasons
        .iter()
        .map(|&i| &rejected.constraints[i as usize])
        .find(|c| c.kind == pb::ConstraintKind::NotBefore as i32)
        .expect("not-before blamed");
    assert_eq!(not_before.label, "not-before time Mon 2026-11-30 08:00 UTC");
    server.stop().await;
}

/// "Fewest commitments, then fewest minutes, tentative before busy": the
/// reviewer is asked to move the one tentative hour, not the earlier busy
/// hour of the same length nor the two half-hours before it, with the slot
/// it opens and the reviewer as approver.
#[test]
fn moving_a_commitment_asks_for_the_fewest_and_mildest() {
    let response = solve_in(&fixture("explain/move-commitments.json"), chrono_tz::UTC);
    let [relaxation] = response.relaxations.as_slice() else {
        panic!("one relaxation: {:?}", response.relaxations);
    };
    let Some(pb::relaxation::Change::MoveCommitments(moved)) = &relaxation.change else {
        panic!("not a move: {relaxation:?}");
    };
    assert_eq!(moved.person_id, "sec-2");
    assert_eq!(moved.minutes, 60);
    let [interval] = moved.intervals.as_slice() else {
        panic!("one interval: {moved:?}");
    };
    assert_eq!(interval.status, pb::BusyStatus::Tentative as i32);
    let start = interval.start.as_ref().map(|t| t.seconds);
    let slot = relaxation.best_slot.as_ref().expect("a slot");
    assert_eq!(slot.start.as_ref().map(|t| t.seconds), start);
    assert_eq!(relaxation.approvers.len(), 1);
    assert_eq!(relaxation.approvers[0].id, "sec-2");
}

/// With two disjoint conflicts no single change is offered, and the
/// combination takes one change per conflict, each with its approver.
#[test]
fn two_disjoint_conflicts_get_a_combination_of_changes() {
    let response = solve_in(&fixture("explain/two-conflicts.json"), chrono_tz::UTC);
    assert_eq!(response.conflicts.len(), 2);
    assert!(response.relaxations.is_empty());
    let best = response
        .relaxation_combinations
        .first()
        .expect("a combination");
    assert_eq!(best.changes.len(), 2);
    assert!(best.best_slot.is_some());
    let ids: Vec<&str> = best.approvers.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["cab-chair", "rm-ana"]);
    assert!(best.changes.iter().all(|c| c.best_slot.is_none()));
}

/// A display zone that is not an IANA name is the caller's mistake, named by
/// its field; the same request with a real zone words the answer in it.
#[tokio::test]
async fn display_time_zone_must_be_iana_and_words_the_answer_over_the_wire() {
    use tonic_types::StatusExt;
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = pb::slot_finder_client::SlotFinderClient::new(server.channel().await);
    let mut request = fixture("explain/freeze-window.json");
    request.display_time_zone = "Mars/Olympus".to_owned();
    let status = client
        .find_slots(request.clone())
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["display_time_zone"]);
    request.display_time_zone = "Asia/Kolkata".to_owned();
    let response = client
        .find_slots(request)
        .await
        .expect("solves")
        .into_inner();
    assert!(
        response.headline.starts_with("No slot: "),
        "{}",
        response.headline
    );
    assert!(
        response.headline.contains("(Asia/Kolkata)"),
        "{}",
        response.headline
    );
    assert!(response.proof.contains("IST"), "{}", response.proof);
    assert!(response.derivation.is_some());
    for c in &response.conflicts {
        assert!(!c.explanation.contains("UTC"), "{}", c.explanation);
    }
    server.stop().await;
}

/// The root cause over the wire agrees with the testkit's staged brute-force
/// diagnosis, on generated problems (the conversion included).
#[tokio::test]
async fn primary_reason_over_the_wire_matches_the_reference_diagnosis() {
    use quorum_testkit::{random::infeasible_leaning_problem, reference::reference_diagnosis};
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = pb::slot_finder_client::SlotFinderClient::new(server.channel().await);
    let mut checked = 0;
    for seed in 0..60 {
        let problem = infeasible_leaning_problem(seed);
        let request =
            quorum::convert::problem_to_request(&problem, quorum_solver::Engine::Enumerate);
        let response = client
            .find_slots(request)
            .await
            .expect("solves")
            .into_inner();
        if !response.slots.is_empty() {
            assert_eq!(response.primary_reason, 0, "seed {seed}");
            continue;
        }
        let (primary, _) = reference_diagnosis(&problem);
        let name = format!("{primary:?}");
        let got = pb::EscalationReason::try_from(response.primary_reason).expect("a reason");
        assert_eq!(format!("{got:?}"), name, "seed {seed}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} infeasible problems");
    server.stop().await;
}
