//! TLS over the wire: certificates made in the test with rcgen (a CA, a
//! server certificate for localhost, a client certificate), the real server
//! on an ephemeral loopback port, and a token file refused over plain TCP on
//! a non-loopback address.

mod common;

use common::TestServer;
use quorum::pb;
use quorum::server::{HoldBrokerConfig, ServeError, ServerConfig, TlsFiles};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::Path;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

struct Pki {
    ca_pem: String,
    client_cert: String,
    client_key: String,
    files: TlsFiles,
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("pem written");
    path
}

fn pki(dir: &Path, mutual: bool) -> Pki {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &issuer)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("client key");
    let client_cert = CertificateParams::new(vec!["release-bot".to_owned()])
        .expect("client params")
        .signed_by(&client_key, &issuer)
        .expect("client cert");
    let ca_pem = ca_cert.pem();
    let files = TlsFiles {
        cert: write(dir, "server.pem", &server_cert.pem()),
        key: write(dir, "server.key", &server_key.serialize_pem()),
        client_ca: mutual.then(|| write(dir, "ca.pem", &ca_pem)),
    };
    Pki {
        ca_pem,
        client_cert: client_cert.pem(),
        client_key: client_key.serialize_pem(),
        files,
    }
}

async fn start(dir: &Path, tls: TlsFiles) -> TestServer {
    let config = ServerConfig {
        hold_broker: Some(HoldBrokerConfig::new(dir.join("holds.db"))),
        tls: Some(tls),
        ..Default::default()
    };
    TestServer::start(config).await
}

async fn list_holds(server: &TestServer, tls: Option<ClientTlsConfig>) -> Result<(), String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", server.address))
        .map_err(|e| e.to_string())?;
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
    }
    let channel = endpoint.connect().await.map_err(|e| format!("{e:?}"))?;
    let mut client =
        pb::hold_broker_client::HoldBrokerClient::with_interceptor(channel, common::As("bot"));
    client
        .list_holds(pb::ListHoldsRequest::default())
        .await
        .map(|_| ())
        .map_err(|status| format!("{status:?}"))
}

fn trusting(pki: &Pki) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca_pem))
        .domain_name("localhost")
}

#[tokio::test]
async fn tls_serves_a_client_that_trusts_the_ca_and_not_a_plain_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = pki(dir.path(), false);
    let server = start(dir.path(), pki.files.clone()).await;
    list_holds(&server, Some(trusting(&pki)))
        .await
        .expect("a TLS call succeeds");
    assert!(
        list_holds(&server, None).await.is_err(),
        "plain TCP is refused"
    );
    let stranger = ClientTlsConfig::new().domain_name("localhost");
    assert!(
        list_holds(&server, Some(stranger)).await.is_err(),
        "a client that does not trust the CA gets nowhere"
    );
    server.stop().await;
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = pki(dir.path(), true);
    let server = start(dir.path(), pki.files.clone()).await;
    let refused = list_holds(&server, Some(trusting(&pki))).await;
    assert!(refused.is_err(), "no client certificate: {refused:?}");
    let with_cert = trusting(&pki).identity(Identity::from_pem(&pki.client_cert, &pki.client_key));
    list_holds(&server, Some(with_cert))
        .await
        .expect("a client certificate from the CA is accepted");
    server.stop().await;
}

#[tokio::test]
async fn a_token_file_over_plain_tcp_is_refused_off_loopback_unless_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "t bot pipeline\n").expect("token file written");
    let mut broker = HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.token_file = Some(tokens);
    let mut config = ServerConfig {
        hold_broker: Some(broker),
        ..Default::default()
    };
    let check = quorum::server::check_plaintext_tokens;
    let public = "192.0.2.10:50051".parse().expect("address");
    let loopback = "127.0.0.1:50051".parse().expect("address");
    assert!(matches!(
        check(&config, public),
        Err(ServeError::PlaintextTokens { .. })
    ));
    assert!(check(&config, loopback).is_ok());
    // serve itself refuses, before accepting anything, on all interfaces.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    let refused = quorum::server::serve(listener, config.clone(), async {}).await;
    let error = refused.expect_err("refused");
    assert!(error.to_string().contains("--tls-cert"), "{error}");
    config.allow_plaintext_tokens = true;
    assert!(check(&config, public).is_ok());
    config.allow_plaintext_tokens = false;
    config.tls = Some(pki(dir.path(), false).files);
    assert!(check(&config, public).is_ok());
}

#[tokio::test]
async fn a_call_in_flight_over_tls_keeps_its_connection_past_the_idle_timeout() {
    // Calls are counted per connection to tell idle from busy; under TLS the
    // connection's info arrives wrapped, and a call must still count.
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = pki(dir.path(), false);
    let config = ServerConfig {
        tls: Some(pki.files.clone()),
        concurrent_solves: 1,
        connections: quorum::server::ConnectionLimits {
            idle_timeout: std::time::Duration::from_millis(200),
            ..Default::default()
        },
        ..Default::default()
    };
    let server = TestServer::start(config).await;
    let channel = Endpoint::from_shared(format!("https://{}", server.address))
        .expect("url")
        .tls_config(trusting(&pki))
        .expect("tls")
        .connect()
        .await
        .expect("connect");
    let mut client = pb::slot_finder_client::SlotFinderClient::new(channel);
    let mut problem = quorum_testkit::generate(&quorum_testkit::ProblemShape::large(), 7);
    problem.top_k = 1_000;
    let request =
        quorum::convert::problem_to_request(&problem, quorum_solver::Engine::IntegerProgram);
    let mut call = tonic::Request::new(request);
    call.set_timeout(std::time::Duration::from_millis(1_500));
    let started = std::time::Instant::now();
    let status = client.find_slots(call).await.expect_err("a long solve");
    // The solve outlives the idle timeout; the answer is the deadline (the
    // server's or the client's own), not a connection closed under the call.
    assert!(
        matches!(
            status.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        "{status:?}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(1_400));
    server.stop().await;
}
