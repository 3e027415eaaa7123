//! Placing, extending, releasing, listing and expiring holds.

use super::{SqliteHoldStore, audit, new_id, rows};
use crate::{HoldError, HoldFilter, PlaceHold};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{AuditAction, FieldViolation, Hold, HoldId, HoldState, PersonId, TimeRange};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::HashSet;

fn check(request: &PlaceHold, max_ttl: Duration) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    let mut need = |ok: bool, field: &str, text: &str| {
        if !ok {
            out.push(FieldViolation::new(field, text));
        }
    };
    need(
        !request.change_ticket.trim().is_empty(),
        "change_ticket",
        "a change ticket id is required",
    );
    need(
        !request.slot.is_empty(),
        "end",
        "the slot's end must be after its start",
    );
    need(
        !request.attendees.is_empty(),
        "attendees",
        "a hold needs at least one attendee",
    );
    need(
        request.ttl > Duration::zero(),
        "ttl_seconds",
        "the time-to-live must be positive",
    );
    need(
        request.ttl <= max_ttl,
        "ttl_seconds",
        &format!(
            "the time-to-live may be at most {} hours",
            max_ttl.num_hours()
        ),
    );
    need(
        !request.idempotency_key.is_empty(),
        "idempotency_key",
        "an idempotency key is required",
    );
    need(
        !request.requester.is_empty(),
        "requester",
        "the caller's identity is required",
    );
    for (i, attendee) in request.attendees.iter().enumerate() {
        let field = format!("attendees[{i}].person_id");
        need(
            !attendee.person.0.is_empty(),
            &field,
            "a person id is required",
        );
        let first = request
            .attendees
            .iter()
            .position(|a| a.person == attendee.person);
        need(first == Some(i), &field, "this person is listed twice");
    }
    out
}

/// What makes two requests "the same" for idempotency.
fn fingerprint(request: &PlaceHold) -> String {
    let mut attendees: Vec<String> = request
        .attendees
        .iter()
        .map(|a| format!("{}={}", a.person, a.role))
        .collect();
    attendees.sort();
    format!(
        "{}|{}|{}|{}|{}|{}",
        request.change_ticket,
        request.slot.start.to_rfc3339(),
        request.slot.end.to_rfc3339(),
        attendees.join(","),
        request.ttl.num_milliseconds(),
        request.release_owner.as_deref().unwrap_or("")
    )
}

pub fn place(store: &SqliteHoldStore, mut request: PlaceHold) -> Result<Hold, HoldError> {
    let violations = check(&request, store.policy.max_ttl);
    if !violations.is_empty() {
        return Err(HoldError::InvalidRequest { violations });
    }
    request.attendees.sort();
    let print = fingerprint(&request);
    let outcome = store.write(|tx, now| place_in(tx, now, &request, &print));
    match outcome {
        Err(HoldError::Conflict { holds }) => {
            let ids: Vec<&str> = holds.iter().map(|h| h.0.as_str()).collect();
            let reason = format!(
                "overlaps active hold(s) {} on {}",
                ids.join(", "),
                request.slot
            );
            store.record_refusal(
                &request.change_ticket,
                None,
                &request.requester,
                AuditAction::Refused,
                &reason,
            )?;
            Err(HoldError::Conflict { holds })
        }
        Err(error @ HoldError::ReleaseOwnerFixed { .. }) => {
            store.record_refusal(
                &request.change_ticket,
                None,
                &request.requester,
                AuditAction::Refused,
                &error.to_string(),
            )?;
            Err(error)
        }
        other => other,
    }
}

