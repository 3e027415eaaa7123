//! Hold broker messages ↔ domain holds, audit records and substitutions.

use super::timestamp::{from_timestamp, to_timestamp};
use crate::pb;
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditRecord, FieldViolation, Hold, HoldAttendee, HoldState, PersonId, RoleId, Substitution,
    TimeRange,
};
use quorum_holds::PlaceHold;

pub(super) fn instant(
    ts: Option<&prost_types::Timestamp>,
    field: &str,
    out: &mut Vec<FieldViolation>,
) -> DateTime<Utc> {
    match ts.and_then(from_timestamp) {
        Some(t) => t,
        None => {
            out.push(FieldViolation::new(field, "a valid timestamp is required"));
            DateTime::UNIX_EPOCH
        }
    }
}

pub(super) fn attendees(list: Vec<pb::HoldAttendee>) -> Vec<HoldAttendee> {
    list.into_iter()
        .map(|a| {
            let pb::HoldAttendee { person_id, role_id } = a;
            HoldAttendee {
                person: PersonId(person_id),
                role: RoleId(role_id),
            }
        })
        .collect()
}

pub fn place_request(request: pb::PlaceHoldRequest) -> Result<PlaceHold, Vec<FieldViolation>> {
    let pb::PlaceHoldRequest {
        change_ticket,
        start,
        end,
        attendees: people,
        ttl_seconds,
        idempotency_key,
        release_owner,
    } = request;
    let mut violations = Vec::new();
    let slot = TimeRange::new(
        instant(start.as_ref(), "start", &mut violations),
        instant(end.as_ref(), "end", &mut violations),
    );
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(PlaceHold {
        change_ticket,
        slot,
        attendees: attendees(people),
        ttl: Duration::seconds(ttl_seconds.into()),
        idempotency_key,
        release_owner: (!release_owner.is_empty()).then_some(release_owner),
    })
}

pub fn overlapping(
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
) -> Result<Option<TimeRange>, Vec<FieldViolation>> {
    match (start, end) {
        (None, None) => Ok(None),
        (start, end) => {
            let mut violations = Vec::new();
            let range = TimeRange::new(
                instant(start, "overlapping_start", &mut violations),
                instant(end, "overlapping_end", &mut violations),
            );
            if violations.is_empty() {
                Ok(Some(range))
            } else {
                Err(violations)
            }
        }
    }
}

pub fn substitutions(list: Vec<pb::Substitution>) -> Vec<Substitution> {
    list.into_iter()
        .map(|s| {
            let pb::Substitution {
                role_id,
                from_person_id,
                to_person_id,
            } = s;
            Substitution {
                role: RoleId(role_id),
                from: PersonId(from_person_id),
                to: PersonId(to_person_id),
            }
        })
        .collect()
}

pub(super) fn state(state: HoldState) -> pb::HoldState {
    match state {
        HoldState::Tentative => pb::HoldState::Tentative,
        HoldState::Confirmed => pb::HoldState::Confirmed,
        HoldState::Released => pb::HoldState::Released,
        HoldState::Expired => pb::HoldState::Expired,
    }
}

/// A hold on the wire, with its ticket's release owner when one is known.
pub fn hold(hold: Hold, release_owner: Option<String>) -> pb::Hold {
    let Hold {
        id,
        change_ticket,
        slot,
        attendees,
        state: s,
        expires_at,
        created_at,
        requester,
        version,
        release_reason,
    } = hold;
    pb::Hold {
        id: id.0,
        change_ticket,
        start: Some(to_timestamp(slot.start)),
        end: Some(to_timestamp(slot.end)),
        attendees: attendees
            .into_iter()
            .map(|a| pb::HoldAttendee {
                person_id: a.person.0,
                role_id: a.role.0,
            })
            .collect(),
        state: state(s).into(),
        expires_at: Some(to_timestamp(expires_at)),
        created_at: Some(to_timestamp(created_at)),
        requester,
        version,
        release_reason,
        release_owner: release_owner.unwrap_or_default(),
    }
}

pub fn audit_record(record: AuditRecord) -> pb::AuditRecord {
    let AuditRecord {
        sequence,
        at,
        actor,
        change_ticket,
        hold_id,
        action,
        reason,
    } = record;
    pb::AuditRecord {
        sequence,
        at: Some(to_timestamp(at)),
        actor,
        change_ticket,
        hold_id: hold_id.map(|h| h.0).unwrap_or_default(),
        action,
        reason,
    }
}

/// Other tickets' holds that counted as busy time, for the FindSlots answer.
pub fn held_times(held: &[quorum_holds::HeldTime]) -> Vec<pb::HoldCountedAsBusy> {
    held.iter()
        .map(|h| pb::HoldCountedAsBusy {
            person_id: h.person.0.clone(),
            hold_id: h.hold.0.clone(),
            change_ticket: h.change_ticket.clone(),
            start: Some(to_timestamp(h.range.start)),
            end: Some(to_timestamp(h.range.end)),
        })
        .collect()
}
