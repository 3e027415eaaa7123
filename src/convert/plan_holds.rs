//! Held-plan messages ↔ the broker's plan requests and held plans; a plan
//! from `PlanRelease` ↔ the hold request that holds it.

use super::holds::{attendees, hold, instant, state};
use super::timestamp::to_timestamp;
use crate::pb;
use chrono::Duration;
use quorum_domain::{FieldViolation, PlanHold, PlanMember, TimeRange};
use quorum_holds::{PlacePlan, PlanMilestoneHold};

pub fn place_request(request: pb::PlacePlanHoldRequest) -> Result<PlacePlan, Vec<FieldViolation>> {
    let pb::PlacePlanHoldRequest {
        change_ticket,
        milestones,
        ttl_seconds,
        idempotency_key,
        release_owner,
    } = request;
    let mut violations = Vec::new();
    let mut held = Vec::with_capacity(milestones.len());
    for (i, milestone) in milestones.into_iter().enumerate() {
        let pb::PlanMilestoneSlot {
            milestone_id,
            start,
            end,
            attendees: people,
        } = milestone;
        let start = instant(
            start.as_ref(),
            &format!("milestones[{i}].start"),
            &mut violations,
        );
        let end = instant(
            end.as_ref(),
            &format!("milestones[{i}].end"),
            &mut violations,
        );
        held.push(PlanMilestoneHold {
            milestone_id,
            slot: TimeRange::new(start, end),
            attendees: attendees(people),
        });
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(PlacePlan {
        change_ticket,
        milestones: held,
        ttl: Duration::seconds(ttl_seconds.into()),
        idempotency_key,
        release_owner: (!release_owner.is_empty()).then_some(release_owner),
    })
}

/// The plan as a reader at `now` sees it (members already as seen), each
/// member with the ticket's release owner.
pub fn plan_hold(
    plan: PlanHold,
    now: chrono::DateTime<chrono::Utc>,
    release_owner: Option<String>,
) -> pb::PlanHold {
    let plan_state = plan.state_at(now);
    let expires_at = plan.expires_at();
    let PlanHold {
        id,
        change_ticket,
        requester,
        created_at,
        members,
    } = plan;
    pb::PlanHold {
        plan_id: id.0,
        change_ticket,
        requester,
        state: state(plan_state).into(),
        expires_at: expires_at.map(to_timestamp),
        created_at: Some(to_timestamp(created_at)),
        milestones: members
            .into_iter()
            .map(|m| {
                let PlanMember {
                    milestone_id,
                    hold: h,
                } = m;
                pb::PlanMilestoneHold {
                    milestone_id,
                    hold: Some(hold(h, release_owner.clone())),
                }
            })
            .collect(),
    }
}

/// The request that holds `plan` of a `PlanRelease` answer: each milestone's
/// window, with its role assignments as attendees.
pub fn hold_plan_request(
    change_ticket: &str,
    plan: &pb::Plan,
    ttl_seconds: u32,
    idempotency_key: String,
    release_owner: String,
) -> pb::PlacePlanHoldRequest {
    pb::PlacePlanHoldRequest {
        change_ticket: change_ticket.to_owned(),
        milestones: plan
            .milestones
            .iter()
            .map(|m| pb::PlanMilestoneSlot {
                milestone_id: m.milestone_id.clone(),
                start: m.start,
                end: m.end,
                attendees: attendees_of(&m.assignments),
            })
            .collect(),
        ttl_seconds,
        idempotency_key,
        release_owner,
    }
}

/// One attendee per person: where a milestone lets one person fill several
/// roles, the hold names them together ("rm+sre"), as a hold lists each
/// person once.
fn attendees_of(assignments: &[pb::RoleAssignment]) -> Vec<pb::HoldAttendee> {
    let mut out: Vec<pb::HoldAttendee> = Vec::with_capacity(assignments.len());
    for a in assignments {
        match out.iter_mut().find(|h| h.person_id == a.person_id) {
            Some(held) => {
                held.role_id.push('+');
                held.role_id.push_str(&a.role_id);
            }
            None => out.push(pb::HoldAttendee {
                person_id: a.person_id.clone(),
                role_id: a.role_id.clone(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_in_two_roles_is_one_attendee_naming_both() {
        let assigned = |person: &str, role: &str| pb::RoleAssignment {
            person_id: person.into(),
            role_id: role.into(),
            ..Default::default()
        };
        let held = attendees_of(&[
            assigned("ana", "rm"),
            assigned("bo", "sec"),
            assigned("ana", "sre"),
        ]);
        let pairs: Vec<(&str, &str)> = held
            .iter()
            .map(|h| (h.person_id.as_str(), h.role_id.as_str()))
            .collect();
        assert_eq!(pairs, [("ana", "rm+sre"), ("bo", "sec")]);
    }
}
