//! `SlotProblem` → `FindSlotsRequest`: the reverse of `request`, used to write
//! generated problems as request files so that benches, tests and gRPC clients
//! share one workload, and by the CLI.

use super::timestamp::to_timestamp;
use crate::pb;
use chrono::Weekday;
use prost_types::Timestamp;
use quorum_domain::{BusyStatus, FreezeKind, Person, SlotProblem, TimeRange};
use quorum_solver::Engine;

pub(super) fn engine_to_proto(engine: Engine) -> pb::SolverEngine {
    match engine {
        Engine::Enumerate => pb::SolverEngine::Enumerate,
        Engine::IntegerProgram => pb::SolverEngine::IntegerProgram,
    }
}

fn weekday_to_proto(weekday: Weekday) -> pb::Weekday {
    match weekday {
        Weekday::Mon => pb::Weekday::Monday,
        Weekday::Tue => pb::Weekday::Tuesday,
        Weekday::Wed => pb::Weekday::Wednesday,
        Weekday::Thu => pb::Weekday::Thursday,
        Weekday::Fri => pb::Weekday::Friday,
        Weekday::Sat => pb::Weekday::Saturday,
        Weekday::Sun => pb::Weekday::Sunday,
    }
}

pub(super) fn busy_status_to_proto(status: BusyStatus) -> pb::BusyStatus {
    match status {
        BusyStatus::Busy => pb::BusyStatus::Busy,
        BusyStatus::Tentative => pb::BusyStatus::Tentative,
        BusyStatus::OutOfOffice => pb::BusyStatus::OutOfOffice,
    }
}

fn freeze_kind_to_proto(kind: FreezeKind) -> pb::FreezeKind {
    match kind {
        FreezeKind::ChangeFreeze => pb::FreezeKind::ChangeFreeze,
        FreezeKind::LaunchBlackout => pb::FreezeKind::LaunchBlackout,
        FreezeKind::EvidenceFreeze => pb::FreezeKind::EvidenceFreeze,
    }
}

fn range_to_proto(range: TimeRange) -> (Option<Timestamp>, Option<Timestamp>) {
    (
        Some(to_timestamp(range.start)),
        Some(to_timestamp(range.end)),
    )
}

/// One person as the request's `people` entry (also what `quorum calendars`
/// prints).
pub fn person_to_proto(p: &Person) -> pb::Person {
    pb::Person {
        id: p.id.0.clone(),
        display_name: p.display_name.clone(),
        time_zone: p.time_zone.name().to_owned(),
        working_hours: p
            .working_hours
            .iter()
            .map(|w| pb::WorkingHours {
                weekday: weekday_to_proto(w.weekday).into(),
                start: w.start.to_string(),
                end: w.end.to_string(),
            })
            .collect(),
        busy: p
            .busy
            .iter()
            .map(|b| {
                let (start, end) = range_to_proto(b.range);
                pb::BusyInterval {
                    start,
                    end,
                    status: busy_status_to_proto(b.status).into(),
                }
            })
            .collect(),
        calendars: Vec::new(),
    }
}

/// The request that describes `problem`: used to write generated problems as
/// request files, so benches, tests and clients share one workload.
pub fn problem_to_request(problem: &SlotProblem, engine: Engine) -> pb::FindSlotsRequest {
    let (h_start, h_end) = range_to_proto(problem.horizon);
    pb::FindSlotsRequest {
        change_ticket: problem.change_ticket.clone(),
        horizon: Some(pb::TimeRange {
            start: h_start,
            end: h_end,
        }),
        bucket_minutes: problem.bucket.minutes(),
        meeting_minutes: problem.meeting_minutes,
        not_before: problem.not_before.map(to_timestamp),
        evidence_deadline: problem.evidence_deadline.map(to_timestamp),
        roles: problem
            .roles
            .iter()
            .map(|r| pb::RequiredRole {
                id: r.id.0.clone(),
                name: r.name.clone(),
                pool: r.pool.iter().map(|p| p.0.clone()).collect(),
                delegates: r
                    .delegates
                    .iter()
                    .map(|d| pb::Delegate {
                        person_id: d.person.0.clone(),
                        authority_confirmed: d.authority_confirmed,
                    })
                    .collect(),
            })
            .collect(),
        people: problem.people.iter().map(person_to_proto).collect(),
        optional_attendees: problem
            .optional_attendees
            .iter()
            .map(|(p, w)| pb::OptionalAttendee {
                person_id: p.0.clone(),
                weight_minutes: *w,
            })
            .collect(),
        freeze_windows: problem
            .freeze_windows
            .iter()
            .map(|f| {
                let (start, end) = range_to_proto(f.range);
                pb::FreezeWindow {
                    id: f.id.clone(),
                    start,
                    end,
                    kind: freeze_kind_to_proto(f.kind).into(),
                    reason: f.reason.clone(),
                    owner: f.owner.clone(),
                }
            })
            .collect(),
        review_capacity: problem
            .review_capacity
            .as_ref()
            .map(|c| pb::ReviewCapacity {
                max_concurrent: c.max_concurrent,
                booked: c
                    .booked
                    .iter()
                    .map(|b| {
                        let (start, end) = range_to_proto(b.range);
                        pb::BookedReview {
                            change_ticket: b.change_ticket.clone(),
                            start,
                            end,
                        }
                    })
                    .collect(),
            }),
        preferences: problem
            .preferences
            .iter()
            .map(|p| {
                let (start, end) = range_to_proto(p.range);
                pb::PreferenceWindow {
                    id: p.id.clone(),
                    start,
                    end,
                    weight_minutes: p.weight_minutes,
                }
            })
            .collect(),
        optional_attendee_weight_minutes: problem.optional_attendee_weight_minutes,
        top_k: u32::try_from(problem.top_k).unwrap_or(u32::MAX),
        allow_multiple_roles_per_person: problem.allow_multiple_roles_per_person,
        tentative_is_free: problem.tentative_is_free,
        engine: engine_to_proto(engine).into(),
        explain: problem.explain,
        proceed_without_unreadable_calendars: false,
        display_time_zone: String::new(),
    }
}
