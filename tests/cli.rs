//! The command line as a new user meets it, run as the real binary: bare
//! host:port servers and a server that is not there, standard input and the
//! `--top-k`/`--explain` flags, every violation named as the JSON spells it,
//! zone hints, quiet broken pipes, `--listen localhost:…`, and `load` failing
//! loudly when its requests fail.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

fn quorum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quorum"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

/// `quorum serve --slots-only --listen <listen>`, and the address it logged.
fn serve(listen: &str) -> (Child, String) {
    serve_with(&["--slots-only", "--listen", listen])
}

/// `quorum serve` with both services on a store in `dir`.
fn serve_both(dir: &std::path::Path) -> (Child, String) {
    let store = dir.join("holds.db").display().to_string();
    serve_with(&["--listen", "127.0.0.1:0", "--store", &store])
}

fn serve_with(args: &[&str]) -> (Child, String) {
    let mut child = quorum()
        .args(["serve", "--log-json"])
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let address = loop {
        let line = lines.next().expect("a log line").expect("readable");
        let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(a) = json.pointer("/fields/address").and_then(|a| a.as_str()) {
            break a.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

fn fixture(name: &str) -> String {
    common::fixture_path(name).display().to_string()
}

#[test]
fn a_bare_host_and_port_reaches_a_server_listening_on_localhost() {
    let (mut server, address) = serve("localhost:0");
    let out = run(quorum()
        .args(["find-slots", &fixture("back-to-back-busy.json")])
        .args(["--server", &address]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("#1"), "{}", text(&out.stdout));
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_server_that_is_down_is_named_with_the_command_to_start_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = run(quorum()
        .args(["find-slots", &fixture("back-to-back-busy.json")])
        .args(["--server", &format!("127.0.0.1:{port}")]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(stderr.contains("quorum serve"), "{stderr}");
}

#[test]
fn standard_input_and_the_top_k_and_explain_flags() {
    let mut child = quorum()
        .args(["find-slots", "-", "--top-k", "1", "--explain", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let request = std::fs::read(fixture("identity-cutover.json")).expect("fixture");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&request)
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["slots"].as_array().map(Vec::len), Some(1));
    assert!(
        json["rejectedStarts"]["groups"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{json}"
    );
}

#[test]
fn every_violation_is_printed_with_the_json_field_name() {
    let mut request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("identity-cutover.json")).unwrap())
            .unwrap();
    let people = request["people"].as_array_mut().unwrap();
    for person in people.iter_mut().take(4) {
        person["timeZone"] = "Mars/Olympus".into();
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bad.json");
    std::fs::write(&path, request.to_string()).expect("write");
    let out = run(quorum().arg("find-slots").arg(&path));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    for i in 0..4 {
        let line = format!("people[{i}].timeZone (people[{i}].time_zone)");
        assert!(stderr.contains(&line), "{line} missing from {stderr}");
    }
    assert!(!stderr.contains("more)"), "nothing is left out: {stderr}");
}

#[test]
fn a_zone_that_is_not_iana_gets_a_hint() {
    let out = run(quorum()
        .args(["find-slots", &fixture("back-to-back-busy.json")])
        .args(["--zone", "Berlin"]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("IANA") && stderr.contains("Europe/Berlin"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let mut child = quorum()
        .args([
            "find-slots",
            &fixture("bench/large.json"),
            "--explain",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Close the reading end before the answer is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exits");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}

#[test]
fn load_fails_loudly_when_its_requests_fail() {
    let (mut server, address) = serve("127.0.0.1:0");
    let mut request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("back-to-back-busy.json")).unwrap())
            .unwrap();
    request["meetingMinutes"] = 0.into();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("invalid.json");
    std::fs::write(&path, request.to_string()).expect("write");
    let out = run(quorum().arg("load").arg(&path).args([
        "--server",
        &address,
        "--concurrency",
        "2",
        "--requests",
        "4",
    ]));
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("4 of 4 requests failed"), "{stderr}");
    assert!(
        stderr.contains("meeting"),
        "the first error is shown: {stderr}"
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn find_slots_hold_places_the_hold_for_every_attendee_of_slot_n() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, address) = serve_both(dir.path());
    // Holds are only for slots to come: the fixture, moved whole weeks ahead
    // of today so its weekdays and hours stay as they are.
    let file = dir.path().join("future.json").display().to_string();
    std::fs::write(&file, weeks_ahead(&fixture("identity-cutover.json"))).expect("write");
    let local = run(quorum().args(["find-slots", &file, "--json"]));
    let answer: serde_json::Value = serde_json::from_slice(&local.stdout).expect("JSON");
    let second = &answer["slots"][1];
    let out = run(quorum()
        .args(["find-slots", &file, "--server", &address, "--hold", "2"])
        .args(["--identity", "release-bot", "--release-owner", "olga"]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hold_id = stdout
        .split_whitespace()
        .find(|w| w.starts_with("H-"))
        .unwrap_or_else(|| panic!("a hold id in {stdout}"))
        .to_owned();
    let got = run(quorum().args([
        "holds",
        "--server",
        &address,
        "--identity",
        "release-bot",
        "get",
        &hold_id,
    ]));
    assert!(got.status.success(), "{}", text(&got.stderr));
    let hold: serde_json::Value = serde_json::from_slice(&got.stdout).expect("hold JSON");
    assert_eq!(hold["start"], second["start"]);
    assert_eq!(hold["end"], second["end"]);
    let pairs = |list: &serde_json::Value, person: &str, role: &str| -> Vec<(String, String)> {
        let mut v: Vec<_> = list
            .as_array()
            .expect("a list")
            .iter()
            .map(|a| {
                (
                    a[person].as_str().unwrap().to_owned(),
                    a[role].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        pairs(&hold["attendees"], "personId", "roleId"),
        pairs(&second["assignments"], "personId", "roleId")
    );
    // Running it again is idempotent: the same hold.
    let again = run(quorum()
        .args(["find-slots", &file, "--hold", "2", "--server", &address])
        .args(["--identity", "release-bot", "--release-owner", "olga"]));
    assert!(
        text(&again.stdout).contains(&hold_id),
        "{}",
        text(&again.stderr)
    );
    // Another ticket's search on the same server counts the hold as busy
    // time of its attendees, and says so.
    let other = dir.path().join("other.json");
    let mut request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    request["changeTicket"] = "CHG-OTHER".into();
    std::fs::write(&other, request.to_string()).expect("write");
    let seen = run(quorum()
        .arg("find-slots")
        .arg(&other)
        .args(["--server", &address]));
    let table = text(&seen.stdout);
    assert!(table.contains("Counted as busy"), "{table}");
    assert!(table.contains(&hold_id), "{table}");
    // An empty listing is an empty list, not {}.
    let empty = run(quorum()
        .args([
            "holds",
            "--server",
            &address,
            "--identity",
            "release-bot",
            "list",
        ])
        .args(["--ticket", "CHG-NONE"]));
    let listing: serde_json::Value = serde_json::from_slice(&empty.stdout).expect("JSON");
    assert_eq!(
        listing["holds"],
        serde_json::json!([]),
        "{}",
        text(&empty.stdout)
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn plan_hold_places_every_milestone_of_plan_n_all_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, address) = serve_both(dir.path());
    // Holds are only for slots to come: the programme moved whole weeks ahead.
    let file = dir
        .path()
        .join("future-programme.json")
        .display()
        .to_string();
    std::fs::write(
        &file,
        weeks_ahead(&fixture("programmes/multi-service-cutover.json")),
    )
    .expect("write");
    let local = run(quorum().args(["plan", &file, "--json"]));
    assert!(local.status.success(), "{}", text(&local.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&local.stdout).expect("JSON");
    let second = &answer["plans"][1];
    let milestones = second["milestones"].as_array().expect("milestones").len();
    let hold = || {
        run(quorum()
            .args(["plan", &file, "--server", &address, "--hold", "2"])
            .args(["--identity", "release-bot", "--release-owner", "olga"]))
    };
    let out = hold();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("Held plan #2 as P-"), "{stdout}");
    let plan_id = stdout
        .split_whitespace()
        .find(|w| w.starts_with("P-"))
        .expect("a plan id")
        .to_owned();
    // Every milestone of plan 2 is held, at the planned times.
    let ticket = answer["changeTicket"].as_str().expect("ticket");
    let listed = run(quorum()
        .args(["holds", "--server", &address, "--identity", "release-bot"])
        .args(["list", "--ticket", ticket]));
    let listing: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let holds = listing["holds"].as_array().expect("holds");
    assert_eq!(holds.len(), milestones, "{listing}");
    let mut held: Vec<&str> = holds.iter().map(|h| h["start"].as_str().unwrap()).collect();
    let mut planned: Vec<&str> = second["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["start"].as_str().unwrap())
        .collect();
    held.sort_unstable();
    planned.sort_unstable();
    assert_eq!(held, planned);
    // Running it again is idempotent: the same plan, nothing more held.
    let again = hold();
    assert!(
        text(&again.stdout).contains(&plan_id),
        "{}",
        text(&again.stderr)
    );
    // A plan that is not there is named.
    let missing = run(quorum()
        .args(["plan", &file, "--server", &address, "--hold", "99"])
        .args(["--identity", "release-bot"]));
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no plan #99"),
        "{}",
        text(&missing.stderr)
    );
    held_plan_is_managed_as_one(&address, &plan_id, milestones);
    let _ = server.kill();
    let _ = server.wait();
}

/// `quorum holds plan …` reads, extends, approves and confirms the plan
/// `plan --hold` placed, every milestone at once, and the release owner
/// alone may approve it.
fn held_plan_is_managed_as_one(address: &str, plan_id: &str, milestones: usize) {
    let as_who = |who: &str, args: &[&str]| {
        run(quorum()
            .args(["holds", "--server", address, "--identity", who, "plan"])
            .args(args))
    };
    let json = |out: &std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let got = json(&as_who("release-bot", &["get", plan_id]));
    assert_eq!(got["planId"], plan_id, "{got}");
    assert_eq!(
        got["milestones"].as_array().expect("members").len(),
        milestones
    );
    let before = got["expiresAt"].as_str().expect("expiry").to_owned();
    let extended = json(&as_who(
        "release-bot",
        &["extend", plan_id, "--by-seconds", "600"],
    ));
    assert_ne!(extended["expiresAt"].as_str().expect("expiry"), before);
    let refused = as_who("release-bot", &["approve", plan_id]);
    assert!(!refused.status.success(), "only the release owner approves");
    assert!(
        text(&refused.stderr).contains("PERMISSION_DENIED"),
        "{}",
        text(&refused.stderr)
    );
    let approved = as_who("olga", &["approve", plan_id]);
    assert!(approved.status.success(), "{}", text(&approved.stderr));
    let token = text(&approved.stdout).trim().to_owned();
    assert!(token.starts_with("p1."), "{token}");
    let confirmed = json(&as_who("release-bot", &["confirm", plan_id, &token]));
    assert_eq!(confirmed["state"], "HOLD_STATE_CONFIRMED", "{confirmed}");
    for member in confirmed["milestones"].as_array().expect("members") {
        assert_eq!(member["hold"]["state"], "HOLD_STATE_CONFIRMED", "{member}");
    }
}

/// The request in `path` with every timestamp moved forward by whole weeks
/// until its horizon starts after today.
fn weeks_ahead(path: &str) -> String {
    let text = std::fs::read_to_string(path).expect("fixture");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let start = value["horizon"]["start"].as_str().expect("horizon start");
    let start = chrono::DateTime::parse_from_rfc3339(start).expect("RFC 3339");
    let behind = (chrono::Utc::now() - start.to_utc()).num_weeks().max(-1) + 1;
    let shift = chrono::Duration::weeks(behind.max(0));
    fn shifted(value: serde_json::Value, by: chrono::Duration) -> serde_json::Value {
        match value {
            serde_json::Value::String(s) => match chrono::DateTime::parse_from_rfc3339(&s) {
                Ok(t) if s.contains('T') => serde_json::Value::String(
                    (t.to_utc() + by).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                ),
                _ => serde_json::Value::String(s),
            },
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(|v| shifted(v, by)).collect())
            }
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.into_iter().map(|(k, v)| (k, shifted(v, by))).collect(),
            ),
            other => other,
        }
    }
    shifted(value, shift).to_string()
}
