//! Single-milestone relaxations: FindSlots' own relaxation search run on one
//! milestone's slot problem, each change it proposes applied to that
//! milestone alone (as an exception, see `exceptions`), the whole programme
//! solved again, and the change offered only if it opens a plan — with that
//! plan, and its sizes (after-hours minutes, commitments to move) read off
//! the plan's slot for the milestone.
//!
//! Which milestones: the one impossible on its own (when it is the only one:
//! a second stays impossible whatever changes in the first), and, for a
//! dependency impossible between its two milestones, each of them with its
//! window narrowed to what the other allows by the minimum gap (the cheap
//! case of a milestone that blocks the plan). Each tried change costs a whole
//! programme solve, so at most [`MAX_CHANGES_TRIED`] are tried per request,
//! in FindSlots' order (least serious first), under the request's stop signal.
//!
//! Resources are the programme's own, so FindSlots has no change for them:
//! letting one milestone run beyond one resource's capacity (the programme
//! with that resource dropped from the milestone) is tried for each pair in
//! request order — only the impossible milestone's pairs when one is
//! impossible on its own, none when two are — at most
//! [`MAX_RESOURCE_CHANGES_TRIED`] of them, each approved by the resource's
//! owner.

use super::space::{self, MilestoneSpace};
use super::{Gap, explain::best_plan};
use crate::constraints::working_hours::minutes_outside;
use crate::{SolverError, StopSignal};
use quorum_domain::{
    Approver, Explanation, NoPlanReason, ProgrammeRelaxation, ProgrammeRelaxationKind,
    RelaxationKind, SlotProblem, TimeRange, ValidatedProgramme,
};

/// Changes tried per request, over all milestones: each is a programme solve.
pub const MAX_CHANGES_TRIED: usize = 8;

/// (milestone, resource) pairs tried per request: each is a programme solve.
pub const MAX_RESOURCE_CHANGES_TRIED: usize = 8;

