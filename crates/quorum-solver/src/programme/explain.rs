//! Why a programme has no plan. The primary reason is the first of: a
//! milestone impossible on its own (with FindSlots' explanation of its
//! working-hours part), a dependency impossible between its two milestones
//! alone, or only the combination. The conflict is irreducible over the
//! deadlines and dependencies (a deletion filter: drop each in turn, keep it
//! dropped while the rest still admit no plan). Relaxations move one deadline,
//! shorten one minimum gap or lengthen one maximum gap (each the release
//! owner's to approve: they change the release's own schedule), or apply one
//! of FindSlots' relaxations to one milestone (`milestone_changes`), and
//! report the best plan each opens. Explaining runs under the request's stop
//! signal.

use super::{Gap, ProgrammeEngine, space::MilestoneSpace};
use crate::{SolverError, StopSignal};
use quorum_domain::{
    Approver, NoPlanReason, Outcome, Plan, ProgrammeConstraint, ProgrammeExplanation,
    ProgrammeRelaxation, ProgrammeRelaxationKind, ReleaseProgramme, RoleBasis, ValidatedProgramme,
};

pub fn explain(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    stop: &dyn StopSignal,
) -> Result<ProgrammeExplanation, SolverError> {
    let reason = primary_reason(programme, spaces, gaps, stop)?;
    let conflict = match &reason {
        NoPlanReason::MilestoneImpossible { milestone, .. } => {
            vec![ProgrammeConstraint::Milestone {
                milestone: milestone.clone(),
            }]
        }
        _ => conflict(programme, stop)?,
    };
    let mut relaxations = relaxations(programme, stop)?;
    relaxations.extend(super::milestone_changes::relaxations(
        programme, spaces, gaps, &reason, stop,
    )?);
    Ok(ProgrammeExplanation {
        outcome: if relaxations.is_empty() {
            Outcome::Infeasible
        } else {
            Outcome::NeedsException
        },
        reason: Some(reason),
        conflict,
        relaxations,
    })
}

fn primary_reason(
    programme: &ReleaseProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    stop: &dyn StopSignal,
) -> Result<NoPlanReason, SolverError> {
    if let Some(m) = spaces.iter().position(|s| s.feasible.is_clear()) {
        return milestone_impossible(programme, &spaces[m], m, stop);
    }
    for (index, gap) in gaps.iter().enumerate() {
        if !pair_feasible(&spaces[gap.before], &spaces[gap.after], gap) {
            return Ok(dependency_impossible(programme, spaces, gaps, index));
        }
    }
    Ok(NoPlanReason::Combination {
        detail: "every milestone and every dependency can be met on its own, but not all together: shared people, resource capacity or a longer chain of gaps rule out every combination".into(),
    })
}

fn milestone_impossible(
    programme: &ReleaseProgramme,
    space: &MilestoneSpace<'_>,
    m: usize,
    stop: &dyn StopSignal,
) -> Result<NoPlanReason, SolverError> {
    let milestone = &programme.milestones[m];
    let alone = &space.presolve;
    let detail = if alone.candidates.is_clear() {
        "its working-hours roles, freezes, not-before and deadline leave no start".to_owned()
    } else if let Some((role, _)) =
        milestone
            .roles
            .iter()
            .zip(&space.roles)
            .find(|(_, (basis, candidates))| {
                *basis == RoleBasis::OnCall
                    && candidates.iter().all(|c| {
                        space.cover[c.person]
                            .as_ref()
                            .is_none_or(|cover| cover.intersection_count(&alone.candidates) == 0)
                    })
            })
    {
        format!(
            "no one who may fill {} is on call for the whole window plus its {}-minute soak at any start its other rules allow",
            role.role.label(),
            milestone.soak_minutes
        )
    } else {
        "its roles cannot all be filled, by distinct people, at any start where its on-call cover and resources also allow it".to_owned()
    };
    // FindSlots' own explanation, when the working-hours part alone fails
    // and forms a problem FindSlots accepts. It runs under the request's own
    // stop signal: explaining can cost more than solving, and a request past
    // its deadline must stop here too, not run on unbounded.
    let problem = alone
        .candidates
        .is_clear()
        .then(|| alone.problem.clone().validate(&Default::default()).ok())
        .flatten();
    let explanation = match problem {
        None => None,
        Some(problem) => match crate::find_slots(&problem, crate::Engine::Enumerate, stop) {
            Ok(found) => Some(Box::new(found.explanation)),
            Err(SolverError::Stopped) => return Err(SolverError::Stopped),
            Err(_) => None,
        },
    };
    Ok(NoPlanReason::MilestoneImpossible {
        milestone: milestone.id.clone(),
        detail: format!("{} has no start on its own: {detail}", milestone.label()),
        explanation,
    })
}

