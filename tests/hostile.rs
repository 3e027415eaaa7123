//! A hostile client against the real binary: resource attacks that each once
//! cost the server gigabytes or seconds past the deadline, and structure-aware
//! mutations of every fixture. Whatever arrives, the server must answer (a
//! result, `INVALID_ARGUMENT` naming non-empty field paths, or
//! `DEADLINE_EXCEEDED`), never panic, keep its peak memory under the
//! documented 512 MiB on the default limits, and stop burning CPU soon after a
//! deadline passes. Memory and CPU are read from `/proc` for the server
//! process, so the bounds are the server's own, not the test's.

mod common;

use common::violated_fields;

use quorum::{json, pb};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tonic::Code;

/// The peak resident memory any request within the default limits may cost.
const PEAK_RSS_LIMIT_KIB: u64 = 512 * 1024;

struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `quorum serve --slots-only` on an ephemeral port.
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`Self::start`] with more `serve` flags.
    fn start_with(flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
            .args(["serve", "--listen", "127.0.0.1:0", "--slots-only"])
            .args(["--log-json", "--drain-grace-ms", "0"])
            .args(flags)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("server logs its address").expect("log");
            let Ok(json) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(address) = json.pointer("/fields/address").and_then(|a| a.as_str()) {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            url: format!("http://{address}"),
        }
    }

    async fn client(&self) -> pb::slot_finder_client::SlotFinderClient<tonic::transport::Channel> {
        let channel = tonic::transport::Endpoint::from_shared(self.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        pb::slot_finder_client::SlotFinderClient::new(channel)
            .max_encoding_message_size(64 * 1024 * 1024)
            .max_decoding_message_size(64 * 1024 * 1024)
    }

    fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }

    /// The server's peak resident memory so far, in KiB.
    fn peak_rss_kib(&self) -> u64 {
        self.status_field("VmHWM:")
    }

    /// CPU time the server has used, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the server's /proc stat");
        // Fields after the command name (which may hold spaces) start at 3.
        let after = &stat[stat.rfind(')').expect("stat format") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let utime: u64 = fields[11].parse().expect("utime");
        let stime: u64 = fields[12].parse().expect("stime");
        utime + stime
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().expect("wait").is_none(),
            "the server process died"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ticks_per_second() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100)
}

fn request(value: Value) -> pb::FindSlotsRequest {
    json::request_from_json(&value.to_string()).expect("the attack is a decodable request")
}

fn all_week(start: &str, end: &str) -> Value {
    let days = [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ];
    Value::Array(
        days.iter()
            .map(|d| json!({"weekday": d, "start": start, "end": end}))
            .collect(),
    )
}

/// 16 roles × 32 candidates over 172 days of 5-minute buckets, everyone
/// working all day: a 7 kB request whose integer program once took 1.7 GB.
fn integer_program_attack() -> pb::FindSlotsRequest {
    let people: Vec<Value> = (0..512)
        .map(|i| json!({"id": format!("p{i}"), "timeZone": "UTC", "workingHours": all_week("00:00", "24:00")}))
        .collect();
    let roles: Vec<Value> = (0..16)
        .map(|r| json!({"id": format!("r{r}"), "pool": (0..32).map(|c| format!("p{}", r * 32 + c)).collect::<Vec<_>>()}))
        .collect();
    request(json!({
        "changeTicket": "CHG-ATTACK-IP",
        "horizon": {"start": "2027-01-01T00:00:00Z", "end": "2027-06-22T00:00:00Z"},
        "bucketMinutes": 5,
        "meetingMinutes": 30,
        "roles": roles,
        "people": people,
        "engine": "INTEGER_PROGRAM",
    }))
}

/// 400 freeze windows and 20,000 busy intervals with `explain: true`: the
/// rejected runs once repeated every range into a 289 MB answer; now each
/// constraint is sent once and runs refer to it, so it stays small.
fn explanation_attack() -> pb::FindSlotsRequest {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-04T00:00:00Z").unwrap();
    let at = |minutes: i64| (start + chrono::Duration::minutes(minutes)).to_rfc3339();
    let people: Vec<Value> = (0..20)
        .map(|p| {
            // Busy over the whole fortnight in 1,000 pieces with one-minute
            // gaps, so none merge and every one is listed.
            let busy: Vec<Value> = (0..1000)
                .map(|k| json!({"start": at(k * 20 + p), "end": at(k * 20 + p + 19)}))
                .collect();
            json!({"id": format!("p{p}"), "timeZone": "UTC", "workingHours": all_week("00:00", "24:00"), "busy": busy})
        })
        .collect();
    let freezes: Vec<Value> = (0..400)
        .map(|f| json!({"id": format!("f{f}"), "start": at(f * 50), "end": at(f * 50 + 10)}))
        .collect();
    request(json!({
        "changeTicket": "CHG-ATTACK-EXPLAIN",
        "horizon": {"start": at(0), "end": at(20_000)},
        "bucketMinutes": 5,
        "meetingMinutes": 30,
        "roles": [{"id": "reviewer", "pool": (0..20).map(|p| format!("p{p}")).collect::<Vec<_>>()}],
        "people": people,
        "freezeWindows": freezes,
        "explain": true,
    }))
}