pub fn relaxations(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    reason: &NoPlanReason,
    stop: &dyn StopSignal,
) -> Result<Vec<ProgrammeRelaxation>, SolverError> {
    let mut proposed: Vec<(usize, RelaxationKind)> = Vec::new();
    match reason {
        NoPlanReason::MilestoneImpossible {
            milestone,
            explanation: Some(explanation),
            ..
        } if spaces.iter().filter(|s| s.feasible.is_clear()).count() == 1 => {
            if let Some(m) = programme.milestone_index(milestone) {
                proposed.extend(changes(explanation).map(|k| (m, k)));
            }
        }
        NoPlanReason::DependencyImpossible { dependency, .. } => {
            if let Some(gap) = gaps.get(*dependency) {
                for (m, problem) in narrowed(programme, spaces, gap, *dependency) {
                    if let Some(explanation) = explain_alone(programme, problem, stop)? {
                        proposed.extend(changes(&explanation).map(|k| (m, k)));
                    }
                }
            }
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (m, change) in proposed.into_iter().take(MAX_CHANGES_TRIED) {
        stop.check()?;
        let mut relaxed = (**programme).clone();
        relaxed.milestones[m].exceptions.push(change.clone());
        let Some(plan) = best_plan(relaxed, programme.limits(), stop)? else {
            continue;
        };
        let milestone = &programme.milestones[m];
        let change = sized(programme, change, &plan.milestones[m].slot.range);
        let problem = space::slot_problem(programme, milestone);
        out.push(ProgrammeRelaxation {
            approvers: crate::relaxation_approvers(&problem, &change),
            kind: ProgrammeRelaxationKind::Milestone {
                milestone: milestone.id.clone(),
                change,
            },
            plan,
        });
    }
    exceed_resources(programme, spaces, stop, &mut out)?;
    Ok(out)
}

/// Each (milestone, resource) pair it may matter for, the resource dropped
/// from the milestone: offered when that opens a plan.
fn exceed_resources(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    stop: &dyn StopSignal,
    out: &mut Vec<ProgrammeRelaxation>,
) -> Result<(), SolverError> {
    let impossible: Vec<usize> = (0..spaces.len())
        .filter(|&m| spaces[m].feasible.is_clear())
        .collect();
    let milestones: Vec<usize> = match impossible.as_slice() {
        [] => (0..spaces.len()).collect(),
        [only] => vec![*only],
        // One milestone's change leaves the other impossible.
        _ => Vec::new(),
    };
    let pairs = milestones.into_iter().flat_map(|m| {
        programme.resources.iter().filter_map(move |r| {
            programme.milestones[m]
                .resources
                .contains(&r.id)
                .then_some((m, r))
        })
    });
    for (m, resource) in pairs.take(MAX_RESOURCE_CHANGES_TRIED) {
        stop.check()?;
        let mut relaxed = (**programme).clone();
        relaxed.milestones[m]
            .resources
            .retain(|id| id != &resource.id);
        if let Some(plan) = best_plan(relaxed, programme.limits(), stop)? {
            out.push(ProgrammeRelaxation {
                kind: ProgrammeRelaxationKind::ExceedResource {
                    milestone: programme.milestones[m].id.clone(),
                    resource: resource.id.clone(),
                },
                plan,
                approvers: vec![Approver::ResourceOwner {
                    resource: resource.id.clone(),
                    owner: resource.owner.clone(),
                }],
            });
        }
    }
    Ok(())
}

/// The changes of FindSlots' explanation that mean something for one
/// milestone: not its deadline (the programme moves deadlines itself) and
/// not review capacity (a milestone's slot problem has none).
fn changes(explanation: &Explanation) -> impl Iterator<Item = RelaxationKind> + '_ {
    explanation
        .relaxations
        .iter()
        .map(|r| r.kind.clone())
        .filter(|k| match k {
            RelaxationKind::AfterHours { .. }
            | RelaxationKind::MoveCommitments { .. }
            | RelaxationKind::ConfirmDelegate { .. }
            | RelaxationKind::OverrideFreezeWindow { .. } => true,
            RelaxationKind::MoveEvidenceDeadline { .. }
            | RelaxationKind::ExceedReviewCapacity { .. } => false,
        })
}

/// FindSlots' explanation of `problem`, when it has no slot and is a
/// problem FindSlots accepts.
fn explain_alone(
    programme: &ValidatedProgramme,
    problem: SlotProblem,
    stop: &dyn StopSignal,
) -> Result<Option<Explanation>, SolverError> {
    let Ok(problem) = problem.validate(&programme.limits().problem) else {
        return Ok(None);
    };
    match crate::find_slots(&problem, crate::Engine::Enumerate, stop) {
        Ok(found) if found.slots.is_empty() => Ok(Some(found.explanation)),
        Ok(_) | Err(SolverError::Inconsistent { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Both milestones of a dependency, each narrowed by the minimum gap to what
/// the other's feasible starts allow: the later one may start no earlier
/// than the earlier one can end plus the gap, the earlier one must end by
/// the later one's last start minus the gap.
fn narrowed(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    gap: &Gap,
    index: usize,
) -> Vec<(usize, SlotProblem)> {
    // Gaps are the request's dependencies in order (validation resolved
    // every id), so `index` names both.
    let minutes = programme
        .dependencies
        .get(index)
        .map_or(0, |d| d.min_gap_minutes);
    let min_gap = chrono::Duration::minutes(minutes.into());
    let mut out = Vec::new();
    if let Some(first) = spaces[gap.before].feasible.ones().next() {
        let mut problem = space::slot_problem(programme, &programme.milestones[gap.after]);
        let from = spaces[gap.before].range(first).end + min_gap;
        problem.not_before = Some(problem.not_before.map_or(from, |t| t.max(from)));
        out.push((gap.after, problem));
    }
    if let Some(last) = spaces[gap.after].feasible.ones().next_back() {
        let mut problem = space::slot_problem(programme, &programme.milestones[gap.before]);
        let by = spaces[gap.after].range(last).start - min_gap;
        problem.evidence_deadline = Some(problem.evidence_deadline.map_or(by, |t| t.min(by)));
        out.push((gap.before, problem));
    }
    out
}

/// The change as the opened plan needs it at the milestone's slot: the
/// minutes it actually lies outside the person's hours, the commitments it
/// actually overlaps. Applying the sized change opens the same plan: it
/// still admits that slot and admits nothing the proposed change did not.
fn sized(
    programme: &ValidatedProgramme,
    change: RelaxationKind,
    slot: &TimeRange,
) -> RelaxationKind {
    let person = |id: &quorum_domain::PersonId| programme.people.iter().find(|p| &p.id == id);
    match change {
        RelaxationKind::AfterHours {
            person: id,
            minutes,
        } => {
            let minutes = person(&id).map_or(minutes, |who| {
                let margin = chrono::Duration::days(2);
                let around = TimeRange::new(slot.start - margin, slot.end + margin);
                minutes_outside(slot, &who.working_intervals(around))
            });
            RelaxationKind::AfterHours {
                person: id,
                minutes,
            }
        }
        RelaxationKind::MoveCommitments {
            person: id,
            intervals,
            ..
        } => {
            let intervals: Vec<_> = intervals
                .into_iter()
                .filter(|b| b.range.overlaps(slot))
                .collect();
            let seconds: i64 = intervals
                .iter()
                .map(|b| b.range.duration().num_seconds())
                .sum();
            RelaxationKind::MoveCommitments {
                person: id,
                intervals,
                minutes: (seconds + 59).div_euclid(60),
            }
        }
        other => other,
    }
}
