//! FindSlots over the wire with people whose busy time comes from a
//! configured CalDAV source (a real Radicale, started by the test): the
//! slots must equal those of the same request with the hand-derived busy
//! time inline; the response says where each person's busy time came from;
//! a failing source is UNAVAILABLE naming source and person, or (when the
//! request allows it) makes that person unavailable, never free. The same
//! equality holds for a person read through a scheduling outbox (a real
//! Xandikos, by calendar user address).

#[path = "support/caldav_server.rs"]
mod caldav_server;
mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::TestServer;
use quorum::calendar_sources::CalendarReader;
use quorum::convert::to_timestamp;
use quorum::pb;
use quorum::server::ServerConfig;
use quorum_calendars::{CaldavClient, Credentials, Sources};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

type Client = pb::slot_finder_client::SlotFinderClient<tonic::transport::Channel>;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
}

fn ics(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//quorum test//EN\nBEGIN:VEVENT\nUID:{uid}\n\
         DTSTAMP:20260301T000000Z\nSUMMARY:private {uid}\n{lines}END:VEVENT\nEND:VCALENDAR\n"
    )
    .replace('\n', "\r\n")
}

/// Ana (London) is busy Mon 9 March 09:00-11:00 GMT and tentatively
/// 13:00-14:00; Bo (New York, EDT since the 8th) is busy 10:00-12:00 EDT
/// (14:00-16:00Z) and has a cancelled meeting that must not block.
fn seed(client: &CaldavClient) {
    client.make_calendar("quorum/ana").expect("MKCALENDAR ana");
    client.make_calendar("quorum/bo").expect("MKCALENDAR bo");
    seed_ana(client, "quorum/ana");
    let put = |cal: &str, uid: &str, lines: &str| {
        client
            .put(cal, &format!("{uid}.ics"), &ics(uid, lines))
            .expect("PUT")
    };
    put(
        "quorum/bo",
        "b1",
        "DTSTART:20260309T140000Z\nDTEND:20260309T160000Z\n",
    );
    put(
        "quorum/bo",
        "b2",
        "DTSTART:20260309T160000Z\nDTEND:20260309T170000Z\nSTATUS:CANCELLED\n",
    );
}

fn seed_ana(client: &CaldavClient, calendar: &str) {
    let put = |uid: &str, lines: &str| {
        client
            .put(calendar, &format!("{uid}.ics"), &ics(uid, lines))
            .expect("PUT")
    };
    put("a1", "DTSTART:20260309T090000Z\nDTEND:20260309T110000Z\n");
    put(
        "a2",
        "DTSTART:20260309T130000Z\nDTEND:20260309T140000Z\nSTATUS:TENTATIVE\n",
    );
}

fn inline_busy() -> Vec<(&'static str, Vec<pb::BusyInterval>)> {
    let busy = |a, b, status: pb::BusyStatus| pb::BusyInterval {
        start: Some(to_timestamp(a)),
        end: Some(to_timestamp(b)),
        status: status.into(),
    };
    vec![
        (
            "ana",
            vec![
                busy(at(9, 9, 0), at(9, 11, 0), pb::BusyStatus::Busy),
                busy(at(9, 13, 0), at(9, 14, 0), pb::BusyStatus::Tentative),
            ],
        ),
        (
            "bo",
            vec![busy(at(9, 14, 0), at(9, 16, 0), pb::BusyStatus::Busy)],
        ),
    ]
}

fn person(id: &str, zone: &str, calendars: Vec<pb::CalendarSourceRef>) -> pb::Person {
    let hours = |weekday: pb::Weekday| pb::WorkingHours {
        weekday: weekday.into(),
        start: "08:00".into(),
        end: "18:00".into(),
    };
    pb::Person {
        id: id.into(),
        time_zone: zone.into(),
        working_hours: vec![hours(pb::Weekday::Monday), hours(pb::Weekday::Tuesday)],
        calendars,
        ..Default::default()
    }
}

fn calendar(source: &str, id: &str) -> pb::CalendarSourceRef {
    pb::CalendarSourceRef {
        source: source.into(),
        calendar: id.into(),
    }
}

