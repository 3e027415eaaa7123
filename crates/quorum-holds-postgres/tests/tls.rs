//! TLS to a real PostgreSQL with `ssl = on`, its certificate made here by
//! rcgen (a throwaway CA, and a server certificate for `localhost` and
//! `127.0.0.1`). The server also accepts plaintext, so a client that fell
//! back to plaintext after a refused certificate would be seen connecting:
//! the refusals below prove it does not. Which sessions were encrypted is
//! read from the server's side, `pg_stat_ssl`, not taken from the client.

#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use postgres_server::TestPostgres;
use quorum_holds::HoldError;
use quorum_holds::broker::Storage;
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A CA's certificate (PEM) and the issuer to sign with.
fn certificate_authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert.pem(), Issuer::new(params, key))
}

/// The server certificate and key (PEM), for `localhost` and `127.0.0.1`.
fn server_certificate(issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    let cert = params.signed_by(&key, issuer).expect("server certificate");
    (cert.pem(), key.serialize_pem())
}

/// A TLS server whose certificate `ca.pem` in `files` signed, and a CA
/// file `other-ca.pem` of a CA that signed nothing of it.
struct TlsServer {
    pg: TestPostgres,
    files: tempfile::TempDir,
}

impl TlsServer {
    fn start() -> Option<Self> {
        let (ca_pem, issuer) = certificate_authority("Quorum test CA");
        let (other_pem, _) = certificate_authority("Some other CA");
        let (cert_pem, key_pem) = server_certificate(&issuer);
        let pg = TestPostgres::start_with_tls(&cert_pem, &key_pem)?;
        let files = tempfile::tempdir().expect("temp dir");
        std::fs::write(files.path().join("ca.pem"), ca_pem).expect("CA file");
        std::fs::write(files.path().join("other-ca.pem"), other_pem).expect("CA file");
        Some(Self { pg, files })
    }

    fn ca(&self) -> PathBuf {
        self.files.path().join("ca.pem")
    }

    fn other_ca(&self) -> PathBuf {
        self.files.path().join("other-ca.pem")
    }
}

fn open(url: &str) -> Result<PostgresStorage, HoldError> {
    let settings = PoolSettings {
        max_connections: 2,
        connect_timeout: Duration::from_secs(1),
        ..PoolSettings::default()
    };
    PostgresStorage::open(url, None, &settings)
}

fn open_err(url: &str) -> String {
    match open(url) {
        Ok(_) => panic!("{url} connected"),
        Err(error) => error.to_string(),
    }
}

/// `(encrypted, plaintext)` sessions the server has for `application`,
/// asked over a plaintext connection of its own.
fn sessions(pg: &TestPostgres, application: &str) -> (i64, i64) {
    let mut sql = postgres::Client::connect(&pg.url("postgres"), postgres::NoTls).expect("connect");
    let row = sql
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
               FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
              WHERE a.application_name = $1",
            &[&application],
        )
        .expect("pg_stat_ssl");
    (row.get(0), row.get(1))
}

/// The store's sessions for `application` exist and all are encrypted.
fn assert_encrypted(pg: &TestPostgres, application: &str) {
    let (encrypted, plaintext) = sessions(pg, application);
    assert!(
        encrypted >= 1 && plaintext == 0,
        "{application}: {encrypted} encrypted and {plaintext} plaintext sessions"
    );
}

