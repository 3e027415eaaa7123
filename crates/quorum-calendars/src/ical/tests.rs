//! Whole-document tests: every FBTYPE, STATUS and TRANSP case, all-day and
//! floating events, TZIDs, recurrence overrides, VAVAILABILITY, and the
//! promise that titles, locations and attendees go nowhere.

use super::*;
use crate::NoteAction;
use chrono::{DateTime, TimeZone, Utc, Weekday};
use chrono_tz::{America::New_York, Europe::London};
use quorum_domain::{BusyStatus, LocalTime};

fn horizon() -> TimeRange {
    TimeRange::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
    )
}

fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n")
        .replace('\n', "\r\n")
        .replace("\r\r", "\r")
}

fn import(body: &str, zone: Tz) -> CalendarImport {
    import_ics(&calendar(body), &IcsOptions::new(zone, horizon())).unwrap()
}

fn busy(import: &CalendarImport) -> Vec<(String, String, BusyStatus)> {
    let fmt = |t: DateTime<Utc>| t.format("%m-%d %H:%MZ").to_string();
    import
        .busy
        .iter()
        .map(|b| (fmt(b.range.start), fmt(b.range.end), b.status))
        .collect()
}

fn b(start: &str, end: &str, status: BusyStatus) -> (String, String, BusyStatus) {
    (start.to_owned(), end.to_owned(), status)
}

#[test]
fn every_fbtype_maps_to_its_status_and_unknown_ones_are_read_as_busy() {
    let got = import(
        "BEGIN:VFREEBUSY\n\
         FREEBUSY:20260302T090000Z/20260302T100000Z\n\
         FREEBUSY;FBTYPE=BUSY:20260303T090000Z/PT30M\n\
         FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260304T090000Z/PT1H,20260304T120000Z/PT1H\n\
         FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260305T000000Z/P1D\n\
         FREEBUSY;FBTYPE=FREE:20260306T090000Z/PT8H\n\
         FREEBUSY;FBTYPE=X-OFFSITE:20260307T090000Z/PT1H\n\
         END:VFREEBUSY\n",
        London,
    );
    assert_eq!(
        busy(&got),
        [
            b("03-02 09:00Z", "03-02 10:00Z", BusyStatus::Busy),
            b("03-03 09:00Z", "03-03 09:30Z", BusyStatus::Busy),
            b("03-04 09:00Z", "03-04 10:00Z", BusyStatus::Tentative),
            b("03-04 12:00Z", "03-04 13:00Z", BusyStatus::Tentative),
            b("03-05 00:00Z", "03-06 00:00Z", BusyStatus::OutOfOffice),
            b("03-07 09:00Z", "03-07 10:00Z", BusyStatus::Busy),
        ]
    );
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert_eq!(got.notes[0].action, NoteAction::ReadAsBusy);
    assert!(got.notes[0].reason.contains("X-OFFSITE"));
}

#[test]
fn a_vfreebusy_without_periods_is_free_in_a_file_and_busy_from_a_caldav_server() {
    let body = "BEGIN:VFREEBUSY\nDTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nEND:VFREEBUSY\n";
    assert!(import(body, London).busy.is_empty());
    let options = IcsOptions {
        vfreebusy_span_is_busy: true,
        ..IcsOptions::new(London, horizon())
    };
    let got = import_ics(&calendar(body), &options).unwrap();
    assert_eq!(
        busy(&got),
        [b("03-02 09:00Z", "03-02 10:00Z", BusyStatus::Busy)]
    );
}

#[test]
fn status_and_transp_decide_whether_and_how_an_event_blocks() {
    let event = |uid: &str, extra: &str| {
        format!(
            "BEGIN:VEVENT\nUID:{uid}\nDTSTART:20260302T090000Z\nDTEND:20260302T100000Z\n{extra}END:VEVENT\n"
        )
    };
    let body = [
        event("plain", ""),
        event("confirmed", "STATUS:CONFIRMED\n"),
        event("tentative", "STATUS:TENTATIVE\n"),
        event("cancelled", "STATUS:CANCELLED\n"),
        event("transparent", "TRANSP:TRANSPARENT\n"),
        event("opaque", "TRANSP:OPAQUE\nSTATUS:TENTATIVE\n"),
        event("odd", "STATUS:NEEDS-ACTION\n"),
    ]
    .concat();
    let got = import(&body, London);
    let statuses: Vec<BusyStatus> = got.busy.iter().map(|b| b.status).collect();
    let mut sorted = statuses.clone();
    sorted.sort_by_key(|s| *s as u8);
    assert_eq!(
        sorted,
        [
            BusyStatus::Busy,
            BusyStatus::Busy,
            BusyStatus::Busy,
            BusyStatus::Tentative,
            BusyStatus::Tentative
        ]
    );
    let reasons: Vec<String> = got.notes.iter().map(|n| n.to_string()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("UID cancelled") && r.contains("skipped"))
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("UID transparent") && r.contains("skipped"))
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("UID odd") && r.contains("read as busy"))
    );
}

