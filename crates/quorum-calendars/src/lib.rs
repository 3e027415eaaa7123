//! Real calendars in: free/busy time, working hours and on-call shifts read
//! from the places teams keep them — iCalendar files and CalDAV servers,
//! Microsoft Graph `getSchedule` and Google `freebusy.query` responses,
//! PagerDuty `/oncalls` — turned into Quorum's own busy intervals and weekly
//! working hours.
//!
//! Quorum owns the time arithmetic here instead of trusting a recurrence
//! library: local times follow RFC 5545 §3.3.5 (a time in a spring-forward gap
//! is read with the offset before the gap; an ambiguous time is its first
//! occurrence), and recurrences are expanded inside the horizon only. Every
//! importer says what it skipped and why ([`Note`]) instead of guessing, and
//! nothing here keeps an event's title, location or attendees.
//!
//! No gRPC and no async runtime: the CLI and the server share this crate, and
//! the server runs [`Sources::fetch_all`] on a blocking thread.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use quorum_calendars::{IcsOptions, import_ics};
//! let ics = "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\n\
//!            FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260310T140000Z/PT1H\r\n\
//!            END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
//! let horizon = quorum_domain::TimeRange::new(
//!     Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap(),
//!     Utc.with_ymd_and_hms(2026, 3, 16, 0, 0, 0).unwrap(),
//! );
//! let import = import_ics(ics, &IcsOptions::new(chrono_tz::Europe::London, horizon)).unwrap();
//! assert_eq!(import.busy.len(), 1);
//! assert_eq!(import.busy[0].status, quorum_domain::BusyStatus::Tentative);
//! ```

mod caldav;
mod error;
mod google;
mod graph;
mod ical;
mod pagerduty;
mod report;
mod sources;
mod windows_zones;

pub use caldav::{CaldavClient, Credentials, Outbox};
pub use error::CalendarError;
pub use google::import_google_freebusy;
pub use graph::{AvailabilityView, import_graph_schedule};
pub use ical::{IcsOptions, import_ics, resolve_rfc5545};
pub use pagerduty::{OnCallShift, import_pagerduty_oncalls};
pub use report::{CalendarImport, Note, NoteAction, PersonImport};
pub use sources::{
    CalendarRef, FetchOutcome, FetchRequest, Fetched, FreeBusyMethod, SourceConfig, SourceKind,
    Sources, SourcesConfig,
};
pub use windows_zones::{windows_to_iana, zone_by_name};
