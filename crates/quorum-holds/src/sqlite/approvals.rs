//! Approval by the ticket's release owner, and confirmation with the token it
//! returns: a compare-and-set on state, version and expiry, with the token
//! spent in the same transaction. Every refusal is audited and changes nothing.
//!
//! A token this server did not sign is `TokenInvalid`; a signed one that does
//! not authorise this confirmation (another hold or ticket, expired, never
//! issued, already spent) is `TokenRefused`; a genuine token for this hold
//! whose hold moved on after approval (released, expired, confirmed,
//! extended, changed) is `MovedOn`, whichever way it moved.

use super::{SqliteHoldStore, audit, new_id, rows};
use crate::{ApprovalClaims, ApprovalGrant, HoldError, Principal, access, bounds};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, FieldViolation, Hold, HoldAttendee, HoldId, HoldState, PersonId, RoleId,
    Substitution, substitute,
};
use rusqlite::{OptionalExtension, Transaction, params};

pub fn approve(
    store: &SqliteHoldStore,
    id: &HoldId,
    who: &Principal,
    substitutions: &[Substitution],
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    check_approval(id, substitutions)?;
    if token_ttl <= Duration::zero() || token_ttl > store.policy.max_token_ttl {
        return Err(HoldError::InvalidRequest {
            violations: vec![FieldViolation::new(
                "token_ttl_seconds",
                format!(
                    "the token's time-to-live must be positive and at most {} hours",
                    store.policy.max_token_ttl.num_hours()
                ),
            )],
        });
    }
    let outcome =
        store.write(|tx, now| approve_in(store, tx, now, id, who, substitutions, token_ttl));
    store.audited(outcome, Some(id), None, who, AuditAction::ApprovalRefused)
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
    store: &SqliteHoldStore,
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    id: &HoldId,
    who: &Principal,
    substitutions: &[Substitution],
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    let hold = rows::load(tx, id)?;
    // Every placed hold's ticket has an owner; a missing one fails closed.
    let owner = rows::release_owner(tx, &hold.change_ticket)?;
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
        slot_start_ns: rows::ns(hold.slot.start)?,
        slot_end_ns: rows::ns(hold.slot.end)?,
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
        expires_at_ns: rows::ns(expires_at)?,
    };
    let token = store.signer.sign(&claims)?;
    tx.execute(
        "INSERT INTO approvals (token_id, hold_id, approver, expires_at_ns) VALUES (?1, ?2, ?3, ?4)",
        params![claims.token_id, id.0, approver, claims.expires_at_ns],
    )?;
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

pub fn confirm(
    store: &SqliteHoldStore,
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
    let outcome = store
        .signer
        .verify(token)
        .and_then(|claims| store.write(|tx, now| confirm_in(tx, now, id, &claims, who)));
    store.audited(outcome, Some(id), None, who, AuditAction::TokenRefused)
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
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    id: &HoldId,
    claims: &ApprovalClaims,
    who: &Principal,
) -> Result<Hold, HoldError> {
    let mut hold = rows::load(tx, id)?;
    let owner = rows::release_owner(tx, &hold.change_ticket)?;
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
    let newcomers: Vec<&PersonId> = approved
        .iter()
        .map(|a| &a.person)
        .filter(|p| !hold.attendees.iter().any(|a| &a.person == *p))
        .collect();
    if !newcomers.is_empty() {
        let holds = rows::conflicting_holds(tx, &newcomers, hold.slot, &hold.change_ticket, now)?;
        if !holds.is_empty() {
            return Err(HoldError::Conflict { holds });
        }
    }
    let changed = tx.execute(
        "UPDATE holds SET state = 'CONFIRMED', version = version + 1
         WHERE id = ?1 AND state = 'TENTATIVE' AND version = ?2 AND expires_at_ns > ?3",
        params![
            id.0,
            i64::try_from(claims.hold_version).unwrap_or(-1),
            rows::ns(now)?
        ],
    )?;
    if changed != 1 {
        return Err(moved_on(&hold, "it changed while it was being confirmed"));
    }
    if !newcomers.is_empty() {
        tx.execute(
            "DELETE FROM hold_attendees WHERE hold_id = ?1",
            params![id.0],
        )?;
        hold.attendees = approved;
        rows::insert_attendees(tx, &hold)?;
    }
    tx.execute(
        "INSERT INTO used_tokens (token_id, hold_id, used_at_ns) VALUES (?1, ?2, ?3)",
        params![claims.token_id, id.0, rows::ns(now)?],
    )?;
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
    tx: &Transaction<'_>,
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
    if rows::ns(now)? >= claims.expires_at_ns {
        return Err(refused(format!(
            "the token expired at {}",
            rows::from_ns(claims.expires_at_ns).to_rfc3339()
        )));
    }
    let issued: Option<String> = tx
        .query_row(
            "SELECT hold_id FROM approvals WHERE token_id = ?1",
            params![claims.token_id],
            |r| r.get(0),
        )
        .optional()?;
    if issued.as_deref() != Some(hold.id.0.as_str()) {
        return Err(refused("this store never issued the token"));
    }
    let spent: Option<i64> = tx
        .query_row(
            "SELECT used_at_ns FROM used_tokens WHERE token_id = ?1",
            params![claims.token_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(at) = spent {
        return Err(refused(format!(
            "the token was already used at {}",
            rows::from_ns(at).to_rfc3339()
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
    if (claims.slot_start_ns, claims.slot_end_ns)
        != (rows::ns(hold.slot.start)?, rows::ns(hold.slot.end)?)
    {
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
