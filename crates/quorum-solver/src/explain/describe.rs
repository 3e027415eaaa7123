//! A constraint as data the user knows it by: its kind, its id in the request
//! and the time ranges behind it, clipped to the horizon. No words: the
//! reporter at the edge writes those, in the reader's zone.

use super::rules::Constraint;
use crate::presolve::{Presolve, saturated_ranges};
use chrono_tz::Tz;
use quorum_domain::{ConstraintKind, ConstraintRef, TimeRange, WorkingHours};
use std::collections::HashMap;

/// Working intervals by zone and weekly pattern: teams share both, and
/// resolving windows through the zone's rules is the dear part of describing
/// 200 people's hours (as in presolve).
pub type HoursCache<'p> = HashMap<(Tz, &'p [WorkingHours]), Vec<TimeRange>>;

/// A constraint as the user knows it, with the time ranges behind it.
pub fn describe<'p>(
    presolve: &Presolve<'p>,
    hours: &mut HoursCache<'p>,
    constraint: Constraint,
) -> ConstraintRef {
    let problem = presolve.problem;
    let horizon = problem.horizon;
    let clip = |ranges: Vec<TimeRange>| -> Vec<TimeRange> {
        ranges
            .into_iter()
            .map(|r| TimeRange::new(r.start.max(horizon.start), r.end.min(horizon.end)))
            .filter(|r| !r.is_empty())
            .collect()
    };
    let (kind, id, ranges) = match constraint {
        Constraint::Role(r) => (
            ConstraintKind::RoleRequirement,
            problem.roles[r].id.0.clone(),
            Vec::new(),
        ),
        Constraint::WorkingHours(p) => {
            let who = &problem.people[p];
            (
                ConstraintKind::WorkingHours,
                who.id.0.clone(),
                hours
                    .entry((who.time_zone, who.working_hours.as_slice()))
                    .or_insert_with(|| who.working_intervals(horizon))
                    .clone(),
            )
        }
        Constraint::Busy(p) => {
            let who = &problem.people[p];
            (
                ConstraintKind::BusyTime,
                who.id.0.clone(),
                clip(who.blocking_busy(problem.tentative_is_free)),
            )
        }
        Constraint::OnePersonOneRole => {
            (ConstraintKind::OnePersonOneRole, String::new(), Vec::new())
        }
        Constraint::Freeze(f) => {
            let freeze = &problem.freeze_windows[f];
            (
                ConstraintKind::FreezeWindow,
                freeze.id.clone(),
                vec![freeze.range],
            )
        }
        Constraint::Capacity => (
            ConstraintKind::ReviewCapacity,
            String::new(),
            clip(saturated_ranges(problem)),
        ),
        Constraint::NotBefore => {
            let at = problem.not_before.unwrap_or(horizon.start);
            (
                ConstraintKind::NotBefore,
                String::new(),
                clip(vec![TimeRange::new(horizon.start, at)]),
            )
        }
        Constraint::Deadline => {
            let at = problem.evidence_deadline.unwrap_or(horizon.end);
            (
                ConstraintKind::EvidenceDeadline,
                String::new(),
                clip(vec![TimeRange::new(at, horizon.end)]),
            )
        }
    };
    ConstraintRef { kind, id, ranges }
}