fn place_in(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    request: &PlaceHold,
    print: &str,
) -> Result<Hold, HoldError> {
    let earlier: Option<(String, String)> = tx
        .query_row(
            "SELECT id, request_fingerprint FROM holds WHERE requester = ?1 AND idempotency_key = ?2",
            params![request.requester, request.idempotency_key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, earlier_print)) = earlier {
        if earlier_print != print {
            return Err(HoldError::IdempotencyKeyReused {
                key: request.idempotency_key.clone(),
            });
        }
        return Ok(rows::as_seen(rows::load(tx, &HoldId(id))?, now));
    }
    fix_release_owner(tx, now, request)?;
    let people: Vec<&PersonId> = request.attendees.iter().map(|a| &a.person).collect();
    let holds = rows::conflicting_holds(tx, &people, request.slot, &request.change_ticket, now)?;
    if !holds.is_empty() {
        return Err(HoldError::Conflict { holds });
    }
    let hold = Hold {
        id: HoldId(new_id("H")),
        change_ticket: request.change_ticket.clone(),
        slot: request.slot,
        attendees: request.attendees.clone(),
        state: HoldState::Tentative,
        expires_at: now + request.ttl,
        created_at: now,
        requester: request.requester.clone(),
        version: 1,
        release_reason: String::new(),
    };
    tx.execute(
        "INSERT INTO holds (id, change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, idempotency_key, request_fingerprint)
         VALUES (?1, ?2, ?3, ?4, 'TENTATIVE', ?5, ?6, ?7, 1, ?8, ?9)",
        params![
            hold.id.0,
            hold.change_ticket,
            rows::ns(hold.slot.start)?,
            rows::ns(hold.slot.end)?,
            rows::ns(hold.expires_at)?,
            rows::ns(now)?,
            hold.requester,
            request.idempotency_key,
            print
        ],
    )?;
    rows::insert_attendees(tx, &hold)?;
    let reason = format!("{} until {}", hold.slot, hold.expires_at.to_rfc3339());
    audit(
        tx,
        now,
        &request.requester,
        &hold.change_ticket,
        Some(&hold.id),
        AuditAction::Placed,
        &reason,
    )?;
    Ok(hold)
}

/// The first hold of a ticket names its release owner; nobody changes it later.
fn fix_release_owner(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    request: &PlaceHold,
) -> Result<(), HoldError> {
    match (
        rows::release_owner(tx, &request.change_ticket)?,
        &request.release_owner,
    ) {
        (Some(owner), Some(named)) if &owner != named => Err(HoldError::ReleaseOwnerFixed {
            ticket: request.change_ticket.clone(),
            owner,
        }),
        (Some(_), _) => Ok(()),
        (None, Some(named)) if !named.is_empty() => {
            tx.execute(
                "INSERT INTO tickets (change_ticket, release_owner, created_at_ns) VALUES (?1, ?2, ?3)",
                params![request.change_ticket, named, rows::ns(now)?],
            )?;
            Ok(())
        }
        (None, _) => Err(HoldError::InvalidRequest {
            violations: vec![FieldViolation::new(
                "release_owner",
                "the first hold of a ticket must name its release owner",
            )],
        }),
    }
}

fn require(
    hold: &Hold,
    now: DateTime<Utc>,
    allowed: &[HoldState],
    action: &'static str,
) -> Result<(), HoldError> {
    let state = hold.state_at(now);
    if allowed.contains(&state) {
        Ok(())
    } else {
        Err(HoldError::WrongState {
            id: hold.id.clone(),
            state,
            action,
        })
    }
}

pub fn extend(
    store: &SqliteHoldStore,
    id: &HoldId,
    by: Duration,
    actor: &str,
) -> Result<Hold, HoldError> {
    let max_ttl = store.policy.max_ttl;
    store.write(|tx, now| {
        let mut hold = rows::load(tx, id)?;
        require(&hold, now, &[HoldState::Tentative], "extended")?;
        let expires_at = hold.expires_at + by;
        if by <= Duration::zero() || expires_at > now + max_ttl {
            return Err(HoldError::TooLong {
                max_hours: max_ttl.num_hours(),
            });
        }
        tx.execute(
            "UPDATE holds SET expires_at_ns = ?1, version = version + 1 WHERE id = ?2",
            params![rows::ns(expires_at)?, id.0],
        )?;
        hold.expires_at = expires_at;
        hold.version += 1;
        let reason = format!("now expires at {}", expires_at.to_rfc3339());
        audit(
            tx,
            now,
            actor,
            &hold.change_ticket,
            Some(id),
            AuditAction::Extended,
            &reason,
        )?;
        Ok(hold)
    })
}

