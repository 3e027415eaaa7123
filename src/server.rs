//! Assembles and runs the gRPC server: the slot finder, gRPC health and server
//! reflection on one port, with limits from the configuration, until the
//! shutdown future resolves (SIGTERM or Ctrl-C in the binary).

use crate::{pb, slot_finder::SlotFinderService};
use quorum_domain::ProblemLimits;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: ProblemLimits::default(),
            max_message_bytes: 16 * 1024 * 1024,
            max_solve_time: Duration::from_secs(10),
            concurrent_solves: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::slot_finder_server::SlotFinderServer<SlotFinderService>>()
        .await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let slot_finder = pb::slot_finder_server::SlotFinderServer::new(SlotFinderService::new(
        config.limits.clone(),
        config.max_solve_time,
        config.concurrent_solves,
    ))
    .max_decoding_message_size(config.max_message_bytes)
    .max_encoding_message_size(config.max_message_bytes);
    let address = listener.local_addr().ok();
    tracing::info!(?address, "quorum serving SlotFinder, health and reflection");
    Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(slot_finder)
        // Without TCP_NODELAY a request larger than one segment waits out the
        // peer's delayed ACK: about 40 ms added to every medium-sized call.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await?;
    tracing::info!("quorum stopped");
    Ok(())
}
