//! Approval by the ticket's release owner, and confirmation with the token it
//! returns: a compare-and-set on state, version and expiry, with the token
//! spent in the same transaction. Every refusal is audited and changes nothing.
//!
//! A token this server did not sign is `TokenInvalid`; a signed one that does
//! not authorise this confirmation (another hold or ticket, expired, never
//! issued, already spent) is `TokenRefused`; a genuine token for this hold
//! whose hold moved on after approval (released, expired, confirmed,
//! extended, changed) is `MovedOn`, whichever way it moved.

use super::{Broker, Storage, Tx, audit, from_ns, new_id, ns};
use crate::{ApprovalClaims, ApprovalGrant, HoldError, Principal, access, bounds};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, FieldViolation, Hold, HoldAttendee, HoldId, HoldState, PersonId, RoleId,
    Substitution, substitute,
};

pub fn approve<S: Storage>(
    broker: &Broker<S>,
    id: &HoldId,
    who: &Principal,
    substitutions: &[Substitution],
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    check_approval(id, substitutions)?;
    if token_ttl <= Duration::zero() || token_ttl > broker.policy.max_token_ttl {
        return Err(HoldError::InvalidRequest {
            violations: vec![FieldViolation::new(
                "token_ttl_seconds",
                format!(
                    "the token's time-to-live must be positive and at most {} hours",
                    broker.policy.max_token_ttl.num_hours()
                ),
            )],
        });
    }
    let signer = &broker.signer;
    let outcome = broker
        .storage
        .write(&mut |tx, now| approve_in(signer, tx, now, id, who, substitutions, token_ttl));
    broker.audited(outcome, Some(id), None, who, AuditAction::ApprovalRefused)
}

fn check_approval(id: &HoldId, substitutions: &[Substitution]) -> Result<(), HoldError> {
    let mut out = Vec::new();
    bounds::id("hold_id", &id.0, true, &mut out);
    if substitutions.len() > bounds::MAX_SUBSTITUTIONS {
        out.push(FieldViolation::new(
            "substitutions",
            format!("at most {} substitutions", bounds::MAX_SUBSTITUTIONS),
        ));
        return bounds::verdict(out);
    }
    for (i, s) in substitutions.iter().enumerate() {
        bounds::id(
            &format!("substitutions[{i}].role_id"),
            &s.role.0,
            false,
            &mut out,
        );
        bounds::id(
            &format!("substitutions[{i}].from_person_id"),
            &s.from.0,
            true,
            &mut out,
        );
        bounds::id(
            &format!("substitutions[{i}].to_person_id"),
            &s.to.0,
            true,
            &mut out,
        );
    }
    bounds::verdict(out)
}

fn approve_in(
    signer: &crate::TokenSigner,
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    id: &HoldId,
    who: &Principal,
    substitutions: &[Substitution],
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    let hold = tx.load(id)?;
    // Every placed hold's ticket has an owner; a missing one fails closed.
    let owner = tx.release_owner(&hold.change_ticket)?;
    access::may_approve(who, &hold, owner.as_deref())?;
    let approver = who.identity.as_str();
    let state = hold.state_at(now);
    if state != HoldState::Tentative {
        return Err(HoldError::WrongState {
            id: id.clone(),
            state,
            action: "approved",
        });
    }
    super::holds::not_in_plan(tx, id, "approve")?;
    let attendees = substitute(&hold.attendees, substitutions).ok_or_else(|| HoldError::InvalidRequest {
        violations: vec![FieldViolation::new(
            "substitutions",
            "each substitution must replace the hold's attendee in that role with someone not already attending",
        )],
    })?;
    let expires_at = now + token_ttl;
    let claims = ApprovalClaims {
        token_id: new_id("T"),
        hold_id: id.0.clone(),
        change_ticket: hold.change_ticket.clone(),
        slot_start_ns: ns(hold.slot.start)?,
        slot_end_ns: ns(hold.slot.end)?,
        attendees: attendees
            .iter()
            .map(|a| (a.person.0.clone(), a.role.0.clone()))
            .collect(),
        substitutions: substitutions
            .iter()
            .map(|s| (s.role.0.clone(), s.from.0.clone(), s.to.0.clone()))
            .collect(),
        approver: approver.to_owned(),
        hold_version: hold.version,
        expires_at_ns: ns(expires_at)?,
    };
    let token = signer.sign(&claims)?;
    tx.record_approval(&claims.token_id, id, approver, expires_at)?;
    let named: Vec<String> = substitutions
        .iter()
        .map(|s| format!("{}: {} -> {}", s.role, s.from, s.to))
        .collect();
    let reason = format!(
        "token {} until {}; substitutions: [{}]",
        claims.token_id,
        expires_at.to_rfc3339(),
        named.join(", ")
    );
    audit(
        tx,
        now,
        approver,
        &hold.change_ticket,
        Some(id),
        AuditAction::Approved,
        &reason,
    )?;
    Ok(ApprovalGrant { token, expires_at })
}

