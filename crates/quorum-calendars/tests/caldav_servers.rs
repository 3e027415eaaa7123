//! The CalDAV round trip against real servers: events of every kind that
//! matters (one-off, daily across New York's spring-forward, tentative,
//! transparent, cancelled, all-day) are PUT over CalDAV, then the busy time
//! Quorum reads back must equal the hand-derived intervals — from Radicale
//! with the free-busy REPORT, and from Xandikos both with the REPORT and
//! through the RFC 6638 scheduling outbox, which Quorum discovers (and finds
//! missing on Radicale).

#[path = "../../../tests/support/caldav_server.rs"]
mod caldav_server;

use chrono::{DateTime, TimeZone, Utc};
use quorum_calendars::{
    CaldavClient, CalendarRef, Credentials, FetchRequest, FreeBusyMethod, SourceConfig, SourceKind,
    Sources, SourcesConfig,
};
use quorum_domain::{BusyStatus, TimeRange};
use std::time::Duration;

/// RFC 5545 requires a VTIMEZONE for every TZID, and servers expand
/// recurrences with it (Radicale reads a TZID without one at a fixed offset),
/// so the test writes them as real clients do.
const ZONES: &str = "BEGIN:VTIMEZONE\nTZID:America/New_York\n\
    BEGIN:DAYLIGHT\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nTZNAME:EDT\nDTSTART:19700308T020000\n\
    RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\nEND:DAYLIGHT\n\
    BEGIN:STANDARD\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nTZNAME:EST\nDTSTART:19701101T020000\n\
    RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\nEND:STANDARD\nEND:VTIMEZONE\n\
    BEGIN:VTIMEZONE\nTZID:Europe/London\n\
    BEGIN:DAYLIGHT\nTZOFFSETFROM:+0000\nTZOFFSETTO:+0100\nTZNAME:BST\nDTSTART:19700329T010000\n\
    RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\n\
    BEGIN:STANDARD\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0000\nTZNAME:GMT\nDTSTART:19701025T020000\n\
    RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE\n";

fn event(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//quorum test//EN\r\n{ZONES}BEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260301T000000Z\r\nSUMMARY:private title {uid}\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .replace("\n", "\r\n")
    .replace("\r\r", "\r")
}

/// Puts the events into `calendar`, creating it first unless the server
/// already has it.
fn seed(client: &CaldavClient, calendar: &str, create: bool) {
    if create {
        client.make_calendar(calendar).expect("MKCALENDAR");
    }
    let events = [
        (
            "one-off",
            "DTSTART;TZID=Europe/London:20260303T140000\nDTEND;TZID=Europe/London:20260303T150000\n",
        ),
        (
            "daily-standup",
            "DTSTART;TZID=America/New_York:20260306T090000\nDTEND;TZID=America/New_York:20260306T093000\nRRULE:FREQ=DAILY;COUNT=4\n",
        ),
        (
            "tentative",
            "DTSTART:20260304T100000Z\nDTEND:20260304T110000Z\nSTATUS:TENTATIVE\n",
        ),
        (
            "transparent",
            "DTSTART:20260304T120000Z\nDTEND:20260304T130000Z\nTRANSP:TRANSPARENT\n",
        ),
        (
            "cancelled",
            "DTSTART:20260305T120000Z\nDTEND:20260305T130000Z\nSTATUS:CANCELLED\n",
        ),
        (
            "all-day",
            "DTSTART;VALUE=DATE:20260310\nDTEND;VALUE=DATE:20260311\n",
        ),
    ];
    for (uid, lines) in events {
        client
            .put(calendar, &format!("{uid}.ics"), &event(uid, lines))
            .expect("PUT");
    }
}

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
}

fn horizon() -> TimeRange {
    TimeRange::new(at(2, 0, 0), at(16, 0, 0))
}

/// Hand-derived: London is on GMT in early March; New York's 09:00 is 14:00Z
/// before 8 March (EST) and 13:00Z from it (EDT); both servers read the
/// floating all-day date in UTC; transparent and cancelled events add nothing.
fn expected() -> Vec<(TimeRange, BusyStatus)> {
    let busy = |a, b| (TimeRange::new(a, b), BusyStatus::Busy);
    vec![
        busy(at(3, 14, 0), at(3, 15, 0)),
        (
            TimeRange::new(at(4, 10, 0), at(4, 11, 0)),
            BusyStatus::Tentative,
        ),
        busy(at(6, 14, 0), at(6, 14, 30)),
        busy(at(7, 14, 0), at(7, 14, 30)),
        busy(at(8, 13, 0), at(8, 13, 30)),
        busy(at(9, 13, 0), at(9, 13, 30)),
        busy(at(10, 0, 0), at(11, 0, 0)),
    ]
}

fn client(server: &caldav_server::CaldavServer) -> CaldavClient {
    let credentials = Credentials {
        user: caldav_server::USER.into(),
        password: caldav_server::PASSWORD.into(),
    };
    CaldavClient::new(&server.base_url, Some(credentials), Duration::from_secs(30))
}

#[test]
fn free_busy_report_from_radicale_matches_hand_derived_busy_time() {
    let Some(server) = caldav_server::radicale("roundtrip") else {
        return;
    };
    let client = client(&server);
    seed(&client, "quorum/ana", true);
    let import = client
        .free_busy("quorum/ana", chrono_tz::Europe::London, horizon())
        .expect("free-busy REPORT");
    let got: Vec<_> = import.busy.iter().map(|b| (b.range, b.status)).collect();
    assert_eq!(got, expected());
    assert!(!format!("{import:?}").contains("private title"));
}

