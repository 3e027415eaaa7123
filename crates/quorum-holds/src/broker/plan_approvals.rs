//! A plan's approval and confirmation: the release owner signs one
//! single-use token bound to every member hold's id, version and slot, and
//! confirming is one compare-and-set over all of them in one transaction —
//! every milestone confirmed, or none. Refusals follow the single hold's:
//! a token this server did not sign is `TokenInvalid`; a signed one that
//! does not authorise this confirmation is `TokenRefused`; a genuine one
//! whose plan moved on since approval is `MovedOn`.

use super::plans::{load, plan_id, require_all};
use super::{Broker, Storage, Tx, audit, from_ns, new_id, ns};
use crate::{
    ApprovalGrant, HoldError, PlanApprovalClaims, PlanMemberClaim, Principal, TokenSigner, access,
    bounds,
};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{AuditAction, FieldViolation, HoldState, PlanHold, PlanId};

pub fn approve<S: Storage>(
    broker: &Broker<S>,
    id: &PlanId,
    who: &Principal,
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    plan_id(id)?;
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
        .write(&mut |tx, now| approve_in(signer, tx, now, id, who, token_ttl));
    broker.audited_plan(outcome, id, who, AuditAction::ApprovalRefused)
}

fn member_claims(plan: &PlanHold) -> Result<Vec<PlanMemberClaim>, HoldError> {
    plan.members
        .iter()
        .map(|m| {
            Ok(PlanMemberClaim {
                milestone_id: m.milestone_id.clone(),
                hold_id: m.hold.id.0.clone(),
                hold_version: m.hold.version,
                slot_start_ns: ns(m.hold.slot.start)?,
                slot_end_ns: ns(m.hold.slot.end)?,
            })
        })
        .collect()
}

fn approve_in(
    signer: &TokenSigner,
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    id: &PlanId,
    who: &Principal,
    token_ttl: Duration,
) -> Result<ApprovalGrant, HoldError> {
    let plan = load(tx, now, id)?;
    let owner = tx.release_owner(&plan.change_ticket)?;
    access::may_approve(who, &plan, owner.as_deref())?;
    require_all(&plan, now, &[HoldState::Tentative], "approved")?;
    let expires_at = now + token_ttl;
    let claims = PlanApprovalClaims {
        token_id: new_id("T"),
        plan_id: id.0.clone(),
        change_ticket: plan.change_ticket.clone(),
        members: member_claims(&plan)?,
        approver: who.identity.clone(),
        expires_at_ns: ns(expires_at)?,
    };
    let token = signer.sign_plan(&claims)?;
    tx.record_plan_approval(&claims.token_id, id, &who.identity, expires_at)?;
    for member in &plan.members {
        let reason = format!(
            "plan {id} milestone {}: token {} until {}",
            member.milestone_id,
            claims.token_id,
            expires_at.to_rfc3339()
        );
        let (ticket, hold) = (&plan.change_ticket, Some(&member.hold.id));
        audit(
            tx,
            now,
            &who.identity,
            ticket,
            hold,
            AuditAction::Approved,
            &reason,
        )?;
    }
    Ok(ApprovalGrant { token, expires_at })
}

pub fn confirm<S: Storage>(
    broker: &Broker<S>,
    id: &PlanId,
    token: &str,
    who: &Principal,
) -> Result<PlanHold, HoldError> {
    plan_id(id)?;
    let mut violations = Vec::new();
    let max = bounds::MAX_TOKEN_BYTES;
    bounds::text("approval_token", token, max, true, &mut violations);
    bounds::verdict(violations)?;
    let outcome = broker.signer.verify_plan(token).and_then(|claims| {
        broker
            .storage
            .write(&mut |tx, now| confirm_in(tx, now, id, &claims, who))
    });
    broker.audited_plan(outcome, id, who, AuditAction::TokenRefused)
}

fn refused(reason: impl Into<String>) -> HoldError {
    HoldError::TokenRefused {
        reason: reason.into(),
    }
}

