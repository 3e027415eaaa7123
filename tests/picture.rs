//! The picture without a browser: what the page holds for each fixture
//! (self-contained, escaped, the explanation's parts where they belong), the
//! server's `RenderSlots` over the wire, and `find-slots --server --html`
//! against the real binary. The browser's reading of the same pages is in
//! `picture_browser.rs`.

mod common;

use common::{TestServer, fixture, fixture_path};
use quorum::picture::model::Reason;
use quorum::{pb, picture, server::ServerConfig, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;
use tonic::Code;

const BERLIN: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// Solves a fixture the way `--html` does (explain on) and renders it.
fn solve(name: &str) -> (pb::FindSlotsRequest, pb::FindSlotsResponse) {
    let mut request = fixture(name);
    request.explain = true;
    // As the CLI and RenderSlots do: the words in the picture's zone.
    request.display_time_zone = "Europe/Berlin".to_owned();
    let response = solve_request(request.clone(), &ProblemLimits::default(), &NeverStop)
        .expect("the fixture solves");
    (request, response)
}

const FIXTURES: [&str; 12] = [
    "identity-cutover.json",
    "identity-cutover-infeasible.json",
    "back-to-back-busy.json",
    "dst-fall-back-weekend.json",
    "meeting-ends-at-deadline.json",
    "explain/after-hours-only.json",
    "explain/deadline-too-early.json",
    "explain/freeze-window.json",
    "explain/no-common-working-hours.json",
    "explain/review-capacity-full.json",
    "explain/role-pool-unavailable.json",
    "explain/roles-need-same-person.json",
];

#[test]
fn every_page_is_self_contained() {
    for name in FIXTURES {
        let (request, response) = solve(name);
        let html = picture::render_slots(&request, &response, BERLIN).expect("renders");
        for fetching in [
            "<script", " src=", " href=", "url(", "@import", "<link", "<img",
        ] {
            assert!(
                !html.contains(fetching),
                "{name}: the page holds {fetching:?}"
            );
        }
        assert!(html.contains("default-src 'none'"), "{name}: no CSP");
    }
}

#[test]
fn labels_from_the_request_are_escaped() {
    let (mut request, response) = solve("identity-cutover.json");
    request.people[0].display_name = "<script>alert('x')</script>".to_owned();
    request.roles[0].name = "release \"manager\" & <b>".to_owned();
    let html = picture::render_slots(&request, &response, BERLIN).expect("renders");
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_feasible_answer_draws_its_ranked_slots_and_each_persons_zone() {
    let (request, response) = solve("identity-cutover.json");
    let html = picture::render_slots(&request, &response, BERLIN).expect("renders");
    for slot in &response.slots {
        assert!(
            html.contains(&format!("<g class=\"slot\" data-rank=\"{}\">", slot.rank)),
            "slot #{} is not drawn",
            slot.rank
        );
    }
    for person in &request.people {
        assert!(
            html.contains(&format!(">{}</text></g>", person.time_zone)),
            "{}'s zone is not beside their name",
            person.id
        );
    }
    assert!(html.contains("<strong id=\"zone\">Europe/Berlin</strong>"));
    assert!(
        html.contains("class=\"freeze f-launch\""),
        "the blackout is not drawn"
    );
    assert!(
        html.contains("class=\"review full\""),
        "the full review board is not drawn"
    );
    assert!(
        html.contains("class=\"tentative\""),
        "tentative time is not drawn lighter"
    );
    assert!(
        !html.contains("id=\"headline\""),
        "a feasible answer has no headline"
    );
}

#[test]
fn an_answer_without_a_slot_leads_with_its_headline_and_draws_the_relaxation_dashed() {
    let (request, response) = solve("identity-cutover-infeasible.json");
    assert!(response.slots.is_empty());
    let view = picture::slots_view(&request, &response, BERLIN).expect("a view");
    assert_eq!(view.headline.as_deref(), Some(response.headline.as_str()));
    assert!(response.headline.starts_with("No slot: "));
    let proposal = view.proposal.expect("the best relaxation's slot");
    let best = response.relaxations[0].best_slot.as_ref().expect("a slot");
    assert_eq!(
        Some(proposal.slot.range.start),
        best.start
            .as_ref()
            .and_then(quorum::convert::from_timestamp)
    );
    let html = picture::render_slots(&request, &response, BERLIN).expect("renders");
    let headline = html.find("id=\"headline\"").expect("a headline");
    assert!(
        headline < html.find("id=\"lanes\"").expect("the lanes"),
        "headline not on top"
    );
    assert!(html.contains("<g class=\"proposal-slot\" id=\"proposal\">"));
}

#[test]
fn rejected_runs_are_coloured_by_the_constraint_that_rejected_them() {
    for (name, reason) in [
        ("explain/freeze-window.json", Reason::Freeze),
        ("explain/review-capacity-full.json", Reason::ReviewCapacity),
        ("explain/no-common-working-hours.json", Reason::WorkingHours),
    ] {
        let (request, response) = solve(name);
        let view = picture::slots_view(&request, &response, BERLIN).expect("a view");
        assert_eq!(
            view.rejected.len(),
            response.rejected_starts.as_ref().map_or(0, |t| t
                .groups
                .iter()
                .map(|g| g.runs.len())
                .sum::<usize>()),
            "{name}"
        );
        assert!(
            view.rejected.iter().any(|r| r.reason == reason),
            "{name}: no run is coloured {reason:?}: {:?}",
            view.rejected.iter().map(|r| r.reason).collect::<Vec<_>>()
        );
        let html = picture::render_slots(&request, &response, BERLIN).expect("renders");
        assert!(
            html.contains(&format!("class=\"rej {}\"", reason.class())),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_server_renders_the_same_picture_over_the_wire() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = pb::slot_finder_client::SlotFinderClient::connect(server.url())
        .await
        .expect("connects");
    let (request, response) = solve("identity-cutover.json");
    let local = picture::render_slots(&request, &response, BERLIN).expect("renders");
    let mut asked = fixture("identity-cutover.json");
    asked.explain = false; // the server turns it on itself
    let served = client
        .render_slots(pb::RenderSlotsRequest {
            request: Some(asked),
            zone: "Europe/Berlin".to_owned(),
        })
        .await
        .expect("renders")
        .into_inner();
    assert_eq!(served.html, local);

    let status = client
        .render_slots(pb::RenderSlotsRequest {
            request: Some(fixture("identity-cutover.json")),
            zone: "Mars/Olympus".to_owned(),
        })
        .await
        .expect_err("not a zone");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = common::violated_fields(&status);
    assert_eq!(fields, ["zone"]);

    let status = client
        .render_slots(pb::RenderSlotsRequest::default())
        .await
        .expect_err("no request");
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread")]
async fn find_slots_html_with_a_server_writes_the_same_page_as_locally() {
    let server = TestServer::start(ServerConfig::default()).await;
    let dir = tempfile::tempdir().expect("a scratch folder");
    let (local, remote) = (
        dir.path().join("local.html"),
        dir.path().join("remote.html"),
    );
    let address = server.address.to_string();
    let run = |out: std::path::PathBuf, server: Option<String>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_quorum"));
        command
            .arg("find-slots")
            .arg(fixture_path("identity-cutover.json"))
            .args(["--zone", "Europe/Berlin", "--html"])
            .arg(&out);
        if let Some(server) = server {
            command.args(["--server", &server]);
        }
        let output = command.output().expect("the binary runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(stdout.contains(&format!("Picture: {}", out.display())));
        assert!(
            !stdout.contains("Rejected starts"),
            "explain was not asked for"
        );
    };
    let (l, r) = (local.clone(), remote.clone());
    tokio::task::spawn_blocking(move || run(l, None))
        .await
        .expect("local run");
    tokio::task::spawn_blocking(move || run(r, Some(address)))
        .await
        .expect("remote run");
    let (local, remote) = (
        std::fs::read_to_string(local).expect("local page"),
        std::fs::read_to_string(remote).expect("remote page"),
    );
    assert!(
        local.contains("class=\"rej "),
        "the page draws no rejected starts"
    );
    assert_eq!(local, remote);
}

#[test]
fn the_readme_shows_a_screenshot_of_every_top_level_fixture() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for entry in std::fs::read_dir(root.join("fixtures")).expect("fixtures") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().expect("a name").to_string_lossy();
        let picture = format!("docs/pictures/{name}.png");
        let bytes = std::fs::read(root.join(&picture))
            .unwrap_or_else(|e| panic!("{picture}: {e} (QUORUM_UPDATE_SCREENSHOTS=1 makes it)"));
        assert!(bytes.starts_with(b"\x89PNG"), "{picture} is not a PNG");
        assert!(bytes.len() < 300_000, "{picture} is not small");
        assert!(
            readme.contains(&format!("]({picture})")),
            "the README does not show {picture}"
        );
    }
}
