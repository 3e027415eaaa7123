//! The cost of each start and the total order of slots.
//!
//! cost = minutes from the horizon start to the slot's start
//!      − the weights of the preference windows containing the start
//!      − the weights of the optional attendees able to come.
//! Lower cost ranks first; equal costs go to the earlier start, so the order is
//! total and the same request always gets the same answer.

use crate::presolve::Presolve;
use quorum_domain::{PersonId, ScoreBreakdown};

/// Cost parts of every grid start, indexed by start.
pub struct Costs {
    preference_credit: Vec<i64>,
    attendee_credit: Vec<i64>,
    step_minutes: i64,
}

impl Costs {
    pub fn new(presolve: &Presolve<'_>) -> Self {
        let grid = &presolve.grid;
        let mut preference_credit = vec![0i64; grid.starts + 1];
        for preference in &presolve.problem.preferences {
            if let Some((lo, hi)) = grid.starts_within(&preference.range) {
                // A difference array keeps this linear in windows plus starts.
                preference_credit[lo] += preference.weight_minutes;
                preference_credit[hi] -= preference.weight_minutes;
            }
        }
        let mut running = 0;
        for credit in &mut preference_credit {
            running += *credit;
            *credit = running;
        }
        preference_credit.truncate(grid.starts);
        let mut attendee_credit = vec![0i64; grid.starts];
        for &(person, weight) in &presolve.optional {
            if let Some(available) = presolve.available(person) {
                for start in available.ones() {
                    attendee_credit[start] += weight;
                }
            }
        }
        Self {
            preference_credit,
            attendee_credit,
            step_minutes: grid.step / 60,
        }
    }

    pub fn cost(&self, start: usize) -> i64 {
        self.step_minutes * start as i64
            - self.preference_credit[start]
            - self.attendee_credit[start]
    }

    /// Sort key: cost, then the earlier start.
    pub fn key(&self, start: usize) -> (i64, usize) {
        (self.cost(start), start)
    }

    /// The given starts in rank order.
    pub fn ranked(&self, starts: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut keyed: Vec<(i64, usize)> = starts.map(|s| self.key(s)).collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, s)| s).collect()
    }

    /// The full breakdown for one start, with the names behind each credit.
    pub fn breakdown(
        &self,
        presolve: &Presolve<'_>,
        start: usize,
    ) -> (ScoreBreakdown, Vec<PersonId>) {
        let instant = presolve.grid.start_instant(start);
        let preference_ids = presolve
            .problem
            .preferences
            .iter()
            .filter(|p| p.range.contains(instant))
            .map(|p| p.id.clone())
            .collect();
        let attendees = presolve
            .optional
            .iter()
            .filter(|(person, _)| presolve.is_available(*person, start))
            .map(|(person, _)| presolve.problem.people[*person].id.clone())
            .collect();
        let score = ScoreBreakdown {
            cost: self.cost(start),
            start_offset_minutes: self.step_minutes * start as i64,
            preference_credit_minutes: self.preference_credit[start],
            preference_ids,
            optional_attendee_credit_minutes: self.attendee_credit[start],
        };
        (score, attendees)
    }
}
