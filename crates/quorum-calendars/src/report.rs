//! What an importer hands back: busy intervals and working hours in Quorum's
//! own terms, plus the notes that say what was skipped or assumed and why —
//! so a caller never mistakes "could not read" for "free".

use chrono_tz::Tz;
use quorum_domain::{BusyInterval, WorkingHours};

/// One calendar's worth of free/busy, as Quorum will use it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalendarImport {
    /// Busy time inside the horizon (clipped to it), sorted by start.
    pub busy: Vec<BusyInterval>,
    /// Weekly working hours, when the source states them (VAVAILABILITY,
    /// Graph `workingHours`), read in `time_zone`.
    pub working_hours: Vec<WorkingHours>,
    /// The zone the source states the working hours in, if any.
    pub time_zone: Option<Tz>,
    /// Everything skipped or assumed, in file order.
    pub notes: Vec<Note>,
}

impl CalendarImport {
    pub(crate) fn note(
        &mut self,
        item: impl Into<String>,
        action: NoteAction,
        reason: impl Into<String>,
    ) {
        self.notes.push(Note {
            item: item.into(),
            action,
            reason: reason.into(),
        });
    }

    /// Sorts busy time by start so output is stable whatever the file order.
    pub(crate) fn finish(mut self) -> Self {
        self.busy
            .sort_by_key(|b| (b.range.start, b.range.end, b.status as u8));
        self
    }
}

/// What an importer did with something it did not take at face value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteAction {
    /// Left out: it adds no busy time (with the reason why that is safe, or
    /// why it could not be read).
    Skipped,
    /// Kept, read as BUSY because its kind is unknown (RFC 5545 says to).
    ReadAsBusy,
}

/// One skipped or assumed item. `item` names it by position and UID, never by
/// title, location or attendees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub item: String,
    pub action: NoteAction,
    pub reason: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let action = match self.action {
            NoteAction::Skipped => "skipped",
            NoteAction::ReadAsBusy => "read as busy",
        };
        write!(f, "{}: {action}: {}", self.item, self.reason)
    }
}

/// A calendar that belongs to one person of a multi-person response (Graph
/// schedules, Google calendars).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonImport {
    /// The id the source uses: a Graph `scheduleId`, a Google calendar id.
    pub id: String,
    /// `Err` when the source said it could not answer for this person; such a
    /// person must never be treated as free.
    pub import: Result<CalendarImport, String>,
}