fn pair_feasible(before: &MilestoneSpace<'_>, after: &MilestoneSpace<'_>, gap: &Gap) -> bool {
    before.feasible.ones().any(|s| {
        let lo = (s as i64 + gap.min).max(0) as usize;
        let hi = gap.max.map_or(after.starts, |m| {
            ((s as i64 + m + 1).max(0) as usize).min(after.starts)
        });
        lo < hi && after.feasible.ones().any(|t| t >= lo && t < hi)
    })
}

fn dependency_impossible(
    programme: &ReleaseProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    index: usize,
) -> NoPlanReason {
    let gap = &gaps[index];
    let dependency = &programme.dependencies[index];
    let (b, a) = (
        &programme.milestones[gap.before],
        &programme.milestones[gap.after],
    );
    let first = spaces[gap.before].feasible.ones().next().unwrap_or(0);
    let last = spaces[gap.after].feasible.ones().next_back().unwrap_or(0);
    let earliest_end = spaces[gap.before].range(first).end;
    let latest_start = spaces[gap.after].range(last).start;
    let detail = match dependency.max_gap_minutes {
        Some(max)
            if earliest_end + chrono::Duration::minutes(dependency.min_gap_minutes.into())
                <= latest_start =>
        {
            format!(
                "{} must start between {} and {max} minutes after {} ends, and no pair of their feasible starts is that far apart",
                a.label(),
                dependency.min_gap_minutes,
                b.label()
            )
        }
        _ => format!(
            "{} can end at the earliest {}; {} must start at least {} minutes later, but its latest feasible start is {}",
            b.label(),
            earliest_end.format("%a %Y-%m-%d %H:%M UTC"),
            a.label(),
            dependency.min_gap_minutes,
            latest_start.format("%a %Y-%m-%d %H:%M UTC")
        ),
    };
    NoPlanReason::DependencyImpossible {
        dependency: index,
        detail,
    }
}

/// The best plan of a changed programme, or `None`.
pub(super) fn best_plan(
    programme: ReleaseProgramme,
    limits: &quorum_domain::ProgrammeLimits,
    stop: &dyn StopSignal,
) -> Result<Option<Plan>, SolverError> {
    let mut programme = programme;
    programme.top_k = 1;
    let validated = programme
        .validate(limits)
        .map_err(|v| SolverError::Inconsistent {
            detail: format!(
                "a relaxed programme failed validation: {}",
                v.first().map(ToString::to_string).unwrap_or_default()
            ),
        })?;
    Ok(super::solve(&validated, ProgrammeEngine::Auto, stop)?
        .0
        .into_iter()
        .next())
}

/// The programme without the constraints in `dropped`.
fn without(programme: &ReleaseProgramme, dropped: &[ProgrammeConstraint]) -> ReleaseProgramme {
    let mut out = programme.clone();
    let mut dropped_dependencies = Vec::new();
    for constraint in dropped {
        match constraint {
            ProgrammeConstraint::Deadline { milestone } => {
                if let Some(m) = out.milestones.iter_mut().find(|m| &m.id == milestone) {
                    m.deadline = None;
                }
            }
            ProgrammeConstraint::Dependency { index } => dropped_dependencies.push(*index),
            ProgrammeConstraint::Milestone { .. } => {}
        }
    }
    out.dependencies = programme
        .dependencies
        .iter()
        .enumerate()
        .filter(|(i, _)| !dropped_dependencies.contains(i))
        .map(|(_, d)| d.clone())
        .collect();
    out
}

