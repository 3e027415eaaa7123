//! Registering tickets; placing, extending, releasing and expiring holds.

use super::{SqliteHoldStore, audit, new_id, rows};
use crate::{HoldError, PlaceHold, Principal, access, bounds};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, FieldViolation, Hold, HoldAttendee, HoldId, HoldState, PersonId, TimeRange,
};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::HashSet;

/// Field rules of a place request, in time linear in its size: attendees
/// are capped before anything else looks at them, and duplicates are found
/// with a set rather than by comparing every pair.
fn check(request: &PlaceHold, max_ttl: Duration) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    bounds::id("change_ticket", &request.change_ticket, true, &mut out);
    bounds::id("idempotency_key", &request.idempotency_key, true, &mut out);
    let owner = request.release_owner.as_deref().unwrap_or("");
    bounds::id("release_owner", owner, false, &mut out);
    let mut need = |ok: bool, field: &str, text: &str| {
        if !ok {
            out.push(FieldViolation::new(field, text));
        }
    };
    need(
        !request.slot.is_empty(),
        "end",
        "the slot's end must be after its start",
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
    check_attendees(&request.attendees, &mut out);
    out
}

fn check_attendees(attendees: &[HoldAttendee], out: &mut Vec<FieldViolation>) {
    if attendees.is_empty() {
        out.push(FieldViolation::new(
            "attendees",
            "a hold needs at least one attendee",
        ));
        return;
    }
    if attendees.len() > bounds::MAX_ATTENDEES {
        out.push(FieldViolation::new(
            "attendees",
            format!(
                "a hold has at most {} attendees (got {})",
                bounds::MAX_ATTENDEES,
                attendees.len()
            ),
        ));
        return;
    }
    let mut seen = HashSet::with_capacity(attendees.len());
    for (i, attendee) in attendees.iter().enumerate() {
        let field = format!("attendees[{i}].person_id");
        bounds::id(&field, &attendee.person.0, true, out);
        bounds::id(
            &format!("attendees[{i}].role_id"),
            &attendee.role.0,
            false,
            out,
        );
        if !seen.insert(&attendee.person) {
            out.push(FieldViolation::new(field, "this person is listed twice"));
        }
    }
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

pub fn place(
    store: &SqliteHoldStore,
    mut request: PlaceHold,
    by: &Principal,
) -> Result<Hold, HoldError> {
    bounds::verdict(check(&request, store.policy.max_ttl))?;
    request.attendees.sort();
    let print = fingerprint(&request);
    let open_tickets = store.policy.owner_from_first_hold;
    let outcome = access::may_place(by, request.release_owner.as_deref()).and_then(|()| {
        store.write(|tx, now| place_in(tx, now, &request, &print, by, open_tickets))
    });
    let ticket = Some(request.change_ticket.as_str());
    store.audited(outcome, None, ticket, by, AuditAction::Refused)
}

/// Names a ticket's release owner: admin only, once.
pub fn register_ticket(
    store: &SqliteHoldStore,
    ticket: &str,
    owner: &str,
    by: &Principal,
) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    bounds::id("change_ticket", ticket, true, &mut violations);
    bounds::id("release_owner", owner, true, &mut violations);
    bounds::verdict(violations)?;
    let outcome = access::may_register(by).and_then(|()| {
        store.write(|tx, now| match rows::release_owner(tx, ticket)? {
            Some(existing) if existing == owner => Ok(()),
            Some(existing) => Err(HoldError::ReleaseOwnerFixed {
                ticket: ticket.to_owned(),
                owner: existing,
            }),
            None => {
                name_owner(tx, now, ticket, owner)?;
                let reason = format!("release owner {owner}");
                let action = AuditAction::TicketRegistered;
                audit(tx, now, &by.identity, ticket, None, action, &reason)
            }
        })
    });
    let refused = AuditAction::RegistrationRefused;
    store.audited(outcome, None, Some(ticket), by, refused)
}

fn name_owner(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    ticket: &str,
    owner: &str,
) -> Result<(), HoldError> {
    tx.execute(
        "INSERT INTO tickets (change_ticket, release_owner, created_at_ns) VALUES (?1, ?2, ?3)",
        params![ticket, owner, rows::ns(now)?],
    )?;
    Ok(())
}

fn place_in(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    request: &PlaceHold,
    print: &str,
    by: &Principal,
    open_tickets: bool,
) -> Result<Hold, HoldError> {
    let earlier: Option<(String, String)> = tx
        .query_row(
            "SELECT id, request_fingerprint FROM holds WHERE requester = ?1 AND idempotency_key = ?2",
            params![by.identity, request.idempotency_key],
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
    fix_release_owner(tx, now, request, open_tickets)?;
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
        requester: by.identity.clone(),
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
        &by.identity,
        &hold.change_ticket,
        Some(&hold.id),
        AuditAction::Placed,
        &reason,
    )?;
    Ok(hold)
}

