//! `quorum load`: a load generator for sizing a deployment. N concurrent
//! streams send one request file to a running server for a fixed duration or
//! request count, optionally at a fixed total rate, and report throughput and
//! latency percentiles from an HDR histogram.

use crate::{json, pb};
use hdrhistogram::Histogram;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// A FindSlotsRequest in proto3 JSON.
    pub file: PathBuf,
    /// The server to load: host:port or a URL.
    #[arg(long, default_value = crate::cli::connect::DEFAULT_SERVER)]
    pub server: String,
    /// Concurrent streams, each on its own connection.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// How long to run, in seconds (ignored when --requests is set).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Stop after this many requests in total.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Total requests per second across all streams; unlimited when unset.
    #[arg(long)]
    pub rate: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Json(#[from] json::JsonError),
    #[error(transparent)]
    Connect(#[from] crate::cli::connect::ConnectError),
    #[error("the load arguments are out of range: {0}")]
    Arguments(String),
    #[error("{report}{failed} of {total} requests failed; the first errors:{}", first_errors(.first))]
    Failed {
        failed: u64,
        total: u64,
        first: Vec<String>,
        report: String,
    },
}

fn first_errors(errors: &[String]) -> String {
    errors.iter().map(|e| format!("\n  {e}")).collect()
}

/// How many distinct failure messages a run keeps to show.
const SHOWN_ERRORS: usize = 5;

/// What one run measured.
#[derive(Debug)]
pub struct LoadReport {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Latency of successful calls, in microseconds.
    pub latency: Histogram<u64>,
    /// The first distinct failures, for the operator to see why.
    pub errors: Vec<String>,
    /// For a load paced on a fixed schedule whose `latency` counts from each
    /// call's due time (`quorum load-holds --rate`): the time from the send
    /// alone, and how many calls left late.
    pub schedule: Option<Schedule>,
}

/// What a paced run saw beside latency from the due time.
#[derive(Debug)]
pub struct Schedule {
    /// Latency of successful calls from their send, in microseconds.
    pub service: Histogram<u64>,
    /// Calls that left more than a millisecond after their due time, because
    /// their stream was still waiting for its previous call.
    pub late: u64,
}

impl LoadReport {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "requests: {} ok, {} failed in {:.2} s",
            self.ok,
            self.failed,
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(out, "throughput: {:.0} requests/s", self.throughput());
        match &self.schedule {
            None => percentiles(&mut out, "latency ms:", &self.latency),
            Some(schedule) => {
                percentiles(&mut out, "latency ms (from due time):", &self.latency);
                percentiles(&mut out, "service ms (from send):", &schedule.service);
                let _ = writeln!(
                    out,
                    "late starts: {} of {} calls left over 1 ms after their due time",
                    schedule.late,
                    self.ok + self.failed
                );
            }
        }
        out
    }
}

fn percentiles(out: &mut String, label: &str, latency: &Histogram<u64>) {
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "{label} p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(0.50),
        ms(0.90),
        ms(0.99),
        latency.max() as f64 / 1000.0
    );
}

/// Latencies in microseconds, from 1 µs to a minute.
pub(crate) fn histogram() -> Result<Histogram<u64>, LoadError> {
    Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| LoadError::Arguments(e.to_string()))
}

pub async fn run(args: &LoadArgs) -> Result<LoadReport, LoadError> {
    if args.concurrency == 0 || args.rate.is_some_and(|r| r <= 0.0) || args.duration <= 0.0 {
        return Err(LoadError::Arguments(
            "concurrency, rate and duration must be positive".into(),
        ));
    }
    let text = std::fs::read_to_string(&args.file).map_err(|source| LoadError::Read {
        path: args.file.clone(),
        source,
    })?;
    let request = json::request_from_json(&text)?;
    let started = Instant::now();
    let seconds =
        |s: f64| Duration::try_from_secs_f64(s).map_err(|e| LoadError::Arguments(e.to_string()));
    let until = started + seconds(args.duration)?;
    let per_stream_requests = args.requests.map(|n| n.div_ceil(args.concurrency as u64));
    let interval = args
        .rate
        .map(|r| seconds(args.concurrency as f64 / r))
        .transpose()?;
    let mut streams = Vec::new();
    for _ in 0..args.concurrency {
        let channel = crate::cli::connect::connect(&args.server).await?;
        let client = pb::slot_finder_client::SlotFinderClient::new(channel);
        let request = request.clone();
        let mut latency = histogram()?;
        streams.push(tokio::spawn(async move {
            stream(
                client,
                request,
                until,
                per_stream_requests,
                interval,
                &mut latency,
            )
            .await
            .map(|(ok, failed, errors)| (ok, failed, errors, latency))
        }));
    }
    let mut report = LoadReport {
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latency: histogram()?,
        errors: Vec::new(),
        schedule: None,
    };
    for handle in streams {
        if let Ok(Ok((ok, failed, errors, latency))) = handle.await {
            report.ok += ok;
            report.failed += failed;
            let _ = report.latency.add(latency);
            for error in errors {
                if report.errors.len() < SHOWN_ERRORS && !report.errors.contains(&error) {
                    report.errors.push(error);
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// A run with failures is an error (a non-zero exit), with the report and
/// the first distinct failures.
pub fn require_success(report: LoadReport) -> Result<LoadReport, LoadError> {
    if report.failed == 0 {
        return Ok(report);
    }
    Err(LoadError::Failed {
        failed: report.failed,
        total: report.ok + report.failed,
        first: report.errors.clone(),
        report: report.render(),
    })
}

async fn stream(
    mut client: pb::slot_finder_client::SlotFinderClient<tonic::transport::Channel>,
    request: pb::FindSlotsRequest,
    until: Instant,
    limit: Option<u64>,
    interval: Option<Duration>,
    latency: &mut Histogram<u64>,
) -> Result<(u64, u64, Vec<String>), LoadError> {
    let mut ticker = interval.map(|every| {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut errors = Vec::new();
    loop {
        let done = ok + failed;
        if limit.map_or(Instant::now() >= until, |n| done >= n) {
            return Ok((ok, failed, errors));
        }
        if let Some(ticker) = ticker.as_mut() {
            ticker.tick().await;
        }
        let sent = Instant::now();
        match client.find_slots(request.clone()).await {
            Ok(_) => {
                ok += 1;
                let _ = latency.record(sent.elapsed().as_micros() as u64);
            }
            Err(status) => {
                failed += 1;
                let text = format!("{:?}: {}", status.code(), status.message());
                if errors.len() < SHOWN_ERRORS && !errors.contains(&text) {
                    errors.push(text);
                }
            }
        }
    }
}
