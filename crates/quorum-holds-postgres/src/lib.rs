//! The hold broker's PostgreSQL store: several `quorum serve` replicas share
//! one database, and double booking is impossible by construction — an
//! exclusion constraint (see [`migrations`]) refuses a second blocking hold
//! of another ticket on one person in overlapping time, however many
//! replicas insert at once. The hold rules are `quorum_holds::broker`'s, the
//! same as on SQLite; this crate only provides the transaction primitives.
//!
//! The client is the synchronous `postgres` crate with an `r2d2` pool: the
//! store interface is synchronous (the service calls it from
//! `spawn_blocking`), so an async client would only be wrapped back into
//! blocking calls. `postgres` drives `tokio-postgres` on a small runtime of
//! its own per connection; that runtime stays inside this crate, which is
//! why the PostgreSQL store is a crate apart and `quorum-holds` stays free
//! of any async runtime.
//!
//! Transactions run at READ COMMITTED, with the hold's row locked when it is
//! read for a change. A lost race — a unique key another transaction took
//! first, a serialization failure, a deadlock — reruns the whole transaction,
//! which then sees the winner's commit. A database that cannot be reached
//! fails the call with [`HoldError::Unavailable`], and the pool reconnects
//! when it is back.
//!
//! TLS to the database follows libpq's `sslmode` and `sslrootcert` in the
//! store URL (see the `tls` module), with rustls; `verify-full` is what a
//! managed database across a network needs.

pub mod migrations;
mod pool;
mod tls;
mod tx;

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use quorum_domain::Clock;
use quorum_holds::broker::{Broker, Storage, Work};
use quorum_holds::{HoldError, HoldPolicy, TokenSigner};
use std::sync::Arc;
use std::time::Duration;

/// How often a transaction that lost a race is run again before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections per replica.
    pub max_connections: u32,
    /// How long a call waits for a connection (and a new connection for the
    /// database) before it fails with UNAVAILABLE.
    pub connect_timeout: Duration,
    /// The longest one statement may run in the database.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 32,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL database's transactions.
pub struct PostgresStorage {
    /// Always `Some` until dropped (see the `Drop` impl).
    pool: Option<r2d2::Pool<pool::Manager>>,
    /// How many dead connections a call may find in the pool before it
    /// gives up: after a restart, every pooled one may be.
    max_connections: u32,
    /// `None`: the database's clock decides expiry, the same for every
    /// replica. Tests set a manual clock.
    clock: Option<Arc<dyn Clock>>,
}

/// The hold broker on PostgreSQL.
pub type PostgresHoldStore = Broker<PostgresStorage>;