/// The refusal of a call that must be refused; an answer is reported by size
/// only, since the answers these attacks once produced ran to megabytes.
fn refused<T: prost::Message>(
    outcome: Result<tonic::Response<T>, tonic::Status>,
    what: &str,
) -> tonic::Status {
    match outcome {
        Ok(answer) => panic!(
            "{what}: answered with {} bytes instead of a refusal",
            answer.get_ref().encoded_len()
        ),
        Err(status) => status,
    }
}

/// Every decodable-but-invalid request names the fields at fault.
fn assert_names_fields(status: &tonic::Status, what: &str) {
    let fields = violated_fields(status);
    assert!(
        !fields.is_empty(),
        "{what}: no field violations in {status:?}"
    );
    assert!(
        fields.iter().all(|f| !f.is_empty()),
        "{what}: an empty field path in {fields:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_attacks_are_refused_before_the_work_within_memory_bounds() {
    let mut server = Server::start();
    let mut client = server.client().await;

    let status = refused(
        client.find_slots(integer_program_attack()).await,
        "the integer program is too large",
    );
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["engine"]);
    assert!(status.message().contains("limit of 500000"), "{status:?}");

    let answer = client
        .find_slots(explanation_attack())
        .await
        .expect("a compact explanation is answered")
        .into_inner();
    assert!(
        prost::Message::encoded_len(&answer) < 2 * 1024 * 1024,
        "{} bytes",
        prost::Message::encoded_len(&answer)
    );

    let mut windows = common::fixture("back-to-back-busy.json");
    let one = windows.people[0].working_hours[0].clone();
    windows.people[0].working_hours = vec![one; 400_000];
    let status = refused(client.find_slots(windows).await, "too many windows");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["people[0].working_hours"]);

    let mut flood = common::fixture("back-to-back-busy.json");
    let backwards = pb::BusyInterval {
        start: flood.horizon.as_ref().and_then(|h| h.end),
        end: flood.horizon.as_ref().and_then(|h| h.start),
        status: 0,
    };
    flood.people[0].busy = vec![backwards; 5_000];
    let status = refused(client.find_slots(flood).await, "5,000 violations");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    assert_eq!(fields.len(), 50, "the details are capped at 50");
    assert!(
        status.message().contains("1000 field violations or more"),
        "{status:?}"
    );

    let mut huge_id = common::fixture("back-to-back-busy.json");
    huge_id.people[0].id = "x".repeat(3 * 1024 * 1024);
    let status = refused(client.find_slots(huge_id).await, "huge id");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_names_fields(&status, "huge id");
    assert!(
        status.message().len() < 4096,
        "the id is not echoed: {} bytes",
        status.message().len()
    );

    server.assert_alive();
    let peak = server.peak_rss_kib();
    eprintln!("peak RSS of the server: {peak} KiB");
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak} KiB is over {PEAK_RSS_LIMIT_KIB} KiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_stops_soon_after_the_deadline() {
    let mut server = Server::start();
    let mut client = server.client().await;
    let mut problem = quorum_testkit::generate(&quorum_testkit::ProblemShape::large(), 7);
    problem.top_k = 1_000;
    let request =
        quorum::convert::problem_to_request(&problem, quorum_solver::Engine::IntegerProgram);
    let mut call = tonic::Request::new(request);
    call.set_timeout(Duration::from_millis(300));
    let status = refused(client.find_slots(call).await, "deadline passes");
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    // 100 ms after the deadline the solve must have stopped: from then on the
    // server is idle, bar the odd tick of housekeeping.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = server.cpu_ticks();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let used_ms = (server.cpu_ticks() - before) * 1000 / ticks_per_second();
    assert!(
        used_ms <= 50,
        "the server used {used_ms} ms of CPU after the deadline"
    );
    server.assert_alive();
}

