//! The one list of constraint kinds. Each kind is one module that owns the
//! three things the solver needs to know about it: the grid starts it allows
//! (presolve's part), how it is described as a fact (its
//! [`ConstraintRef`]: kind, id, time ranges) and how it relaxes, as a single
//! approvable change and as one change of a combination (or that it does
//! not). [`Constraint`] names one constraint of a request, and the methods
//! here dispatch to the kind's module with exhaustive `match`es.
//!
//! **Adding a kind** (on-call coverage is next): add its variant to
//! `quorum_domain::ConstraintKind` and to [`Constraint`], write its module
//! beside these (allowed starts, `describe`, `relaxation`, `change_at`),
//! and follow the compiler: every `match` on [`Constraint`] (here, in
//! `explain::rules` for the switches and the universe, in
//! `explain::incremental` for what dropping it touches) fails to build
//! until the new kind is decided there.

pub mod busy_time;
pub mod evidence_deadline;
pub mod freeze_window;
pub mod not_before;
pub mod one_person_one_role;
pub mod review_capacity;
pub mod role_requirement;
pub mod working_hours;

use crate::{explain::rules::Rules, presolve::Presolve};
use chrono_tz::Tz;
use quorum_domain::{ConstraintRef, RelaxationKind, TimeRange, WorkingHours};
use std::collections::HashMap;

pub use crate::explain::rules::{Enforced, ExtraCandidate};

/// One constraint of the problem, by index into the problem's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constraint {
    Role(usize),
    WorkingHours(usize),
    Busy(usize),
    OnePersonOneRole,
    Freeze(usize),
    Capacity,
    NotBefore,
    Deadline,
}

/// A relaxation found by a kind's search: the change, the start it opens
/// and the extra role candidate it adds (a delegate), if any.
pub type Opened = (RelaxationKind, usize, ExtraCandidate);

/// Working intervals by zone and weekly pattern: teams share both, and
/// resolving windows through the zone's rules is the dear part of describing
/// 200 people's hours (as in presolve).
pub type HoursCache<'p> = HashMap<(Tz, &'p [WorkingHours]), Vec<TimeRange>>;

impl Constraint {
    /// A dense number per constraint of a problem with `roles`, `people` and
    /// `freezes`, for tables indexed without hashing.
    pub fn dense_index(self, roles: usize, people: usize, freezes: usize) -> usize {
        let after_people = roles + 2 * people;
        match self {
            Constraint::Role(r) => r,
            Constraint::WorkingHours(p) => roles + p,
            Constraint::Busy(p) => roles + people + p,
            Constraint::Freeze(f) => after_people + f,
            Constraint::OnePersonOneRole => after_people + freezes,
            Constraint::Capacity => after_people + freezes + 1,
            Constraint::NotBefore => after_people + freezes + 2,
            Constraint::Deadline => after_people + freezes + 3,
        }
    }

    /// How many dense numbers a problem of that size uses.
    pub fn dense_count(roles: usize, people: usize, freezes: usize) -> usize {
        roles + 2 * people + freezes + 4
    }

    /// The person whose calendar this is, for the kinds that are one
    /// person's calendar.
    pub fn person(self) -> Option<usize> {
        match self {
            Constraint::WorkingHours(p) | Constraint::Busy(p) => Some(p),
            Constraint::Role(_)
            | Constraint::OnePersonOneRole
            | Constraint::Freeze(_)
            | Constraint::Capacity
            | Constraint::NotBefore
            | Constraint::Deadline => None,
        }
    }

    /// Whether the constraint binds the whole request rather than one
    /// person or role (a reader sees these first: one rule is easier to act
    /// on than many calendars).
    pub fn is_request_wide(self) -> bool {
        match self {
            Constraint::Freeze(_)
            | Constraint::Capacity
            | Constraint::NotBefore
            | Constraint::Deadline
            | Constraint::OnePersonOneRole => true,
            Constraint::Role(_) | Constraint::WorkingHours(_) | Constraint::Busy(_) => false,
        }
    }