fn confirm_in(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    id: &PlanId,
    claims: &PlanApprovalClaims,
    who: &Principal,
) -> Result<PlanHold, HoldError> {
    let mut plan = load(tx, now, id)?;
    let owner = tx.release_owner(&plan.change_ticket)?;
    access::may_confirm(who, &plan, owner.as_deref())?;
    check_token(tx, now, &plan, claims)?;
    check_unmoved(now, &plan, claims)?;
    // The compare-and-set, member by member in one transaction: should any
    // one have moved on, the error rolls every earlier one back.
    for (member, claim) in plan.members.iter_mut().zip(&claims.members) {
        let hold = &mut member.hold;
        if !tx.set_confirmed(&hold.id, claim.hold_version, now)? {
            return Err(HoldError::MovedOn {
                id: hold.id.clone(),
                what: format!("it changed while plan {id} was being confirmed"),
            });
        }
        hold.state = HoldState::Confirmed;
        hold.version += 1;
        let reason = format!(
            "plan {id} milestone {}: with token {} approved by {}",
            member.milestone_id, claims.token_id, claims.approver
        );
        let (ticket, held) = (&plan.change_ticket, Some(&hold.id));
        audit(
            tx,
            now,
            &who.identity,
            ticket,
            held,
            AuditAction::Confirmed,
            &reason,
        )?;
    }
    tx.spend_plan_token(&claims.token_id, id, now)?;
    Ok(plan)
}

/// Whether the token authorises confirming this plan now.
fn check_token(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    plan: &PlanHold,
    claims: &PlanApprovalClaims,
) -> Result<(), HoldError> {
    if claims.plan_id != plan.id.0 {
        return Err(refused(format!(
            "the token was issued for plan {}, not {}",
            claims.plan_id, plan.id
        )));
    }
    if claims.change_ticket != plan.change_ticket {
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
    if tx.plan_approval(&claims.token_id)?.as_deref() != Some(plan.id.0.as_str()) {
        return Err(refused("this store never issued the token"));
    }
    if let Some(at) = tx.plan_token_spent_at(&claims.token_id)? {
        return Err(refused(format!(
            "the token was already used at {}",
            at.to_rfc3339()
        )));
    }
    Ok(())
}

/// The token is genuine, unspent and meant for this plan: what is left is
/// whether any member moved on since (state, version, slot).
fn check_unmoved(
    now: DateTime<Utc>,
    plan: &PlanHold,
    claims: &PlanApprovalClaims,
) -> Result<(), HoldError> {
    let moved = |id: &quorum_domain::HoldId, what: String| HoldError::MovedOn {
        id: id.clone(),
        what: format!("plan {}: {what}", plan.id),
    };
    let Some(first) = plan.members.first() else {
        return Err(refused(format!("plan {} holds no milestone", plan.id)));
    };
    if claims.members.len() != plan.members.len() {
        let what = "its milestones differ from those approved".into();
        return Err(moved(&first.hold.id, what));
    }
    for (member, claim) in plan.members.iter().zip(&claims.members) {
        let hold = &member.hold;
        if claim.hold_id != hold.id.0 || claim.milestone_id != member.milestone_id {
            return Err(moved(
                &hold.id,
                "its milestones differ from those approved".into(),
            ));
        }
        let state = hold.state_at(now);
        if state != HoldState::Tentative {
            return Err(moved(&hold.id, format!("it is {}", state.as_str())));
        }
        if claim.hold_version != hold.version {
            return Err(moved(
                &hold.id,
                format!(
                    "version {} was approved, it is now at {}",
                    claim.hold_version, hold.version
                ),
            ));
        }
        if (claim.slot_start_ns, claim.slot_end_ns) != (ns(hold.slot.start)?, ns(hold.slot.end)?) {
            return Err(moved(
                &hold.id,
                "its slot differs from the approved one".into(),
            ));
        }
    }
    Ok(())
}
