//! Assembles and runs the gRPC server: the slot finder and the hold broker
//! (sharing one store), gRPC health and server reflection on one port, with
//! limits from the configuration, until the shutdown future resolves (SIGTERM
//! or Ctrl-C in the binary).

use crate::connection::{IdleClosing, TrackCalls};
use crate::{
    auth::Authenticator, hold_broker::HoldBrokerService, pb,
    release_planner::ReleasePlannerService, slot_finder::SlotFinderService,
};
use quorum_domain::{Clock, ProblemLimits, SystemClock};
use quorum_holds::{HoldError, HoldPolicy, HoldStore, SqliteHoldStore, TokenSigner};
use quorum_holds_postgres::is_postgres_url;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tonic::transport::{Server, server::TcpIncoming};

/// Everything an operator can tune; `Default` is the embedded configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Size limits checked before any solving.
    pub limits: ProblemLimits,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// The longest one solve may run, whatever deadline the client sets.
    pub max_solve_time: Duration,
    /// Solves running at once; more queue. Defaults to the number of cores.
    pub concurrent_solves: usize,
    /// Serve SlotFinder, and ReleasePlanner (the same solver on programmes).
    pub slot_finder: bool,
    /// Serve HoldBroker on this store; `None` runs the slot finder alone.
    pub hold_broker: Option<HoldBrokerConfig>,
    /// How long connections and calls may linger.
    pub connections: ConnectionLimits,
    /// Serve over TLS (rustls); `None` is plain TCP.
    pub tls: Option<TlsFiles>,
    /// Serve bearer tokens over plain TCP on a non-loopback address anyway.
    pub allow_plaintext_tokens: bool,
    /// The operator's calendar sources FindSlots may read; `None`: requests
    /// that name calendars are refused.
    pub calendar_sources: Option<crate::calendar_sources::CalendarReader>,
}

/// Bounds on what a slow or silent client can hold on to.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A connection with no call in flight for this long is closed.
    pub idle_timeout: Duration,
    /// A call not answered in this long, including one whose request never
    /// finishes arriving, is ended with `DEADLINE_EXCEEDED`.
    pub request_timeout: Duration,
    /// HTTP/2 pings find peers that vanished without closing.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// After SIGTERM, health says `NOT_SERVING` for this long while calls are
    /// still served, so a load balancer can stop sending new ones first.
    pub drain_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            drain_grace: Duration::from_secs(1),
        }
    }
}

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// With it, clients must present a certificate this CA signed (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// The hold broker's store, callers and rules.
#[derive(Debug, Clone)]
pub struct HoldBrokerConfig {
    /// Where holds live: a SQLite file (a path or `sqlite://path`, created
    /// on first start), or a PostgreSQL database (`postgres://…`) that
    /// several replicas share.
    pub store_path: PathBuf,
    /// `<token> <identity>` lines; `None` is development mode.
    pub token_file: Option<PathBuf>,
    /// At least 32 bytes of HMAC key for approval tokens; `None` uses the key
    /// the store created on first start and keeps in its file.
    pub signing_key_file: Option<PathBuf>,
    pub policy: HoldPolicy,
    /// How often expiries are written down (reads never wait for it).
    pub sweep_every: Duration,
    /// The store's clock, the one that decides expiry.
    pub clock: Arc<dyn Clock>,
}

impl HoldBrokerConfig {
    pub fn new(store_path: PathBuf) -> Self {
        Self {
            store_path,
            token_file: None,
            signing_key_file: None,
            policy: HoldPolicy::default(),
            sweep_every: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: ProblemLimits::default(),
            max_message_bytes: 16 * 1024 * 1024,
            max_solve_time: Duration::from_secs(10),
            concurrent_solves: std::thread::available_parallelism().map_or(2, |n| n.get()),
            slot_finder: true,
            hold_broker: None,
            connections: ConnectionLimits::default(),
            tls: None,
            allow_plaintext_tokens: false,
            calendar_sources: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("cannot open the hold store: {0}")]
    Store(#[from] HoldError),
    #[error("opening the hold store failed: {0}")]
    StoreTask(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("cannot read the signing key {path}: {source}")]
    SigningKey {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the TLS file {path}: {source}")]
    TlsFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "refusing to serve bearer tokens over plain TCP on {address}: anyone on the network could read them; give --tls-cert and --tls-key, listen on a loopback address, or pass --allow-plaintext-tokens if something else encrypts the traffic"
    )]
    PlaintextTokens { address: String },
}

/// Bearer tokens cross the network in clear text unless TLS is on or the
/// listener is loopback-only; that is refused unless explicitly allowed.
pub fn check_plaintext_tokens(
    config: &ServerConfig,
    address: std::net::SocketAddr,
) -> Result<(), ServeError> {
    let tokens = config
        .hold_broker
        .as_ref()
        .is_some_and(|b| b.token_file.is_some());
    if tokens && config.tls.is_none() && !address.ip().is_loopback() {
        if !config.allow_plaintext_tokens {
            return Err(ServeError::PlaintextTokens {
                address: address.to_string(),
            });
        }
        tracing::warn!(%address, "serving bearer tokens over plain TCP on a non-loopback address, as --allow-plaintext-tokens asks");
    }
    Ok(())
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::TlsFile {
        path: path.display().to_string(),
        source,
    })
}