    /// The constraint as the user knows it, with the time ranges behind it,
    /// clipped to the horizon.
    pub fn describe<'p>(
        self,
        presolve: &Presolve<'p>,
        hours: &mut HoursCache<'p>,
    ) -> ConstraintRef {
        match self {
            Constraint::Role(r) => role_requirement::describe(presolve, r),
            Constraint::WorkingHours(p) => working_hours::describe(presolve, hours, p),
            Constraint::Busy(p) => busy_time::describe(presolve, p),
            Constraint::OnePersonOneRole => one_person_one_role::describe(),
            Constraint::Freeze(f) => freeze_window::describe(presolve, f),
            Constraint::Capacity => review_capacity::describe(presolve),
            Constraint::NotBefore => not_before::describe(presolve),
            Constraint::Deadline => evidence_deadline::describe(presolve),
        }
    }

    /// The single changes relaxing this constraint that open a slot, each
    /// with the start it opens. `all` is every constraint in force,
    /// `enforced` the same without this one.
    pub fn relaxations(
        self,
        rules: &Rules<'_>,
        all: &Enforced,
        enforced: &Enforced,
        ranked: &[usize],
    ) -> Vec<Opened> {
        match self {
            Constraint::Role(r) => role_requirement::relaxations(rules, all, r, ranked),
            Constraint::WorkingHours(p) => working_hours::relaxation(rules, enforced, p, ranked)
                .into_iter()
                .collect(),
            Constraint::Busy(p) => busy_time::relaxation(rules, enforced, p, ranked)
                .into_iter()
                .collect(),
            Constraint::OnePersonOneRole => one_person_one_role::relaxation(),
            Constraint::Freeze(f) => freeze_window::relaxation(rules, enforced, f, ranked)
                .into_iter()
                .collect(),
            Constraint::Capacity => review_capacity::relaxation(rules, enforced, ranked)
                .into_iter()
                .collect(),
            Constraint::NotBefore => not_before::relaxation(),
            Constraint::Deadline => evidence_deadline::relaxation(rules, enforced)
                .into_iter()
                .collect(),
        }
    }

    /// Whether a combination of changes may waive this constraint.
    pub fn waivable(self) -> bool {
        match self {
            Constraint::Role(_) => role_requirement::WAIVABLE,
            Constraint::WorkingHours(_) => working_hours::WAIVABLE,
            Constraint::Busy(_) => busy_time::WAIVABLE,
            Constraint::OnePersonOneRole => one_person_one_role::WAIVABLE,
            Constraint::Freeze(_) => freeze_window::WAIVABLE,
            Constraint::Capacity => review_capacity::WAIVABLE,
            Constraint::NotBefore => not_before::WAIVABLE,
            Constraint::Deadline => evidence_deadline::WAIVABLE,
        }
    }

    /// The change that waiving this constraint makes at `start`, if the
    /// start needs it (a freeze that does not cover the meeting needs no
    /// override), for combinations of changes.
    pub fn change_at(self, rules: &Rules<'_>, start: usize) -> Option<RelaxationKind> {
        match self {
            Constraint::Role(_) => role_requirement::change_at(),
            Constraint::WorkingHours(p) => working_hours::change_at(rules, p, start),
            Constraint::Busy(p) => busy_time::change_at(rules, p, start),
            Constraint::OnePersonOneRole => one_person_one_role::change_at(),
            Constraint::Freeze(f) => freeze_window::change_at(rules, f, start),
            Constraint::Capacity => review_capacity::change_at(rules, start),
            Constraint::NotBefore => not_before::change_at(),
            Constraint::Deadline => evidence_deadline::change_at(rules, start),
        }
    }
}

/// `ranges` clipped to the horizon, empty ones dropped.
fn clip(presolve: &Presolve<'_>, ranges: Vec<TimeRange>) -> Vec<TimeRange> {
    let horizon = presolve.problem.horizon;
    ranges
        .into_iter()
        .map(|r| TimeRange::new(r.start.max(horizon.start), r.end.min(horizon.end)))
        .filter(|r| !r.is_empty())
        .collect()
}
