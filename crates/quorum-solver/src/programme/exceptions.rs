//! A milestone's exceptions: FindSlots' relaxations applied to that milestone
//! alone, so the explainer can ask which plan one would open. Confirming a
//! delegate and overriding a freeze change the milestone's own slot problem;
//! after-hours and moved commitments change one person's availability in
//! that milestone's presolve only — the same person's other milestones, and
//! on-call cover (which working hours and busy time never touch), stay as
//! the request states them.

use crate::constraints::working_hours::{minutes_outside, touches_any};
use crate::grid::Grid;
use crate::presolve::Presolve;
use fixedbitset::FixedBitSet;
use quorum_domain::{BusyInterval, Milestone, MilestoneRole, RelaxationKind, TimeRange};

/// The milestone's roles with every delegate its exceptions confirm.
pub fn roles(milestone: &Milestone) -> Vec<MilestoneRole> {
    let mut roles = milestone.roles.clone();
    for exception in &milestone.exceptions {
        if let RelaxationKind::ConfirmDelegate { role, person } = exception {
            for r in roles.iter_mut().filter(|r| &r.role.id == role) {
                for d in r.role.delegates.iter_mut().filter(|d| &d.person == person) {
                    d.authority_confirmed = true;
                }
            }
        }
    }
    roles
}

/// Whether an exception lets the milestone run inside freeze window `id`.
pub fn overrides_freeze(milestone: &Milestone, id: &str) -> bool {
    milestone
        .exceptions
        .iter()
        .any(|e| matches!(e, RelaxationKind::OverrideFreezeWindow { id: f } if f == id))
}

/// Widens the availability of each person an after-hours or moved-commitment
/// exception names, then recomputes the starts where every role has someone.
pub fn apply(presolve: &mut Presolve<'_>, milestone: &Milestone) {
    let problem = presolve.problem;
    let mut changed = false;
    for (person, who) in problem.people.iter().enumerate() {
        let mine: Vec<&RelaxationKind> = milestone
            .exceptions
            .iter()
            .filter(|e| match e {
                RelaxationKind::AfterHours { person, .. }
                | RelaxationKind::MoveCommitments { person, .. } => person == &who.id,
                _ => false,
            })
            .collect();
        let Some(Some(availability)) = presolve.people.get_mut(person) else {
            continue;
        };
        if mine.is_empty() {
            continue;
        }
        let mut moved: Vec<BusyInterval> = Vec::new();
        for exception in mine {
            match exception {
                RelaxationKind::AfterHours { minutes, .. } => {
                    let edges = day_edges(&presolve.grid, who, problem.horizon, *minutes);
                    availability.working.union_with(&edges);
                }
                RelaxationKind::MoveCommitments { intervals, .. } => {
                    moved.extend(intervals.iter().copied());
                }
                _ => {}
            }
        }
        if !moved.is_empty() {
            let still: Vec<TimeRange> = who
                .busy
                .iter()
                .filter(|b| b.blocks(problem.tentative_is_free) && !moved.contains(b))
                .map(|b| b.range)
                .filter(|r| !r.is_empty())
                .collect();
            availability.free = presolve.grid.starts_clear_of(&still);
        }
        availability.available = availability.working.clone();
        availability.available.intersect_with(&availability.free);
        changed = true;
    }
    if changed {
        presolve.candidates = presolve.rules_ok.clone();
        for r in 0..presolve.roles.len() {
            let covered = presolve.role_coverage(r);
            presolve.candidates.intersect_with(&covered);
        }
    }
}

/// Starts whose meeting extends `who`'s day by at most `minutes`: it overlaps
/// or touches one of their working windows and lies at most that long outside
/// them — FindSlots' after-hours rule, so a meeting never lands in the middle
/// of their night.
fn day_edges(
    grid: &Grid,
    who: &quorum_domain::Person,
    horizon: TimeRange,
    minutes: i64,
) -> FixedBitSet {
    // Windows just outside the horizon count: a meeting at its edge may
    // extend a day that began before it.
    let margin = chrono::Duration::days(2);
    let around = TimeRange::new(horizon.start - margin, horizon.end + margin);
    let working = who.working_intervals(around);
    let mut set = grid.empty_set();
    for s in 0..grid.starts {
        let meeting = grid.meeting_range(s);
        if touches_any(&meeting, &working) && minutes_outside(&meeting, &working) <= minutes {
            set.insert(s);
        }
    }
    set
}
