//! Relaxations: single changes a human could approve that would open a slot,
//! each with the best slot it opens. Only members of the conflict can help (a
//! change outside it leaves the conflict standing), so only they are tried;
//! with two disjoint conflicts no single change helps (see `combine`).

use super::rules::{Constraint, Enforced, ExtraCandidate, Rules};
use crate::{
    SolverError, StopSignal, matching::StartRoles, presolve::RoleCandidate, ranking::Costs, slot,
};
use quorum_domain::{Approver, BusyInterval, BusyStatus, Relaxation, RelaxationKind, TimeRange};

pub fn relaxations(
    rules: &Rules<'_>,
    costs: &Costs,
    conflict: &[Constraint],
    ranked: &[usize],
    stop: &dyn StopSignal,
) -> Result<Vec<Relaxation>, SolverError> {
    let all = Enforced::all(rules.presolve);
    let mut found = Vec::new();
    for &constraint in conflict {
        stop.check()?;
        let enforced = all.without(constraint);
        let opened: Vec<(RelaxationKind, usize, ExtraCandidate)> = match constraint {
            Constraint::Deadline => deadline(rules, &enforced).into_iter().collect(),
            Constraint::Freeze(f) => rules
                .admitted(&enforced, None, ranked.iter().copied())
                .next()
                .map(|s| {
                    (
                        RelaxationKind::OverrideFreezeWindow {
                            id: rules.presolve.problem.freeze_windows[f].id.clone(),
                        },
                        s,
                        None,
                    )
                })
                .into_iter()
                .collect(),
            Constraint::Capacity => rules
                .admitted(&enforced, None, ranked.iter().copied())
                .next()
                .map(|s| {
                    (
                        RelaxationKind::ExceedReviewCapacity {
                            extra_reviews: extra_reviews(rules, s),
                        },
                        s,
                        None,
                    )
                })
                .into_iter()
                .collect(),
            Constraint::WorkingHours(p) => after_hours(rules, &enforced, p, ranked)
                .into_iter()
                .collect(),
            Constraint::Role(r) => delegates(rules, &all, r, ranked),
            Constraint::Busy(p) => move_commitments(rules, &enforced, p, ranked)
                .into_iter()
                .collect(),
            Constraint::OnePersonOneRole | Constraint::NotBefore => Vec::new(),
        };
        for (kind, start, extra) in opened {
            let enforced = if matches!(kind, RelaxationKind::ConfirmDelegate { .. }) {
                all.clone()
            } else {
                enforced.clone()
            };
            let roles = StartRoles::new(rules.options_at(&enforced, extra, start));
            let best_slot = slot::build(rules.presolve, costs, start, &roles)?;
            found.push(Relaxation {
                approvers: approvers(rules.presolve.problem, &kind),
                kind,
                best_slot,
            });
        }
    }
    found.sort_by_key(|r| {
        (
            tier(&r.kind),
            size(&r.kind),
            r.best_slot.score.cost,
            r.best_slot.range.start,
        )
    });
    Ok(found)
}

/// Who must approve `kind`: the person whose day moves, the release owner
/// for authority and the deadline, the freeze window's owner, the review board.
pub fn approvers(problem: &quorum_domain::SlotProblem, kind: &RelaxationKind) -> Vec<Approver> {
    match kind {
        RelaxationKind::AfterHours { person, .. }
        | RelaxationKind::MoveCommitments { person, .. } => {
            vec![Approver::Person(person.clone())]
        }
        RelaxationKind::ConfirmDelegate { .. } | RelaxationKind::MoveEvidenceDeadline { .. } => {
            vec![Approver::ReleaseOwner]
        }
        RelaxationKind::ExceedReviewCapacity { .. } => vec![Approver::ReviewBoard],
        RelaxationKind::OverrideFreezeWindow { id } => vec![Approver::FreezeWindowOwner {
            freeze_window: id.clone(),
            owner: problem
                .freeze_windows
                .iter()
                .find(|f| &f.id == id)
                .map_or_else(String::new, |f| f.owner.clone()),
        }],
    }
}

/// Least to most serious: confirming authority bends no rule; moving a
/// commitment, after-hours and a later deadline bend a person's or the
/// release's plan; extra capacity and freeze overrides bend production
/// safety rules.
pub(super) fn tier(kind: &RelaxationKind) -> u8 {
    match kind {
        RelaxationKind::ConfirmDelegate { .. } => 0,
        RelaxationKind::AfterHours { .. } | RelaxationKind::MoveCommitments { .. } => 1,
        RelaxationKind::MoveEvidenceDeadline { .. } => 2,
        RelaxationKind::ExceedReviewCapacity { .. } => 3,
        RelaxationKind::OverrideFreezeWindow { .. } => 4,
    }
}

