//! A throwaway PostgreSQL server for tests, started and removed by
//! `tests/support/postgres.sh`. If it cannot be had the test fails saying
//! why; only a developer outside CI may opt out, with
//! `QUORUM_SKIP_POSTGRES=1`, and the skip is printed.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; dropping it stops the server and removes its files.
pub struct TestPostgres {
    dir: PathBuf,
    script: PathBuf,
    pub port: u16,
}

fn script() -> PathBuf {
    // Included from crates at different depths: walk up to the workspace.
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let candidate = dir.join("tests/support/postgres.sh");
        if candidate.exists() {
            return candidate;
        }
        assert!(
            dir.pop(),
            "tests/support/postgres.sh not found above the crate"
        );
    }
}

fn opted_out() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let skip = std::env::var("QUORUM_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    assert!(
        !(ci && skip),
        "QUORUM_SKIP_POSTGRES is not honoured in CI: the PostgreSQL tests must run"
    );
    skip
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestPostgres {
    /// Starts a server, or `None` when the developer opted out (outside CI).
    pub fn start() -> Option<Self> {
        let server = Self::unstarted()?;
        server.run(&["start", &server.dir_str(), &server.port.to_string()]);
        Some(server)
    }

    /// A fresh directory and a free port for a server not yet started, or
    /// `None` when the developer opted out (outside CI).
    fn unstarted() -> Option<Self> {
        if opted_out() {
            eprintln!("SKIPPED: QUORUM_SKIP_POSTGRES=1, the PostgreSQL tests did not run");
            return None;
        }
        // Not a private temp dir: the server runs as an unprivileged user
        // when the tests run as root, and must reach its directory.
        let dir = std::env::temp_dir().join(format!(
            "quorum-pg-{}-{:x}",
            std::process::id(),
            rand_suffix()
        ));
        Some(Self {
            dir,
            script: script(),
            port: free_port(),
        })
    }

    /// Starts a server with TLS on, serving the PEM certificate `cert_pem`
    /// (with its key `key_pem`); plaintext is still accepted, so a client
    /// that fell back to it would connect. `None` when opted out.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Option<Self> {
        let server = Self::unstarted()?;
        std::fs::create_dir_all(&server.dir).expect("server directory");
        let cert = server.dir.join("given-server.crt");
        let key = server.dir.join("given-server.key");
        std::fs::write(&cert, cert_pem).expect("write the server certificate");
        std::fs::write(&key, key_pem).expect("write the server key");
        server.run(&[
            "start-ssl",
            &server.dir_str(),
            &server.port.to_string(),
            &cert.display().to_string(),
            &key.display().to_string(),
        ]);
        let _ = std::fs::remove_file(&key);
        Some(server)
    }

    fn dir_str(&self) -> String {
        self.dir.display().to_string()
    }

    fn run(&self, args: &[&str]) {
        let output = Command::new("bash")
            .arg(&self.script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.script.display()));
        assert!(
            output.status.success(),
            "PostgreSQL could not be started or stopped ({} {}): {}{}",
            self.script.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout),
        );
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://quorum@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test server");
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        self.url(name)
    }

    /// Stops the server, keeping its data (an outage).
    pub fn stop_server(&self) {
        self.run(&["stop", &self.dir_str()]);
    }

    /// Starts it again on the same port and data.
    pub fn start_server(&self) {
        self.run(&["start", &self.dir_str(), &self.port.to_string()]);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["destroy", &self.dir_str()])
            .status();
    }
}
