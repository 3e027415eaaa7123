//! Registering tickets; placing, extending, releasing and expiring holds:
//! the field rules, the release-owner rule, idempotency, the TTL policy and
//! the state checks, over any store's transaction primitives.

use super::{Broker, Storage, Tx, as_seen, audit, new_id};
use crate::{HoldError, PlaceHold, Principal, access, bounds};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{AuditAction, FieldViolation, Hold, HoldAttendee, HoldId, HoldState};
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
    check_attendees("", &request.attendees, &mut out);
    out
}

/// The attendee rules, with field paths under `prefix` (empty for a hold,
/// `milestones[i].` for a plan's milestone).
pub(super) fn check_attendees(
    prefix: &str,
    attendees: &[HoldAttendee],
    out: &mut Vec<FieldViolation>,
) {
    if attendees.is_empty() {
        out.push(FieldViolation::new(
            format!("{prefix}attendees"),
            "a hold needs at least one attendee",
        ));
        return;
    }
    if attendees.len() > bounds::MAX_ATTENDEES {
        out.push(FieldViolation::new(
            format!("{prefix}attendees"),
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
        let field = format!("{prefix}attendees[{i}].person_id");
        bounds::id(&field, &attendee.person.0, true, out);
        bounds::id(
            &format!("{prefix}attendees[{i}].role_id"),
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

pub fn place<S: Storage>(
    broker: &Broker<S>,
    mut request: PlaceHold,
    by: &Principal,
) -> Result<Hold, HoldError> {
    bounds::verdict(check(&request, broker.policy.max_ttl))?;
    request.attendees.sort();
    let print = fingerprint(&request);
    let open_tickets = broker.policy.owner_from_first_hold;
    let outcome = access::may_place(by, request.release_owner.as_deref()).and_then(|()| {
        broker
            .storage
            .write(&mut |tx, now| place_in(tx, now, &request, &print, by, open_tickets))
    });
    let ticket = Some(request.change_ticket.as_str());
    broker.audited(outcome, None, ticket, by, AuditAction::Refused)
}

/// Names a ticket's release owner: admin only, once.
pub fn register_ticket<S: Storage>(
    broker: &Broker<S>,
    ticket: &str,
    owner: &str,
    by: &Principal,
) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    bounds::id("change_ticket", ticket, true, &mut violations);
    bounds::id("release_owner", owner, true, &mut violations);
    bounds::verdict(violations)?;
    let outcome = access::may_register(by).and_then(|()| {
        broker
            .storage
            .write(&mut |tx, now| match tx.release_owner(ticket)? {
                Some(existing) if existing == owner => Ok(()),
                Some(existing) => Err(HoldError::ReleaseOwnerFixed {
                    ticket: ticket.to_owned(),
                    owner: existing,
                }),
                None => {
                    tx.name_owner(ticket, owner, now)?;
                    let reason = format!("release owner {owner}");
                    let action = AuditAction::TicketRegistered;
                    audit(tx, now, &by.identity, ticket, None, action, &reason)
                }
            })
    });
    let refused = AuditAction::RegistrationRefused;
    broker.audited(outcome, None, Some(ticket), by, refused)
}

fn place_in(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    request: &PlaceHold,
    print: &str,
    by: &Principal,
    open_tickets: bool,
) -> Result<Hold, HoldError> {
    if let Some((id, earlier_print)) = tx.find_by_key(&by.identity, &request.idempotency_key)? {
        if earlier_print != print {
            return Err(HoldError::IdempotencyKeyReused {
                key: request.idempotency_key.clone(),
            });
        }
        return Ok(as_seen(tx.load(&id)?, now));
    }
    let owner = request.release_owner.as_deref();
    fix_release_owner(tx, now, &request.change_ticket, owner, open_tickets)?;
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
    tx.insert_hold(&hold, &request.idempotency_key, print, now)?;
    let reason = format!("{} until {}", hold.slot, hold.expires_at.to_rfc3339());
    let ticket = &hold.change_ticket;
    let action = AuditAction::Placed;
    audit(
        tx,
        now,
        &by.identity,
        ticket,
        Some(&hold.id),
        action,
        &reason,
    )?;
    Ok(hold)
}

/// A ticket's release owner comes from registration; only where the policy
/// allows it (development mode) does a ticket's first hold name it. Nobody
/// changes it later.
pub(super) fn fix_release_owner(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    ticket: &str,
    named: Option<&str>,
    open_tickets: bool,
) -> Result<(), HoldError> {
    match (tx.release_owner(ticket)?, named) {
        (Some(owner), Some(named)) if owner != named => Err(HoldError::ReleaseOwnerFixed {
            ticket: ticket.to_owned(),
            owner,
        }),
        (Some(_), _) => Ok(()),
        (None, _) if !open_tickets => Err(HoldError::TicketNotRegistered {
            ticket: ticket.to_owned(),
        }),
        (None, Some(named)) => tx.name_owner(ticket, named, now),
        (None, None) => Err(HoldError::InvalidRequest {
            violations: vec![FieldViolation::new(
                "release_owner",
                "the first hold of a ticket must name its release owner",
            )],
        }),
    }
}

pub(super) fn require(
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

/// A hold inside a plan changes only with its plan: extending, releasing or
/// approving one milestone alone would leave the plan half held.
pub(super) fn not_in_plan(
    tx: &mut dyn Tx,
    id: &HoldId,
    action: &'static str,
) -> Result<(), HoldError> {
    match tx.plan_of(id)? {
        None => Ok(()),
        Some((plan, milestone)) => Err(HoldError::InPlan {
            id: id.clone(),
            plan,
            milestone,
            action,
        }),
    }
}

pub(super) fn hold_id(id: &HoldId) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    bounds::id("hold_id", &id.0, true, &mut violations);
    bounds::verdict(violations)
}

pub fn extend<S: Storage>(
    broker: &Broker<S>,
    id: &HoldId,
    by: Duration,
    who: &Principal,
) -> Result<Hold, HoldError> {
    hold_id(id)?;
    let max_ttl = broker.policy.max_ttl;
    let outcome = broker.storage.write(&mut |tx, now| {
        let mut hold = tx.load(id)?;
        let owner = tx.release_owner(&hold.change_ticket)?;
        let confirmed = hold.state_at(now) == HoldState::Confirmed;
        access::may_change(who, &hold, owner.as_deref(), "extend", confirmed)?;
        require(&hold, now, &[HoldState::Tentative], "extended")?;
        not_in_plan(tx, id, "extend")?;
        let expires_at = hold.expires_at + by;
        if by <= Duration::zero() || expires_at > now + max_ttl {
            return Err(HoldError::TooLong {
                max_hours: max_ttl.num_hours(),
            });
        }
        tx.set_expiry(id, expires_at)?;
        hold.expires_at = expires_at;
        hold.version += 1;
        let reason = format!("now expires at {}", expires_at.to_rfc3339());
        let (ticket, action) = (&hold.change_ticket, AuditAction::Extended);
        audit(tx, now, &who.identity, ticket, Some(id), action, &reason)?;
        Ok(hold)
    });
    broker.audited(outcome, Some(id), None, who, AuditAction::ExtendRefused)
}

/// Releasing: a reason of bounded size; a confirmed booking needs one.
pub fn release<S: Storage>(
    broker: &Broker<S>,
    id: &HoldId,
    reason: &str,
    who: &Principal,
) -> Result<Hold, HoldError> {
    hold_id(id)?;
    let mut violations = Vec::new();
    let max = bounds::MAX_REASON_BYTES;
    bounds::text("reason", reason, max, false, &mut violations);
    bounds::verdict(violations)?;
    let outcome = broker.storage.write(&mut |tx, now| {
        let mut hold = tx.load(id)?;
        let owner = tx.release_owner(&hold.change_ticket)?;
        let confirmed = hold.state_at(now) == HoldState::Confirmed;
        access::may_change(who, &hold, owner.as_deref(), "release", confirmed)?;
        let active = [HoldState::Tentative, HoldState::Confirmed];
        require(&hold, now, &active, "released")?;
        not_in_plan(tx, id, "release")?;
        if confirmed && reason.trim().is_empty() {
            return Err(HoldError::InvalidRequest {
                violations: vec![FieldViolation::new(
                    "reason",
                    "releasing a confirmed booking needs a reason",
                )],
            });
        }
        tx.set_released(id, reason)?;
        hold.state = HoldState::Released;
        hold.version += 1;
        hold.release_reason = reason.to_owned();
        let (ticket, action) = (&hold.change_ticket, AuditAction::Released);
        audit(tx, now, &who.identity, ticket, Some(id), action, reason)?;
        Ok(hold)
    });
    broker.audited(outcome, Some(id), None, who, AuditAction::ReleaseRefused)
}

/// Writes down expiries that reads already honour, each with its record.
pub fn sweep_expired<S: Storage>(broker: &Broker<S>) -> Result<usize, HoldError> {
    broker.storage.write(&mut |tx, now| {
        let expired = tx.expire_due(now)?;
        for (id, ticket, at) in &expired {
            let reason = format!("expired at {}", at.to_rfc3339());
            let action = AuditAction::Expired;
            audit(tx, now, "quorum", ticket, Some(id), action, &reason)?;
        }
        Ok(expired.len())
    })
}
