//! A real headless Chromium for tests, driven over WebDriver (chromedriver
//! on a free loopback port) with a few plain HTTP calls: W3C WebDriver is
//! JSON over HTTP, so no client crate is needed beyond the HTTP client the
//! workspace already has. Installed by `tests/support/chromium.sh` when
//! missing; if it cannot be had the test fails and says why.
//! `QUORUM_SKIP_BROWSER=1` skips it on a developer's machine, and is refused
//! when `CI` is set.

use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C name of an element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `None` only when skipping is allowed and asked for.
pub fn start() -> Option<Browser> {
    if std::env::var("QUORUM_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "QUORUM_SKIP_BROWSER is not honoured when CI is set: the browser test must run in CI"
        );
        eprintln!("QUORUM_SKIP_BROWSER=1: skipping the test in headless Chromium");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("tests/support/chromium.sh"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/support/chromium.sh: {e}"));
    assert!(
        output.status.success(),
        "Chromium cannot be had, so the browser test cannot run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let paths = String::from_utf8_lossy(&output.stdout).to_string();
    let mut paths = paths.lines();
    let (chromium, chromedriver) = (
        paths.next().expect("chromium's path").to_owned(),
        paths.next().expect("chromedriver's path").to_owned(),
    );
    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(port);
    // A new, empty profile each run: nothing carried over between tests.
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("quorum-chromium-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("an empty Chromium profile folder");
    let mut browser = Browser {
        driver,
        base,
        session: String::new(),
        agent,
        profile,
    };
    browser.session = browser.new_session(&chromium);
    Some(browser)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

fn wait_until_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not listen on 127.0.0.1:{port} within 30 s");
}

impl Browser {
    fn new_session(&self, chromium: &str) -> String {
        // The machine has no outside network: everything that would phone
        // home is off, and the sandbox needs privileges a CI container lacks.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", self.profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let value = self.call("POST", "/session", Some(capabilities));
        value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver started no session: {value}"))
            .to_owned()
    }

    /// One WebDriver command; its `value`, or a panic naming the error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = response.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: unreadable answer: {e}"));
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text}"));
        if answer["value"]["error"].is_string() {
            panic!("WebDriver {method} {path} failed: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        );
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Moves the mouse to the centre of the first element `selector` finds,
    /// as a person's pointer would (CSS `:hover` follows).
    pub fn hover(&self, selector: &str) {
        let element = self.call(
            "POST",
            &self.session_path("/element"),
            Some(json!({"using": "css selector", "value": selector})),
        );
        let mut origin = serde_json::Map::new();
        origin.insert(ELEMENT.to_owned(), element[ELEMENT].clone());
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "duration": 0, "x": 0, "y": 0,
                         "origin": origin}]
        }]});
        self.call("POST", &self.session_path("/actions"), Some(actions));
    }

    /// Browser console entries at level SEVERE (errors) since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        let log = self.call(
            "POST",
            &self.session_path("/se/log"),
            Some(json!({"type": "browser"})),
        );
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.session_path("/window/rect"),
            Some(json!({"width": width, "height": height})),
        );
    }

    /// The viewport as PNG bytes.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.call("GET", &self.session_path("/screenshot"), None);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("a base64 screenshot"))
            .expect("the screenshot decodes")
    }
}
