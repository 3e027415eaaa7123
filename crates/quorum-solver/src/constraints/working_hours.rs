//! Working hours: each person attends only inside their own working
//! windows, in their own zone. They relax by the person attending a little
//! outside them, which that person approves; only a meeting that extends
//! their day (touches a working window) is offered, never one in the middle
//! of their night.

use super::{HoursCache, Opened};
use crate::{
    explain::rules::{Enforced, Rules},
    grid::Grid,
    presolve::Presolve,
};
use chrono_tz::Tz;
use fixedbitset::FixedBitSet;
use quorum_domain::{
    ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange, WorkingHours,
};
use std::collections::HashMap;

pub const WAIVABLE: bool = true;

/// Working-hours sets by zone and weekly pattern. Teams share both, and
/// resolving local windows through the zone's rules was half of a solve.
pub type StartsCache<'p> = HashMap<(Tz, &'p [WorkingHours]), FixedBitSet>;

/// Starts whose whole meeting lies inside `person`'s working hours.
pub fn allowed<'p>(
    grid: &Grid,
    problem: &'p SlotProblem,
    person: usize,
    shared: &mut StartsCache<'p>,
) -> FixedBitSet {
    let who = &problem.people[person];
    shared
        .entry((who.time_zone, who.working_hours.as_slice()))
        .or_insert_with(|| grid.starts_inside(&who.working_intervals(problem.horizon)))
        .clone()
}

/// What they allow: the person's working windows over the horizon.
pub fn describe<'p>(
    presolve: &Presolve<'p>,
    hours: &mut HoursCache<'p>,
    person: usize,
) -> ConstraintRef {
    let problem = presolve.problem;
    let who = &problem.people[person];
    ConstraintRef {
        kind: ConstraintKind::WorkingHours,
        id: who.id.0.clone(),
        ranges: hours
            .entry((who.time_zone, who.working_hours.as_slice()))
            .or_insert_with(|| who.working_intervals(problem.horizon))
            .clone(),
    }
}

/// `person`'s working windows, including those just outside the horizon: a
/// meeting at its edge may extend a day that began before it.
fn windows_around(problem: &SlotProblem, person: usize) -> Vec<TimeRange> {
    let margin = chrono::Duration::days(2);
    let around = TimeRange::new(problem.horizon.start - margin, problem.horizon.end + margin);
    problem.people[person].working_intervals(around)
}

fn after_hours(problem: &SlotProblem, person: usize, minutes: i64) -> RelaxationKind {
    RelaxationKind::AfterHours {
        person: problem.people[person].id.clone(),
        minutes,
    }
}

/// The slot needing the fewest minutes outside `person`'s hours (then the
/// best ranked), with their hours waived, among the slots that extend their
/// day: the meeting overlaps or touches one of their working windows, so it
/// starts a little before a window begins or ends a little after one ends,
/// never in the middle of their night.
pub fn relaxation(
    rules: &Rules<'_>,
    enforced: &Enforced,
    person: usize,
    ranked: &[usize],
) -> Option<Opened> {
    let problem = rules.presolve.problem;
    let working = windows_around(problem, person);
    let (minutes, start) = rules.cheapest_admitted(enforced, ranked, |meeting| {
        touches_any(meeting, &working).then(|| minutes_outside(meeting, &working))
    })?;
    Some((after_hours(problem, person, minutes), start, None))
}

pub fn change_at(rules: &Rules<'_>, person: usize, start: usize) -> Option<RelaxationKind> {
    let problem = rules.presolve.problem;
    let meeting = rules.grid().meeting_range(start);
    let working = windows_around(problem, person);
    let minutes = minutes_outside(&meeting, &working);
    (minutes > 0 && touches_any(&meeting, &working)).then(|| after_hours(problem, person, minutes))
}

/// Whether the meeting overlaps or touches one of the windows.
pub fn touches_any(meeting: &TimeRange, working: &[TimeRange]) -> bool {
    working
        .iter()
        .any(|w| meeting.start <= w.end && w.start <= meeting.end)
}

/// Minutes of the meeting outside the (merged) working windows, rounded up.
pub fn minutes_outside(meeting: &TimeRange, working: &[TimeRange]) -> i64 {
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