/// The rustls server configuration from PEM files, if TLS is asked for.
fn tls_config(
    tls: Option<&TlsFiles>,
) -> Result<Option<tonic::transport::ServerTlsConfig>, ServeError> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let Some(files) = tls else {
        return Ok(None);
    };
    let identity = Identity::from_pem(read_pem(&files.cert)?, read_pem(&files.key)?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read_pem(ca)?));
    }
    Ok(Some(config))
}

/// Opens the hold store and reads the callers' tokens.
fn open_broker(
    config: &HoldBrokerConfig,
) -> Result<(Arc<dyn HoldStore>, Authenticator), ServeError> {
    let signer = match &config.signing_key_file {
        Some(path) => {
            let key = std::fs::read(path).map_err(|source| ServeError::SigningKey {
                path: path.display().to_string(),
                source,
            })?;
            Some(TokenSigner::new(key)?)
        }
        None => None,
    };
    let mut policy = config.policy.clone();
    // Only development mode lets a ticket's first hold name its owner; with
    // a token file an admin registers tickets.
    policy.owner_from_first_hold = config.token_file.is_none();
    let store = open_store(config, signer, policy)?;
    let auth = match &config.token_file {
        Some(path) => Authenticator::from_file(path)?,
        None => {
            tracing::warn!(
                header = crate::auth::IDENTITY_HEADER,
                "DEVELOPMENT MODE: no --token-file, so HoldBroker believes whatever identity the caller's header claims, gives it every scope, and lets a ticket's first hold name its release owner; never run this way in production"
            );
            Authenticator::Development
        }
    };
    Ok((store, auth))
}

/// PostgreSQL for a `postgres://` URL, with the database's clock deciding
/// expiry for every replica alike; otherwise the SQLite file.
fn open_store(
    config: &HoldBrokerConfig,
    signer: Option<TokenSigner>,
    policy: HoldPolicy,
) -> Result<Arc<dyn HoldStore>, ServeError> {
    let location = config.store_path.to_string_lossy();
    if is_postgres_url(&location) {
        let store = quorum_holds_postgres::connect(&location, None, signer, policy)?;
        return Ok(Arc::new(store));
    }
    let path = match location.strip_prefix("sqlite://") {
        Some(path) => PathBuf::from(path),
        None => config.store_path.clone(),
    };
    let store = SqliteHoldStore::open(&path, config.clock.clone(), signer, policy)?;
    Ok(Arc::new(store))
}

/// The store's location for the log, without a password a URL may carry.
fn store_for_log(config: &HoldBrokerConfig) -> String {
    let location = config.store_path.to_string_lossy().into_owned();
    let Some((scheme, rest)) = location.split_once("://") else {
        return location;
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => location,
    }
}

/// Writes down expiries now and then; correctness never depends on it.
fn spawn_sweeper(store: Arc<dyn HoldStore>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            let store = store.clone();
            match tokio::task::spawn_blocking(move || store.sweep_expired()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(count)) => tracing::info!(count, "expired holds written down"),
                Ok(Err(error)) => tracing::warn!(%error, "sweeping expired holds failed"),
                Err(error) => tracing::warn!(%error, "the sweeper task failed"),
            }
        }
    })
}

