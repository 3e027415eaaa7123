//! `quorum health`: is a server up and serving? With `--wait`, keeps asking
//! until it is (or the wait runs out), so scripts can start `quorum serve &`
//! and go on as soon as it answers instead of sleeping a guessed time.

use crate::cli::connect::{ConnectError, DEFAULT_SERVER, connect};
use std::time::{Duration, Instant};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The server to ask: host:port or a URL.
    #[arg(long, default_value = DEFAULT_SERVER)]
    pub server: String,
    /// Keep asking for up to this many seconds until the server serves.
    #[arg(long, default_value_t = 0.0)]
    pub wait: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the server answers {status}, not SERVING")]
    NotServing { status: String },
    #[error("--wait must be a number of seconds from 0 to 3600")]
    Wait,
}

async fn check(server: &str) -> Result<(), HealthError> {
    let mut client = HealthClient::new(connect(server).await?);
    let status = client
        .check(HealthCheckRequest::default())
        .await
        .map(|r| r.into_inner().status())
        .unwrap_or(ServingStatus::Unknown);
    if status == ServingStatus::Serving {
        Ok(())
    } else {
        Err(HealthError::NotServing {
            status: status.as_str_name().to_owned(),
        })
    }
}

pub async fn run(args: &HealthArgs) -> Result<String, HealthError> {
    if !(0.0..=3600.0).contains(&args.wait) {
        return Err(HealthError::Wait);
    }
    let until = Instant::now() + Duration::from_secs_f64(args.wait);
    loop {
        match check(&args.server).await {
            Ok(()) => return Ok("SERVING\n".to_owned()),
            Err(error) if Instant::now() >= until => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
