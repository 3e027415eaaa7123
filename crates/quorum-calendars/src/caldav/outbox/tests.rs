use super::*;
use chrono::TimeZone;
use quorum_domain::BusyStatus;
use std::time::Duration;

fn horizon() -> TimeRange {
    TimeRange::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 16, 0, 0, 0).unwrap(),
    )
}

/// The shape Xandikos 0.4 answers with: one response per recipient, the
/// reply as text (here with an escaped `&` to prove it is unescaped), and
/// RFC 6638's "no authority" for an address it does not own.
const ANSWER: &str = "<ns0:schedule-response xmlns:ns0=\"urn:ietf:params:xml:ns:caldav\" xmlns:ns1=\"DAV:\">\
<ns0:response><ns0:recipient><ns1:href>mailto:ana@example.test</ns1:href></ns0:recipient>\
<ns0:request-status>2.0;Success</ns0:request-status><ns0:calendar-data>BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
PRODID:-//x &amp; y//EN\r\nMETHOD:REPLY\r\nBEGIN:VFREEBUSY\r\nATTENDEE:mailto:ana@example.test\r\n\
DTSTART:20260302T000000Z\r\nDTEND:20260316T000000Z\r\nFREEBUSY;VALUE=PERIOD:20260303T140000Z/20260303T150000Z\r\n\
FREEBUSY;FBTYPE=BUSY-TENTATIVE;VALUE=PERIOD:20260304T100000Z/20260304T1100\r\n 00Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n\
</ns0:calendar-data></ns0:response>\
<ns0:response><ns0:recipient><ns1:href>mailto:bo@example.test</ns1:href></ns0:recipient>\
<ns0:request-status>3.8;No authority</ns0:request-status></ns0:response></ns0:schedule-response>";

#[test]
fn the_recipients_reply_is_read_from_the_schedule_response() {
    let text = reply_for(ANSWER, "MAILTO:ana@example.test").unwrap();
    assert!(text.contains("PRODID:-//x & y//EN"), "{text}");
    let import = import_ics(&text, &IcsOptions::new(chrono_tz::UTC, horizon())).unwrap();
    let got: Vec<_> = import
        .busy
        .iter()
        .map(|b| (b.range.start.format("%d %H:%M").to_string(), b.status))
        .collect();
    assert_eq!(
        got,
        [
            ("03 14:00".to_string(), BusyStatus::Busy),
            ("04 10:00".to_string(), BusyStatus::Tentative)
        ]
    );
}

#[test]
fn a_recipient_the_server_cannot_answer_for_is_an_error_not_free_time() {
    let err = reply_for(ANSWER, "mailto:bo@example.test").unwrap_err();
    assert!(err.contains("3.8;No authority"), "{err}");
    let err = reply_for(ANSWER, "mailto:cy@example.test").unwrap_err();
    assert!(
        err.contains("no response for mailto:cy@example.test"),
        "{err}"
    );
    assert!(reply_for("not xml", "mailto:ana@example.test").is_err());
}

#[test]
fn a_reply_with_no_periods_is_free_over_its_span() {
    let text = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VFREEBUSY\r\nDTSTART:20260302T000000Z\r\n\
                DTEND:20260316T000000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    let import = import_ics(text, &IcsOptions::new(chrono_tz::UTC, horizon())).unwrap();
    assert!(import.busy.is_empty(), "{:?}", import.busy);
}

#[test]
fn discovery_reads_only_properties_the_server_has() {
    // Radicale lists the outbox it lacks under a 404 propstat.
    let radicale = "<?xml version='1.0' encoding='utf-8'?>\n<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
        <response><href>/quorum/</href><propstat><prop><C:schedule-outbox-URL /></prop><status>HTTP/1.1 404 Not Found</status></propstat>\
        <propstat><prop><C:calendar-user-address-set><href>/quorum/</href></C:calendar-user-address-set></prop>\
        <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
    assert_eq!(
        first_href(radicale, CALDAV, "schedule-outbox-URL").unwrap(),
        None
    );
    assert_eq!(
        hrefs(radicale, CALDAV, "calendar-user-address-set").unwrap(),
        ["/quorum/"]
    );
    let xandikos = "<ns0:multistatus xmlns:ns0=\"DAV:\" xmlns:ns1=\"urn:ietf:params:xml:ns:caldav\"><ns0:response>\
        <ns0:href>/ana/</ns0:href><ns0:propstat><ns0:status>HTTP/1.1 200 OK</ns0:status><ns0:prop>\
        <ns1:schedule-outbox-URL><ns0:href>/ana/outbox</ns0:href></ns1:schedule-outbox-URL>\
        </ns0:prop></ns0:propstat></ns0:response></ns0:multistatus>";
    assert_eq!(
        first_href(xandikos, CALDAV, "schedule-outbox-URL").unwrap(),
        Some("/ana/outbox".to_string())
    );
}

#[test]
fn urls_the_server_names_must_stay_on_the_sources_origin() {
    let client = CaldavClient::new("http://127.0.0.1:5232/dav", None, Duration::from_secs(1));
    assert_eq!(
        client.same_origin("/ana/outbox").unwrap(),
        "http://127.0.0.1:5232/ana/outbox"
    );
    assert_eq!(
        client.same_origin("http://127.0.0.1:5232/x/").unwrap(),
        "http://127.0.0.1:5232/x/"
    );
    for elsewhere in [
        "//evil.example/outbox",
        "http://evil.example/outbox",
        "http://127.0.0.1:9999/outbox",
        "https://127.0.0.1:5232/outbox",
        "outbox",
    ] {
        assert!(client.same_origin(elsewhere).is_err(), "{elsewhere}");
    }
}

#[test]
fn attendee_addresses_are_plain_mailto_addresses() {
    assert!(attendee_address("mailto:ana@example.test").is_ok());
    assert!(attendee_address("MAILTO:a.n+a@ex-ample.test").is_ok());
    for bad in [
        "ana@example.test",
        "mailto:",
        "mailto:ana",
        "mailto:@example.test",
        "mailto:ana@",
        "mailto:a@b@c",
        "mailto:ana@example.test\r\nATTENDEE:mailto:bo@example.test",
        "mailto:ana@example.test;X=1",
        "mailto:ana@example.test:x",
    ] {
        assert!(attendee_address(bad).is_err(), "{bad:?}");
    }
    assert!(is_address("Mailto:x") && !is_address("quorum/ana"));
}

#[test]
fn the_request_asks_about_one_attendee_over_the_horizon() {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let text = free_busy_request(
        "mailto:quorum@example.test",
        "mailto:ana@example.test",
        horizon(),
        now,
    );
    for line in [
        "METHOD:REQUEST",
        "DTSTART:20260302T000000Z",
        "DTEND:20260316T000000Z",
        "ORGANIZER:mailto:quorum@example.test",
        "ATTENDEE:mailto:ana@example.test",
    ] {
        assert!(text.contains(&format!("{line}\r\n")), "{line} in {text}");
    }
    assert!(!text.replace("\r\n", "").contains('\n'));
}