fn conflict(
    programme: &ValidatedProgramme,
    stop: &dyn StopSignal,
) -> Result<Vec<ProgrammeConstraint>, SolverError> {
    let mut kept: Vec<ProgrammeConstraint> = programme
        .milestones
        .iter()
        .filter(|m| m.deadline.is_some())
        .map(|m| ProgrammeConstraint::Deadline {
            milestone: m.id.clone(),
        })
        .chain(
            (0..programme.dependencies.len())
                .map(|index| ProgrammeConstraint::Dependency { index }),
        )
        .collect();
    let all = kept.clone();
    let mut dropped: Vec<ProgrammeConstraint> = Vec::new();
    for constraint in all {
        stop.check()?;
        dropped.push(constraint.clone());
        if best_plan(without(programme, &dropped), programme.limits(), stop)?.is_some() {
            dropped.pop();
        } else {
            kept.retain(|c| c != &constraint);
        }
    }
    Ok(kept)
}

fn relaxations(
    programme: &ValidatedProgramme,
    stop: &dyn StopSignal,
) -> Result<Vec<ProgrammeRelaxation>, SolverError> {
    let mut out = Vec::new();
    for (m, milestone) in programme.milestones.iter().enumerate() {
        if milestone.deadline.is_none() {
            continue;
        }
        stop.check()?;
        let mut relaxed = (**programme).clone();
        relaxed.milestones[m].deadline = None;
        if let Some(plan) = best_plan(relaxed, programme.limits(), stop)? {
            let to = plan.milestones[m].slot.range.end;
            out.push(ProgrammeRelaxation {
                kind: ProgrammeRelaxationKind::MoveDeadline {
                    milestone: milestone.id.clone(),
                    to,
                },
                plan,
                approvers: vec![Approver::ReleaseOwner],
            });
        }
    }
    for (index, dependency) in programme.dependencies.iter().enumerate() {
        if dependency.min_gap_minutes == 0 {
            continue;
        }
        stop.check()?;
        let mut relaxed = (**programme).clone();
        relaxed.dependencies[index].min_gap_minutes = 0;
        if let Some(plan) = best_plan(relaxed, programme.limits(), stop)? {
            let to_minutes = gap_in(programme, dependency, &plan);
            out.push(ProgrammeRelaxation {
                kind: ProgrammeRelaxationKind::ShortenGap { index, to_minutes },
                plan,
                approvers: vec![Approver::ReleaseOwner],
            });
        }
    }
    lengthen_gaps(programme, stop, &mut out)?;
    Ok(out)
}

/// The gap `plan` leaves between a dependency's two milestones, in whole
/// minutes: the size of a gap change that opens it.
fn gap_in(
    programme: &ReleaseProgramme,
    dependency: &quorum_domain::Dependency,
    plan: &Plan,
) -> u32 {
    let before = programme.milestone_index(&dependency.before).unwrap_or(0);
    let after = programme.milestone_index(&dependency.after).unwrap_or(0);
    let gap = plan.milestones[after].slot.range.start - plan.milestones[before].slot.range.end;
    u32::try_from(gap.num_minutes().max(0)).unwrap_or(0)
}

/// Each maximum gap, dropped: the plan it opens says how long the gap must
/// become (its actual gap), which is the change to approve.
fn lengthen_gaps(
    programme: &ValidatedProgramme,
    stop: &dyn StopSignal,
    out: &mut Vec<ProgrammeRelaxation>,
) -> Result<(), SolverError> {
    for (index, dependency) in programme.dependencies.iter().enumerate() {
        if dependency.max_gap_minutes.is_none() {
            continue;
        }
        stop.check()?;
        let mut relaxed = (**programme).clone();
        relaxed.dependencies[index].max_gap_minutes = None;
        if let Some(plan) = best_plan(relaxed, programme.limits(), stop)? {
            let to_minutes = gap_in(programme, dependency, &plan);
            out.push(ProgrammeRelaxation {
                kind: ProgrammeRelaxationKind::LengthenGap { index, to_minutes },
                plan,
                approvers: vec![Approver::ReleaseOwner],
            });
        }
    }
    Ok(())
}