/// Whether `store` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host:port/db`,
    /// with libpq's `sslmode` and `sslrootcert` if TLS is wanted), applies
    /// pending migrations and keeps a pool of connections.
    pub fn open(
        url: &str,
        clock: Option<Arc<dyn Clock>>,
        settings: &PoolSettings,
    ) -> Result<Self, HoldError> {
        let manager = connection_manager(url, settings)?;
        let probe = manager.clone();
        // The pool starts empty and fills on demand, so a replica started
        // while the database is away fails its calls, not its start; but the
        // migrations below need the database now.
        let pool = r2d2::Pool::builder()
            .max_size(settings.max_connections)
            .min_idle(Some(0))
            .connection_timeout(settings.connect_timeout)
            // No test query on checkout: it would cost a round trip per
            // call. A dead connection shows at BEGIN instead (see `run`).
            .test_on_check_out(false)
            .build_unchecked(manager);
        let storage = Self {
            pool: Some(pool),
            max_connections: settings.max_connections,
            clock,
        };
        match storage.migrate() {
            Err(HoldError::Unavailable { detail }) => Err(startup_refusal(&probe, detail)),
            other => other.map(|()| storage),
        }
    }

    fn migrate(&self) -> Result<(), HoldError> {
        let mut connection = self.client()?;
        let mut tx = connection
            .client
            .transaction()
            .map_err(|e| classify(&e).0)?;
        migrations::run(&mut tx).map_err(|e| classify(&e).0)?;
        tx.commit().map_err(|e| classify(&e).0)
    }

    fn client(&self) -> Result<r2d2::PooledConnection<pool::Manager>, HoldError> {
        let pool = self.pool.as_ref().ok_or_else(|| HoldError::Unavailable {
            detail: "the store is closing".into(),
        })?;
        pool.get().map_err(|e| HoldError::Unavailable {
            detail: format!("no connection to PostgreSQL: {e}"),
        })
    }

    /// Runs `work` in one transaction, again while it loses races (up to
    /// [`MAX_ATTEMPTS`]); a transaction that still loses is `Contended`.
    fn run<T>(&self, work: &mut Work<'_, T>, writing: bool) -> Result<T, HoldError> {
        let mut connection = self.client()?;
        let mut attempt = 1;
        let mut dead = 0;
        loop {
            match self.attempt(&mut connection, work, writing) {
                Attempt::Done(outcome) => return outcome,
                // Connections idle in the pool die with a database restart,
                // and nothing tells until one is used; nothing was decided
                // yet, so try another (a new one once the dead are gone).
                Attempt::DeadConnection(error) => {
                    connection.broken = true;
                    dead += 1;
                    if dead > self.max_connections {
                        return Err(error);
                    }
                    drop(connection);
                    connection = self.client()?;
                }
                Attempt::LostARace if attempt >= MAX_ATTEMPTS => {
                    return Err(HoldError::Contended {
                        detail: format!(
                            "{MAX_ATTEMPTS} attempts each lost a race to concurrent changes of the same rows"
                        ),
                    });
                }
                Attempt::LostARace => {
                    attempt += 1;
                    // A little jitter so the transactions that collided do
                    // not collide again in step.
                    let pause = rand::random::<u64>() % (2 * u64::from(attempt));
                    std::thread::sleep(Duration::from_millis(pause));
                }
            }
        }
    }

    /// One run of `work` in one transaction on `connection`.
    fn attempt<T>(
        &self,
        connection: &mut pool::Connection,
        work: &mut Work<'_, T>,
        writing: bool,
    ) -> Attempt<T> {
        let clock_now = self.clock.as_ref().map(|c| c.now());
        let pool::Connection {
            client, statements, ..
        } = connection;
        let (mut tx, now) = match tx::PgTx::begin(client, statements, writing, clock_now) {
            Ok(begun) => begun,
            Err(tx::BeginError::DeadConnection(error)) => return Attempt::DeadConnection(error),
            Err(tx::BeginError::Other(error)) => return Attempt::Done(Err(error)),
        };
        match work(&mut tx, now) {
            Ok(value) => match tx.commit() {
                Ok(()) => Attempt::Done(Ok(value)),
                Err((_, true)) => Attempt::LostARace,
                Err((error, false)) => Attempt::Done(Err(error)),
            },
            Err(_) if tx.lost_a_race() => Attempt::LostARace,
            Err(error) => Attempt::Done(Err(error)),
        }
    }
}

