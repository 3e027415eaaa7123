//! People as the scheduler sees them: a zone, weekly working hours and
//! free/busy intervals. Event titles and details never enter Quorum.

use crate::{TimeRange, WorkingHours, working_hours};
use chrono_tz::Tz;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(pub String);

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PersonId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BusyStatus {
    #[default]
    Busy,
    Tentative,
    OutOfOffice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusyInterval {
    pub range: TimeRange,
    pub status: BusyStatus,
}

impl BusyInterval {
    /// Whether this interval keeps its owner from a meeting.
    pub fn blocks(&self, tentative_is_free: bool) -> bool {
        !(tentative_is_free && self.status == BusyStatus::Tentative)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: PersonId,
    pub display_name: String,
    pub time_zone: Tz,
    pub working_hours: Vec<WorkingHours>,
    pub busy: Vec<BusyInterval>,
}

impl Person {
    /// Absolute working intervals inside `within`, sorted and merged.
    pub fn working_intervals(&self, within: TimeRange) -> Vec<TimeRange> {
        working_hours::working_intervals(self.time_zone, &self.working_hours, within)
    }

    /// Busy ranges that block a meeting, sorted and merged.
    pub fn blocking_busy(&self, tentative_is_free: bool) -> Vec<TimeRange> {
        let ranges = self
            .busy
            .iter()
            .filter(|b| b.blocks(tentative_is_free))
            .map(|b| b.range)
            .filter(|r| !r.is_empty())
            .collect();
        working_hours::merge(ranges)
    }

    /// A short label for messages: "sec-2 (Europe/Berlin)".
    pub fn label(&self) -> String {
        format!("{} ({})", self.id, self.time_zone.name())
    }
}
