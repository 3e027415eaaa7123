//! iCalendar export against a strict reading of RFC 5545: CRLF line ends,
//! lines of at most 75 octets, content lines of the grammar
//! `name *(";" param) ":" value` with no control characters, one PRODID
//! naming Quorum, ORGANIZER and ATTENDEE lines; and the icalendar crate's
//! parser reads it back. Control characters are refused on input.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::broker_server;
use quorum::{convert::to_timestamp, pb};
use quorum_domain::ManualClock;
use std::sync::Arc;
use tonic::Code;

/// Awkward but legal ids: separators, quotes, backslashes, non-ASCII, and
/// long enough to be folded.
const PEOPLE: [&str; 3] = [
    "ana,\"the\"; boss:\\",
    "björn ünïcödé",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

fn place(people: &[&str], key: &str) -> pb::PlaceHoldRequest {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    pb::PlaceHoldRequest {
        change_ticket: "CHG-ICS;1,2".into(),
        start: Some(to_timestamp(start)),
        end: Some(to_timestamp(start + Duration::hours(1))),
        attendees: people
            .iter()
            .map(|p| pb::HoldAttendee {
                person_id: (*p).into(),
                role_id: "security, reviewer".into(),
            })
            .collect(),
        ttl_seconds: 3600,
        idempotency_key: key.into(),
        release_owner: "olga \"o\" ;x".into(),
    }
}

/// The strict checks; returns the unfolded content lines.
fn strict_lines(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    let physical: Vec<&str> = text[..text.len() - 2].split("\r\n").collect();
    let mut lines: Vec<String> = Vec::new();
    for line in physical {
        assert!(line.len() <= 75, "line over 75 octets: {line:?}");
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "control character in {line:?}"
        );
        match line.strip_prefix(' ').or_else(|| line.strip_prefix('\t')) {
            Some(rest) => lines
                .last_mut()
                .expect("a folded line continues one")
                .push_str(rest),
            None => lines.push(line.to_owned()),
        }
    }
    for line in &lines {
        content_line(line);
    }
    lines
}

/// name *(";" name "=" param-value) ":" value, where a param-value is
/// quoted (no DQUOTE inside) or free of `";:,`.
fn content_line(line: &str) {
    let name_end = line.find([';', ':']).expect("a name and a value");
    let name = &line[..name_end];
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "bad name in {line:?}"
    );
    let mut rest = &line[name_end..];
    while let Some(param) = rest.strip_prefix(';') {
        let eq = param.find('=').expect("param=value");
        let pname = &param[..eq];
        assert!(
            pname
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        );
        let value = &param[eq + 1..];
        rest = if let Some(quoted) = value.strip_prefix('"') {
            let close = quoted.find('"').expect("closing quote");
            &quoted[close + 1..]
        } else {
            let end = value.find([';', ':']).expect("parameter ends");
            assert!(!value[..end].contains(['"', ',']), "unquoted {line:?}");
            &value[end..]
        };
    }
    assert!(rest.starts_with(':'), "value after parameters in {line:?}");
}

#[tokio::test]
async fn export_passes_a_strict_rfc_5545_reading_with_organizer_and_attendees() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
    ));
    let (server, _dir) = broker_server(clock).await;
    let mut bot = server.broker("bot").await;
    let hold = bot
        .place_hold(place(&PEOPLE, "ics"))
        .await
        .expect("placed")
        .into_inner();
    let text = bot
        .export_i_calendar(pb::ExportICalendarRequest {
            hold_id: hold.id.clone(),
        })
        .await
        .expect("exported")
        .into_inner()
        .icalendar;
    let lines = strict_lines(&text);
    let with = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert_eq!(with("VERSION:2.0"), 1);
    assert!(lines.contains(&format!("PRODID:{}", quorum::hold_broker::PRODID)));
    assert!(quorum::hold_broker::PRODID.contains("Quorum"));
    for required in ["UID:", "DTSTAMP:", "DTSTART:", "DTEND:", "STATUS:TENTATIVE"] {
        assert_eq!(with(required), 1, "{required} in {text}");
    }
    assert_eq!(with("ORGANIZER"), 1, "{text}");
    assert_eq!(with("ATTENDEE"), 3, "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("ATTENDEE")
            && l.ends_with(":urn:quorum:person:bj%C3%B6rn%20%C3%BCn%C3%AFc%C3%B6d%C3%A9")),
        "{text}"
    );
    // An independent reader agrees: one event, the attendees' addresses.
    let unfolded = icalendar::parser::unfold(&text);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("parses");
    assert_eq!(calendar.components.len(), 1);
    let event = &calendar.components[0];
    let attendees: Vec<_> = event
        .properties
        .iter()
        .filter(|p| p.name.as_str() == "ATTENDEE")
        .collect();
    assert_eq!(attendees.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn control_characters_in_any_field_are_refused_on_input() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
    ));
    let (server, _dir) = broker_server(clock).await;
    let mut bot = server.broker("bot").await;
    for (i, bad) in ["ana\r\nATTENDEE:evil", "nul\0", "esc\u{1b}[2J", "del\u{7f}"]
        .into_iter()
        .enumerate()
    {
        let mut request = place(&[bad], &format!("k{i}"));
        request.attendees[0].role_id = format!("role{bad}");
        let status = bot.place_hold(request).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
    }
    server.stop().await;
}