pub(super) fn size(kind: &RelaxationKind) -> i64 {
    match kind {
        RelaxationKind::AfterHours { minutes, .. }
        | RelaxationKind::MoveCommitments { minutes, .. }
        | RelaxationKind::MoveEvidenceDeadline { minutes } => *minutes,
        RelaxationKind::ExceedReviewCapacity { extra_reviews } => i64::from(*extra_reviews),
        RelaxationKind::ConfirmDelegate { .. } | RelaxationKind::OverrideFreezeWindow { .. } => 0,
    }
}

/// The smallest move of the deadline that opens a slot: the first start in
/// time order without it, and how far past the deadline that meeting ends.
fn deadline(
    rules: &Rules<'_>,
    enforced: &Enforced,
) -> Option<(RelaxationKind, usize, ExtraCandidate)> {
    let problem = rules.presolve.problem;
    let due = problem.evidence_deadline?;
    // A deadline that leaves no room after not-before is a plan that
    // contradicts itself: it needs re-planning, not an approved exception.
    let earliest_end =
        problem.not_before.unwrap_or(problem.horizon.start) + problem.meeting_duration();
    if due < earliest_end {
        return None;
    }
    let start = rules
        .admitted(enforced, None, 0..rules.grid().starts)
        .next()?;
    let end = rules.grid().meeting_range(start).end;
    let minutes = ((end - due).num_seconds() + 59).div_euclid(60).max(1);
    Some((
        RelaxationKind::MoveEvidenceDeadline { minutes },
        start,
        None,
    ))
}

/// The booked reviews overlapping the slot's busiest instant, beyond capacity.
pub(super) fn extra_reviews(rules: &Rules<'_>, start: usize) -> u32 {
    let Some(capacity) = &rules.presolve.problem.review_capacity else {
        return 0;
    };
    let meeting = rules.grid().meeting_range(start);
    let mut instants = vec![meeting.start];
    instants.extend(
        capacity
            .booked
            .iter()
            .map(|b| b.range.start)
            .filter(|t| meeting.contains(*t)),
    );
    let busiest = instants
        .iter()
        .map(|t| {
            capacity
                .booked
                .iter()
                .filter(|b| b.range.contains(*t))
                .count()
        })
        .max()
        .unwrap_or(0);
    u32::try_from(busiest + 1)
        .unwrap_or(u32::MAX)
        .saturating_sub(capacity.max_concurrent)
}

/// The slot needing the fewest minutes outside `person`'s hours (then the
/// best ranked), with their hours waived, among the slots that extend their
/// day: the meeting overlaps or touches one of their working windows, so it
/// starts a little before a window begins or ends a little after one ends,
/// never in the middle of their night.
fn after_hours(
    rules: &Rules<'_>,
    enforced: &Enforced,
    person: usize,
    ranked: &[usize],
) -> Option<(RelaxationKind, usize, ExtraCandidate)> {
    let problem = rules.presolve.problem;
    let who = &problem.people[person];
    // Windows just outside the horizon count: a meeting at its edge may
    // extend a day that began before it.
    let margin = chrono::Duration::days(2);
    let around = TimeRange::new(problem.horizon.start - margin, problem.horizon.end + margin);
    let working = who.working_intervals(around);
    let (minutes, start) = cheapest_admitted(rules, enforced, ranked, |meeting| {
        touches_any(meeting, &working).then(|| minutes_outside(meeting, &working))
    })?;
    Some((
        RelaxationKind::AfterHours {
            person: who.id.clone(),
            minutes,
        },
        start,
        None,
    ))
}

/// Whether the meeting overlaps or touches one of the windows.
pub(super) fn touches_any(meeting: &TimeRange, working: &[TimeRange]) -> bool {
    working
        .iter()
        .any(|w| meeting.start <= w.end && w.start <= meeting.end)
}

pub(super) fn minutes_outside(meeting: &TimeRange, working: &[TimeRange]) -> i64 {
    let inside: i64 = working
        .iter()
        .map(|w| {
            (meeting.end.min(w.end) - meeting.start.max(w.start))
                .num_seconds()
                .max(0)
        })
        .sum();
    ((meeting.duration().num_seconds() - inside) + 59).div_euclid(60)
}

