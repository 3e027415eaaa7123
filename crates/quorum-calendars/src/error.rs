//! The crate's one error enum. Skipped items inside a readable file are not
//! errors (they are [`crate::Note`]s); these are the failures that leave
//! nothing to import at all, each a sentence an operator can act on.

/// Why a calendar could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("the iCalendar text cannot be parsed: {detail}")]
    BadIcs { detail: String },
    #[error("the {shape} JSON cannot be read: {detail}")]
    BadJson { shape: &'static str, detail: String },
    #[error("calendar source {source_name:?} is not configured on this server")]
    UnknownSource { source_name: String },
    #[error("calendar id {calendar:?} is not allowed for source {source_name:?}: {why}")]
    BadCalendarId {
        source_name: String,
        calendar: String,
        why: &'static str,
    },
    #[error("calendar source {source_name:?} failed for calendar {calendar:?}: {detail}")]
    SourceFailed {
        source_name: String,
        calendar: String,
        detail: String,
    },
    #[error("the calendar sources file {path} cannot be used: {detail}")]
    BadConfig { path: String, detail: String },
}