#[test]
fn an_event_with_no_end_is_skipped_and_said_so() {
    let got = import(
        "BEGIN:VEVENT\nUID:x\nDTSTART:20260302T090000Z\nEND:VEVENT\n",
        London,
    );
    assert!(got.busy.is_empty());
    assert!(got.notes[0].reason.contains("no end"), "{:?}", got.notes);
}

#[test]
fn all_day_events_run_from_local_midnight_to_local_midnight() {
    // In New York the 8th has 23 hours: 05:00Z to 04:00Z.
    let got = import(
        "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260308\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260310\nDTEND;VALUE=DATE:20260312\nEND:VEVENT\n",
        New_York,
    );
    assert_eq!(
        busy(&got),
        [
            b("03-08 05:00Z", "03-09 04:00Z", BusyStatus::Busy),
            b("03-10 04:00Z", "03-12 04:00Z", BusyStatus::Busy),
        ]
    );
}

#[test]
fn tzid_floating_and_utc_times_each_read_in_their_own_zone() {
    let got = import(
        "BEGIN:VTIMEZONE\nTZID:Eastern Standard Time\nEND:VTIMEZONE\n\
         BEGIN:VEVENT\nUID:w\nDTSTART;TZID=Eastern Standard Time:20260302T090000\nDURATION:PT1H\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:i\nDTSTART;TZID=\"Europe/London\":20260303T090000\nDURATION:PT1H\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:f\nDTSTART:20260304T090000\nDURATION:PT1H\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:u\nDTSTART:20260305T090000Z\nDURATION:PT1H\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:bad\nDTSTART;TZID=Mars/Olympus:20260306T090000\nDURATION:PT1H\nEND:VEVENT\n",
        New_York,
    );
    assert_eq!(
        busy(&got),
        [
            b("03-02 14:00Z", "03-02 15:00Z", BusyStatus::Busy),
            b("03-03 09:00Z", "03-03 10:00Z", BusyStatus::Busy),
            b("03-04 14:00Z", "03-04 15:00Z", BusyStatus::Busy),
            b("03-05 09:00Z", "03-05 10:00Z", BusyStatus::Busy),
        ]
    );
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert!(got.notes[0].reason.contains("Mars/Olympus"));
}

#[test]
fn exdate_rdate_and_overrides_shape_a_series() {
    // Daily 09:00 New York from Mon 9 March, 5 instances; the 10th excluded,
    // the 11th moved to 15:00 and the 12th cancelled by overrides, plus an
    // extra RDATE on Saturday the 14th and an RDATE period on Sunday.
    let got = import(
        "BEGIN:VEVENT\nUID:s\nDTSTART;TZID=America/New_York:20260309T090000\nDTEND;TZID=America/New_York:20260309T093000\n\
         RRULE:FREQ=DAILY;COUNT=5\nEXDATE;TZID=America/New_York:20260310T090000\n\
         RDATE;TZID=America/New_York:20260314T090000\nRDATE;VALUE=PERIOD:20260315T120000Z/PT2H\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;TZID=America/New_York:20260311T090000\n\
         DTSTART;TZID=America/New_York:20260311T150000\nDTEND;TZID=America/New_York:20260311T160000\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20260312T130000Z\nSTATUS:CANCELLED\n\
         DTSTART;TZID=America/New_York:20260312T090000\nDTEND;TZID=America/New_York:20260312T093000\nEND:VEVENT\n",
        London,
    );
    assert_eq!(
        busy(&got),
        [
            b("03-09 13:00Z", "03-09 13:30Z", BusyStatus::Busy),
            b("03-11 19:00Z", "03-11 20:00Z", BusyStatus::Busy),
            b("03-13 13:00Z", "03-13 13:30Z", BusyStatus::Busy),
            b("03-14 13:00Z", "03-14 13:30Z", BusyStatus::Busy),
            b("03-15 12:00Z", "03-15 14:00Z", BusyStatus::Busy),
        ]
    );
}

