//! PagerDuty `GET /oncalls` entries into per-person on-call shifts. An entry
//! with no start or end (someone permanently on an escalation policy rather
//! than a schedule) is a note, not an endless shift.

use crate::{CalendarError, Note, NoteAction};
use chrono::{DateTime, Utc};
use quorum_domain::TimeRange;
use serde::Deserialize;

/// One person on call at one escalation level for a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCallShift {
    /// PagerDuty's user id.
    pub person: String,
    /// The user's display name (`summary`), for messages.
    pub display_name: String,
    pub escalation_level: u32,
    pub range: TimeRange,
}

#[derive(Deserialize)]
struct Response {
    oncalls: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    user: User,
    #[serde(default)]
    escalation_level: u32,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    summary: String,
}

/// The shifts (optionally only those at `level`), sorted by person and start.
pub fn import_pagerduty_oncalls(
    json: &str,
    level: Option<u32>,
) -> Result<(Vec<OnCallShift>, Vec<Note>), CalendarError> {
    let response: Response = serde_json::from_str(json).map_err(|e| CalendarError::BadJson {
        shape: "PagerDuty /oncalls",
        detail: e.to_string(),
    })?;
    let (mut shifts, mut notes) = (Vec::new(), Vec::new());
    for (n, entry) in response.oncalls.into_iter().enumerate() {
        if level.is_some_and(|l| l != entry.escalation_level) {
            continue;
        }
        match (entry.start, entry.end) {
            (Some(start), Some(end)) if start < end => shifts.push(OnCallShift {
                person: entry.user.id,
                display_name: entry.user.summary,
                escalation_level: entry.escalation_level,
                range: TimeRange::new(start, end),
            }),
            (start, end) => notes.push(Note {
                item: format!("oncalls[{n}] (user {})", entry.user.id),
                action: NoteAction::Skipped,
                reason: if start.is_some() && end.is_some() {
                    "it ends at or before it starts, so it is no shift".into()
                } else {
                    "it has no start and end (on an escalation policy without a schedule), so it is no shift".into()
                },
            }),
        }
    }
    shifts.sort_by(|a, b| (&a.person, a.range.start).cmp(&(&b.person, b.range.start)));
    Ok((shifts, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The documented `/oncalls` example (one entry) plus a second level and
    /// an entry without a schedule.
    const EXAMPLE: &str = r#"{
      "oncalls": [
        {
          "user": {"id": "PT23IWX", "type": "user_reference", "summary": "Tim Wright",
                   "self": "https://api.pagerduty.com/users/PT23IWX", "html_url": "https://subdomain.pagerduty.com/users/PT23IWX"},
          "schedule": {"id": "PI7DH85", "type": "schedule_reference", "summary": "Daily Engineering Rotation"},
          "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Engineering Escalation Policy"},
          "escalation_level": 2,
          "start": "2015-03-06T15:28:51-05:00",
          "end": "2015-03-07T15:28:51-05:00"
        },
        {
          "user": {"id": "PXPGF42", "type": "user_reference", "summary": "Earline Greenholt"},
          "escalation_level": 1,
          "start": "2015-03-06T20:00:00Z",
          "end": "2015-03-07T08:00:00Z"
        },
        {
          "user": {"id": "PAM4FGS", "type": "user_reference", "summary": "Kelly Kim"},
          "escalation_level": 1,
          "start": null,
          "end": null
        },
        {
          "user": {"id": "PBACKWD", "type": "user_reference", "summary": "Lee Backward"},
          "escalation_level": 3,
          "start": "2015-03-07T08:00:00Z",
          "end": "2015-03-07T08:00:00Z"
        }
      ],
      "limit": 25, "offset": 0, "more": false, "total": null
    }"#;

    #[test]
    fn entries_become_shifts_and_the_level_filter_applies() {
        let (shifts, notes) = import_pagerduty_oncalls(EXAMPLE, None).unwrap();
        assert_eq!(shifts.len(), 2);
        assert_eq!(shifts[0].person, "PT23IWX");
        assert_eq!(shifts[0].escalation_level, 2);
        assert_eq!(
            shifts[0].range.start,
            Utc.with_ymd_and_hms(2015, 3, 6, 20, 28, 51).unwrap()
        );
        assert_eq!(
            shifts[0].range.end,
            Utc.with_ymd_and_hms(2015, 3, 7, 20, 28, 51).unwrap()
        );
        assert_eq!(notes.len(), 2);
        assert!(notes[0].item.contains("PAM4FGS") && notes[0].reason.contains("no start"));
        assert!(notes[1].item.contains("PBACKWD") && notes[1].reason.contains("at or before"));

        let (level_one, _) = import_pagerduty_oncalls(EXAMPLE, Some(1)).unwrap();
        assert_eq!(level_one.len(), 1);
        assert_eq!(level_one[0].person, "PXPGF42");
    }
}
