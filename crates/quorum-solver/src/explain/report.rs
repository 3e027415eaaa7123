//! Names constraints in the user's terms and turns conflicts, relaxations and
//! rejections into sentences. The structured data is decided elsewhere; this
//! module only words it, so wording changes never change a decision.

use super::rules::Constraint;
use crate::presolve::{Presolve, saturated_ranges};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_domain::{
    ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem, TimeRange, WorkingHours,
};
use std::collections::HashMap;

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

pub fn span(range: &TimeRange) -> String {
    format!("{} – {}", when(range.start), when(range.end))
}

fn pool_names(problem: &SlotProblem, person: usize) -> String {
    let id = &problem.people[person].id;
    let roles: Vec<&str> = problem
        .roles
        .iter()
        .filter(|r| r.pool.contains(id) || r.delegates.iter().any(|d| &d.person == id))
        .map(|r| r.label())
        .collect();
    if roles.is_empty() {
        String::new()
    } else {
        format!("{} pool, ", roles.join(" / "))
    }
}

/// "working hours of sec-2 (security reviewer pool, Europe/Berlin)".
fn person_label(what: &str, problem: &SlotProblem, person: usize) -> String {
    let who = &problem.people[person];
    format!(
        "{what} of {} ({}{})",
        who.id,
        pool_names(problem, person),
        who.time_zone.name()
    )
}

fn role_label(problem: &SlotProblem, r: usize) -> String {
    let role = &problem.roles[r];
    let pool: Vec<&str> = role.pool.iter().map(|p| p.0.as_str()).collect();
    let confirmed: Vec<&str> = role
        .delegates
        .iter()
        .filter(|d| d.authority_confirmed)
        .map(|d| d.person.0.as_str())
        .collect();
    let mut label = format!("{} pool {{{}}}", role.label(), pool.join(", "));
    if !confirmed.is_empty() {
        label.push_str(&format!(
            " with confirmed delegates {{{}}}",
            confirmed.join(", ")
        ));
    }
    label
}

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
    let (kind, id, label, ranges) = match constraint {
        Constraint::Role(r) => (
            ConstraintKind::RoleRequirement,
            problem.roles[r].id.0.clone(),
            role_label(problem, r),
            Vec::new(),
        ),
        Constraint::WorkingHours(p) => {
            let who = &problem.people[p];
            (
                ConstraintKind::WorkingHours,
                who.id.0.clone(),
                person_label("working hours", problem, p),
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
                person_label("busy time", problem, p),
                clip(who.blocking_busy(problem.tentative_is_free)),
            )
        }
        Constraint::OnePersonOneRole => (
            ConstraintKind::OnePersonOneRole,
            String::new(),
            "one-person-one-role rule".to_owned(),
            Vec::new(),
        ),
        Constraint::Freeze(f) => {
            let freeze = &problem.freeze_windows[f];
            let label = format!(
                "{} {} ({})",
                freeze.kind.label(),
                freeze.id,
                span(&freeze.range)
            );
            (
                ConstraintKind::FreezeWindow,
                freeze.id.clone(),
                label,
                vec![freeze.range],
            )
        }
        Constraint::Capacity => {
            let capacity = problem.review_capacity.as_ref();
            let booked: Vec<&str> = capacity.map_or(Vec::new(), |c| {
                c.booked.iter().map(|b| b.change_ticket.as_str()).collect()
            });
            let limit = capacity.map_or(0, |c| c.max_concurrent);
            let label = format!("review capacity {limit} (booked: {})", booked.join(", "));
            (
                ConstraintKind::ReviewCapacity,
                String::new(),
                label,
                clip(saturated_ranges(problem)),
            )
        }
        Constraint::NotBefore => {
            let at = problem.not_before.unwrap_or(horizon.start);
            (
                ConstraintKind::NotBefore,
                String::new(),
                format!("not-before time {}", when(at)),
                clip(vec![TimeRange::new(horizon.start, at)]),
            )
        }
        Constraint::Deadline => {
            let at = problem.evidence_deadline.unwrap_or(horizon.end);
            (
                ConstraintKind::EvidenceDeadline,
                String::new(),
                format!("evidence deadline {}", when(at)),
                clip(vec![TimeRange::new(at, horizon.end)]),
            )
        }
    };
    ConstraintRef {
        kind,
        id,
        label,
        ranges,
    }
}

/// "Because A, and because B, no 60-minute slot exists in the horizon …".
pub fn conflict_sentence(problem: &SlotProblem, constraints: &[ConstraintRef]) -> String {
    let reasons: Vec<String> = constraints.iter().map(|c| c.label.clone()).collect();
    format!(
        "Because of the {}, no {}-minute slot exists in the horizon {}.",
        reasons.join(", and because of the "),
        problem.meeting_minutes,
        span(&problem.horizon)
    )
}

pub fn relaxation_sentence(
    kind: &RelaxationKind,
    problem: &SlotProblem,
    slot: &TimeRange,
) -> String {
    let opens = format!("opens {}", span(slot));
    match kind {
        RelaxationKind::ConfirmDelegate { role, person } => {
            let role = problem
                .roles
                .iter()
                .find(|r| &r.id == role)
                .map_or(role.0.as_str(), |r| r.label());
            format!("Confirm {person}'s authority to stand in as {role}: {opens}.")
        }
        RelaxationKind::AfterHours { person, minutes } => {
            let local = problem.person(person).map_or_else(String::new, |who| {
                let zone = who.time_zone;
                format!(
                    " ({} – {} {}, their time)",
                    slot.start.with_timezone(&zone).format("%a %H:%M"),
                    slot.end.with_timezone(&zone).format("%H:%M"),
                    zone.name()
                )
            });
            format!(
                "Ask {person} to attend {minutes} minutes outside their working hours{local}: {opens}."
            )
        }
        RelaxationKind::MoveEvidenceDeadline { minutes } => {
            format!("Move the evidence deadline {minutes} minutes later: {opens}.")
        }
        RelaxationKind::ExceedReviewCapacity { extra_reviews } => {
            format!(
                "Run {extra_reviews} more production review(s) at once than the capacity allows: {opens}."
            )
        }
        RelaxationKind::OverrideFreezeWindow { id } => {
            format!("Override freeze window {id}: {opens}.")
        }
    }
}
