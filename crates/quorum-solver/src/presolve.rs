//! Presolve: every rule of the problem as a set of grid starts it allows
//! (each kind's own module in `constraints/` says which), and their
//! intersection, the starts where each role has someone available.
//!
//! This is where almost all the work happens, at about the cost of scanning the
//! buckets once per person: the integer program and the enumerator then only
//! decide who fills which role among the few starts that survive. The per-rule
//! sets are kept so explanations can say which rule rejected which start.

use crate::{
    SolverError, StopSignal,
    constraints::{
        busy_time, evidence_deadline, freeze_window, not_before, review_capacity, role_requirement,
        working_hours,
    },
    grid::Grid,
};
use fixedbitset::FixedBitSet;
use quorum_domain::{PersonId, SlotProblem};
use std::collections::HashMap;

/// The starts one person can attend, and why not the others.
#[derive(Debug, Clone)]
pub struct PersonAvailability {
    /// The meeting lies wholly inside their working hours.
    pub working: FixedBitSet,
    /// The meeting overlaps none of their blocking busy time.
    pub free: FixedBitSet,
    /// Both.
    pub available: FixedBitSet,
}

/// One candidate for a role: an index into `problem.people`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleCandidate {
    pub person: usize,
    pub via_delegate: bool,
}

#[derive(Debug, Clone)]
pub struct Presolve<'p> {
    pub problem: &'p SlotProblem,
    pub grid: Grid,
    pub not_before_ok: FixedBitSet,
    pub deadline_ok: FixedBitSet,
    /// Clear of every freeze window.
    pub freeze_ok: FixedBitSet,
    /// Within review capacity at every instant of the meeting.
    pub capacity_ok: FixedBitSet,
    /// Indexed like `problem.people`; `None` for people no role or attendee names.
    pub people: Vec<Option<PersonAvailability>>,
    /// Per role, its candidates in preference order.
    pub roles: Vec<Vec<RoleCandidate>>,
    /// Per optional attendee: person index and weight.
    pub optional: Vec<(usize, i64)>,
    /// Window, freeze and capacity together.
    pub rules_ok: FixedBitSet,
    /// `rules_ok` and every role has at least one candidate available.
    pub candidates: FixedBitSet,
}

impl<'p> Presolve<'p> {
    pub fn run(problem: &'p SlotProblem, stop: &dyn StopSignal) -> Result<Self, SolverError> {
        let grid = Grid::new(
            problem.horizon,
            problem.bucket.seconds(),
            problem.meeting_duration().num_seconds(),
        );
        let not_before_ok = not_before::allowed(&grid, problem);
        let deadline_ok = evidence_deadline::allowed(&grid, problem);
        let freeze_ok = freeze_window::allowed_by_all(&grid, problem);
        let capacity_ok = review_capacity::allowed(&grid, problem);
        let index: HashMap<&PersonId, usize> = problem
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id, i))
            .collect();
        let roles = role_requirement::candidates(problem, &index);
        let optional = problem
            .optional_attendees
            .iter()
            .filter_map(|(id, w)| Some((*index.get(id)?, problem.attendee_weight(*w))))
            .collect::<Vec<_>>();
        let mut people = vec![None; problem.people.len()];
        // Unconfirmed delegates never fill a role, but the explainer asks what
        // confirming them would open, so their availability is kept too.
        let delegates = problem
            .roles
            .iter()
            .flat_map(|r| &r.delegates)
            .filter_map(|d| index.get(&d.person).copied());
        let needed = roles
            .iter()
            .flatten()
            .map(|c| c.person)
            .chain(optional.iter().map(|o| o.0))
            .chain(delegates);
        let mut shared_hours = working_hours::StartsCache::default();
        for person in needed {
            if people[person].is_none() {
                stop.check()?;
                people[person] = Some(availability(problem, &grid, person, &mut shared_hours));
            }
        }
        let mut rules_ok = not_before_ok.clone();
        rules_ok.intersect_with(&deadline_ok);
        rules_ok.intersect_with(&freeze_ok);
        rules_ok.intersect_with(&capacity_ok);
        let mut presolve = Self {
            problem,
            grid,
            not_before_ok,
            deadline_ok,
            freeze_ok,
            capacity_ok,
            people,
            roles,
            optional,
            candidates: rules_ok.clone(),
            rules_ok,
        };
        for r in 0..presolve.roles.len() {
            let covered = presolve.role_coverage(r);
            presolve.candidates.intersect_with(&covered);
        }
        Ok(presolve)
    }

    pub fn available(&self, person: usize) -> Option<&FixedBitSet> {
        self.people.get(person)?.as_ref().map(|a| &a.available)
    }

    pub fn is_available(&self, person: usize, start: usize) -> bool {
        self.available(person).is_some_and(|a| a.contains(start))
    }

    /// Starts at which at least one candidate of role `r` is available.
    pub fn role_coverage(&self, r: usize) -> FixedBitSet {
        role_requirement::allowed(self, r)
    }
}

fn availability<'p>(
    problem: &'p SlotProblem,
    grid: &Grid,
    person: usize,
    shared_hours: &mut working_hours::StartsCache<'p>,
) -> PersonAvailability {
    let working = working_hours::allowed(grid, problem, person, shared_hours);
    let free = busy_time::allowed(grid, problem, person);
    let mut available = working.clone();
    available.intersect_with(&free);
    PersonAvailability {
        working,
        free,
        available,
    }
}
