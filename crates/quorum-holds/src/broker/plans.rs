//! Holding a release plan all or nothing: one transaction places a tentative
//! hold for every milestone (every attendee, bound to the change ticket and
//! the milestone id), or — when any milestone conflicts with another
//! ticket's hold, or anything else fails — none of them. Extending and
//! releasing act on every member in one transaction too. The rules are the
//! single hold's (field limits, release-owner rule, TTL policy, who may do
//! what); only the unit is the plan. Every audit record names the plan.

use super::holds::{check_attendees, fix_release_owner, require};
use super::{Broker, PlanRow, Storage, Tx, as_seen, audit, new_id, refusals};
use crate::{HoldError, PlacePlan, Principal, access, bounds};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, FieldViolation, Hold, HoldId, HoldState, PlanHold, PlanId, PlanMember,
};
use std::collections::HashSet;

/// The most milestones one plan holds: the planner's own limit.
pub const MAX_PLAN_MILESTONES: usize = 32;

fn check(request: &PlacePlan, max_ttl: Duration) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    bounds::id("change_ticket", &request.change_ticket, true, &mut out);
    bounds::id("idempotency_key", &request.idempotency_key, true, &mut out);
    let owner = request.release_owner.as_deref().unwrap_or("");
    bounds::id("release_owner", owner, false, &mut out);
    if request.ttl <= Duration::zero() || request.ttl > max_ttl {
        out.push(FieldViolation::new(
            "ttl_seconds",
            format!(
                "the time-to-live must be positive and at most {} hours",
                max_ttl.num_hours()
            ),
        ));
    }
    let count = request.milestones.len();
    if count == 0 || count > MAX_PLAN_MILESTONES {
        out.push(FieldViolation::new(
            "milestones",
            format!("a plan holds 1 to {MAX_PLAN_MILESTONES} milestones (got {count})"),
        ));
        return out;
    }
    let mut seen = HashSet::with_capacity(count);
    for (i, milestone) in request.milestones.iter().enumerate() {
        let field = format!("milestones[{i}].milestone_id");
        bounds::id(&field, &milestone.milestone_id, true, &mut out);
        if !seen.insert(milestone.milestone_id.as_str()) {
            out.push(FieldViolation::new(field, "this milestone is listed twice"));
        }
        if milestone.slot.is_empty() {
            out.push(FieldViolation::new(
                format!("milestones[{i}].end"),
                "the slot's end must be after its start",
            ));
        }
        check_attendees(&format!("milestones[{i}]."), &milestone.attendees, &mut out);
    }
    out
}

/// What makes two plan requests "the same" for idempotency.
fn fingerprint(request: &PlacePlan) -> String {
    let milestones: Vec<String> = request
        .milestones
        .iter()
        .map(|m| {
            let mut people: Vec<String> = m
                .attendees
                .iter()
                .map(|a| format!("{}={}", a.person, a.role))
                .collect();
            people.sort();
            format!(
                "{}@{}/{}:{}",
                m.milestone_id,
                m.slot.start.to_rfc3339(),
                m.slot.end.to_rfc3339(),
                people.join(",")
            )
        })
        .collect();
    format!(
        "plan|{}|{}|{}|{}",
        request.change_ticket,
        milestones.join(";"),
        request.ttl.num_milliseconds(),
        request.release_owner.as_deref().unwrap_or("")
    )
}

pub fn place<S: Storage>(
    broker: &Broker<S>,
    mut request: PlacePlan,
    by: &Principal,
) -> Result<PlanHold, HoldError> {
    bounds::verdict(check(&request, broker.policy.max_ttl))?;
    for milestone in &mut request.milestones {
        milestone.attendees.sort();
    }
    let print = fingerprint(&request);
    let open_tickets = broker.policy.owner_from_first_hold;
    let outcome = access::may_place(by, request.release_owner.as_deref()).and_then(|()| {
        broker
            .storage
            .write(&mut |tx, now| place_in(tx, now, &request, &print, by, open_tickets))
    });
    if let Err(error) = &outcome {
        let label = format!("plan with idempotency key {:?}", request.idempotency_key);
        let ticket = Some(request.change_ticket.as_str());
        broker.audit_plan_refusal(error, &label, ticket, None, by, AuditAction::Refused)?;
    }
    outcome
}