/// A small deterministic generator, so a failing mutation can be replayed.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A hostile value for a leaf: wrong types, edges of ranges, huge sizes.
    fn value(&mut self) -> Value {
        let choices = [
            json!(""),
            json!("x".repeat(300)),
            json!(-1),
            json!(0),
            json!(4_294_967_295u64),
            json!(i64::MAX),
            json!(true),
            Value::Null,
            json!("0001-01-01T00:00:00Z"),
            json!("9999-12-31T23:59:59Z"),
            json!("2026-11-01T05:45:00Z"),
            json!("24:00"),
            json!("23:59"),
            json!("Mars/Olympus_Mons"),
            json!("Australia/Lord_Howe"),
            json!("INTEGER_PROGRAM"),
            json!(100_000),
            json!(1_000_000_000),
        ];
        choices[self.below(choices.len())].clone()
    }

    fn mutate(&mut self, value: &mut Value, depth: usize) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = &keys[self.below(keys.len())];
                match self.below(8) {
                    0 => {
                        map.remove(key);
                    }
                    1 if depth > 0 => {
                        map.insert(key.clone(), self.value());
                    }
                    _ => self.mutate(map.get_mut(key).expect("key"), depth + 1),
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let i = self.below(items.len());
                match self.below(6) {
                    0 => {
                        let copies = 1 + self.below(2_000);
                        let item = items[i].clone();
                        items.extend(std::iter::repeat_n(item, copies));
                    }
                    1 => {
                        items.remove(i);
                    }
                    _ => self.mutate(&mut items[i], depth + 1),
                }
            }
            leaf => *leaf = self.value(),
        }
    }
}

fn fixtures() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for dir in ["", "explain", "bench"] {
        let path = common::fixture_path(dir);
        for entry in std::fs::read_dir(&path).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("fixture");
                let name = path.display().to_string();
                found.push((name, serde_json::from_str(&text).expect("fixture JSON")));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Mutation rounds, spread over every fixture: 800 since the explain fixtures
/// grew (at 600 the share that reached the solver fell just below 50).
const ROUNDS: usize = 800;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_fixtures_get_an_answer_or_named_fields_never_a_crash() {
    // The server's own limit is 5 s; the client allows 30 s (below), so on
    // a loaded machine the server's DEADLINE_EXCEEDED, not tonic's
    // client-side enforcement of `grpc-timeout` (CANCELLED), ends a long
    // solve.
    let mut server = Server::start_with(&["--max-solve-ms", "5000"]);
    let mut client = server.client().await;
    let fixtures = fixtures();
    let mut mutator = Mutator(0x5eed_cafe_f00d_beef);
    let (mut answered, mut refused, mut undecodable) = (0, 0, 0);
    for round in 0..ROUNDS {
        let (name, original) = &fixtures[round % fixtures.len()];
        let mut value = original.clone();
        for _ in 0..1 + mutator.below(3) {
            mutator.mutate(&mut value, 0);
        }
        let Ok(request) = json::request_from_json(&value.to_string()) else {
            undecodable += 1;
            continue;
        };
        // tonic's channel also enforces `grpc-timeout` on the client side,
        // so the header allows far more than the server's 5 s limit; the
        // outer guard catches a server that ignores its limit.
        let mut call = tonic::Request::new(request);
        call.metadata_mut().insert(
            "grpc-timeout",
            tonic::metadata::MetadataValue::from_static("30S"),
        );
        let answer = tokio::time::timeout(Duration::from_secs(60), client.find_slots(call))
            .await
            .unwrap_or_else(|_| {
                panic!("round {round} of {name}: no answer 60 s after the server's 5 s limit")
            });
        match answer {
            Ok(_) => answered += 1,
            Err(status) if status.code() == Code::InvalidArgument => {
                assert_names_fields(&status, &format!("round {round} of {name}"));
                refused += 1;
            }
            Err(status) if status.code() == Code::DeadlineExceeded => answered += 1,
            Err(status) => panic!("round {round} of {name}: {status:?}\n{value}"),
        }
    }
    server.assert_alive();
    eprintln!("answered {answered}, refused {refused}, undecodable {undecodable}");
    // The mutations must reach both sides, or the test proves little.
    assert!(
        answered >= 50,
        "only {answered} mutated requests were answered"
    );
    assert!(
        refused >= 50,
        "only {refused} mutated requests were refused"
    );
    assert!(
        undecodable * 10 < ROUNDS * 7,
        "{undecodable} of {ROUNDS} mutations did not decode"
    );
    let peak = server.peak_rss_kib();
    eprintln!("peak RSS of the server: {peak} KiB");
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak} KiB is over {PEAK_RSS_LIMIT_KIB} KiB"
    );
}
