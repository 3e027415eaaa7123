//! `quorum load-holds`: PlaceHold load for sizing the hold broker, over one
//! or several replicas (`--server` repeated; streams are spread over them).
//! Each stream is its own pipeline with its own ticket and person, placing
//! one hold after another on later slots, so no two holds conflict and every
//! call is a full, durable check-and-insert with its audit record. Runs
//! against a development-mode server (the identity header names the caller
//! and a ticket's first hold names its release owner).
//!
//! With `--rate` the load is open-loop on a fixed schedule: call `m` of the
//! run is due at `m / rate` seconds, dealt to the streams in turn, so the
//! streams together send evenly instead of all at once. Latency counts from
//! the call's due time, not from when it left: a call that waits behind its
//! stream's slow previous call is charged that wait (the correction for
//! "coordinated omission" — timing from the send alone hides exactly the
//! stalls a tail percentile is meant to show). The time from the send alone
//! is reported beside it as the service time.

use crate::cli::load::{LoadError, LoadReport, Schedule, histogram};
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
    /// Total PlaceHold calls per second across all streams, due on a fixed
    /// schedule spread evenly over the streams; latency then counts from each
    /// call's due time. Unlimited (each stream sends as soon as its last call
    /// returns) when unset.
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
        let pace = args.rate.map(|rate| Pace {
            started,
            rate,
            streams: args.concurrency,
            stream: i,
        });
        let mut tally = Tally::new()?;
        let ticket = format!("LOAD-{run_id}-{i}");
        streams.push(tokio::spawn(async move {
            stream(client, ticket, until, pace, &mut tally).await;
            tally
        }));
    }
    let mut report = LoadReport {
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latency: histogram()?,
        errors: Vec::new(),
        schedule: args
            .rate
            .map(|_| {
                Ok::<_, LoadError>(Schedule {
                    service: histogram()?,
                    late: 0,
                })
            })
            .transpose()?,
    };
    for handle in streams {
        if let Ok(tally) = handle.await {
            tally.add_to(&mut report);
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// When one stream's calls are due under `--rate`.
#[derive(Debug, Clone, Copy)]
struct Pace {
    started: Instant,
    /// Calls per second across all streams.
    rate: f64,
    streams: usize,
    stream: usize,
}

impl Pace {
    /// The stream's `k`-th call is the run's call `stream + k * streams`,
    /// due at that number over the rate. Without the stream's offset every
    /// stream would send at the same instant, a burst of `streams` calls per
    /// period that queue behind one another in the server — a tail the load
    /// generator makes, not the server.
    fn due(&self, k: u64) -> Instant {
        let call = self.stream as f64 + k as f64 * self.streams as f64;
        self.started + Duration::from_secs_f64(call / self.rate)
    }
}

/// A call that left more than this after its due time counts as late.
const LATE: Duration = Duration::from_millis(1);

/// What one stream measured.
struct Tally {
    ok: u64,
    failed: u64,
    errors: Vec<String>,
    /// From the due time (from the send when unpaced), in microseconds.
    latency: hdrhistogram::Histogram<u64>,
    /// From the send, in microseconds.
    service: hdrhistogram::Histogram<u64>,
    late: u64,
}

impl Tally {
    fn new() -> Result<Self, LoadError> {
        Ok(Self {
            ok: 0,
            failed: 0,
            errors: Vec::new(),
            latency: histogram()?,
            service: histogram()?,
            late: 0,
        })
    }

    fn add_to(self, report: &mut LoadReport) {
        report.ok += self.ok;
        report.failed += self.failed;
        let _ = report.latency.add(&self.latency);
        if let Some(schedule) = report.schedule.as_mut() {
            let _ = schedule.service.add(&self.service);
            schedule.late += self.late;
        }
        for error in self.errors {
            if report.errors.len() < 5 && !report.errors.contains(&error) {
                report.errors.push(error);
            }
        }
    }
}

type Client = pb::hold_broker_client::HoldBrokerClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Pipeline>,
>;

/// One pipeline's holds, one after another on later slots.
fn request(ticket: &str, n: u64) -> pb::PlaceHoldRequest {
    let base = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let start = base + Minutes::minutes(30 * i64::try_from(n).unwrap_or(i64::MAX / 60));
    pb::PlaceHoldRequest {
        change_ticket: ticket.to_owned(),
        start: Some(crate::convert::to_timestamp(start)),
        end: Some(crate::convert::to_timestamp(start + Minutes::minutes(30))),
        attendees: vec![pb::HoldAttendee {
            person_id: format!("{ticket}-rm"),
            role_id: "release-manager".into(),
        }],
        ttl_seconds: 3600,
        idempotency_key: format!("{ticket}-{n}"),
        release_owner: "load-owner".into(),
    }
}

async fn stream(
    mut client: Client,
    ticket: String,
    until: Instant,
    pace: Option<Pace>,
    tally: &mut Tally,
) {
    for n in 0u64.. {
        let due = pace.map_or_else(Instant::now, |p| p.due(n));
        if due >= until || Instant::now() >= until {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let sent = Instant::now();
        if sent.duration_since(due) > LATE {
            tally.late += 1;
        }
        match client.place_hold(request(&ticket, n)).await {
            Ok(_) => {
                tally.ok += 1;
                let _ = tally.latency.record(due.elapsed().as_micros() as u64);
                let _ = tally.service.record(sent.elapsed().as_micros() as u64);
            }
            Err(status) => {
                tally.failed += 1;
                let text = format!("{:?}: {}", status.code(), status.message());
                if tally.errors.len() < 5 && !tally.errors.contains(&text) {
                    tally.errors.push(text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pace;
    use std::time::{Duration, Instant};

    /// The streams together send evenly at the rate: every call of the run
    /// is due 1/rate after the one before, whichever stream sends it.
    #[test]
    fn paced_streams_send_evenly_not_in_bursts() {
        let started = Instant::now();
        let (rate, streams) = (200.0, 4);
        let mut due: Vec<Duration> = (0..streams)
            .flat_map(|stream| {
                let pace = Pace {
                    started,
                    rate,
                    streams,
                    stream,
                };
                (0..5).map(move |k| pace.due(k) - started)
            })
            .collect();
        due.sort();
        for (m, at) in due.iter().enumerate() {
            let expected = Duration::from_secs_f64(m as f64 / rate);
            let off = at.abs_diff(expected);
            assert!(
                off < Duration::from_micros(1),
                "call {m} due at {at:?}, not {expected:?}"
            );
        }
    }
}
