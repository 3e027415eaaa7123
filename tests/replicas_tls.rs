//! A replica on a PostgreSQL reached over verified TLS, end to end: a real
//! `quorum serve` started with `--store postgres://…?sslmode=verify-full&
//! sslrootcert=…` (a throwaway CA made here with rcgen) places a hold over
//! gRPC, the hold is in the database, and the server reports every session
//! the replica opened as encrypted.

mod common;
#[path = "support/postgres.rs"]
mod postgres_server;

use chrono::{Duration, Utc};
use common::As;
use postgres_server::TestPostgres;
use quorum::{convert::to_timestamp, pb};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A CA's PEM, and a server certificate and key it signed for 127.0.0.1.
fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    (ca_cert.pem(), server_cert.pem(), server_key.serialize_pem())
}

/// The replica process; dropping it kills it.
struct Replica(Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `quorum serve` on `store` and returns it with its gRPC URL, read
/// from its JSON log.
fn replica(store: &str) -> (Replica, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--holds-only",
            "--log-json",
        ])
        .arg("--store")
        .arg(store)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("replica starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut log = Vec::new();
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!(
                "the replica exited before listening ({:?}): {}",
                child.wait(),
                log.join("\n")
            );
        };
        let json = serde_json::from_str::<serde_json::Value>(&line).ok();
        log.push(line);
        if let Some(address) = json
            .as_ref()
            .and_then(|j| j.pointer("/fields/address"))
            .and_then(|a| a.as_str())
        {
            break address.to_owned();
        }
    };
    // Keep draining the log so the replica never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Replica(child), format!("http://{address}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_on_a_verify_full_store_places_a_hold_over_grpc() {
    let (ca_pem, cert_pem, key_pem) = certificates();
    let Some(pg) =
        tokio::task::block_in_place(|| TestPostgres::start_with_tls(&cert_pem, &key_pem))
    else {
        return;
    };
    let url = tokio::task::block_in_place(|| pg.create_database("tls_replica"));
    let files = tempfile::tempdir().expect("temp dir");
    let ca = files.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("CA file");
    let store = format!(
        "{url}?sslmode=verify-full&sslrootcert={}&application_name=quorum-tls-replica",
        ca.display()
    );
    let (_replica, address) = replica(&store);

    let channel = tonic::transport::Endpoint::from_shared(address)
        .expect("url")
        .connect()
        .await
        .expect("connect to the replica");
    let mut bot = pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel, As("bot"));
    let start = Utc::now() + Duration::hours(2);
    let hold = bot
        .place_hold(pb::PlaceHoldRequest {
            change_ticket: "CHG-TLS".into(),
            start: Some(to_timestamp(start)),
            end: Some(to_timestamp(start + Duration::hours(1))),
            attendees: vec![pb::HoldAttendee {
                person_id: "ana".into(),
                role_id: "release-manager".into(),
            }],
            ttl_seconds: 600,
            idempotency_key: "tls-1".into(),
            release_owner: "olga".into(),
        })
        .await
        .expect("placed over a TLS store")
        .into_inner();

    let (stored, encrypted, plaintext): (i64, i64, i64) = tokio::task::block_in_place(|| {
        let mut sql = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let stored = sql
            .query_one("SELECT count(*) FROM holds WHERE id = $1", &[&hold.id])
            .expect("holds")
            .get(0);
        let row = sql
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                   FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                  WHERE a.application_name = 'quorum-tls-replica'",
                &[],
            )
            .expect("pg_stat_ssl");
        (stored, row.get(0), row.get(1))
    });
    assert_eq!(stored, 1, "hold {} is in the database", hold.id);
    assert!(
        encrypted >= 1 && plaintext == 0,
        "the replica's sessions: {encrypted} encrypted, {plaintext} plaintext"
    );
}