#[test]
fn a_configured_caldav_source_reads_the_same_busy_time_and_refuses_wrong_credentials() {
    let Some(server) = caldav_server::radicale("source") else {
        return;
    };
    seed(&client(&server), "quorum/ana", true);
    std::fs::write(
        server.dir.join("creds"),
        format!("{}:{}\n", caldav_server::USER, caldav_server::PASSWORD),
    )
    .unwrap();
    std::fs::write(
        server.dir.join("wrong"),
        format!("{}:not-the-password\n", caldav_server::USER),
    )
    .unwrap();
    let source = |name: &str, file: &str| SourceConfig {
        name: name.into(),
        kind: SourceKind::Caldav {
            base_url: server.base_url.clone(),
            credentials_file: Some(file.into()),
            free_busy: FreeBusyMethod::Report,
        },
        timeout_ms: 30_000,
    };
    let config = SourcesConfig {
        cache_ttl_seconds: 60,
        sources: vec![source("team", "creds"), source("stale", "wrong")],
    };
    let sources = Sources::from_config(config, &server.dir).unwrap();
    let request = |source: &str| FetchRequest {
        person: "ana".into(),
        zone: chrono_tz::Europe::London,
        calendar: CalendarRef {
            source: source.into(),
            calendar: "quorum/ana".into(),
        },
    };
    let outcomes = sources.fetch_all(
        vec![request("team"), request("stale")],
        horizon(),
        Utc::now(),
    );
    let fetched = outcomes[0]
        .result
        .as_ref()
        .expect("the team source answers");
    let got: Vec<_> = fetched
        .import
        .busy
        .iter()
        .map(|b| (b.range, b.status))
        .collect();
    assert_eq!(got, expected());
    let err = outcomes[1].result.as_ref().unwrap_err().to_string();
    assert!(err.contains("\"stale\"") && err.contains("401"), "{err}");
}

const ANA: &str = "mailto:ana@example.test";

/// A source on `server` asking busy time the way `method` says.
fn sources_on(server: &caldav_server::CaldavServer, method: FreeBusyMethod) -> Sources {
    let config = SourcesConfig {
        cache_ttl_seconds: 0,
        sources: vec![SourceConfig {
            name: "team".into(),
            kind: SourceKind::Caldav {
                base_url: server.base_url.clone(),
                credentials_file: None,
                free_busy: method,
            },
            timeout_ms: 30_000,
        }],
    };
    Sources::from_config(config, &server.dir).unwrap()
}

fn read(sources: &Sources, calendar: &str) -> Result<Vec<(TimeRange, BusyStatus)>, String> {
    let request = FetchRequest {
        person: "ana".into(),
        zone: chrono_tz::Europe::London,
        calendar: CalendarRef {
            source: "team".into(),
            calendar: calendar.into(),
        },
    };
    sources
        .fetch(&request, horizon(), Utc::now())
        .map(|f| f.import.busy.iter().map(|b| (b.range, b.status)).collect())
        .map_err(|e| e.to_string())
}

#[test]
fn the_scheduling_outbox_of_xandikos_answers_with_the_hand_derived_busy_time() {
    let Some(server) = caldav_server::xandikos("outbox", "ana@example.test") else {
        return;
    };
    let anonymous = CaldavClient::new(&server.base_url, None, Duration::from_secs(30));
    seed(&anonymous, caldav_server::XANDIKOS_CALENDAR, false);
    // Discovery: the principal advertises its outbox and its own address.
    let outbox = anonymous.outbox().expect("PROPFIND").expect("an outbox");
    assert_eq!(outbox.url, format!("{}/ana/outbox", server.base_url));
    assert_eq!(outbox.organizer, ANA);

    for method in [FreeBusyMethod::Outbox, FreeBusyMethod::Auto] {
        let sources = sources_on(&server, method);
        assert_eq!(read(&sources, ANA), Ok(expected()), "{method:?}");
    }
    // The same calendar read with the REPORT agrees.
    let report = sources_on(&server, FreeBusyMethod::Auto);
    assert_eq!(
        read(&report, caldav_server::XANDIKOS_CALENDAR),
        Ok(expected())
    );
    // An address the server has no authority for is an error, never free.
    let err = read(&report, "mailto:bo@example.test").unwrap_err();
    assert!(err.contains("\"team\"") && err.contains("3.8"), "{err}");
}

#[test]
fn radicale_has_no_outbox_so_auto_serves_paths_and_refuses_addresses() {
    let Some(server) = caldav_server::radicale("no-outbox") else {
        return;
    };
    let client = client(&server);
    seed(&client, "quorum/ana", true);
    assert_eq!(client.outbox(), Ok(None));
    std::fs::write(
        server.dir.join("creds"),
        format!("{}:{}\n", caldav_server::USER, caldav_server::PASSWORD),
    )
    .unwrap();
    let config = SourcesConfig {
        cache_ttl_seconds: 0,
        sources: vec![SourceConfig {
            name: "team".into(),
            kind: SourceKind::Caldav {
                base_url: server.base_url.clone(),
                credentials_file: Some("creds".into()),
                free_busy: FreeBusyMethod::Auto,
            },
            timeout_ms: 30_000,
        }],
    };
    let sources = Sources::from_config(config, &server.dir).unwrap();
    assert_eq!(read(&sources, "quorum/ana"), Ok(expected()));
    let err = read(&sources, ANA).unwrap_err();
    assert!(
        err.contains("no scheduling outbox") && err.contains("REPORT"),
        "{err}"
    );
}