/// A ticket's release owner comes from registration; only where the policy
/// allows it (development mode) does a ticket's first hold name it. Nobody
/// changes it later.
fn fix_release_owner(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    request: &PlaceHold,
    open_tickets: bool,
) -> Result<(), HoldError> {
    let ticket = &request.change_ticket;
    match (rows::release_owner(tx, ticket)?, &request.release_owner) {
        (Some(owner), Some(named)) if &owner != named => Err(HoldError::ReleaseOwnerFixed {
            ticket: ticket.clone(),
            owner,
        }),
        (Some(_), _) => Ok(()),
        (None, _) if !open_tickets => Err(HoldError::TicketNotRegistered {
            ticket: ticket.clone(),
        }),
        (None, Some(named)) => name_owner(tx, now, ticket, named),
        (None, None) => Err(HoldError::InvalidRequest {
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

fn hold_id(id: &HoldId) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    bounds::id("hold_id", &id.0, true, &mut violations);
    bounds::verdict(violations)
}

pub fn extend(
    store: &SqliteHoldStore,
    id: &HoldId,
    by: Duration,
    who: &Principal,
) -> Result<Hold, HoldError> {
    hold_id(id)?;
    let max_ttl = store.policy.max_ttl;
    let outcome = store.write(|tx, now| {
        let mut hold = rows::load(tx, id)?;
        let owner = rows::release_owner(tx, &hold.change_ticket)?;
        let confirmed = hold.state_at(now) == HoldState::Confirmed;
        access::may_change(who, &hold, owner.as_deref(), "extend", confirmed)?;
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
        let ticket = &hold.change_ticket;
        audit(
            tx,
            now,
            &who.identity,
            ticket,
            Some(id),
            AuditAction::Extended,
            &reason,
        )?;
        Ok(hold)
    });
    store.audited(outcome, Some(id), None, who, AuditAction::ExtendRefused)
}

/// Releasing: a reason of bounded size; a confirmed booking needs one.
pub fn release(
    store: &SqliteHoldStore,
    id: &HoldId,
    reason: &str,
    who: &Principal,
) -> Result<Hold, HoldError> {
    hold_id(id)?;
    let mut violations = Vec::new();
    bounds::text(
        "reason",
        reason,
        bounds::MAX_REASON_BYTES,
        false,
        &mut violations,
    );
    bounds::verdict(violations)?;
    let outcome = store.write(|tx, now| {
        let mut hold = rows::load(tx, id)?;
        let owner = rows::release_owner(tx, &hold.change_ticket)?;
        let confirmed = hold.state_at(now) == HoldState::Confirmed;
        access::may_change(who, &hold, owner.as_deref(), "release", confirmed)?;
        require(&hold, now, &[HoldState::Tentative, HoldState::Confirmed], "released")?;
        if confirmed && reason.trim().is_empty() {
            return Err(HoldError::InvalidRequest {
                violations: vec![FieldViolation::new(
                    "reason",
                    "releasing a confirmed booking needs a reason",
                )],
            });
        }
        tx.execute(
            "UPDATE holds SET state = 'RELEASED', version = version + 1, release_reason = ?1 WHERE id = ?2",
            params![reason, id.0],
        )?;
        hold.state = HoldState::Released;
        hold.version += 1;
        hold.release_reason = reason.to_owned();
        let ticket = &hold.change_ticket;
        audit(tx, now, &who.identity, ticket, Some(id), AuditAction::Released, reason)?;
        Ok(hold)
    });
    store.audited(outcome, Some(id), None, who, AuditAction::ReleaseRefused)
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
) -> Result<Vec<crate::HeldTime>, HoldError> {
    let wanted: HashSet<&str> = people.iter().map(|p| p.0.as_str()).collect();
    let connection = store.lock()?;
    let now = rows::ns(store.clock.now())?;
    let mut statement = connection.prepare_cached(
        "SELECT a.person_id, a.start_ns, a.end_ns, h.id, h.change_ticket FROM hold_attendees a JOIN holds h ON h.id = a.hold_id
         WHERE a.end_ns > ?1 AND a.start_ns < ?2 AND h.change_ticket != ?3
           AND (h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > ?4))",
    )?;
    let (start, end) = (rows::ns(within.start)?, rows::ns(within.end)?);
    let rows = statement.query_map(params![start, end, except_ticket, now], |r| {
        Ok(crate::HeldTime {
            person: PersonId(r.get::<_, String>(0)?),
            range: TimeRange::new(rows::from_ns(r.get(1)?), rows::from_ns(r.get(2)?)),
            hold: HoldId(r.get(3)?),
            change_ticket: r.get(4)?,
        })
    })?;
    let mut busy = Vec::new();
    for row in rows {
        let held = row?;
        if wanted.contains(held.person.0.as_str()) {
            busy.push(held);
        }
    }
    // Stable order, so the same request gives the same answer byte for byte.
    busy.sort_by(|a, b| (&a.person, a.range, &a.hold).cmp(&(&b.person, b.range, &b.hold)));
    Ok(busy)
}