/// Release manager Ana and SRE Bo on Monday 9 March; a stand-in `cy` may
/// also be SRE (used when Bo's calendar cannot be read).
fn request(
    ana: Vec<pb::CalendarSourceRef>,
    bo: Vec<pb::CalendarSourceRef>,
) -> pb::FindSlotsRequest {
    let role = |id: &str, pool: &[&str]| pb::RequiredRole {
        id: id.into(),
        name: id.into(),
        pool: pool.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    pb::FindSlotsRequest {
        change_ticket: "CHG-CAL".into(),
        horizon: Some(pb::TimeRange {
            start: Some(to_timestamp(at(9, 0, 0))),
            end: Some(to_timestamp(at(10, 0, 0))),
        }),
        bucket_minutes: 30,
        meeting_minutes: 60,
        roles: vec![role("rm", &["ana"]), role("sre", &["bo", "cy"])],
        people: vec![
            person("ana", "Europe/London", ana),
            person("bo", "America/New_York", bo),
            person("cy", "America/New_York", Vec::new()),
        ],
        top_k: 20,
        ..Default::default()
    }
}

fn slots(response: &pb::FindSlotsResponse) -> Vec<(i64, Vec<String>)> {
    response
        .slots
        .iter()
        .map(|s| {
            (
                s.start.as_ref().map_or(0, |t| t.seconds),
                s.assignments.iter().map(|a| a.person_id.clone()).collect(),
            )
        })
        .collect()
}

async fn start() -> Option<(caldav_server::CaldavServer, TestServer, Client)> {
    let server = caldav_server::radicale("wire")?;
    let credentials = Credentials {
        user: caldav_server::USER.into(),
        password: caldav_server::PASSWORD.into(),
    };
    seed(&CaldavClient::new(
        &server.base_url,
        Some(credentials),
        Duration::from_secs(30),
    ));
    std::fs::write(
        server.dir.join("team.credentials"),
        format!("{}:{}\n", caldav_server::USER, caldav_server::PASSWORD),
    )
    .unwrap();
    std::fs::write(
        server.dir.join("stale.credentials"),
        format!("{}:expired\n", caldav_server::USER),
    )
    .unwrap();
    let sources = serde_json::json!({
        "cache_ttl_seconds": 300,
        "sources": [
            {"name": "team", "kind": "caldav", "base_url": server.base_url, "credentials_file": "team.credentials"},
            {"name": "stale", "kind": "caldav", "base_url": server.base_url, "credentials_file": "stale.credentials"}
        ]
    });
    let (quorum, client) = serve_with_sources(&server.dir, sources).await;
    Some((server, quorum, client))
}

fn set_busy(request: &mut pb::FindSlotsRequest, id: &str, busy: Vec<pb::BusyInterval>) {
    request.people.iter_mut().find(|p| p.id == id).unwrap().busy = busy;
}

/// Quorum serving with the sources file `sources`, written into `dir`.
async fn serve_with_sources(
    dir: &std::path::Path,
    sources: serde_json::Value,
) -> (TestServer, Client) {
    let path = dir.join("sources.json");
    std::fs::write(&path, sources.to_string()).unwrap();
    let reader = CalendarReader {
        sources: Arc::new(Sources::load(&path).expect("sources")),
        clock: Arc::new(quorum_domain::SystemClock),
    };
    let config = ServerConfig {
        calendar_sources: Some(reader),
        ..ServerConfig::default()
    };
    let quorum = TestServer::start(config).await;
    let client = Client::new(quorum.channel().await);
    (quorum, client)
}

#[tokio::test]
async fn slots_from_a_scheduling_outbox_equal_slots_with_the_busy_time_inline() {
    // Xandikos answers the RFC 6638 outbox POST for its principal, Ana.
    let Some(server) = caldav_server::xandikos("wire", "ana@example.test") else {
        return;
    };
    let xandikos = CaldavClient::new(&server.base_url, None, Duration::from_secs(30));
    seed_ana(&xandikos, caldav_server::XANDIKOS_CALENDAR);
    let sources = serde_json::json!({
        "sources": [{"name": "scheduling", "kind": "caldav", "base_url": server.base_url, "free_busy": "outbox"}]
    });
    let (_quorum, mut client) = serve_with_sources(&server.dir, sources).await;

    let mut from_outbox = request(
        vec![calendar("scheduling", "mailto:ana@example.test")],
        Vec::new(),
    );
    // Bo's busy time is inline in both; only Ana's differs in where it is.
    let mut inline = request(Vec::new(), Vec::new());
    for (id, busy) in inline_busy() {
        if id == "bo" {
            set_busy(&mut from_outbox, id, busy.clone());
        }
        set_busy(&mut inline, id, busy);
    }
    let got = client
        .find_slots(from_outbox)
        .await
        .expect("solved")
        .into_inner();
    let expected = client
        .find_slots(inline)
        .await
        .expect("solved")
        .into_inner();
    assert!(!got.slots.is_empty());
    assert_eq!(slots(&got), slots(&expected));
    let ana = &got.calendar_provenance[0];
    assert_eq!(
        (ana.person_id.as_str(), ana.state(), ana.busy_intervals),
        ("ana", pb::CalendarReadState::Fetched, 2)
    );
}

#[tokio::test]
async fn slots_from_a_caldav_source_equal_slots_with_the_busy_time_inline() {
    let Some((_radicale, _quorum, mut client)) = start().await else {
        return;
    };
    let from_calendars = request(
        vec![calendar("team", "quorum/ana")],
        vec![calendar("team", "quorum/bo")],
    );
    let first = client
        .find_slots(from_calendars.clone())
        .await
        .expect("solved")
        .into_inner();

    let mut inline = request(Vec::new(), Vec::new());
    for (id, busy) in inline_busy() {
        inline.people.iter_mut().find(|p| p.id == id).unwrap().busy = busy;
    }
    let expected = client
        .find_slots(inline)
        .await
        .expect("solved")
        .into_inner();
    assert_eq!(slots(&first), slots(&expected));
    assert!(!first.slots.is_empty());
    // The busy time matters: without it the best slot would be earlier.
    let free = client
        .find_slots(request(Vec::new(), Vec::new()))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(slots(&free), slots(&first));

    let provenance: Vec<_> = first
        .calendar_provenance
        .iter()
        .map(|p| {
            (
                p.person_id.as_str(),
                p.source.as_str(),
                p.calendar.as_str(),
                p.state(),
                p.busy_intervals,
                p.fetched_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        provenance,
        [
            (
                "ana",
                "team",
                "quorum/ana",
                pb::CalendarReadState::Fetched,
                2,
                true
            ),
            (
                "bo",
                "team",
                "quorum/bo",
                pb::CalendarReadState::Fetched,
                1,
                true
            ),
        ]
    );
    let again = client
        .find_slots(from_calendars)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.calendar_provenance[0].state(),
        pb::CalendarReadState::Cached
    );
    assert_eq!(
        again.calendar_provenance[0].fetched_at,
        first.calendar_provenance[0].fetched_at
    );
    assert_eq!(slots(&again), slots(&first));
}

#[tokio::test]
async fn an_unreadable_calendar_fails_the_call_or_makes_the_person_unavailable() {
    let Some((_radicale, _quorum, mut client)) = start().await else {
        return;
    };
    let stale = request(
        vec![calendar("team", "quorum/ana")],
        vec![calendar("stale", "quorum/bo")],
    );
    let status = client.find_slots(stale.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("bo") && status.message().contains("\"stale\""),
        "{}",
        status.message()
    );

    let mut proceed = stale;
    proceed.proceed_without_unreadable_calendars = true;
    let response = client
        .find_slots(proceed)
        .await
        .expect("solved without bo")
        .into_inner();
    assert!(!response.slots.is_empty());
    assert!(
        slots(&response)
            .iter()
            .all(|(_, people)| !people.contains(&"bo".to_string())),
        "{:?}",
        slots(&response)
    );
    let bo = &response.calendar_provenance[1];
    assert_eq!(
        (bo.person_id.as_str(), bo.state()),
        ("bo", pb::CalendarReadState::Unreadable)
    );
    assert!(bo.error.contains("401"), "{}", bo.error);
}

#[tokio::test]
async fn calendars_must_name_configured_sources_and_ids_inside_them() {
    let Some((_radicale, _quorum, mut client)) = start().await else {
        return;
    };
    let bad = request(
        vec![calendar("elsewhere", "quorum/ana")],
        vec![calendar("team", "../../etc")],
    );
    let status = client.find_slots(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = common::violated_fields(&status);
    assert_eq!(
        fields,
        [
            "people[0].calendars[0].source",
            "people[1].calendars[0].calendar"
        ]
    );
}

#[tokio::test]
async fn a_server_without_sources_refuses_requests_that_name_calendars() {
    let quorum = TestServer::start(ServerConfig::default()).await;
    let mut client = Client::new(quorum.channel().await);
    let status = client
        .find_slots(request(vec![calendar("team", "quorum/ana")], Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("no calendar sources"),
        "{}",
        status.message()
    );
}

/// Calendars are read before a solver permit is taken: with one permit, a
/// call waiting on a calendar server that never answers must not keep a
/// second call from being solved.
#[tokio::test]
async fn a_call_waiting_on_a_calendar_holds_no_solver_permit() {
    // A "calendar server" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap();
    let dir = std::env::temp_dir().join(format!("quorum-slow-calendar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sources.json");
    let sources = serde_json::json!({
        "sources": [{"name": "slow", "kind": "caldav", "base_url": format!("http://{address}/"), "timeout_ms": 10_000}]
    });
    std::fs::write(&path, sources.to_string()).unwrap();
    let config = ServerConfig {
        concurrent_solves: 1,
        calendar_sources: Some(CalendarReader {
            sources: Arc::new(Sources::load(&path).expect("sources")),
            clock: Arc::new(quorum_domain::SystemClock),
        }),
        ..ServerConfig::default()
    };
    let quorum = TestServer::start(config).await;
    let client = Client::new(quorum.channel().await);

    let mut waiting_client = client.clone();
    let waiting = tokio::spawn(async move {
        let slow = request(vec![calendar("slow", "ana/work")], Vec::new());
        waiting_client.find_slots(slow).await
    });
    // Once the server has connected, the first call is reading its calendar.
    let (connection, _) = tokio::task::spawn_blocking(move || silent.accept())
        .await
        .unwrap()
        .expect("the server connects to the calendar source");
    let solved = client
        .clone()
        .find_slots(request(Vec::new(), Vec::new()))
        .await
        .expect("solved while the other call waits on its calendar");
    assert!(!solved.into_inner().slots.is_empty());
    assert!(
        !waiting.is_finished(),
        "the calendar call ended first, so the second call waited for it"
    );
    drop(connection);
    let status = waiting.await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
