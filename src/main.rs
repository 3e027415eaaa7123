//! The `quorum` binary: `serve` runs the gRPC server on its embedded defaults;
//! `find-slots` solves a request file. Argument parsing and logging set-up
//! only; the work is in the library.

use clap::{Parser, Subcommand};
use quorum::calendar_sources::CalendarReader;
use quorum::cli::calendars::{self, CalendarsArgs};
use quorum::cli::find_slots::{self, FindSlotsArgs};
use quorum::cli::health::{self, HealthArgs};
use quorum::cli::holds::{self, HoldsArgs};
use quorum::cli::load::{self, LoadArgs};
use quorum::cli::load_holds;
use quorum::cli::plan::{self, PlanArgs};
use quorum::server::{ConnectionLimits, HoldBrokerConfig, ServerConfig, TlsFiles, serve};
use quorum_calendars::Sources;
use quorum_domain::SystemClock;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "quorum",
    version,
    about = "When can every person a production change needs meet, inside the rules?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gRPC server (SlotFinder, health, reflection).
    Serve(ServeArgs),
    /// Solve a FindSlotsRequest JSON file and print the ranked slots.
    FindSlots(FindSlotsArgs),
    /// Plan a release programme (PlanReleaseRequest JSON) and print each plan as a timeline.
    Plan(PlanArgs),
    /// Place, list, extend, release, approve and confirm holds on a running server.
    Holds(HoldsArgs),
    /// Load a running server with one request file and report throughput and latency.
    Load(LoadArgs),
    /// Ask a running server whether it serves (exit 0 when it does).
    Health(HealthArgs),
    /// Import calendar files or fetch from configured sources into `people` entries.
    Calendars(CalendarsArgs),
    /// Load one or more hold broker replicas with PlaceHold calls (development mode).
    LoadHolds(load_holds::HoldLoadArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on: host:port (a name such as localhost resolves).
    #[arg(long, env = "QUORUM_LISTEN", default_value = "127.0.0.1:50051")]
    listen: String,
    /// Largest request or response, in bytes.
    #[arg(long, env = "QUORUM_MAX_MESSAGE_BYTES", default_value_t = ServerConfig::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Longest a single solve may run, in milliseconds.
    #[arg(long, env = "QUORUM_MAX_SOLVE_MS", default_value_t = 10_000)]
    max_solve_ms: u64,
    /// Solves running at once (default: one per core).
    #[arg(long, env = "QUORUM_CONCURRENT_SOLVES")]
    concurrent_solves: Option<usize>,
    /// Most grid buckets in a horizon.
    #[arg(long, env = "QUORUM_MAX_BUCKETS", default_value_t = quorum_domain::ProblemLimits::default().max_buckets)]
    max_buckets: u32,
    /// Most people in a request.
    #[arg(long, env = "QUORUM_MAX_PEOPLE", default_value_t = quorum_domain::ProblemLimits::default().max_people)]
    max_people: usize,
    /// Most busy intervals in a request, over all people.
    #[arg(long, env = "QUORUM_MAX_BUSY_INTERVALS", default_value_t = quorum_domain::ProblemLimits::default().max_busy_intervals)]
    max_busy_intervals: usize,
    /// The hold store: a SQLite file (a path or sqlite://path), created on
    /// first start, or postgres://user@host:port/db, a PostgreSQL database
    /// that several replicas share (migrated at start).
    #[arg(long, env = "QUORUM_STORE", default_value = "quorum.db")]
    store: PathBuf,
    /// Bearer tokens of HoldBroker callers, one "<token> <identity> <scope>[,<scope>…]"
    /// per line (scopes: pipeline, release-owner, read, admin).
    /// Without it the server runs in development mode (identity from the
    /// x-quorum-identity header).
    #[arg(long, env = "QUORUM_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// HMAC-SHA256 key (at least 32 bytes) for approval tokens; by default
    /// the store creates one on first start and keeps it in its file.
    #[arg(long, env = "QUORUM_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// Run only the slot finder.
    #[arg(long, conflicts_with = "holds_only")]
    slots_only: bool,
    /// Run only the hold broker.
    #[arg(long)]
    holds_only: bool,
    /// Longest a hold may reach past now, by TTL or extension, in hours.
    #[arg(long, env = "QUORUM_MAX_HOLD_HOURS", default_value_t = 72)]
    max_hold_hours: i64,
    /// Most non-zero terms of the integer program (engine INTEGER_PROGRAM).
    #[arg(long, env = "QUORUM_MAX_PROGRAM_TERMS", default_value_t = quorum_domain::ProblemLimits::default().max_program_terms)]
    max_program_terms: usize,
    /// Largest explain: true answer, in bytes (estimated before it is built).
    #[arg(long, env = "QUORUM_MAX_EXPLANATION_BYTES", default_value_t = quorum_domain::ProblemLimits::default().max_explanation_bytes)]
    max_explanation_bytes: usize,
    /// Most runs of rejected starts an explain: true answer lists (then it
    /// says run_cap_reached).
    #[arg(long, env = "QUORUM_MAX_REJECTED_RUNS", default_value_t = quorum_domain::ProblemLimits::default().max_rejected_runs)]
    max_rejected_runs: usize,
    /// Close a connection with no call in flight for this many seconds.
    #[arg(long, env = "QUORUM_IDLE_TIMEOUT_SECS", default_value_t = ConnectionLimits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
    /// End a call not answered within this many seconds (also one whose
    /// request never finishes arriving).
    #[arg(long, env = "QUORUM_REQUEST_TIMEOUT_SECS", default_value_t = ConnectionLimits::default().request_timeout.as_secs())]
    request_timeout_secs: u64,
    /// Send HTTP/2 keepalive pings this often, in seconds.
    #[arg(long, env = "QUORUM_KEEPALIVE_SECS", default_value_t = ConnectionLimits::default().keepalive_interval.as_secs())]
    keepalive_secs: u64,
    /// After SIGTERM, report NOT_SERVING for this long before draining.
    #[arg(long, env = "QUORUM_DRAIN_GRACE_MS", default_value_t = ConnectionLimits::default().drain_grace.as_millis() as u64)]
    drain_grace_ms: u64,
    /// Refusals written to the audit log per caller per minute; more are
    /// counted and summarised, so refused calls cannot grow the store fast.
    #[arg(long, env = "QUORUM_AUDITED_REFUSALS_PER_MINUTE", default_value_t = quorum_holds::HoldPolicy::default().audited_refusals_per_minute)]
    audited_refusals_per_minute: u32,
    /// Serve over TLS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "QUORUM_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "QUORUM_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this PEM CA (mutual TLS).
    #[arg(long, env = "QUORUM_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Serve a token file over plain TCP on a non-loopback address anyway
    /// (only when something else encrypts the traffic).
    #[arg(long, env = "QUORUM_ALLOW_PLAINTEXT_TOKENS")]
    allow_plaintext_tokens: bool,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "QUORUM_LOG_JSON")]
    log_json: bool,
    /// The calendar sources (JSON) FindSlots requests may name; without it,
    /// requests that name calendars are refused.
    #[arg(long, env = "QUORUM_CALENDAR_SOURCES")]
    calendar_sources: Option<PathBuf>,
}

