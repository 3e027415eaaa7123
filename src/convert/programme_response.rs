//! `ReleasePlans` → `PlanReleaseResponse`: plans, the reason there is none,
//! the conflict and the relaxations with their approvers. Words (an
//! impossible milestone's conflicts, a milestone change's description) come
//! from the one reporter, given that milestone's own slot problem and the
//! request's display zone.

use super::response::{
    approver, conflict, outcome_to_proto, reason_to_proto, relaxation as slot_relaxation, slot,
};
use super::timestamp::to_timestamp;
use crate::pb;
use crate::report::Reporter;
use quorum_domain::{
    NoPlanReason, Plan, ProgrammeConstraint, ProgrammeRelaxation, ProgrammeRelaxationKind,
    ReleaseProgramme, SlotProblem,
};
use quorum_solver::{ProgrammeEngine, ReleasePlans};

pub fn engine_to_proto(engine: ProgrammeEngine) -> pb::PlanEngine {
    match engine {
        ProgrammeEngine::Auto => pb::PlanEngine::Auto,
        ProgrammeEngine::ChainDp => pb::PlanEngine::ChainDp,
        ProgrammeEngine::BranchAndBound => pb::PlanEngine::BranchAndBound,
        ProgrammeEngine::IntegerProgram => pb::PlanEngine::JointIntegerProgram,
    }
}

/// The response for `found`; `programme` gives a milestone change its words
/// (the milestone's slot problem names its people and freezes).
pub fn plans_to_response(
    programme: &ReleaseProgramme,
    found: ReleasePlans,
    zone: chrono_tz::Tz,
) -> pb::PlanReleaseResponse {
    let ReleasePlans {
        plans,
        engine,
        presolved_starts,
        explanation,
    } = found;
    let quorum_domain::ProgrammeExplanation {
        outcome,
        reason,
        conflict: constraints,
        relaxations,
    } = explanation;
    pb::PlanReleaseResponse {
        change_ticket: programme.change_ticket.clone(),
        plans: plans
            .into_iter()
            .enumerate()
            .map(|(i, p)| plan(p, i as u32 + 1))
            .collect(),
        engine: engine_to_proto(engine).into(),
        presolved_starts,
        outcome: outcome_to_proto(outcome).into(),
        reason: reason.map(|r| no_plan_reason(r, programme, zone)),
        conflict: constraints.into_iter().map(programme_constraint).collect(),
        relaxations: relaxations
            .into_iter()
            .map(|r| relaxation(r, programme, zone))
            .collect(),
    }
}

fn plan(plan: Plan, rank: u32) -> pb::Plan {
    let Plan { milestones, cost } = plan;
    pb::Plan {
        rank,
        milestones: milestones
            .into_iter()
            .map(|m| {
                let pb::Slot {
                    rank: _,
                    start,
                    end,
                    assignments,
                    optional_attendees,
                    score,
                } = slot(m.slot, 0);
                pb::PlannedMilestone {
                    milestone_id: m.milestone,
                    start,
                    end,
                    assignments,
                    optional_attendees,
                    score,
                }
            })
            .collect(),
        cost,
    }
}

fn no_plan_reason(
    reason: NoPlanReason,
    programme: &ReleaseProgramme,
    zone: chrono_tz::Tz,
) -> pb::NoPlanReason {
    match reason {
        NoPlanReason::MilestoneImpossible {
            milestone,
            detail,
            explanation,
        } => {
            let (reasons, conflicts) = explanation.map_or_else(Default::default, |e| {
                let e = *e;
                (
                    e.escalation_reasons()
                        .into_iter()
                        .map(|r| reason_to_proto(r).into())
                        .collect(),
                    milestone_conflicts(programme, &milestone, e.conflicts, zone),
                )
            });
            pb::NoPlanReason {
                kind: pb::NoPlanReasonKind::MilestoneImpossible.into(),
                milestone_id: milestone,
                dependency_index: 0,
                detail,
                milestone_escalation_reasons: reasons,
                milestone_conflicts: conflicts,
            }
        }
        NoPlanReason::DependencyImpossible { dependency, detail } => pb::NoPlanReason {
            kind: pb::NoPlanReasonKind::DependencyImpossible.into(),
            dependency_index: dependency as u32,
            detail,
            ..Default::default()
        },
        NoPlanReason::Combination { detail } => pb::NoPlanReason {
            kind: pb::NoPlanReasonKind::Combination.into(),
            detail,
            ..Default::default()
        },
    }
}

