//! Helpers shared by the over-the-wire and fixture tests: reading fixtures and
//! starting the real server on an ephemeral port.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use quorum::{json, pb, server};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> pb::FindSlotsRequest {
    let text = std::fs::read_to_string(fixture_path(name)).expect("fixture is readable");
    json::request_from_json(&text).expect("fixture is a valid request")
}

/// A running server; dropping it shuts the server down.
pub struct TestServer {
    pub address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(config: server::ServerConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            server::serve(listener, config, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            address,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.url())
            .expect("url")
            .connect()
            .await
            .expect("connect")
    }

    /// Signals shutdown without waiting for the server to finish draining.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Claims an identity in development mode.
#[derive(Clone)]
pub struct As(pub &'static str);

impl tonic::service::Interceptor for As {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = tonic::metadata::MetadataValue::from_static(self.0);
        request
            .metadata_mut()
            .insert(quorum::auth::IDENTITY_HEADER, value);
        Ok(request)
    }
}

pub type Broker = pb::hold_broker_client::HoldBrokerClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, As>,
>;

/// A server with the hold broker on a fresh store in a temporary directory,
/// on the given clock.
pub async fn broker_server(
    clock: std::sync::Arc<quorum_domain::ManualClock>,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut broker = server::HoldBrokerConfig::new(dir.path().join("holds.db"));
    broker.clock = clock;
    broker.sweep_every = std::time::Duration::from_secs(3600);
    let config = server::ServerConfig {
        hold_broker: Some(broker),
        ..server::ServerConfig::default()
    };
    (TestServer::start(config).await, dir)
}

impl TestServer {
    pub async fn broker(&self, identity: &'static str) -> Broker {
        pb::hold_broker_client::HoldBrokerClient::with_interceptor(
            self.channel().await,
            As(identity),
        )
    }
}

/// Sends a bearer token from a token file.
#[derive(Clone)]
pub struct Bearer(pub tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub type BearerBroker = pb::hold_broker_client::HoldBrokerClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

/// A hold broker client that authenticates with `token`.
pub async fn bearer(server: &TestServer, token: &str) -> BearerBroker {
    let value = format!("Bearer {token}").parse().expect("ascii token");
    pb::hold_broker_client::HoldBrokerClient::with_interceptor(
        server.channel().await,
        Bearer(value),
    )
}

/// The field paths of a refusal's `google.rpc.BadRequest`, in order; empty
/// when the status carries none.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// `ReleasePlanner/PlanRelease` against `server`.
pub async fn plan_release(
    server: &TestServer,
    request: pb::PlanReleaseRequest,
) -> Result<pb::PlanReleaseResponse, tonic::Status> {
    pb::release_planner_client::ReleasePlannerClient::new(server.channel().await)
        .plan_release(request)
        .await
        .map(tonic::Response::into_inner)
}
