//! A real Radicale CalDAV server for tests: installed into a virtual
//! environment by `tests/support/radicale-venv.sh`, started on a free
//! loopback port with htpasswd (plain) authentication and a scratch storage
//! folder, and stopped when the handle drops. If it cannot be had the test
//! fails and says why; `QUORUM_SKIP_CALDAV=1` skips it on a developer's
//! machine, and is refused when `CI` is set.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "quorum";
pub const PASSWORD: &str = "radicale-test-password";

pub struct Radicale {
    child: Child,
    pub base_url: String,
    pub dir: PathBuf,
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `None` only when skipping is allowed and asked for.
pub fn start(name: &str) -> Option<Radicale> {
    if std::env::var("QUORUM_SKIP_CALDAV").is_ok_and(|v| v == "1") {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "QUORUM_SKIP_CALDAV is not honoured when CI is set: CalDAV tests must run in CI"
        );
        eprintln!("QUORUM_SKIP_CALDAV=1: skipping the CalDAV test against Radicale");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = root
        .ancestors()
        .find(|p| p.join("tests/support/radicale-venv.sh").exists())
        .expect("the workspace root");
    let output = Command::new("bash")
        .arg(root.join("tests/support/radicale-venv.sh"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/support/radicale-venv.sh: {e}"));
    assert!(
        output.status.success(),
        "Radicale cannot be had, so the CalDAV test cannot run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let python = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    // Tests of one binary run in parallel: each server gets its own folder.
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("quorum-radicale-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("collections")).expect("a scratch folder for Radicale");
    std::fs::write(dir.join("users"), format!("{USER}:{PASSWORD}\n")).expect("the htpasswd file");
    let port = free_port();
    let config = format!(
        "[server]\nhosts = 127.0.0.1:{port}\n\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n\n\
         [rights]\ntype = owner_only\n\n[storage]\nfilesystem_folder = {storage}\n\n[logging]\nlevel = warning\n",
        users = dir.join("users").display(),
        storage = dir.join("collections").display(),
    );
    std::fs::write(dir.join("config"), config).expect("the Radicale config");
    let child = Command::new(&python)
        .args(["-m", "radicale", "--config"])
        .arg(dir.join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Radicale with {python}: {e}"));
    let mut server = Radicale {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    server.wait_until_listening(port);
    Some(server)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

impl Radicale {
    fn wait_until_listening(&mut self, port: u16) {
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
                panic!("Radicale exited ({status}) before listening: {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Radicale did not listen on 127.0.0.1:{port} within 60 s");
    }
}