/// Accepted connections, with TCP_NODELAY and closed once idle too long.
fn idle_closing(
    listener: TcpListener,
    idle: Duration,
) -> impl tokio_stream::Stream<Item = std::io::Result<IdleClosing>> {
    // Without TCP_NODELAY a request larger than one segment waits out the
    // peer's delayed ACK: about 40 ms added to every medium-sized call.
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .map(move |accepted| accepted.map(|stream| IdleClosing::new(stream, idle)))
}

/// Resolves after `shutdown`, once health has said `NOT_SERVING` for
/// `grace`: calls are still served meanwhile, so a load balancer watching
/// health stops sending new ones before the server stops taking them.
async fn drain_after(
    shutdown: impl Future<Output = ()>,
    health: tonic_health::server::HealthReporter,
    grace: Duration,
) {
    shutdown.await;
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    health
        .set_not_serving::<pb::slot_finder_server::SlotFinderServer<SlotFinderService>>()
        .await;
    health
        .set_not_serving::<pb::release_planner_server::ReleasePlannerServer<ReleasePlannerService>>(
        )
        .await;
    health
        .set_service_status(
            "quorum.v1.HoldBroker",
            tonic_health::ServingStatus::NotServing,
        )
        .await;
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "health is NOT_SERVING; draining"
    );
    tokio::time::sleep(grace).await;
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    if let Ok(address) = listener.local_addr() {
        check_plaintext_tokens(&config, address)?;
    }
    let tls = tls_config(config.tls.as_ref())?;
    let (health, health_service) = tonic_health::server::health_reporter();
    let broker = match &config.hold_broker {
        // Opening may connect to a database with a blocking client, which
        // must not run on the async runtime's threads.
        Some(broker) => {
            let opening = broker.clone();
            let opened = tokio::task::spawn_blocking(move || open_broker(&opening)).await??;
            Some((opened, broker.sweep_every))
        }
        None => None,
    };
    let store = broker.as_ref().map(|((store, _), _)| store.clone());
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let slot_finder = config.slot_finder.then(|| {
        pb::slot_finder_server::SlotFinderServer::new(
            SlotFinderService::new(
                config.limits.clone(),
                config.max_solve_time,
                config.concurrent_solves,
                store.clone(),
            )
            .with_calendars(config.calendar_sources.clone()),
        )
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes)
    });
    let release_planner = config.slot_finder.then(|| {
        let limits = quorum_domain::ProgrammeLimits {
            problem: config.limits.clone(),
            ..Default::default()
        };
        pb::release_planner_server::ReleasePlannerServer::new(ReleasePlannerService::new(
            limits,
            config.max_solve_time,
            config.concurrent_solves,
        ))
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes)
    });
    if slot_finder.is_some() {
        health
            .set_serving::<pb::slot_finder_server::SlotFinderServer<SlotFinderService>>()
            .await;
        health
            .set_serving::<pb::release_planner_server::ReleasePlannerServer<ReleasePlannerService>>(
            )
            .await;
    }
    let mut sweeper = None;
    let clock = config.hold_broker.as_ref().map(|b| b.clock.clone());
    let hold_broker = match broker.zip(clock) {
        Some((((store, auth), every), clock)) => {
            sweeper = Some(spawn_sweeper(store.clone(), every));
            health
                .set_service_status("quorum.v1.HoldBroker", tonic_health::ServingStatus::Serving)
                .await;
            let service =
                pb::hold_broker_server::HoldBrokerServer::new(HoldBrokerService::new(store, clock))
                    .max_decoding_message_size(config.max_message_bytes)
                    .max_encoding_message_size(config.max_message_bytes);
            Some(tonic::service::interceptor::InterceptedService::new(
                service,
                auth.interceptor(),
            ))
        }
        None => None,
    };
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(
        %address,
        slot_finder = config.slot_finder,
        hold_broker = config.hold_broker.is_some(),
        store = config
            .hold_broker
            .as_ref()
            .map(store_for_log)
            .unwrap_or_default(),
        tls = tls.is_some(),
        "quorum listening"
    );
    let limits = config.connections.clone();
    let shutdown = drain_after(shutdown, health, limits.drain_grace);
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    builder
        .timeout(limits.request_timeout)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .layer(TrackCalls)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_optional_service(slot_finder)
        .add_optional_service(release_planner)
        .add_optional_service(hold_broker)
        .serve_with_incoming_shutdown(idle_closing(listener, limits.idle_timeout), shutdown)
        .await?;
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    tracing::info!("quorum stopped");
    Ok(())
}
