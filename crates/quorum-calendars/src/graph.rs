//! Microsoft Graph `calendar/getSchedule` responses: `scheduleItems` (status
//! free/tentative/busy/oof/workingElsewhere), `availabilityView` (when the
//! caller says where it starts) and `workingHours` (days, times and a Windows
//! or IANA zone, mapped through CLDR). Parsed from the documented shape only:
//! Quorum never calls Graph itself. `subject` and `location` are not even
//! deserialized.

use crate::ical::resolve_rfc5545;
use crate::{CalendarError, CalendarImport, NoteAction, PersonImport, zone_by_name};
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc, Weekday};
use quorum_domain::{BusyStatus, LocalTime, TimeRange, WorkingHours};
use serde::Deserialize;

/// Where the `availabilityView` string starts and how long each digit lasts
/// (the request's start and `availabilityViewInterval`); the response does
/// not say, so the caller must.
#[derive(Debug, Clone, Copy)]
pub struct AvailabilityView {
    pub start: DateTime<Utc>,
    pub interval_minutes: u32,
}

#[derive(Deserialize)]
struct Response {
    value: Vec<Schedule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schedule {
    schedule_id: String,
    #[serde(default)]
    availability_view: Option<String>,
    #[serde(default)]
    schedule_items: Option<Vec<Item>>,
    #[serde(default)]
    working_hours: Option<Hours>,
    #[serde(default)]
    error: Option<ScheduleError>,
}

#[derive(Deserialize)]
struct ScheduleError {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "responseCode")]
    response_code: String,
}

