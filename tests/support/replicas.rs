//! Several real `quorum serve` processes on one PostgreSQL database, sharing
//! one signing key file and one token file, as the README tells operators
//! to run them; for the multi-replica tests.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use super::common::{Bearer, BearerBroker};
use super::postgres_server::TestPostgres;
use quorum::pb;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const BOT: &str = "bot-token-0123456789abcdef";
pub const OLGA: &str = "olga-token-0123456789abcdef";
pub const ADMIN: &str = "admin-token-0123456789abcdef";
/// Pipelines with their own identities, as many release pipelines would be.
pub const PIPELINES: usize = 64;

pub fn pipeline_token(i: usize) -> String {
    format!("pipeline-{i}-token-0123456789abcdef")
}

/// The database, the shared files, and the replicas' addresses.
pub struct Cluster {
    pub pg: TestPostgres,
    pub url: String,
    files: tempfile::TempDir,
}

/// A running replica; dropping it kills the process.
pub struct Replica {
    child: Child,
    pub url: String,
}

impl Cluster {
    /// A fresh database on a new server, or `None` when opted out locally.
    /// Call from a multi-threaded runtime: the blocking client runs its own.
    pub fn start(database: &str) -> Option<Self> {
        tokio::task::block_in_place(|| Self::start_blocking(database))
    }

    fn start_blocking(database: &str) -> Option<Self> {
        let pg = TestPostgres::start()?;
        let url = pg.create_database(database);
        let files = tempfile::tempdir().expect("temp dir");
        let mut tokens =
            format!("{BOT} bot pipeline\n{OLGA} olga release-owner\n{ADMIN} root admin\n");
        for i in 0..PIPELINES {
            tokens.push_str(&format!("{} pipeline-{i} pipeline\n", pipeline_token(i)));
        }
        std::fs::write(files.path().join("tokens"), tokens).expect("token file");
        std::fs::write(files.path().join("signing.key"), [7u8; 32]).expect("key file");
        Some(Self { pg, url, files })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.files.path().join(name)
    }

    /// Starts one `quorum serve` replica on an ephemeral port.
    pub fn replica(&self) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--holds-only",
                "--log-json",
            ])
            .arg("--store")
            .arg(&self.url)
            .arg("--token-file")
            .arg(self.file("tokens"))
            .arg("--signing-key-file")
            .arg(self.file("signing.key"))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("replica starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("the replica exited before listening: {:?}", child.wait()),
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(address) = json.pointer("/fields/address").and_then(|a| a.as_str()) {
                break address.to_owned();
            }
        };
        // Keep draining the log so the replica never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Replica {
            child,
            url: format!("http://{address}"),
        }
    }

    /// One number from SQL run directly on the database, behind the API.
    pub fn count(&self, query: &str) -> i64 {
        tokio::task::block_in_place(|| {
            let mut sql = postgres::Client::connect(&self.url, postgres::NoTls)
                .expect("connect to the database");
            sql.query_one(query, &[]).expect("query").get(0)
        })
    }
}

impl Replica {
    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A HoldBroker client of `url` that authenticates with `token`.
pub async fn client(url: &str, token: &str) -> BearerBroker {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect()
        .await
        .expect("connect to replica");
    let value = format!("Bearer {token}").parse().expect("ascii token");
    pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel, Bearer(value))
}

/// Registers `ticket` with olga as its release owner.
pub async fn register(admin: &mut BearerBroker, ticket: &str) {
    admin
        .register_ticket(pb::RegisterTicketRequest {
            change_ticket: ticket.into(),
            release_owner: "olga".into(),
        })
        .await
        .expect("ticket registered");
}

/// Pairs of active holds of different tickets that share a person and
/// overlap, by a self-join in SQL; a correct store has none.
pub const OVERLAPPING_ACTIVE_PAIRS: &str = "
    WITH now AS (SELECT (EXTRACT(EPOCH FROM now()) * 1000000000)::BIGINT AS ns),
         active AS (
           SELECT a.hold_id, a.person_id, a.during, h.change_ticket FROM hold_attendees a
           JOIN holds h ON h.id = a.hold_id, now
           WHERE h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > now.ns))
    SELECT count(*) FROM active x JOIN active y
      ON x.person_id = y.person_id AND x.hold_id < y.hold_id
     AND x.during && y.during AND x.change_ticket <> y.change_ticket";