impl ServeArgs {
    fn config(&self) -> Result<ServerConfig, quorum_calendars::CalendarError> {
        let calendar_sources = match &self.calendar_sources {
            Some(path) => Some(CalendarReader {
                sources: Arc::new(Sources::load(path)?),
                clock: Arc::new(SystemClock),
            }),
            None => None,
        };
        let defaults = ServerConfig::default();
        let mut limits = defaults.limits.clone();
        limits.max_buckets = self.max_buckets;
        limits.max_people = self.max_people;
        limits.max_busy_intervals = self.max_busy_intervals;
        limits.max_program_terms = self.max_program_terms;
        limits.max_explanation_bytes = self.max_explanation_bytes;
        limits.max_rejected_runs = self.max_rejected_runs;
        let connections = ConnectionLimits {
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            keepalive_interval: Duration::from_secs(self.keepalive_secs),
            drain_grace: Duration::from_millis(self.drain_grace_ms),
            ..ConnectionLimits::default()
        };
        Ok(ServerConfig {
            calendar_sources,
            connections,
            limits,
            max_message_bytes: self.max_message_bytes,
            max_solve_time: Duration::from_millis(self.max_solve_ms),
            concurrent_solves: self.concurrent_solves.unwrap_or(defaults.concurrent_solves),
            slot_finder: !self.holds_only,
            tls: self
                .tls_cert
                .clone()
                .zip(self.tls_key.clone())
                .map(|(cert, key)| TlsFiles {
                    cert,
                    key,
                    client_ca: self.tls_client_ca.clone(),
                }),
            allow_plaintext_tokens: self.allow_plaintext_tokens,
            hold_broker: (!self.slots_only).then(|| {
                let mut broker = HoldBrokerConfig::new(self.store.clone());
                broker.token_file = self.token_file.clone();
                broker.signing_key_file = self.signing_key_file.clone();
                broker.policy.max_ttl = chrono::Duration::hours(self.max_hold_hours);
                broker.policy.audited_refusals_per_minute = self.audited_refusals_per_minute;
                broker
            }),
        })
    }
}

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    // Colour codes only for a person at a terminal, never into a log file.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Registers for SIGTERM and SIGINT (Ctrl-C) now, and returns the future
/// that resolves on either. Registering before serving matters: a signal that
/// arrives between "listening" and the first poll of a lazily registered
/// handler would otherwise kill the process instead of draining it.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind: SignalKind, name: &'static str| {
        signal(kind)
            .map_err(|error| tracing::warn!(%error, signal = name, "cannot listen for this signal"))
            .ok()
    };
    let (term, int) = (
        register(SignalKind::terminate(), "SIGTERM"),
        register(SignalKind::interrupt(), "SIGINT"),
    );
    async move {
        let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
            match signal {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(term) => {},
            _ = wait(int) => {},
        }
        tracing::info!("shutdown requested; draining in-flight calls");
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; draining in-flight calls");
    }
}

