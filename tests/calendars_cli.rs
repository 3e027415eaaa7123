//! `quorum calendars import` against the worked examples in
//! `tests/data/calendars/` (the README's), run as the real binary: the
//! printed `people` entries must carry the hand-derived busy time and
//! working hours, and skipped items must be reported on stderr.

use serde_json::{Value, json};
use std::process::Command;

fn import(file: &str, extra: &[&str]) -> (Value, String) {
    let path = format!("{}/tests/data/calendars/{file}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args([
            "calendars",
            "import",
            &path,
            "--from",
            "2026-03-23T00:00:00Z",
            "--to",
            "2026-03-28T00:00:00Z",
        ])
        .args(extra)
        .output()
        .expect("the quorum binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (
        serde_json::from_slice(&output.stdout).expect("JSON on stdout"),
        stderr,
    )
}

fn busy(start: &str, end: &str, status: &str) -> Value {
    json!({ "start": start, "end": end, "status": status })
}

#[test]
fn an_ics_file_becomes_a_people_entry_with_busy_time_and_working_hours() {
    let (out, stderr) = import(
        "sec-ivy.ics",
        &["--zone", "Europe/Berlin", "--person", "sec-ivy"],
    );
    let person = &out["people"][0];
    assert_eq!(person["id"], "sec-ivy");
    assert_eq!(person["timeZone"], "Europe/Berlin");
    // Berlin is on CET (+01:00) all week: the 09:30 standup is 08:30Z, except
    // the excluded Wednesday; the all-day leave on Friday runs from local
    // midnight (23:00Z on Thursday); the transparent focus block adds nothing.
    assert_eq!(
        person["busy"],
        json!([
            busy("2026-03-23T08:30:00Z", "2026-03-23T08:45:00Z", "BUSY"),
            busy("2026-03-24T08:30:00Z", "2026-03-24T08:45:00Z", "BUSY"),
            busy("2026-03-26T08:30:00Z", "2026-03-26T08:45:00Z", "BUSY"),
            busy("2026-03-26T13:00:00Z", "2026-03-26T14:30:00Z", "TENTATIVE"),
            busy("2026-03-26T23:00:00Z", "2026-03-27T23:00:00Z", "BUSY"),
            busy("2026-03-27T08:30:00Z", "2026-03-27T08:45:00Z", "BUSY"),
        ])
    );
    assert_eq!(person["workingHours"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        person["workingHours"][0],
        json!({ "weekday": "MONDAY", "start": "09:00", "end": "17:30" })
    );
    assert!(
        stderr.contains("UID ivy-focus") && stderr.contains("TRANSPARENT"),
        "{stderr}"
    );
    let everything = format!("{out}{stderr}");
    assert!(!everything.contains("Security standup") && !everything.contains("Vendor review"));
}

#[test]
fn graph_google_and_pagerduty_responses_become_people_entries() {
    let (graph, _) = import("graph-schedule.json", &[]);
    let ana = &graph["people"][0];
    assert_eq!(ana["id"], "rm-ana@contoso.com");
    assert_eq!(ana["timeZone"], "America/Los_Angeles");
    // 24 March 2026 is after the US change: Pacific Daylight Time, -07:00.
    assert_eq!(
        ana["busy"],
        json!([
            busy("2026-03-24T19:00:00Z", "2026-03-24T21:00:00Z", "BUSY"),
            busy(
                "2026-03-26T07:00:00Z",
                "2026-03-27T07:00:00Z",
                "OUT_OF_OFFICE"
            ),
        ])
    );
    assert!(!graph.to_string().contains("Harry"));

    let (google, _) = import("google-freebusy.json", &[]);
    assert_eq!(google["people"][0]["id"], "so-dara@example.com");
    assert_eq!(
        google["people"][0]["busy"],
        json!([
            busy("2026-03-23T09:00:00Z", "2026-03-23T10:30:00Z", "BUSY"),
            busy("2026-03-24T13:00:00Z", "2026-03-24T14:00:00Z", "BUSY"),
        ])
    );

    let (oncalls, _) = import("pagerduty-oncalls.json", &["--level", "1"]);
    assert_eq!(
        oncalls["onCallShifts"],
        json!([{ "personId": "PT23IWX", "escalationLevel": 1, "start": "2026-03-23T08:00:00Z", "end": "2026-03-24T08:00:00Z" }])
    );
    assert_eq!(oncalls["people"][0]["id"], "PT23IWX");
}

#[test]
fn a_calendar_the_source_could_not_answer_for_fails_instead_of_printing_free() {
    let dir = std::env::temp_dir().join(format!("quorum-cli-google-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("google.json");
    std::fs::write(&file, r#"{"calendars":{"ghost@example.com":{"errors":[{"domain":"global","reason":"notFound"}]}}}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(["calendars", "import"])
        .arg(&file)
        .args([
            "--from",
            "2026-03-23T00:00:00Z",
            "--to",
            "2026-03-28T00:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ghost@example.com") && stderr.contains("notFound"),
        "{stderr}"
    );
}

#[test]
fn fetch_reads_a_configured_source_and_prints_the_same_entries_as_import() {
    let dir = std::env::temp_dir().join(format!("quorum-cli-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sources = dir.join("sources.json");
    let data = format!("{}/tests/data/calendars", env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        &sources,
        json!({ "sources": [{ "name": "files", "kind": "ics_directory", "path": data }] })
            .to_string(),
    )
    .unwrap();
    let run = |person: &str| {
        Command::new(env!("CARGO_BIN_EXE_quorum"))
            .args(["calendars", "fetch", "--sources"])
            .arg(&sources)
            .args([
                "--source",
                "files",
                "--person",
                person,
                "--zone",
                "Europe/Berlin",
            ])
            .args([
                "--from",
                "2026-03-23T00:00:00Z",
                "--to",
                "2026-03-28T00:00:00Z",
            ])
            .output()
            .unwrap()
    };
    let output = run("sec-ivy=sec-ivy.ics");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fetched: Value = serde_json::from_slice(&output.stdout).unwrap();
    let (imported, _) = import(
        "sec-ivy.ics",
        &["--zone", "Europe/Berlin", "--person", "sec-ivy"],
    );
    assert_eq!(fetched, imported);

    let refused = run("sec-ivy=../sources.json");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not allowed"));
}
