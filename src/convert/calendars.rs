//! The calendar references of a request, read into a [`CalendarPlan`], and
//! the provenance of fetched busy time written back to the response.

use super::to_timestamp;
use crate::calendar_sources::{CalendarPlan, PlannedRead, Provenance, ReadState};
use crate::pb;
use chrono_tz::Tz;
use quorum_calendars::CalendarRef;
use quorum_domain::{FieldViolation, PersonId};

/// Every `people[i].calendars[j]` of the request. Empty names are field
/// violations; whether a source exists is checked against the server's
/// configuration later, once the request is otherwise valid.
pub fn calendar_plan(request: &pb::FindSlotsRequest) -> Result<CalendarPlan, Vec<FieldViolation>> {
    let mut plan = CalendarPlan {
        reads: Vec::new(),
        proceed_without_unreadable: request.proceed_without_unreadable_calendars,
    };
    let mut violations = Vec::new();
    for (i, person) in request.people.iter().enumerate() {
        // A bad zone is reported by the problem's own conversion.
        let zone = person.time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC);
        for (j, reference) in person.calendars.iter().enumerate() {
            let pb::CalendarSourceRef { source, calendar } = reference;
            let field = format!("people[{i}].calendars[{j}]");
            if source.is_empty() {
                violations.push(FieldViolation::new(
                    format!("{field}.source"),
                    "name a configured calendar source",
                ));
            }
            if calendar.is_empty() {
                violations.push(FieldViolation::new(
                    format!("{field}.calendar"),
                    "name a calendar in the source",
                ));
            }
            plan.reads.push(PlannedRead {
                field,
                person: PersonId(person.id.clone()),
                zone,
                calendar: CalendarRef {
                    source: source.clone(),
                    calendar: calendar.clone(),
                },
            });
        }
    }
    if violations.is_empty() {
        Ok(plan)
    } else {
        Err(violations)
    }
}

pub fn provenance_to_proto(provenance: &[Provenance]) -> Vec<pb::CalendarProvenance> {
    provenance
        .iter()
        .map(|p| pb::CalendarProvenance {
            person_id: p.person.0.clone(),
            source: p.calendar.source.clone(),
            calendar: p.calendar.calendar.clone(),
            state: match p.state {
                ReadState::Fetched => pb::CalendarReadState::Fetched,
                ReadState::Cached => pb::CalendarReadState::Cached,
                ReadState::Unreadable => pb::CalendarReadState::Unreadable,
            }
            .into(),
            fetched_at: p.fetched_at.map(to_timestamp),
            busy_intervals: u32::try_from(p.busy_intervals).unwrap_or(u32::MAX),
            error: p.error.clone().unwrap_or_default(),
            notes: p.notes.clone(),
        })
        .collect()
}