pub fn confirm<S: Storage>(
    broker: &Broker<S>,
    id: &HoldId,
    token: &str,
    who: &Principal,
) -> Result<Hold, HoldError> {
    let mut violations = Vec::new();
    bounds::id("hold_id", &id.0, true, &mut violations);
    bounds::text(
        "approval_token",
        token,
        bounds::MAX_TOKEN_BYTES,
        true,
        &mut violations,
    );
    bounds::verdict(violations)?;
    let outcome = broker.signer.verify(token).and_then(|claims| {
        broker
            .storage
            .write(&mut |tx, now| confirm_in(tx, now, id, &claims, who))
    });
    broker.audited(outcome, Some(id), None, who, AuditAction::TokenRefused)
}

fn moved_on(hold: &Hold, what: &str) -> HoldError {
    HoldError::MovedOn {
        id: hold.id.clone(),
        what: what.to_owned(),
    }
}

fn refused(reason: impl Into<String>) -> HoldError {
    HoldError::TokenRefused {
        reason: reason.into(),
    }
}

fn confirm_in(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    id: &HoldId,
    claims: &ApprovalClaims,
    who: &Principal,
) -> Result<Hold, HoldError> {
    let mut hold = tx.load(id)?;
    let owner = tx.release_owner(&hold.change_ticket)?;
    access::may_confirm(who, &hold, owner.as_deref())?;
    check_claims(tx, now, &hold, claims)?;
    let approved: Vec<HoldAttendee> = claims
        .attendees
        .iter()
        .map(|(p, r)| HoldAttendee {
            person: PersonId(p.clone()),
            role: RoleId(r.clone()),
        })
        .collect();
    let newcomers = approved
        .iter()
        .any(|a| !hold.attendees.iter().any(|h| h.person == a.person));
    if !tx.set_confirmed(id, claims.hold_version, now)? {
        return Err(moved_on(&hold, "it changed while it was being confirmed"));
    }
    if newcomers {
        // The store refuses newcomers who are busy in another ticket's hold.
        hold.attendees = approved;
        tx.replace_attendees(&hold, now)?;
    }
    tx.spend_token(&claims.token_id, id, now)?;
    hold.state = HoldState::Confirmed;
    hold.version += 1;
    let reason = format!(
        "with token {} approved by {}",
        claims.token_id, claims.approver
    );
    audit(
        tx,
        now,
        &who.identity,
        &hold.change_ticket,
        Some(id),
        AuditAction::Confirmed,
        &reason,
    )?;
    Ok(hold)
}

/// Every way a genuine token can still be the wrong one for this hold now.
fn check_claims(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    hold: &Hold,
    claims: &ApprovalClaims,
) -> Result<(), HoldError> {
    if claims.hold_id != hold.id.0 {
        return Err(refused(format!(
            "the token was issued for hold {}, not {}",
            claims.hold_id, hold.id
        )));
    }
    if claims.change_ticket != hold.change_ticket {
        return Err(refused(format!(
            "the token was issued for ticket {}",
            claims.change_ticket
        )));
    }
    if ns(now)? >= claims.expires_at_ns {
        return Err(refused(format!(
            "the token expired at {}",
            from_ns(claims.expires_at_ns).to_rfc3339()
        )));
    }
    let issued = tx.approval_hold(&claims.token_id)?;
    if issued.as_deref() != Some(hold.id.0.as_str()) {
        return Err(refused("this store never issued the token"));
    }
    if let Some(at) = tx.token_spent_at(&claims.token_id)? {
        return Err(refused(format!(
            "the token was already used at {}",
            at.to_rfc3339()
        )));
    }
    // From here the token is genuine, unspent and meant for this hold: what
    // is left is whether the hold moved on since, one answer for every way.
    let state = hold.state_at(now);
    if state != HoldState::Tentative {
        return Err(moved_on(hold, &format!("it is {}", state.as_str())));
    }
    if claims.hold_version != hold.version {
        return Err(moved_on(
            hold,
            &format!(
                "version {} was approved, it is now at {}",
                claims.hold_version, hold.version
            ),
        ));
    }
    if (claims.slot_start_ns, claims.slot_end_ns) != (ns(hold.slot.start)?, ns(hold.slot.end)?) {
        return Err(moved_on(hold, "its slot differs from the approved one"));
    }
    let substitutions: Vec<Substitution> = claims
        .substitutions
        .iter()
        .map(|(r, f, t)| Substitution {
            role: RoleId(r.clone()),
            from: PersonId(f.clone()),
            to: PersonId(t.clone()),
        })
        .collect();
    let expected = substitute(&hold.attendees, &substitutions);
    let approved: Vec<(String, String)> = expected
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.person.0, a.role.0))
        .collect();
    if approved != claims.attendees {
        return Err(moved_on(hold, "its attendees differ from those approved"));
    }
    Ok(())
}