/// An impossible milestone's conflicts worded as FindSlots words them, from
/// its own slot problem: labels and times in `zone`, each person's beside.
fn milestone_conflicts(
    programme: &ReleaseProgramme,
    milestone: &str,
    conflicts: Vec<quorum_domain::Conflict>,
    zone: chrono_tz::Tz,
) -> Vec<pb::Conflict> {
    let Some(problem) = milestone_problem(programme, milestone) else {
        return conflicts
            .into_iter()
            .map(super::response::bare_conflict)
            .collect();
    };
    let reporter = Reporter::new(&problem, zone);
    conflicts
        .into_iter()
        .map(|c| {
            let words = reporter.conflict(&c);
            conflict(c, words, &reporter)
        })
        .collect()
}

fn programme_constraint(c: ProgrammeConstraint) -> pb::ProgrammeConstraint {
    match c {
        ProgrammeConstraint::Deadline { milestone } => pb::ProgrammeConstraint {
            kind: pb::ProgrammeConstraintKind::MilestoneDeadline.into(),
            milestone_id: milestone,
            dependency_index: 0,
        },
        ProgrammeConstraint::Milestone { milestone } => pb::ProgrammeConstraint {
            kind: pb::ProgrammeConstraintKind::MilestoneRules.into(),
            milestone_id: milestone,
            dependency_index: 0,
        },
        ProgrammeConstraint::Dependency { index } => pb::ProgrammeConstraint {
            kind: pb::ProgrammeConstraintKind::Dependency.into(),
            milestone_id: String::new(),
            dependency_index: index as u32,
        },
    }
}

fn relaxation(
    r: ProgrammeRelaxation,
    programme: &ReleaseProgramme,
    zone: chrono_tz::Tz,
) -> pb::ProgrammeRelaxation {
    let ProgrammeRelaxation {
        kind,
        plan: opened,
        approvers,
    } = r;
    let approvers: Vec<pb::Approver> = approvers.into_iter().map(approver).collect();
    let base = pb::ProgrammeRelaxation {
        plan: Some(plan(opened.clone(), 1)),
        approvers: approvers.clone(),
        ..Default::default()
    };
    match kind {
        ProgrammeRelaxationKind::MoveDeadline { milestone, to } => pb::ProgrammeRelaxation {
            kind: pb::ProgrammeRelaxationKind::MoveDeadline.into(),
            milestone_id: milestone,
            deadline: Some(to_timestamp(to)),
            ..base
        },
        ProgrammeRelaxationKind::ShortenGap { index, to_minutes } => pb::ProgrammeRelaxation {
            kind: pb::ProgrammeRelaxationKind::ShortenGap.into(),
            dependency_index: index as u32,
            min_gap_minutes: to_minutes,
            ..base
        },
        ProgrammeRelaxationKind::LengthenGap { index, to_minutes } => pb::ProgrammeRelaxation {
            kind: pb::ProgrammeRelaxationKind::LengthenGap.into(),
            dependency_index: index as u32,
            max_gap_minutes: to_minutes,
            ..base
        },
        ProgrammeRelaxationKind::ExceedResource {
            milestone,
            resource,
        } => pb::ProgrammeRelaxation {
            kind: pb::ProgrammeRelaxationKind::ExceedResource.into(),
            milestone_id: milestone,
            resource_id: resource,
            ..base
        },
        ProgrammeRelaxationKind::Milestone { milestone, change } => {
            let change = milestone_change(programme, &opened, &milestone, change, approvers, zone);
            pb::ProgrammeRelaxation {
                kind: pb::ProgrammeRelaxationKind::MilestoneChange.into(),
                milestone_id: milestone,
                change,
                ..base
            }
        }
    }
}

/// The slot problem FindSlots' explanations of `milestone` refer to: the
/// reporter needs it to name people, freezes and times.
fn milestone_problem(programme: &ReleaseProgramme, milestone: &str) -> Option<SlotProblem> {
    let m = programme.milestone_index(milestone)?;
    quorum_solver::slot_problems(programme).into_iter().nth(m)
}

/// A milestone's change as FindSlots words it: its best slot is the
/// milestone's slot in the opened plan, its description in `zone`.
fn milestone_change(
    programme: &ReleaseProgramme,
    opened: &Plan,
    milestone: &str,
    kind: quorum_domain::RelaxationKind,
    approvers: Vec<pb::Approver>,
    zone: chrono_tz::Tz,
) -> Option<pb::Relaxation> {
    let best_slot = opened
        .milestones
        .iter()
        .find(|m| m.milestone == milestone)?
        .slot
        .clone();
    let domain = quorum_domain::Relaxation {
        kind,
        best_slot,
        approvers: Vec::new(),
    };
    let description = milestone_problem(programme, milestone)
        .map(|problem| Reporter::new(&problem, zone).relaxation(&domain))
        .unwrap_or_default();
    Some(pb::Relaxation {
        approvers,
        ..slot_relaxation(domain, description)
    })
}
