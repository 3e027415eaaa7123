//! The request files in `fixtures/`: each is canonical proto3 JSON, and each
//! solves to what a person checked by hand.

mod common;

use chrono::{DateTime, Utc};
use common::{fixture, fixture_path};
use quorum::{convert, json, pb, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;
use std::path::Path;

fn solve(name: &str) -> pb::FindSlotsResponse {
    solve_request(fixture(name), &ProblemLimits::default(), &NeverStop).expect("fixture solves")
}

fn starts(response: &pb::FindSlotsResponse) -> Vec<String> {
    response
        .slots
        .iter()
        .map(|s| instant(s.start.as_ref()).to_rfc3339())
        .collect()
}

fn instant(ts: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    ts.and_then(convert::from_timestamp).expect("timestamp")
}

fn json_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        // Release programmes are PlanReleaseRequests, checked by tests/programmes.rs.
        if path.is_dir() && !path.ends_with("programmes") {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Set QUORUM_BLESS=1 to rewrite the files in canonical form.
#[test]
fn fixtures_are_canonical_proto3_json() {
    let mut files = Vec::new();
    json_files(&fixture_path(""), &mut files);
    assert!(files.len() >= 5, "fixtures are missing");
    let bless = std::env::var_os("QUORUM_BLESS").is_some();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let request =
            json::request_from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let canonical = json::request_to_json(&request).expect("serialises");
        if bless {
            std::fs::write(&path, &canonical).expect("writable");
        } else {
            assert!(
                text == canonical,
                "{} is not canonical proto3 JSON; run with QUORUM_BLESS=1",
                path.display()
            );
        }
    }
}

#[test]
fn meeting_may_end_exactly_at_the_deadline() {
    assert_eq!(
        starts(&solve("meeting-ends-at-deadline.json")),
        ["2026-12-01T10:00:00+00:00"]
    );
}

#[test]
fn meeting_fits_between_back_to_back_busy_and_an_off_grid_busy_end() {
    // Busy 09–10 and 10–11 back to back, then 11:30–12:26; the security
    // reviewer in Kathmandu (UTC+05:45) works until 12:30 UTC.
    assert_eq!(
        starts(&solve("back-to-back-busy.json")),
        ["2026-12-01T11:00:00+00:00"]
    );
}

#[test]
fn fall_back_weekend_follows_the_wall_clock() {
    // Berlin repeats 02:00–03:00 on the fall-back night: CEST 00:00–01:00Z,
    // then CET 01:00–02:00Z. The on-call's Sunday 00:00–03:00 is on the clock
    // from 22:00Z to 02:00Z (four hours). The release manager's Saturday
    // 22:00–02:30 is 20:00Z–00:30Z and again 01:00Z–01:30Z, when the clock
    // reads 02:00–02:30 CET; from 00:30Z to 01:00Z it reads 02:30–03:00 CEST,
    // outside the window. So a 90-minute meeting fits only from 22:00Z to 00:30Z.
    assert_eq!(
        starts(&solve("dst-fall-back-weekend.json")),
        [
            "2026-10-24T22:00:00+00:00",
            "2026-10-24T22:30:00+00:00",
            "2026-10-24T23:00:00+00:00",
        ]
    );
}

#[test]
fn identity_cutover_ranks_tuesday_afternoon_first() {
    let response = solve("identity-cutover.json");
    assert_eq!(
        starts(&response),
        [
            "2026-12-01T13:00:00+00:00",
            "2026-12-02T09:00:00+00:00",
            "2026-12-02T09:15:00+00:00",
            "2026-12-02T09:30:00+00:00",
            "2026-12-02T09:45:00+00:00",
        ]
    );
    let first = &response.slots[0];
    let people: Vec<_> = first
        .assignments
        .iter()
        .map(|a| a.person_id.as_str())
        .collect();
    assert_eq!(
        people,
        ["rm-ana", "so-dara", "sre-fay", "dbm-gus", "sec-ivy"]
    );
    let score = first.score.clone().expect("score");
    assert_eq!(score.optional_attendee_credit_minutes, 50);
    assert_eq!(score.cost, score.start_offset_minutes - 50);
}

#[test]
fn identity_cutover_slots_respect_every_rule() {
    let request = fixture("identity-cutover.json");
    let response = solve("identity-cutover.json");
    assert!(!response.slots.is_empty());
    let not_before = instant(request.not_before.as_ref());
    let deadline = instant(request.evidence_deadline.as_ref());
    for slot in &response.slots {
        let (start, end) = (instant(slot.start.as_ref()), instant(slot.end.as_ref()));
        assert_eq!(
            (end - start).num_minutes(),
            i64::from(request.meeting_minutes)
        );
        assert!(
            start >= not_before && end <= deadline,
            "slot {start} is outside the window"
        );
        for freeze in &request.freeze_windows {
            let (fs, fe) = (instant(freeze.start.as_ref()), instant(freeze.end.as_ref()));
            assert!(
                end <= fs || start >= fe,
                "slot {start} overlaps {}",
                freeze.id
            );
        }
        let booked = request.review_capacity.as_ref().map_or(0, |c| {
            c.booked
                .iter()
                .filter(|b| instant(b.start.as_ref()) < end && start < instant(b.end.as_ref()))
                .count()
        });
        assert_eq!(booked, 0, "capacity 1 is already used at {start}");
        let mut seen = Vec::new();
        for assignment in &slot.assignments {
            assert!(
                !seen.contains(&assignment.person_id),
                "{} fills two roles",
                assignment.person_id
            );
            seen.push(assignment.person_id.clone());
            let role = request
                .roles
                .iter()
                .find(|r| r.id == assignment.role_id)
                .expect("role");
            let allowed = role.pool.contains(&assignment.person_id)
                || role
                    .delegates
                    .iter()
                    .any(|d| d.authority_confirmed && d.person_id == assignment.person_id);
            assert!(allowed, "{} may not fill {}", assignment.person_id, role.id);
            let person = request
                .people
                .iter()
                .find(|p| p.id == assignment.person_id)
                .expect("person");
            assert_person_free(person, start, end, request.tentative_is_free);
        }
        assert_eq!(seen.len(), request.roles.len());
    }
}

/// Checks one person on local clock readings: this week has no DST change.
fn assert_person_free(
    person: &pb::Person,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tentative_is_free: bool,
) {
    use chrono::{Datelike, Timelike};
    let zone: chrono_tz::Tz = person.time_zone.parse().expect("zone");
    let (ls, le) = (start.with_timezone(&zone), end.with_timezone(&zone));
    let minutes = |t: &DateTime<chrono_tz::Tz>| t.hour() * 60 + t.minute();
    let hm = |s: &str| {
        let (h, m) = s.split_once(':').expect("HH:MM");
        h.parse::<u32>().expect("hour") * 60 + m.parse::<u32>().expect("minute")
    };
    let weekday = ls.weekday().number_from_monday() as i32;
    let working = person.working_hours.iter().any(|w| {
        w.weekday == weekday
            && hm(&w.start) <= minutes(&ls)
            && minutes(&le) <= hm(&w.end)
            && ls.date_naive() == le.date_naive()
    });
    assert!(working, "{} is not working at {ls}", person.id);
    for busy in &person.busy {
        if busy.status == pb::BusyStatus::Tentative as i32 && tentative_is_free {
            continue;
        }
        let (bs, be) = (instant(busy.start.as_ref()), instant(busy.end.as_ref()));
        assert!(end <= bs || start >= be, "{} is busy at {start}", person.id);
    }
}

#[test]
fn infeasible_variant_returns_no_slot_rather_than_bending_a_rule() {
    let response = solve("identity-cutover-infeasible.json");
    assert!(response.slots.is_empty());
    assert_eq!(response.presolved_starts, 0);
    assert!(response.candidate_starts_considered > 0);
}