fn place_in(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    request: &PlacePlan,
    print: &str,
    by: &Principal,
    open_tickets: bool,
) -> Result<PlanHold, HoldError> {
    let key = &request.idempotency_key;
    if let Some((id, earlier_print)) = tx.find_plan_by_key(&by.identity, key)? {
        if earlier_print != print {
            return Err(HoldError::IdempotencyKeyReused { key: key.clone() });
        }
        return load(tx, now, &id);
    }
    let ticket = &request.change_ticket;
    let owner = request.release_owner.as_deref();
    fix_release_owner(tx, now, ticket, owner, open_tickets)?;
    let row = PlanRow {
        id: PlanId(new_id("P")),
        change_ticket: ticket.clone(),
        requester: by.identity.clone(),
        created_at: now,
        members: Vec::new(),
    };
    tx.insert_plan(&row, key, print)?;
    let mut members = Vec::with_capacity(request.milestones.len());
    for (position, milestone) in request.milestones.iter().enumerate() {
        let hold = Hold {
            id: HoldId(new_id("H")),
            change_ticket: ticket.clone(),
            slot: milestone.slot,
            attendees: milestone.attendees.clone(),
            state: HoldState::Tentative,
            expires_at: now + request.ttl,
            created_at: now,
            requester: by.identity.clone(),
            version: 1,
            release_reason: String::new(),
        };
        // Each member needs a key of its own (one per requester); the plan's
        // id is random, so these never meet a key a caller chose.
        let member_key = format!("plan/{}/{}", row.id, milestone.milestone_id);
        let member_print = format!("{print}#{}", milestone.milestone_id);
        // A conflict here fails the whole transaction: nothing of the plan stays.
        tx.insert_hold(&hold, &member_key, &member_print, now)?;
        tx.add_plan_member(&row.id, position, &milestone.milestone_id, &hold.id)?;
        let reason = format!(
            "plan {} milestone {}: {} until {}",
            row.id,
            milestone.milestone_id,
            hold.slot,
            hold.expires_at.to_rfc3339()
        );
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
        members.push(PlanMember {
            milestone_id: milestone.milestone_id.clone(),
            hold,
        });
    }
    Ok(PlanHold {
        id: row.id,
        change_ticket: row.change_ticket,
        requester: row.requester,
        created_at: row.created_at,
        members,
    })
}

/// The plan with every member hold as a reader at `now` sees it; a writing
/// transaction locks the plan and each hold as it reads them.
pub(super) fn load(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    id: &PlanId,
) -> Result<PlanHold, HoldError> {
    let row = tx.load_plan(id)?;
    let mut members = Vec::with_capacity(row.members.len());
    for (milestone_id, hold) in &row.members {
        members.push(PlanMember {
            milestone_id: milestone_id.clone(),
            hold: as_seen(tx.load(hold)?, now),
        });
    }
    Ok(PlanHold {
        id: row.id,
        change_ticket: row.change_ticket,
        requester: row.requester,
        created_at: row.created_at,
        members,
    })
}

pub(super) fn plan_id(id: &PlanId) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    bounds::id("plan_id", &id.0, true, &mut violations);
    bounds::verdict(violations)
}

/// Every member must be in one of `allowed`; the first that is not names
/// the plan's state in the refusal.
pub(super) fn require_all(
    plan: &PlanHold,
    now: DateTime<Utc>,
    allowed: &[HoldState],
    action: &'static str,
) -> Result<(), HoldError> {
    plan.members
        .iter()
        .try_for_each(|m| require(&m.hold, now, allowed, action))
}

pub fn get<S: Storage>(
    broker: &Broker<S>,
    id: &PlanId,
    who: &Principal,
) -> Result<PlanHold, HoldError> {
    plan_id(id)?;
    let outcome = broker.storage.read(&mut |tx, now| {
        let plan = load(tx, now, id)?;
        if !access::reads_everything(who) {
            let owner = tx.release_owner(&plan.change_ticket)?;
            let placed = tx.placed_on(&plan.change_ticket, &who.identity)?;
            access::may_read(who, &plan.change_ticket, owner.as_deref(), placed)?;
        }
        Ok(plan)
    });
    broker.audited_plan(outcome, id, who, AuditAction::ReadRefused)
}