fn with(url: &str, params: &str) -> String {
    format!("{url}?{params}")
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn verify_full_with_the_right_ca_connects_and_the_server_sees_tls() {
    let Some(server) = TlsServer::start() else {
        return;
    };
    let url = server.pg.create_database("tls");
    let ca = path(&server.ca());
    let store = open(&with(
        &url,
        &format!("sslmode=verify-full&sslrootcert={ca}&application_name=q-verify-full"),
    ))
    .expect("verify-full with the right CA connects");
    // Migrations ran; the pooled session stays open, and the server says
    // it is encrypted.
    store.now().expect("a transaction over TLS");
    assert_encrypted(&server.pg, "q-verify-full");

    let ca_only = open(&with(
        &url,
        &format!("sslmode=verify-ca&sslrootcert={ca}&application_name=q-verify-ca"),
    ))
    .expect("verify-ca with the right CA connects");
    ca_only.now().expect("a transaction over TLS");
    assert_encrypted(&server.pg, "q-verify-ca");

    // libpq's default, prefer, encrypts when the server offers TLS; disable
    // never does.
    let preferred = open(&with(&url, "application_name=q-prefer")).expect("prefer connects");
    preferred.now().expect("a transaction");
    assert_encrypted(&server.pg, "q-prefer");
    let plain =
        open(&with(&url, "sslmode=disable&application_name=q-disable")).expect("disable connects");
    plain.now().expect("a transaction");
    let (encrypted, plaintext) = sessions(&server.pg, "q-disable");
    assert_eq!(encrypted, 0);
    assert!(plaintext >= 1);
}

#[test]
fn a_wrong_ca_is_refused_with_advice_and_never_falls_back_to_plaintext() {
    let Some(server) = TlsServer::start() else {
        return;
    };
    let url = server.pg.create_database("tls");
    let other = path(&server.other_ca());
    for mode in ["verify-full", "verify-ca", "require"] {
        let application = format!("q-wrong-ca-{mode}");
        let error = open_err(&with(
            &url,
            &format!("sslmode={mode}&sslrootcert={other}&application_name={application}"),
        ));
        assert!(
            error.contains("not signed by a CA in")
                && error.contains(&format!("sslrootcert={other}")),
            "{mode}: {error}"
        );
        // The server takes plaintext from anyone; none came.
        assert_eq!(sessions(&server.pg, &application), (0, 0), "{mode}");
    }
}

#[test]
fn verify_full_refuses_a_host_name_the_certificate_does_not_carry() {
    let Some(server) = TlsServer::start() else {
        return;
    };
    server.pg.create_database("tls");
    let ca = path(&server.ca());
    // The right server at the right address, by a name its certificate
    // does not carry: `hostaddr` connects, `host` is what TLS checks.
    let url = |mode: &str, application: &str| {
        format!(
            "postgres://quorum@db.example.internal:{}/tls?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}&application_name={application}",
            server.pg.port
        )
    };
    let error = open_err(&url("verify-full", "q-wrong-name"));
    assert!(
        error.contains("does not name the host in the store URL"),
        "{error}"
    );
    assert_eq!(sessions(&server.pg, "q-wrong-name"), (0, 0));
    // verify-ca checks the CA only, so the same name passes there.
    let store = open(&url("verify-ca", "q-wrong-name-ca")).expect("verify-ca ignores the name");
    store.now().expect("a transaction over TLS");
    assert_encrypted(&server.pg, "q-wrong-name-ca");
    // And by a name it does carry, verify-full connects.
    let by_name = format!(
        "postgres://quorum@localhost:{}/tls?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}",
        server.pg.port
    );
    open(&by_name).expect("verify-full by the certificate's name");
}

#[test]
fn require_fails_against_a_server_without_tls() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let url = pg.create_database("plain");
    for mode in ["require", "verify-ca", "verify-full"] {
        let error = open_err(&with(&url, &format!("sslmode={mode}")));
        assert!(
            error.contains(&format!(
                "sslmode={mode} needs TLS but the server does not offer it"
            )),
            "{mode}: {error}"
        );
    }
    // The default, prefer, still connects to it in plaintext, as before.
    open(&url).expect("prefer falls back to plaintext when TLS is not offered");
}

#[test]
fn a_bad_tls_parameter_is_a_startup_error_naming_it() {
    // Refused before any connection is tried, so no server is needed.
    let error = open_err("postgres://quorum@127.0.0.1:1/x?sslmode=verify-fulll");
    assert!(error.contains("sslmode=verify-fulll"), "{error}");
    let error =
        open_err("postgres://quorum@127.0.0.1:1/x?sslmode=verify-full&sslrootcert=/no/such/ca.pem");
    assert!(
        error.contains("sslrootcert=/no/such/ca.pem") && error.contains("cannot be read"),
        "{error}"
    );
}
