//! Google Calendar `freebusy.query` responses: `calendars.{id}.busy[]` as
//! BUSY intervals, and a calendar with `errors` as a person Quorum cannot
//! vouch for (never as a free one). Parsed from the documented shape only.

use crate::{CalendarError, CalendarImport, NoteAction, PersonImport};
use chrono::{DateTime, Utc};
use quorum_domain::{BusyStatus, TimeRange};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Response {
    calendars: BTreeMap<String, Calendar>,
}

#[derive(Deserialize)]
struct Calendar {
    #[serde(default)]
    busy: Vec<Busy>,
    #[serde(default)]
    errors: Vec<GoogleError>,
}

#[derive(Deserialize)]
struct Busy {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Deserialize)]
struct GoogleError {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    reason: String,
}

/// One [`PersonImport`] per calendar id, in id order.
pub fn import_google_freebusy(
    json: &str,
    horizon: TimeRange,
) -> Result<Vec<PersonImport>, CalendarError> {
    let response: Response = serde_json::from_str(json).map_err(|e| CalendarError::BadJson {
        shape: "Google Calendar freebusy.query",
        detail: e.to_string(),
    })?;
    Ok(response
        .calendars
        .into_iter()
        .map(|(id, calendar)| {
            let import = if calendar.errors.is_empty() {
                let mut out = CalendarImport::default();
                for (n, busy) in calendar.busy.into_iter().enumerate() {
                    if busy.end <= busy.start {
                        // Said, not dropped: a reversed period is a broken
                        // answer, and the reader should know time was lost.
                        out.note(
                            format!("{id} busy[{n}]"),
                            NoteAction::Skipped,
                            format!(
                                "it ends ({}) at or before it starts ({})",
                                busy.end, busy.start
                            ),
                        );
                        continue;
                    }
                    crate::ical::push_clipped(
                        &mut out,
                        horizon,
                        TimeRange::new(busy.start, busy.end),
                        BusyStatus::Busy,
                    );
                }
                Ok(out.finish())
            } else {
                let reasons: Vec<String> = calendar
                    .errors
                    .iter()
                    .map(|e| format!("{}/{}", e.domain, e.reason))
                    .collect();
                Err(format!(
                    "Google could not answer for {id}: {}",
                    reasons.join(", ")
                ))
            };
            PersonImport { id, import }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The documented response shape of `freebusy.query`, with one calendar
    /// Google could not read.
    const EXAMPLE: &str = r#"{
      "kind": "calendar#freeBusy",
      "timeMin": "2026-03-09T00:00:00.000Z",
      "timeMax": "2026-03-10T00:00:00.000Z",
      "calendars": {
        "ana@example.com": {
          "busy": [
            {"start": "2026-03-09T09:00:00Z", "end": "2026-03-09T10:30:00Z"},
            {"start": "2026-03-09T14:00:00+01:00", "end": "2026-03-09T15:00:00+01:00"},
            {"start": "2026-03-09T18:00:00Z", "end": "2026-03-09T17:00:00Z"}
          ]
        },
        "room-7@resource.calendar.google.com": {"busy": []},
        "ghost@example.com": {
          "errors": [{"domain": "global", "reason": "notFound"}],
          "busy": []
        }
      }
    }"#;

    #[test]
    fn busy_periods_become_busy_time_and_errors_make_a_person_unknown() {
        let horizon = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap(),
        );
        let people = import_google_freebusy(EXAMPLE, horizon).unwrap();
        let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ana@example.com",
                "ghost@example.com",
                "room-7@resource.calendar.google.com"
            ]
        );
        let ana = people[0].import.as_ref().unwrap();
        let ranges: Vec<_> = ana
            .busy
            .iter()
            .map(|b| {
                (
                    b.range.start.format("%H:%M").to_string(),
                    b.range.end.format("%H:%M").to_string(),
                )
            })
            .collect();
        assert_eq!(
            ranges,
            [
                ("09:00".into(), "10:30".into()),
                ("13:00".to_string(), "14:00".to_string())
            ]
        );
        let notes: Vec<String> = ana.notes.iter().map(ToString::to_string).collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("ana@example.com busy[2]: skipped: it ends"),
            "{notes:?}"
        );
        assert!(
            people[1]
                .import
                .as_ref()
                .unwrap_err()
                .contains("global/notFound")
        );
        assert!(people[2].import.as_ref().unwrap().busy.is_empty());
    }

    #[test]
    fn a_response_without_calendars_is_an_error() {
        let horizon = TimeRange::new(Utc::now(), Utc::now());
        assert!(import_google_freebusy(r#"{"kind":"calendar#freeBusy"}"#, horizon).is_err());
    }
}