pub fn extend<S: Storage>(
    broker: &Broker<S>,
    id: &PlanId,
    by: Duration,
    who: &Principal,
) -> Result<PlanHold, HoldError> {
    plan_id(id)?;
    let max_ttl = broker.policy.max_ttl;
    let outcome = broker.storage.write(&mut |tx, now| {
        let mut plan = load(tx, now, id)?;
        let owner = tx.release_owner(&plan.change_ticket)?;
        let confirmed = plan.state_at(now) == HoldState::Confirmed;
        access::may_change(who, &plan, owner.as_deref(), "extend", confirmed)?;
        require_all(&plan, now, &[HoldState::Tentative], "extended")?;
        for member in &mut plan.members {
            let hold = &mut member.hold;
            let expires_at = hold.expires_at + by;
            if by <= Duration::zero() || expires_at > now + max_ttl {
                return Err(HoldError::TooLong {
                    max_hours: max_ttl.num_hours(),
                });
            }
            tx.set_expiry(&hold.id, expires_at)?;
            hold.expires_at = expires_at;
            hold.version += 1;
            let reason = format!(
                "plan {id} milestone {}: now expires at {}",
                member.milestone_id,
                expires_at.to_rfc3339()
            );
            let (ticket, action) = (&hold.change_ticket, AuditAction::Extended);
            audit(
                tx,
                now,
                &who.identity,
                ticket,
                Some(&hold.id),
                action,
                &reason,
            )?;
        }
        Ok(plan)
    });
    broker.audited_plan(outcome, id, who, AuditAction::ExtendRefused)
}

/// Releasing a plan releases every milestone; a confirmed plan needs a reason.
pub fn release<S: Storage>(
    broker: &Broker<S>,
    id: &PlanId,
    reason: &str,
    who: &Principal,
) -> Result<PlanHold, HoldError> {
    plan_id(id)?;
    let mut violations = Vec::new();
    bounds::text(
        "reason",
        reason,
        bounds::MAX_REASON_BYTES,
        false,
        &mut violations,
    );
    bounds::verdict(violations)?;
    let outcome = broker.storage.write(&mut |tx, now| {
        let mut plan = load(tx, now, id)?;
        let owner = tx.release_owner(&plan.change_ticket)?;
        let confirmed = plan
            .members
            .iter()
            .any(|m| m.hold.state_at(now) == HoldState::Confirmed);
        access::may_change(who, &plan, owner.as_deref(), "release", confirmed)?;
        let active = [HoldState::Tentative, HoldState::Confirmed];
        require_all(&plan, now, &active, "released")?;
        if confirmed && reason.trim().is_empty() {
            return Err(HoldError::InvalidRequest {
                violations: vec![FieldViolation::new(
                    "reason",
                    "releasing a confirmed plan needs a reason",
                )],
            });
        }
        for member in &mut plan.members {
            let hold = &mut member.hold;
            tx.set_released(&hold.id, reason)?;
            hold.state = HoldState::Released;
            hold.version += 1;
            hold.release_reason = reason.to_owned();
            let text = format!("plan {id} milestone {}: {reason}", member.milestone_id);
            let (ticket, action) = (&hold.change_ticket, AuditAction::Released);
            audit(
                tx,
                now,
                &who.identity,
                ticket,
                Some(&hold.id),
                action,
                &text,
            )?;
        }
        Ok(plan)
    });
    broker.audited_plan(outcome, id, who, AuditAction::ReleaseRefused)
}

impl<S: Storage> Broker<S> {
    /// Audits a refused plan operation (as [`Broker::audited`] does for one
    /// hold), naming the plan in the record.
    pub(super) fn audited_plan<T>(
        &self,
        outcome: Result<T, HoldError>,
        id: &PlanId,
        who: &Principal,
        action: AuditAction,
    ) -> Result<T, HoldError> {
        if let Err(error) = &outcome {
            self.audit_plan_refusal(error, &format!("plan {id}"), None, Some(id), who, action)?;
        }
        outcome
    }

    /// Records one refusal naming `label`, in its own transaction, within
    /// the caller's per-minute budget; malformed requests and store failures
    /// are not refusals. The ticket is the plan's when the plan exists.
    pub(super) fn audit_plan_refusal(
        &self,
        error: &HoldError,
        label: &str,
        ticket: Option<&str>,
        plan: Option<&PlanId>,
        who: &Principal,
        action: AuditAction,
    ) -> Result<(), HoldError> {
        if matches!(
            error,
            HoldError::InvalidRequest { .. }
                | HoldError::Storage { .. }
                | HoldError::Unavailable { .. }
        ) {
            return Ok(());
        }
        let budget = self.policy.audited_refusals_per_minute;
        let reason = format!("{label}: {error}");
        self.storage.write(&mut |tx, now| {
            let ticket = match (ticket, plan) {
                (Some(ticket), _) => ticket.to_owned(),
                (None, Some(id)) => match tx.load_plan(id) {
                    Ok(row) => row.change_ticket,
                    Err(_) => String::new(),
                },
                (None, None) => String::new(),
            };
            let refusal = refusals::Refusal {
                actor: &who.identity,
                ticket: &ticket,
                hold: None,
                action,
                reason: &reason,
            };
            refusals::record(tx, now, budget, &refusal)
        })
    }
}