pub fn release(
    store: &SqliteHoldStore,
    id: &HoldId,
    reason: &str,
    actor: &str,
) -> Result<Hold, HoldError> {
    store.write(|tx, now| {
        let mut hold = rows::load(tx, id)?;
        require(&hold, now, &[HoldState::Tentative, HoldState::Confirmed], "released")?;
        tx.execute(
            "UPDATE holds SET state = 'RELEASED', version = version + 1, release_reason = ?1 WHERE id = ?2",
            params![reason, id.0],
        )?;
        hold.state = HoldState::Released;
        hold.version += 1;
        hold.release_reason = reason.to_owned();
        audit(tx, now, actor, &hold.change_ticket, Some(id), AuditAction::Released, reason)?;
        Ok(hold)
    })
}

pub fn list(store: &SqliteHoldStore, filter: &HoldFilter) -> Result<Vec<Hold>, HoldError> {
    let connection = store.lock()?;
    let now = store.clock.now();
    let (from, to) = match filter.overlapping {
        Some(range) => (rows::ns(range.start)?, rows::ns(range.end)?),
        None => (i64::MIN, i64::MAX),
    };
    let mut statement = connection.prepare_cached(
        "SELECT DISTINCT h.id FROM holds h LEFT JOIN hold_attendees a ON a.hold_id = h.id
         WHERE (?1 IS NULL OR h.change_ticket = ?1) AND (?2 IS NULL OR a.person_id = ?2)
           AND h.start_ns < ?4 AND h.end_ns > ?3
         ORDER BY h.start_ns, h.id",
    )?;
    let ids = statement
        .query_map(
            params![
                filter.change_ticket,
                filter.person.as_ref().map(|p| p.0.as_str()),
                from,
                to
            ],
            |r| r.get::<_, String>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut holds = Vec::with_capacity(ids.len());
    for id in ids {
        let hold = rows::as_seen(rows::load(&connection, &HoldId(id))?, now);
        if filter.include_inactive || hold.is_active(now) {
            holds.push(hold);
        }
    }
    Ok(holds)
}

pub fn sweep_expired(store: &SqliteHoldStore) -> Result<usize, HoldError> {
    store.write(|tx, now| {
        let expired: Vec<(String, String, i64)> = tx
            .prepare("SELECT id, change_ticket, expires_at_ns FROM holds WHERE state = 'TENTATIVE' AND expires_at_ns <= ?1")?
            .query_map(params![rows::ns(now)?], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, ticket, at) in &expired {
            tx.execute("UPDATE holds SET state = 'EXPIRED', version = version + 1 WHERE id = ?1", params![id])?;
            let reason = format!("expired at {}", rows::from_ns(*at).to_rfc3339());
            audit(tx, now, "quorum", ticket, Some(&HoldId(id.clone())), AuditAction::Expired, &reason)?;
        }
        Ok(expired.len())
    })
}

/// One query for the whole request: holds that end after the horizon starts
/// are few (the index on `end_ns` skips the past), and filtering people here
/// beats one query per person, which cost a quarter of FindSlots' throughput.
pub fn busy_from_holds(
    store: &SqliteHoldStore,
    people: &[PersonId],
    within: TimeRange,
    except_ticket: &str,
) -> Result<Vec<(PersonId, TimeRange)>, HoldError> {
    let wanted: HashSet<&str> = people.iter().map(|p| p.0.as_str()).collect();
    let connection = store.lock()?;
    let now = rows::ns(store.clock.now())?;
    let mut statement = connection.prepare_cached(
        "SELECT a.person_id, a.start_ns, a.end_ns FROM hold_attendees a JOIN holds h ON h.id = a.hold_id
         WHERE a.end_ns > ?1 AND a.start_ns < ?2 AND h.change_ticket != ?3
           AND (h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > ?4))",
    )?;
    let (start, end) = (rows::ns(within.start)?, rows::ns(within.end)?);
    let rows = statement.query_map(params![start, end, except_ticket, now], |r| {
        Ok((
            r.get::<_, String>(0)?,
            TimeRange::new(rows::from_ns(r.get(1)?), rows::from_ns(r.get(2)?)),
        ))
    })?;
    let mut busy = Vec::new();
    for row in rows {
        let (person, range) = row?;
        if wanted.contains(person.as_str()) {
            busy.push((PersonId(person), range));
        }
    }
    Ok(busy)
}
