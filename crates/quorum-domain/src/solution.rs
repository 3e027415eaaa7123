//! What a search returns: ranked slots with their role assignment and the parts
//! of their score, plus the grid that was searched.

use crate::{Explanation, PersonId, RoleId, TimeRange};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub role: RoleId,
    pub person: PersonId,
    pub via_delegate: bool,
}

/// `cost = start_offset_minutes − preference_credit_minutes − optional_attendee_credit_minutes`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScoreBreakdown {
    pub cost: i64,
    pub start_offset_minutes: i64,
    pub preference_credit_minutes: i64,
    pub preference_ids: Vec<String>,
    pub optional_attendee_credit_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub range: TimeRange,
    pub assignments: Vec<RoleAssignment>,
    pub optional_attendees: Vec<PersonId>,
    pub score: ScoreBreakdown,
}

/// The ranked answer to one slot problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    /// Best first; the order is total (cost, then start).
    pub slots: Vec<Slot>,
    pub grid_origin: DateTime<Utc>,
    pub bucket_minutes: u32,
    pub bucket_count: u32,
    pub candidate_starts_considered: u32,
    pub presolved_starts: u32,
    /// Why there is no slot (outcome, conflicts, relaxations), and with
    /// `explain` why earlier starts were rejected.
    pub explanation: Explanation,
}
