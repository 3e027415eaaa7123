//! The slot problem: everything one `FindSlots` request asks, in domain types,
//! and the validated form that is the only thing the solver accepts.

use crate::{
    BucketSize, FieldViolation, FreezeWindow, Person, PersonId, PreferenceWindow, RequiredRole,
    ReviewCapacity, TimeRange, validate,
};
use chrono::{DateTime, Duration, Utc};
use std::ops::Deref;

/// Size limits checked before any solving, so that no request can make the
/// server discretise or search more than its operator allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemLimits {
    /// Grid buckets in the horizon (28 days of 5-minute buckets is 8,064).
    pub max_buckets: u32,
    pub max_people: usize,
    pub max_roles: usize,
    /// Candidates of one role: its pool plus its delegates.
    pub max_role_candidates: usize,
    /// Busy intervals summed over all people.
    pub max_busy_intervals: usize,
    pub max_working_hours_per_person: usize,
    pub max_freeze_windows: usize,
    pub max_booked_reviews: usize,
    pub max_preferences: usize,
    pub max_optional_attendees: usize,
    pub max_top_k: usize,
    /// Largest absolute weight, in minutes, of any preference or attendee.
    pub max_weight_minutes: i64,
    /// Longest id, ticket or label, in bytes: ids are echoed into responses,
    /// logs and the audit trail, so an unbounded one is an amplifier.
    pub max_id_bytes: usize,
    /// Largest integer program, in non-zero coefficients (one per available
    /// start of each role candidate, plus one per start). Checked before the
    /// program is built: its memory grows with this number.
    pub max_program_terms: usize,
    /// Largest `explain: true` answer, in bytes as estimated before its
    /// rejected runs are written out (each run repeats its reasons' ranges
    /// and labels, so the answer can grow far beyond the request).
    pub max_explanation_bytes: usize,
    /// Most runs of rejected starts an `explain: true` answer lists; past it
    /// the answer says `run_cap_reached` and stops describing later starts.
    pub max_rejected_runs: usize,
}

impl Default for ProblemLimits {
    fn default() -> Self {
        Self {
            max_buckets: 50_000,
            max_people: 2_000,
            max_roles: 64,
            max_role_candidates: 256,
            max_busy_intervals: 200_000,
            max_working_hours_per_person: 64,
            max_freeze_windows: 1_000,
            max_booked_reviews: 10_000,
            max_preferences: 1_000,
            max_optional_attendees: 1_000,
            max_top_k: 1_000,
            max_weight_minutes: 1_000_000,
            max_id_bytes: 256,
            max_program_terms: 500_000,
            max_explanation_bytes: 8 * 1024 * 1024,
            max_rejected_runs: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlotProblem {
    pub change_ticket: String,
    pub horizon: TimeRange,
    pub bucket: BucketSize,
    pub meeting_minutes: u32,
    /// The meeting starts at or after this instant; `None` is the horizon start.
    pub not_before: Option<DateTime<Utc>>,
    /// The meeting ends at or before this instant; `None` is the horizon end.
    pub evidence_deadline: Option<DateTime<Utc>>,
    pub roles: Vec<RequiredRole>,
    pub people: Vec<Person>,
    pub optional_attendees: Vec<(PersonId, Option<i64>)>,
    pub freeze_windows: Vec<FreezeWindow>,
    pub review_capacity: Option<ReviewCapacity>,
    pub preferences: Vec<PreferenceWindow>,
    pub optional_attendee_weight_minutes: i64,
    pub top_k: usize,
    pub allow_multiple_roles_per_person: bool,
    pub tentative_is_free: bool,
    /// Also report which constraints rejected the starts before the last slot.
    pub explain: bool,
}

impl SlotProblem {
    pub const DEFAULT_TOP_K: usize = 10;

    pub fn meeting_duration(&self) -> Duration {
        Duration::minutes(self.meeting_minutes.into())
    }

    /// Where a meeting may lie: the horizon cut by not-before and the deadline.
    /// Empty when the deadline falls before not-before.
    pub fn window(&self) -> TimeRange {
        let start = self
            .not_before
            .map_or(self.horizon.start, |t| t.max(self.horizon.start));
        let end = self
            .evidence_deadline
            .map_or(self.horizon.end, |t| t.min(self.horizon.end));
        TimeRange::new(start, end)
    }

    /// Buckets of the grid over the horizon, the last one possibly partial.
    pub fn bucket_count(&self) -> i64 {
        let seconds = self.horizon.duration().num_seconds().max(0);
        let step = self.bucket.seconds();
        (seconds + step - 1) / step
    }

    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.iter().find(|p| &p.id == id)
    }

    /// The weight one optional attendee earns when able to come.
    pub fn attendee_weight(&self, own: Option<i64>) -> i64 {
        own.unwrap_or(self.optional_attendee_weight_minutes)
    }

    /// Checks every rule a request must follow and, when all hold, returns the
    /// form the solver accepts. Violations name the request's own field paths.
    pub fn validate(self, limits: &ProblemLimits) -> Result<ValidatedProblem, Vec<FieldViolation>> {
        let violations = validate::violations(&self, limits);
        if violations.is_empty() {
            Ok(ValidatedProblem {
                problem: self,
                limits: limits.clone(),
            })
        } else {
            Err(violations)
        }
    }
}

/// A slot problem that passed [`SlotProblem::validate`]: every reference
/// resolves, every range is non-empty and every size is within its limit. It
/// keeps the limits it was checked against, so the solver can refuse work
/// whose size only shows after presolve (the integer program, explanations).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedProblem {
    problem: SlotProblem,
    limits: ProblemLimits,
}

impl ValidatedProblem {
    pub fn into_inner(self) -> SlotProblem {
        self.problem
    }

    pub fn limits(&self) -> &ProblemLimits {
        &self.limits
    }

    /// Adds busy time the server knows of (other tickets' holds) after the
    /// caller's request was checked: it must not count against the caller's
    /// own limits, and non-empty ranges keep the problem valid. Busy time of
    /// people the request does not name is ignored.
    pub fn add_busy_time(&mut self, busy: impl IntoIterator<Item = (PersonId, TimeRange)>) {
        let index: std::collections::HashMap<PersonId, usize> = self
            .problem
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        for (person, range) in busy {
            if let (Some(&i), false) = (index.get(&person), range.is_empty()) {
                self.problem.people[i].busy.push(crate::BusyInterval {
                    range,
                    status: crate::BusyStatus::Busy,
                });
            }
        }
    }
}

impl Deref for ValidatedProblem {
    type Target = SlotProblem;
    fn deref(&self) -> &SlotProblem {
        &self.problem
    }
}
