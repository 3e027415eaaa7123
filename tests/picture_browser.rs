//! The pictures in a real browser: every fixture is rendered by the real
//! `quorum find-slots --html` and opened in headless Chromium, which must
//! load it without a console error (the page's Content-Security-Policy turns
//! any attempt to fetch something into one), draw each ranked slot where its
//! times say on the axis, show a rejected run's reason under the pointer,
//! and paint a screenshot that is not blank.
//!
//! `QUORUM_UPDATE_SCREENSHOTS=1` also writes the top-level fixtures'
//! screenshots to `docs/pictures/`, where the README shows them.

#[path = "support/browser.rs"]
mod browser;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const ZONE: &str = "Europe/Berlin";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level fixtures (screenshots in the README) and the explain ones.
fn fixtures() -> Vec<(PathBuf, bool)> {
    let mut found = Vec::new();
    for (dir, shown) in [("fixtures", true), ("fixtures/explain", false)] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("the fixtures folder")
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        found.extend(files.into_iter().map(|f| (f, shown)));
    }
    found
}

/// Renders one fixture with the real binary; returns the page's path and
/// the response as proto3 JSON (the same solve, explain on).
fn render(fixture: &Path, out_dir: &Path) -> (PathBuf, Value) {
    let name = fixture.file_stem().expect("a name").to_string_lossy();
    let html = out_dir.join(format!("{name}.html"));
    let output = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("find-slots")
        .arg(fixture)
        .args(["--zone", ZONE, "--json", "--explain", "--html"])
        .arg(&html)
        .output()
        .expect("the quorum binary runs");
    assert!(
        output.status.success(),
        "find-slots --html failed for {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = serde_json::from_slice(&output.stdout).expect("the response as JSON");
    (html, response)
}

fn millis(value: &Value) -> i64 {
    let at: DateTime<Utc> = value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("an RFC 3339 instant, not {value}"));
    at.timestamp_millis()
}

/// Where the browser drew a slot mark, and where the axis says it belongs.
const SLOT_POSITION: &str = r#"
const [selector, start, end] = arguments;
const axis = document.getElementById('axis');
const a0 = Date.parse(axis.dataset.start), a1 = Date.parse(axis.dataset.end);
const box = axis.getBoundingClientRect();
const scale = box.width / (a1 - a0);
const mark = document.querySelector(selector);
if (!mark) return null;
const b = mark.getBoundingClientRect();
return {left: b.left, right: b.right,
        expectedLeft: box.left + (Math.max(start, a0) - a0) * scale,
        expectedRight: box.left + (Math.min(end, a1) - a0) * scale,
        dash: getComputedStyle(mark).strokeDasharray};
"#;

/// Day lines: where each is drawn, and where the axis scale puts its instant.
const DAY_LINES: &str = r#"
const axis = document.getElementById('axis');
const a0 = Date.parse(axis.dataset.start), a1 = Date.parse(axis.dataset.end);
const box = axis.getBoundingClientRect();
return [...document.querySelectorAll('#lanes line.day')].map(l => ({
  at: l.dataset.at, x: l.getBoundingClientRect().left,
  expected: box.left + (Date.parse(l.dataset.at) - a0) * box.width / (a1 - a0)}));
"#;

/// The axis's instants: the window the picture draws.
const AXIS: &str = r#"
const axis = document.getElementById('axis');
return [axis.dataset.start, axis.dataset.end];
"#;

/// Marks the rejected run whose hover text is `arguments[0]` for hovering.
const FIND_REJECTED: &str = r#"
const run = [...document.querySelectorAll('rect.rej')]
  .find(r => r.querySelector('title')?.textContent.startsWith(arguments[0]));
if (!run) return null;
run.id = 'hover-target';
return getComputedStyle(run).stroke;
"#;

/// What is under the pointer now: the innermost hovered element.
const HOVERED: &str = r#"
const hovered = [...document.querySelectorAll(':hover')].pop();
return {tag: hovered.tagName, id: hovered.id,
        title: hovered.querySelector(':scope > title')?.textContent ?? null,
        stroke: getComputedStyle(hovered).stroke};
"#;

fn near(measured: &Value, expected: &Value) -> bool {
    (measured.as_f64().unwrap_or(f64::NAN) - expected.as_f64().unwrap_or(f64::NAN)).abs() <= 1.0
}

fn check_slots(browser: &browser::Browser, name: &str, response: &Value) {
    for slot in response["slots"].as_array().into_iter().flatten() {
        let rank = slot["rank"].as_u64().expect("a rank");
        let selector = format!("g.slot[data-rank=\"{rank}\"] rect");
        let args = json!([selector, millis(&slot["start"]), millis(&slot["end"])]);
        let at = browser.execute(SLOT_POSITION, args);
        assert!(!at.is_null(), "{name}: slot #{rank} is not drawn");
        assert!(
            near(&at["left"], &at["expectedLeft"]) && near(&at["right"], &at["expectedRight"]),
            "{name}: slot #{rank} is drawn at {at} on the axis, not where its times say"
        );
    }
    let best = &response["relaxations"][0]["bestSlot"];
    if response["slots"].as_array().is_none_or(Vec::is_empty) && best.is_object() {
        let args = json!([
            "#proposal rect",
            millis(&best["start"]),
            millis(&best["end"])
        ]);
        let at = browser.execute(SLOT_POSITION, args);
        assert!(!at.is_null(), "{name}: the relaxation's slot is not drawn");
        assert!(
            near(&at["left"], &at["expectedLeft"]) && near(&at["right"], &at["expectedRight"]),
            "{name}: the relaxation's slot is drawn at {at}, not where its times say"
        );
        assert_ne!(
            at["dash"], "none",
            "{name}: the relaxation's slot is not dashed"
        );
    }
}