#[derive(Deserialize)]
struct Item {
    status: String,
    start: GraphTime,
    end: GraphTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphTime {
    date_time: String,
    time_zone: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hours {
    days_of_week: Vec<String>,
    start_time: String,
    end_time: String,
    time_zone: HoursZone,
}

#[derive(Deserialize)]
struct HoursZone {
    name: String,
}

/// One [`PersonImport`] per schedule, keyed by `scheduleId`.
pub fn import_graph_schedule(
    json: &str,
    horizon: TimeRange,
    view: Option<AvailabilityView>,
) -> Result<Vec<PersonImport>, CalendarError> {
    let response: Response = serde_json::from_str(json).map_err(|e| CalendarError::BadJson {
        shape: "Microsoft Graph getSchedule",
        detail: e.to_string(),
    })?;
    Ok(response
        .value
        .into_iter()
        .map(|schedule| PersonImport {
            id: schedule.schedule_id.clone(),
            import: import_schedule(schedule, horizon, view),
        })
        .collect())
}

fn import_schedule(
    s: Schedule,
    horizon: TimeRange,
    view: Option<AvailabilityView>,
) -> Result<CalendarImport, String> {
    if let Some(e) = s.error {
        return Err(format!(
            "Graph could not answer for {}: {} {}",
            s.schedule_id, e.response_code, e.message
        ));
    }
    let mut out = CalendarImport::default();
    match (s.schedule_items, s.availability_view, view) {
        (Some(items), _, _) => {
            for (n, item) in items.into_iter().enumerate() {
                read_item(item, &format!("scheduleItems[{n}]"), horizon, &mut out);
            }
        }
        (None, Some(digits), Some(view)) => read_view(&digits, view, horizon, &mut out),
        (None, Some(_), None) => {
            return Err(
                "only an availabilityView came back, and where it starts is not known".into(),
            );
        }
        (None, None, _) => {
            return Err("the schedule has neither scheduleItems nor availabilityView".into());
        }
    }
    if let Some(hours) = s.working_hours {
        read_hours(hours, &mut out);
    }
    Ok(out.finish())
}

fn status_of(text: &str, item: &str, out: &mut CalendarImport) -> Option<BusyStatus> {
    match text {
        "busy" => Some(BusyStatus::Busy),
        "tentative" => Some(BusyStatus::Tentative),
        "oof" => Some(BusyStatus::OutOfOffice),
        "free" => None,
        "workingElsewhere" => {
            out.note(
                item,
                NoteAction::Skipped,
                "workingElsewhere: working, from another place",
            );
            None
        }
        other => {
            out.note(
                item,
                NoteAction::ReadAsBusy,
                format!("status {other:?} is unknown"),
            );
            Some(BusyStatus::Busy)
        }
    }
}

fn read_item(item: Item, what: &str, horizon: TimeRange, out: &mut CalendarImport) {
    let Some(status) = status_of(&item.status, what, out) else {
        return;
    };
    match (graph_instant(&item.start), graph_instant(&item.end)) {
        (Ok(start), Ok(end)) => {
            crate::ical::push_clipped(out, horizon, TimeRange::new(start, end), status)
        }
        (Err(why), _) | (_, Err(why)) => out.note(what, NoteAction::Skipped, why),
    }
}

/// A Graph `dateTimeTimeZone`: a local reading and a Windows or IANA zone.
fn graph_instant(t: &GraphTime) -> Result<DateTime<Utc>, String> {
    let zone = zone_by_name(&t.time_zone).ok_or_else(|| {
        format!(
            "time zone {:?} cannot be mapped to an IANA zone",
            t.time_zone
        )
    })?;
    let local = NaiveDateTime::parse_from_str(&t.date_time, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| format!("{:?} is not a Graph dateTime", t.date_time))?;
    Ok(resolve_rfc5545(zone, local))
}

fn read_view(digits: &str, view: AvailabilityView, horizon: TimeRange, out: &mut CalendarImport) {
    let step = Duration::minutes(view.interval_minutes.into());
    for (n, digit) in digits.chars().enumerate() {
        let what = format!("availabilityView[{n}]");
        let status = match digit {
            '0' => continue,
            '1' => "tentative",
            '2' => "busy",
            '3' => "oof",
            '4' => "workingElsewhere",
            _ => "unknown",
        };
        if let Some(status) = status_of(status, &what, out) {
            let start = view.start + step * n as i32;
            crate::ical::push_clipped(out, horizon, TimeRange::new(start, start + step), status);
        }
    }
}

fn read_hours(hours: Hours, out: &mut CalendarImport) {
    let Some(zone) = zone_by_name(&hours.time_zone.name) else {
        return out.note(
            "workingHours",
            NoteAction::Skipped,
            format!(
                "time zone {:?} cannot be mapped to an IANA zone",
                hours.time_zone.name
            ),
        );
    };
    let (Some(start), Some(end)) = (local_time(&hours.start_time), local_time(&hours.end_time))
    else {
        return out.note(
            "workingHours",
            NoteAction::Skipped,
            "startTime or endTime cannot be read",
        );
    };
    out.time_zone = Some(zone);
    for day in &hours.days_of_week {
        match day.parse::<Weekday>() {
            Ok(weekday) => out.working_hours.push(WorkingHours {
                weekday,
                start,
                end,
            }),
            Err(_) => out.note(
                "workingHours",
                NoteAction::Skipped,
                format!("{day:?} is not a day of the week"),
            ),
        }
    }
}

fn local_time(text: &str) -> Option<LocalTime> {
    let t = NaiveTime::parse_from_str(text, "%H:%M:%S%.f").ok()?;
    use chrono::Timelike;
    LocalTime::from_hm(t.hour() as u16, t.minute() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The example response of Graph's `calendar: getSchedule` documentation
    /// (subject and location included, as Graph sends them), plus a schedule
    /// Graph could not answer for.
    const EXAMPLE: &str = r#"{
      "value": [
        {
          "scheduleId": "adelev@contoso.com",
          "availabilityView": "000220000",
          "scheduleItems": [
            {"isPrivate": false, "status": "busy", "subject": "Let's go for lunch", "location": "Harry's Bar",
             "start": {"dateTime": "2019-03-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
             "end": {"dateTime": "2019-03-15T14:00:00.0000000", "timeZone": "Pacific Standard Time"}}
          ],
          "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
            "timeZone": {"name": "Pacific Standard Time"}
          }
        },
        {
          "scheduleId": "meganb@contoso.com",
          "availabilityView": "200220010",
          "scheduleItems": [
            {"status": "busy", "start": {"dateTime": "2019-03-15T08:00:00.0000000", "timeZone": "Pacific Standard Time"},
             "end": {"dateTime": "2019-03-15T09:00:00.0000000", "timeZone": "Pacific Standard Time"}},
            {"status": "tentative", "start": {"dateTime": "2019-03-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
             "end": {"dateTime": "2019-03-15T13:00:00.0000000", "timeZone": "Pacific Standard Time"}},
            {"status": "oof", "start": {"dateTime": "2019-03-15T14:00:00.0000000", "timeZone": "UTC"},
             "end": {"dateTime": "2019-03-15T15:00:00.0000000", "timeZone": "UTC"}},
            {"status": "workingElsewhere", "start": {"dateTime": "2019-03-15T15:00:00.0000000", "timeZone": "UTC"},
             "end": {"dateTime": "2019-03-15T16:00:00.0000000", "timeZone": "UTC"}},
            {"status": "free", "start": {"dateTime": "2019-03-15T16:00:00.0000000", "timeZone": "UTC"},
             "end": {"dateTime": "2019-03-15T17:00:00.0000000", "timeZone": "UTC"}},
            {"status": "busy", "start": {"dateTime": "2019-03-15T16:00:00.0000000", "timeZone": "Customized Time Zone"},
             "end": {"dateTime": "2019-03-15T17:00:00.0000000", "timeZone": "Customized Time Zone"}}
          ],
          "workingHours": {
            "daysOfWeek": ["monday"], "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
            "timeZone": {"name": "Customized Time Zone"}
          }
        },
        {
          "scheduleId": "nobody@contoso.com",
          "error": {"message": "The specified object was not found in the store.", "responseCode": "ErrorMailRecipientNotFound"}
        }
      ]
    }"#;

    fn horizon() -> TimeRange {
        TimeRange::new(
            Utc.with_ymd_and_hms(2019, 3, 15, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2019, 3, 16, 0, 0, 0).unwrap(),
        )
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 3, 15, h, 0, 0).unwrap()
    }

    #[test]
    fn schedule_items_become_busy_time_in_utc() {
        let people = import_graph_schedule(EXAMPLE, horizon(), None).unwrap();
        assert_eq!(people.len(), 3);
        let adele = people[0].import.as_ref().unwrap();
        // 12:00-14:00 Pacific Daylight Time (-7) on 15 March 2019.
        assert_eq!(adele.busy.len(), 1);
        assert_eq!(adele.busy[0].range, TimeRange::new(at(19), at(21)));
        assert_eq!(adele.time_zone, Some(chrono_tz::America::Los_Angeles));
        assert_eq!(adele.working_hours.len(), 5);
        assert_eq!(adele.working_hours[0].weekday, Weekday::Mon);
        assert_eq!(
            adele.working_hours[0].start,
            LocalTime::from_hm(8, 0).unwrap()
        );
        assert_eq!(
            adele.working_hours[0].end,
            LocalTime::from_hm(17, 0).unwrap()
        );
        assert!(!format!("{adele:?}").contains("Harry"));
    }

    #[test]
    fn every_status_maps_and_unmappable_zones_are_noted() {
        let people = import_graph_schedule(EXAMPLE, horizon(), None).unwrap();
        let megan = people[1].import.as_ref().unwrap();
        let got: Vec<_> = megan
            .busy
            .iter()
            .map(|b| (b.range.start, b.status))
            .collect();
        assert_eq!(
            got,
            [
                (at(14), BusyStatus::OutOfOffice),
                (at(15), BusyStatus::Busy),
                (at(19), BusyStatus::Tentative)
            ]
        );
        let notes: Vec<String> = megan.notes.iter().map(|n| n.to_string()).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("workingElsewhere"));
        assert!(notes[1].contains("Customized Time Zone") && notes[1].contains("scheduleItems[5]"));
        assert!(notes[2].contains("workingHours"));
        assert!(megan.working_hours.is_empty());
    }

    #[test]
    fn a_schedule_graph_could_not_answer_is_an_error_for_that_person() {
        let people = import_graph_schedule(EXAMPLE, horizon(), None).unwrap();
        let err = people[2].import.as_ref().unwrap_err();
        assert!(err.contains("ErrorMailRecipientNotFound"), "{err}");
    }

    #[test]
    fn an_availability_view_alone_is_read_when_its_start_is_known() {
        let json = r#"{"value":[{"scheduleId":"a@x","availabilityView":"0123400"}]}"#;
        let view = AvailabilityView {
            start: at(8),
            interval_minutes: 30,
        };
        let people = import_graph_schedule(json, horizon(), Some(view)).unwrap();
        let got: Vec<_> = people[0]
            .import
            .as_ref()
            .unwrap()
            .busy
            .iter()
            .map(|b| (b.range, b.status))
            .collect();
        let half = |n: i64| at(8) + Duration::minutes(30 * n);
        assert_eq!(
            got,
            [
                (TimeRange::new(half(1), half(2)), BusyStatus::Tentative),
                (TimeRange::new(half(2), half(3)), BusyStatus::Busy),
                (TimeRange::new(half(3), half(4)), BusyStatus::OutOfOffice),
            ]
        );
        let unknown_start = import_graph_schedule(json, horizon(), None).unwrap();
        assert!(unknown_start[0].import.is_err());
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(import_graph_schedule("{\"value\": 3}", horizon(), None).is_err());
    }
}