#[test]
fn busy_time_is_clipped_to_the_horizon_and_recurrences_stop_at_its_end() {
    let got = import(
        "BEGIN:VEVENT\nUID:r\nDTSTART:20260225T090000Z\nDTEND:20260225T100000Z\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:edge\nDTSTART:20260331T230000Z\nDTEND:20260401T010000Z\nEND:VEVENT\n",
        London,
    );
    // Wednesdays in March 2026: 4, 11, 18, 25; then the edge event, clipped.
    assert_eq!(got.busy.len(), 5);
    assert_eq!(
        busy(&got)[4],
        b("03-31 23:00Z", "04-01 00:00Z", BusyStatus::Busy)
    );
}

#[test]
fn an_unsupported_rule_skips_the_event_and_names_the_part() {
    let got = import(
        "BEGIN:VEVENT\nUID:p\nDTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nRRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1\nEND:VEVENT\n",
        London,
    );
    assert!(got.busy.is_empty());
    assert!(got.notes[0].reason.contains("BYSETPOS"), "{:?}", got.notes);
}

#[test]
fn titles_locations_and_attendees_never_leave_the_parser() {
    let got = import(
        "BEGIN:VEVENT\nUID:secret-1\nSUMMARY:Acquisition of Initech\nLOCATION:Boardroom 9\n\
         ATTENDEE;CN=Bill Lumbergh:mailto:bill@initech.example\nDESCRIPTION:do not leak\n\
         DTSTART:20260302T090000Z\nSTATUS:CANCELLED\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:secret-2\nSUMMARY:Acquisition of Initech\nDTSTART:20260302T090000Z\nEND:VEVENT\n",
        London,
    );
    let everything = format!("{got:?}");
    for secret in [
        "Initech",
        "Boardroom",
        "Lumbergh",
        "initech.example",
        "do not leak",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    assert_eq!(got.notes.len(), 2);
}

#[test]
fn vavailability_gives_weekly_working_hours_in_its_zone() {
    let got = import(
        "BEGIN:VAVAILABILITY\nUID:av\nDTSTART;TZID=Europe/Berlin:20260101T000000\n\
         BEGIN:AVAILABLE\nUID:weekdays\nDTSTART;TZID=Europe/Berlin:20260105T090000\nDTEND;TZID=Europe/Berlin:20260105T170000\n\
         RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\nEND:AVAILABLE\n\
         BEGIN:AVAILABLE\nUID:saturday\nDTSTART;TZID=Europe/Berlin:20260110T100000\nDURATION:PT2H\n\
         RRULE:FREQ=WEEKLY\nEND:AVAILABLE\n\
         BEGIN:AVAILABLE\nUID:monthly\nDTSTART;TZID=Europe/Berlin:20260110T100000\nDURATION:PT2H\n\
         RRULE:FREQ=MONTHLY\nEND:AVAILABLE\n\
         END:VAVAILABILITY\n",
        London,
    );
    assert_eq!(got.time_zone, Some(chrono_tz::Europe::Berlin));
    let hm = |h, m| LocalTime::from_hm(h, m).unwrap();
    let days: Vec<_> = got
        .working_hours
        .iter()
        .map(|w| (w.weekday, w.start, w.end))
        .collect();
    assert_eq!(
        days,
        [
            (Weekday::Mon, hm(9, 0), hm(17, 0)),
            (Weekday::Tue, hm(9, 0), hm(17, 0)),
            (Weekday::Wed, hm(9, 0), hm(17, 0)),
            (Weekday::Thu, hm(9, 0), hm(17, 0)),
            (Weekday::Fri, hm(9, 0), hm(17, 0)),
            (Weekday::Sat, hm(10, 0), hm(12, 0)),
        ]
    );
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert!(got.notes[0].item.contains("UID monthly"));
}

#[test]
fn unparseable_text_is_an_error_not_an_empty_calendar() {
    assert!(
        import_ics(
            "BEGIN:VCALENDAR\r\nBEGIN:",
            &IcsOptions::new(London, horizon())
        )
        .is_err()
    );
}