fn check_day_lines(browser: &browser::Browser, name: &str) {
    let zone: Tz = ZONE.parse().expect("zone");
    let lines = browser.execute(DAY_LINES, json!([]));
    for line in lines.as_array().expect("day lines") {
        let at: DateTime<Utc> = line["at"]
            .as_str()
            .expect("data-at")
            .parse()
            .expect("instant");
        let local = at.with_timezone(&zone);
        assert_eq!(
            (local.hour(), local.minute()),
            (0, 0),
            "{name}: a day line at {at} is not local midnight in {ZONE}"
        );
        assert!(
            near(&line["x"], &line["expected"]),
            "{name}: day line {line} is off the axis scale"
        );
    }
}

/// Hovers the widest rejected run and checks the pointer lands on it and
/// its hover text is the run's explanation.
fn check_rejected_hover(browser: &browser::Browser, name: &str, response: &Value) {
    let runs = response["rejectedStarts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let axis = browser.execute(AXIS, json!([]));
    let (a0, a1) = (millis(&axis[0]), millis(&axis[1]));
    // The widest part drawn: the axis shows only the window that matters.
    let drawn = |r: &&Value| millis(&r["lastStart"]).min(a1) - millis(&r["firstStart"]).max(a0);
    let Some(widest) = runs.iter().filter(|r| drawn(r) >= 0).max_by_key(drawn) else {
        return;
    };
    let reason = widest["explanation"].as_str().expect("an explanation");
    let opening: String = reason.chars().take(200).collect();
    let before = browser.execute(FIND_REJECTED, json!([opening]));
    assert!(!before.is_null(), "{name}: no drawn run shows {reason:?}");
    assert_eq!(
        before, "none",
        "{name}: a rejected run is outlined before hover"
    );
    browser.hover("#hover-target");
    let hovered = browser.execute(HOVERED, json!([]));
    assert_eq!(
        hovered["id"], "hover-target",
        "{name}: the pointer is not on the run: {hovered}"
    );
    // A long explanation is cut for the page; what is shown is its opening.
    let title = hovered["title"].as_str().unwrap_or_default();
    let shown = title
        .strip_suffix("… (the whole list: find-slots --explain)")
        .unwrap_or(title);
    assert!(
        !shown.is_empty() && reason.starts_with(shown) && (shown == reason || shown != title),
        "{name}: hovering shows {title:?}, not the run's reason {reason:?}"
    );
    assert_ne!(
        hovered["stroke"], "none",
        "{name}: the hovered run is not outlined"
    );
}

/// Sizes the window to the page, takes a screenshot and checks it is not
/// blank: a picture of people, freezes and slots has many colours.
fn screenshot(browser: &browser::Browser, name: &str, png_path: &Path) {
    // The chart scrolls inside its own box: its width is the page's.
    let size = browser.execute(
        "const chart = document.querySelector('.chart');
         return [chart.scrollWidth + 40, document.documentElement.scrollHeight];",
        json!([]),
    );
    let width = size[0].as_u64().unwrap_or(1200).clamp(800, 1400) as u32;
    let height = size[1].as_u64().unwrap_or(900).clamp(400, 1400) as u32;
    browser.resize(width, height);
    let bytes = browser.screenshot();
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("a PNG screenshot");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader
        .next_frame(&mut pixels)
        .expect("the screenshot's pixels");
    let channels = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = pixels[..info.buffer_size()]
        .chunks_exact(channels)
        .collect();
    assert!(
        colours.len() > 24,
        "{name}: the screenshot has only {} distinct colours: blank or nearly so",
        colours.len()
    );
    std::fs::write(png_path, &bytes).expect("the screenshot is written");
}

#[test]
fn every_fixture_renders_and_reads_right_in_headless_chromium() {
    let Some(browser) = browser::start() else {
        return;
    };
    let out_dir = root().join("target/pictures");
    std::fs::create_dir_all(&out_dir).expect("target/pictures");
    let update = std::env::var("QUORUM_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    for (fixture, shown) in fixtures() {
        let name = fixture
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let (html, response) = render(&fixture, &out_dir);
        browser.goto(&format!("file://{}", html.display()));
        let errors = browser.console_errors();
        assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
        check_day_lines(&browser, &name);
        check_slots(&browser, &name, &response);
        // Before hovering, which would scroll the run into view and outline it.
        let png = out_dir.join(format!("{name}.png"));
        screenshot(&browser, &name, &png);
        check_rejected_hover(&browser, &name, &response);
        if update && shown {
            let committed = root().join("docs/pictures").join(format!("{name}.png"));
            std::fs::create_dir_all(committed.parent().expect("a folder")).expect("docs/pictures");
            std::fs::copy(&png, committed).expect("the screenshot is copied");
        }
        let errors = browser.console_errors();
        assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
    }
}
