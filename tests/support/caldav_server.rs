//! Real CalDAV servers for tests, each installed from PyPI into a virtual
//! environment by `tests/support/pypi-venv.sh`, started on a free loopback
//! port with a scratch storage folder, and stopped when the handle drops:
//!
//! - Radicale, with htpasswd (plain) authentication: the free-busy REPORT,
//!   and no scheduling (its principal advertises no outbox).
//! - Xandikos, single-user and without authentication (it leaves that to a
//!   reverse proxy): the RFC 6638 scheduling-outbox free/busy POST, for one
//!   principal whose calendar user address is given.
//!
//! If a server cannot be had the test fails and says why;
//! `QUORUM_SKIP_CALDAV=1` skips it on a developer's machine, and is refused
//! when `CI` is set.

#![allow(dead_code, reason = "each test binary uses some of these")]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Radicale's one account.
pub const USER: &str = "quorum";
pub const PASSWORD: &str = "radicale-test-password";
/// Xandikos's one principal and the calendar it creates for it.
pub const XANDIKOS_PRINCIPAL: &str = "ana";
pub const XANDIKOS_CALENDAR: &str = "ana/calendars/calendar";

pub struct CaldavServer {
    child: Child,
    pub base_url: String,
    pub dir: PathBuf,
}

impl Drop for CaldavServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Radicale; `None` only when skipping is allowed and asked for.
pub fn radicale(name: &str) -> Option<CaldavServer> {
    let python = venv_python("radicale-venv.sh", "Radicale")?;
    let (dir, port) = scratch("radicale", name);
    std::fs::create_dir_all(dir.join("collections")).expect("a scratch folder for Radicale");
    std::fs::write(dir.join("users"), format!("{USER}:{PASSWORD}\n")).expect("the htpasswd file");
    let config = format!(
        "[server]\nhosts = 127.0.0.1:{port}\n\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n\n\
         [rights]\ntype = owner_only\n\n[storage]\nfilesystem_folder = {storage}\n\n[logging]\nlevel = warning\n",
        users = dir.join("users").display(),
        storage = dir.join("collections").display(),
    );
    std::fs::write(dir.join("config"), config).expect("the Radicale config");
    let mut command = Command::new(&python);
    command
        .args(["-m", "radicale", "--config"])
        .arg(dir.join("config"));
    Some(spawn("Radicale", command, dir, port))
}

/// Xandikos serving one principal, `ana`, whose calendar user address is
/// `email` and whose calendar is [`XANDIKOS_CALENDAR`].
pub fn xandikos(name: &str, email: &str) -> Option<CaldavServer> {
    let python = venv_python("xandikos-venv.sh", "Xandikos")?;
    let (dir, port) = scratch("xandikos", name);
    std::fs::create_dir_all(dir.join("data")).expect("a scratch folder for Xandikos");
    let mut command = Command::new(&python);
    command
        .args([
            "-m",
            "xandikos",
            "serve",
            "--defaults",
            "--no-detect-systemd",
        ])
        .arg("--current-user-principal")
        .arg(format!("/{XANDIKOS_PRINCIPAL}/"))
        .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-d"])
        .arg(dir.join("data"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        // Single-user Xandikos takes the principal's address from EMAIL.
        .env("EMAIL", email);
    Some(spawn("Xandikos", command, dir, port))
}

fn skip_requested() -> bool {
    if std::env::var("QUORUM_SKIP_CALDAV").is_ok_and(|v| v == "1") {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "QUORUM_SKIP_CALDAV is not honoured when CI is set: CalDAV tests must run in CI"
        );
        eprintln!("QUORUM_SKIP_CALDAV=1: skipping the CalDAV test against a real server");
        return true;
    }
    false
}

/// The python of the server's virtual environment, installed if need be.
fn venv_python(script: &str, server: &str) -> Option<String> {
    if skip_requested() {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = root
        .ancestors()
        .find(|p| p.join("tests/support").join(script).exists())
        .expect("the workspace root");
    let output = Command::new("bash")
        .arg(root.join("tests/support").join(script))
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/support/{script}: {e}"));
    assert!(
        output.status.success(),
        "{server} cannot be had, so the CalDAV test cannot run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A fresh folder and a free port. Tests of one binary run in parallel, so
/// each server gets its own.
fn scratch(server: &str, name: &str) -> (PathBuf, u16) {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("quorum-{server}-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let port = listener.local_addr().expect("its address").port();
    (dir, port)
}

fn spawn(server: &str, mut command: Command, dir: PathBuf, port: u16) -> CaldavServer {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
    let mut handle = CaldavServer {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    handle.wait_until_listening(server, port);
    handle
}

impl CaldavServer {
    fn wait_until_listening(&mut self, server: &str, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                panic!("{server} exited ({status}) before listening: {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{server} did not listen on 127.0.0.1:{port} within 60 s");
    }
}
