//! Rows ↔ domain values: instants as Unix nanoseconds (exact, ordered), holds
//! with their attendees, audit records.

use crate::broker::{from_ns, ns};
use crate::{HoldClash, HoldError};
use chrono::{DateTime, Utc};
use quorum_domain::{
    AuditRecord, Hold, HoldAttendee, HoldId, HoldState, PersonId, RoleId, TimeRange,
};
use rusqlite::{Connection, OptionalExtension, params};

pub fn load(connection: &Connection, id: &HoldId) -> Result<Hold, HoldError> {
    let row = connection
        .query_row(
            "SELECT change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, release_reason
             FROM holds WHERE id = ?1",
            params![id.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, String>(8)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| HoldError::NotFound { id: id.clone() })?;
    let (change_ticket, start, end, state, expires, created, requester, version, release_reason) =
        row;
    let state = HoldState::parse(&state).ok_or_else(|| HoldError::Storage {
        detail: format!("hold {id} has unknown state {state:?}"),
    })?;
    let mut statement = connection.prepare_cached(
        "SELECT person_id, role_id FROM hold_attendees WHERE hold_id = ?1 ORDER BY person_id",
    )?;
    let attendees = statement
        .query_map(params![id.0], |r| {
            Ok(HoldAttendee {
                person: PersonId(r.get(0)?),
                role: RoleId(r.get(1)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hold {
        id: id.clone(),
        change_ticket,
        slot: TimeRange::new(from_ns(start), from_ns(end)),
        attendees,
        state,
        expires_at: from_ns(expires),
        created_at: from_ns(created),
        requester,
        version: u64::try_from(version).unwrap_or(0),
        release_reason,
    })
}

/// The release owner the ticket's first hold named, if it has one.
pub fn release_owner(connection: &Connection, ticket: &str) -> Result<Option<String>, HoldError> {
    Ok(connection
        .query_row(
            "SELECT release_owner FROM tickets WHERE change_ticket = ?1",
            params![ticket],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn insert_attendees(connection: &Connection, hold: &Hold) -> Result<(), HoldError> {
    let (start, end) = (ns(hold.slot.start)?, ns(hold.slot.end)?);
    let mut statement = connection.prepare_cached(
        "INSERT INTO hold_attendees (hold_id, person_id, role_id, start_ns, end_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for attendee in &hold.attendees {
        statement.execute(params![
            hold.id.0,
            attendee.person.0,
            attendee.role.0,
            start,
            end
        ])?;
    }
    Ok(())
}

/// Ids of other tickets' holds, active at `now`, on any of `people` and
/// overlapping `slot`.
pub fn conflicting_holds(
    connection: &Connection,
    people: &[&PersonId],
    slot: TimeRange,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Vec<HoldClash>, HoldError> {
    let mut statement = connection.prepare_cached(
        "SELECT DISTINCT h.id FROM hold_attendees a JOIN holds h ON h.id = a.hold_id
         WHERE a.person_id = ?1 AND a.start_ns < ?2 AND a.end_ns > ?3 AND h.change_ticket != ?4
           AND (h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > ?5))",
    )?;
    let (start, end, now) = (ns(slot.start)?, ns(slot.end)?, ns(now)?);
    let mut found = Vec::new();
    for person in people {
        let ids = statement
            .query_map(params![person.0, end, start, ticket, now], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        found.extend(ids.into_iter().map(|id| HoldClash {
            person: (*person).clone(),
            hold: HoldId(id),
        }));
    }
    Ok(found)
}

/// The ticket of a hold, if the hold exists.
pub fn ticket_of(connection: &Connection, id: &HoldId) -> Result<Option<String>, HoldError> {
    Ok(connection
        .query_row(
            "SELECT change_ticket FROM holds WHERE id = ?1",
            params![id.0],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether `identity` placed any hold on `ticket`.
pub fn placed_on(connection: &Connection, ticket: &str, identity: &str) -> Result<bool, HoldError> {
    Ok(connection
        .query_row(
            "SELECT 1 FROM holds WHERE change_ticket = ?1 AND requester = ?2 LIMIT 1",
            params![ticket, identity],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn audit_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        sequence: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
        at: from_ns(r.get(1)?),
        actor: r.get(2)?,
        change_ticket: r.get(3)?,
        hold_id: r.get::<_, Option<String>>(4)?.map(HoldId),
        action: r.get(5)?,
        reason: r.get(6)?,
    })
}