/// For each unconfirmed delegate of role `r`, the best slot if confirmed.
fn delegates(
    rules: &Rules<'_>,
    all: &Enforced,
    r: usize,
    ranked: &[usize],
) -> Vec<(RelaxationKind, usize, ExtraCandidate)> {
    let problem = rules.presolve.problem;
    let role = &problem.roles[r];
    role.delegates
        .iter()
        .filter(|d| !d.authority_confirmed && !role.pool.contains(&d.person))
        .filter_map(|d| {
            let person = problem.people.iter().position(|p| p.id == d.person)?;
            let extra = Some((
                r,
                RoleCandidate {
                    person,
                    via_delegate: true,
                },
            ));
            let start = rules.admitted(all, extra, ranked.iter().copied()).next()?;
            Some((
                RelaxationKind::ConfirmDelegate {
                    role: role.id.clone(),
                    person: d.person.clone(),
                },
                start,
                extra,
            ))
        })
        .collect()
}

/// Tentative before busy before out-of-office: the order in which people
/// are asked to move a commitment.
fn status_rank(status: BusyStatus) -> u8 {
    match status {
        BusyStatus::Tentative => 0,
        BusyStatus::Busy => 1,
        BusyStatus::OutOfOffice => 2,
    }
}

/// `person`'s commitments that keep them from the meeting at `start`, their
/// total minutes, and the most serious status among them.
pub(super) fn commitments_at(
    rules: &Rules<'_>,
    person: usize,
    start: usize,
) -> (Vec<BusyInterval>, i64, u8) {
    commitments_in(rules, person, &rules.grid().meeting_range(start))
}

fn commitments_in(
    rules: &Rules<'_>,
    person: usize,
    meeting: &TimeRange,
) -> (Vec<BusyInterval>, i64, u8) {
    let problem = rules.presolve.problem;
    let mut intervals: Vec<BusyInterval> = problem.people[person]
        .busy
        .iter()
        .filter(|b| b.blocks(problem.tentative_is_free) && b.range.overlaps(meeting))
        .copied()
        .collect();
    intervals.sort_by_key(|b| (b.range.start, b.range.end, status_rank(b.status)));
    intervals.dedup();
    let seconds: i64 = intervals
        .iter()
        .map(|b| b.range.duration().num_seconds())
        .sum();
    let worst = intervals
        .iter()
        .map(|b| status_rank(b.status))
        .max()
        .unwrap_or(0);
    (intervals, (seconds + 59).div_euclid(60), worst)
}

/// The slot that asks `person` to move the fewest commitments, then the
/// fewest minutes of them, tentative before busy before out-of-office (then
/// the best ranked), with their busy time waived.
fn move_commitments(
    rules: &Rules<'_>,
    enforced: &Enforced,
    person: usize,
    ranked: &[usize],
) -> Option<(RelaxationKind, usize, ExtraCandidate)> {
    let (_, start) = cheapest_admitted(rules, enforced, ranked, |meeting| {
        let (intervals, minutes, worst) = commitments_in(rules, person, meeting);
        (!intervals.is_empty()).then_some((intervals.len(), minutes, worst))
    })?;
    let (intervals, minutes, _) = commitments_at(rules, person, start);
    Some((
        RelaxationKind::MoveCommitments {
            person: rules.presolve.problem.people[person].id.clone(),
            intervals,
            minutes,
        },
        start,
        None,
    ))
}

/// The admitted start with the smallest `(cost, rank)`, where `cost` is what
/// the change asks at that start (`None`: the change does not fit there).
/// Exactly the minimum over every admitted start, but the matching (the dear
/// part) runs only on starts the cheap tests leave, cheapest first, and stops
/// at the first that admits a slot: on four weeks of 5-minute buckets this
/// asked "can the team meet here?" of thousands of starts to keep one.
fn cheapest_admitted<K: Ord>(
    rules: &Rules<'_>,
    enforced: &Enforced,
    ranked: &[usize],
    cost: impl Fn(&TimeRange) -> Option<K>,
) -> Option<(K, usize)> {
    let covered = rules.covered_starts(enforced, None);
    let mut costed: Vec<(K, usize, usize)> = ranked
        .iter()
        .copied()
        .filter(|s| covered.contains(*s))
        .enumerate()
        .filter_map(|(rank, s)| Some((cost(&rules.grid().meeting_range(s))?, rank, s)))
        .collect();
    costed.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut options = Vec::new();
    costed
        .into_iter()
        .find(|(_, _, s)| rules.admits_into(enforced, None, *s, &mut options))
        .map(|(k, _, s)| (k, s))
}