/// The pool's connection manager for `url`: its TLS parameters taken out
/// and honoured, the rest read by `postgres::Config`, the timeouts set.
fn connection_manager(url: &str, settings: &PoolSettings) -> Result<pool::Manager, HoldError> {
    let (url, tls_settings) = tls::split_url(url)?;
    let (connector, ssl_mode) = tls::connector(&tls_settings)?;
    let mut config: postgres::Config = url.parse().map_err(|e| HoldError::Storage {
        detail: format!("the store URL is not a PostgreSQL connection URL: {e}"),
    })?;
    config.ssl_mode(ssl_mode);
    if tls_settings.mode == tls::SslMode::Require && tls_settings.root_cert.is_none() {
        tracing::warn!(
            tls = %tls_settings.describe(),
            "the PostgreSQL store's certificate is not checked; add sslrootcert, or use sslmode=verify-full"
        );
    } else {
        tracing::info!(tls = %tls_settings.describe(), "PostgreSQL store connection");
    }
    let statement_ms = settings.statement_timeout.as_millis();
    config
        .connect_timeout(settings.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .options(&format!("-c statement_timeout={statement_ms}"));
    if config.get_application_name().is_none() {
        config.application_name("quorum");
    }
    Ok(pool::Manager::new(config, connector, tls_settings))
}

/// Why the database could not be reached at start. A TLS refusal is a
/// setting to fix, not an outage to wait out: one more connection attempt
/// tells which, and a TLS one is reported with its advice, not "try again".
fn startup_refusal(probe: &pool::Manager, detail: String) -> HoldError {
    match r2d2::ManageConnection::connect(probe) {
        Err(refused) if refused.is_tls() => HoldError::Storage {
            detail: format!("cannot connect to PostgreSQL: {refused}"),
        },
        _ => HoldError::Unavailable { detail },
    }
}

/// How one run of a transaction ended.
enum Attempt<T> {
    Done(Result<T, HoldError>),
    /// It lost a race to a concurrent transaction: running it again sees
    /// the winner's commit.
    LostARace,
    /// The connection was dead before anything was sent.
    DeadConnection(HoldError),
}

/// Each connection owns a small runtime, which panics if it is dropped on an
/// async runtime's thread — where a server drops its services on shutdown.
/// So the pool is dropped on a thread of its own.
impl Drop for PostgresStorage {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

/// Maps a database error to the broker's, and says whether rerunning the
/// transaction may succeed (it lost a race to a concurrent one).
fn classify(error: &postgres::Error) -> (HoldError, bool) {
    let detail = error.to_string();
    let detail = match error.as_db_error() {
        Some(db) => format!("{detail}: {}", db.message()),
        None => detail,
    };
    if let Some(code) = error.code() {
        let raced = [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::UNIQUE_VIOLATION,
        ];
        if raced.contains(code) {
            return (HoldError::Storage { detail }, true);
        }
        let away = [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::QUERY_CANCELED,
        ];
        if code.code().starts_with("08") || away.contains(code) {
            return (HoldError::Unavailable { detail }, false);
        }
        return (HoldError::Storage { detail }, false);
    }
    // No SQLSTATE: the connection itself failed (closed, reset, timed out).
    (HoldError::Unavailable { detail }, false)
}

/// Connects, migrates, and applies the hold rules on the database. Without
/// a clock, the database's decides expiry.
pub fn connect(
    url: &str,
    clock: Option<Arc<dyn Clock>>,
    signer: Option<TokenSigner>,
    policy: HoldPolicy,
) -> Result<PostgresHoldStore, HoldError> {
    let storage = PostgresStorage::open(url, clock, &PoolSettings::default())?;
    Broker::new(storage, signer, policy)
}

impl Storage for PostgresStorage {
    fn write<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError> {
        self.run(work, true)
    }

    /// One REPEATABLE READ, read-only transaction: a listing and the holds
    /// it loads come from one snapshot.
    fn read<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError> {
        self.run(work, false)
    }

    fn signing_key(&self) -> Result<Vec<u8>, HoldError> {
        let mut connection = self.client()?;
        let client = &mut connection.client;
        let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        client
            .execute(
                "INSERT INTO meta (key, value) VALUES ('signing_key', $1) ON CONFLICT (key) DO NOTHING",
                &[&key],
            )
            .map_err(|e| classify(&e).0)?;
        let row = client
            .query_one("SELECT value FROM meta WHERE key = 'signing_key'", &[])
            .map_err(|e| classify(&e).0)?;
        Ok(row.get(0))
    }

    fn now(&self) -> Result<DateTime<Utc>, HoldError> {
        self.run(&mut |_, now| Ok(now), false)
    }
}
