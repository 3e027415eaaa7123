//! `quorum load-holds`: PlaceHold load for sizing the hold broker, over one
//! or several replicas (`--server` repeated; streams are spread over them).
//! Each stream is its own pipeline with its own ticket and person, placing
//! one hold after another on later slots, so no two holds conflict and every
//! call is a full, durable check-and-insert with its audit record. Runs
//! against a development-mode server (the identity header names the caller
//! and a ticket's first hold names its release owner).

use crate::cli::load::{LoadError, LoadReport, histogram};
use crate::pb;
use chrono::{Duration as Minutes, TimeZone, Utc};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct HoldLoadArgs {
    /// A replica to load: host:port or a URL; repeat for several.
    #[arg(long = "server", default_value = crate::cli::connect::DEFAULT_SERVER)]
    pub servers: Vec<String>,
    /// Concurrent streams, each on its own connection.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Total PlaceHold calls per second across all streams; unlimited when unset.
    #[arg(long)]
    pub rate: Option<f64>,
}

/// Names the stream's pipeline in the development-mode identity header.
#[derive(Clone)]
struct Pipeline(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Pipeline {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert(crate::auth::IDENTITY_HEADER, self.0.clone());
        Ok(request)
    }
}

pub async fn run(args: &HoldLoadArgs) -> Result<LoadReport, LoadError> {
    if args.concurrency == 0 || args.rate.is_some_and(|r| r <= 0.0) || args.duration <= 0.0 {
        return Err(LoadError::Arguments(
            "concurrency, rate and duration must be positive".into(),
        ));
    }
    let seconds =
        |s: f64| Duration::try_from_secs_f64(s).map_err(|e| LoadError::Arguments(e.to_string()));
    let interval = args
        .rate
        .map(|r| seconds(args.concurrency as f64 / r))
        .transpose()?;
    // Each run gets its own tickets, so runs against one store never collide.
    let run_id = Utc::now().timestamp_millis();
    let mut clients = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let channel = crate::cli::connect::connect(&args.servers[i % args.servers.len()]).await?;
        let identity = format!("load-{run_id}-{i}")
            .parse()
            .map_err(|_| LoadError::Arguments("the pipeline identity is not ASCII".into()))?;
        clients.push(pb::hold_broker_client::HoldBrokerClient::with_interceptor(
            channel,
            Pipeline(identity),
        ));
    }
    let started = Instant::now();
    let until = started + seconds(args.duration)?;
    let mut streams = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let mut latency = histogram()?;
        let ticket = format!("LOAD-{run_id}-{i}");
        streams.push(tokio::spawn(async move {
            let (ok, failed, errors) = stream(client, ticket, until, interval, &mut latency).await;
            (ok, failed, errors, latency)
        }));
    }
    let mut report = LoadReport {
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latency: histogram()?,
        errors: Vec::new(),
    };
    for handle in streams {
        if let Ok((ok, failed, errors, latency)) = handle.await {
            report.ok += ok;
            report.failed += failed;
            let _ = report.latency.add(latency);
            for error in errors {
                if report.errors.len() < 5 && !report.errors.contains(&error) {
                    report.errors.push(error);
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

type Client = pb::hold_broker_client::HoldBrokerClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Pipeline>,
>;

async fn stream(
    mut client: Client,
    ticket: String,
    until: Instant,
    interval: Option<Duration>,
    latency: &mut hdrhistogram::Histogram<u64>,
) -> (u64, u64, Vec<String>) {
    let mut ticker = interval.map(|every| {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let base = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut errors = Vec::new();
    for n in 0i64.. {
        if Instant::now() >= until {
            break;
        }
        if let Some(ticker) = ticker.as_mut() {
            ticker.tick().await;
        }
        let start = base + Minutes::minutes(30 * n);
        let request = pb::PlaceHoldRequest {
            change_ticket: ticket.clone(),
            start: Some(crate::convert::to_timestamp(start)),
            end: Some(crate::convert::to_timestamp(start + Minutes::minutes(30))),
            attendees: vec![pb::HoldAttendee {
                person_id: format!("{ticket}-rm"),
                role_id: "release-manager".into(),
            }],
            ttl_seconds: 3600,
            idempotency_key: format!("{ticket}-{n}"),
            release_owner: "load-owner".into(),
        };
        let sent = Instant::now();
        match client.place_hold(request).await {
            Ok(_) => {
                ok += 1;
                let _ = latency.record(sent.elapsed().as_micros() as u64);
            }
            Err(status) => {
                failed += 1;
                let text = format!("{:?}: {}", status.code(), status.message());
                if errors.len() < 5 && !errors.contains(&text) {
                    errors.push(text);
                }
            }
        }
    }
    (ok, failed, errors)
}