/// Prints a tool's output, or its error on stderr with a failing exit code.
/// A reader that went away (`quorum … | head`) ends the output quietly.
fn print_outcome(outcome: Result<String, impl std::fmt::Display>) -> ExitCode {
    use std::io::Write;
    match outcome {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(output.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write the output: {error}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_tracing(args.log_json);
            let config = match args.config() {
                Ok(config) => config,
                Err(error) => {
                    tracing::error!(%error, "cannot start");
                    return ExitCode::FAILURE;
                }
            };
            let listener = match tokio::net::TcpListener::bind(args.listen.as_str()).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::error!(%error, listen = %args.listen, "cannot listen");
                    return ExitCode::FAILURE;
                }
            };
            let shutdown = shutdown_signal();
            match serve(listener, config, shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "server failed");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Holds(args) => print_outcome(holds::run(&args).await),
        Command::Load(args) => print_outcome(
            load::run(&args)
                .await
                .and_then(load::require_success)
                .map(|report| report.render()),
        ),
        Command::LoadHolds(args) => print_outcome(
            load_holds::run(&args)
                .await
                .and_then(load::require_success)
                .map(|report| report.render()),
        ),
        Command::FindSlots(args) => print_outcome(find_slots::run(&args).await),
        Command::Health(args) => print_outcome(health::run(&args).await),
        Command::Calendars(args) => {
            print_outcome(tokio::task::block_in_place(|| calendars::run(&args)))
        }
        Command::Plan(args) => print_outcome(plan::run(&args).await),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Walks every subcommand and collects what a `--help` reader would miss.
    fn undocumented(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        let here = format!("{path} {}", command.get_name()).trim().to_owned();
        if command.get_about().is_none() {
            out.push(format!("{here}: no about text"));
        }
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id != "help" && id != "version" && arg.get_help().is_none() {
                out.push(format!("{here} {id}: no help text"));
            }
        }
        for sub in command.get_subcommands() {
            undocumented(sub, &here, out);
        }
    }

    #[test]
    fn every_subcommand_and_flag_has_help_text() {
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        undocumented(&command, "", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
