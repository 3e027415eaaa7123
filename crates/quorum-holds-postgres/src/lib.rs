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

pub mod migrations;
mod pool;
mod tx;

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use quorum_domain::Clock;
use quorum_holds::broker::{Broker, Storage, Work, from_ns};
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
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// applies pending migrations and keeps a pool of connections.
    pub fn open(
        url: &str,
        clock: Option<Arc<dyn Clock>>,
        settings: &PoolSettings,
    ) -> Result<Self, HoldError> {
        let mut config: postgres::Config = url.parse().map_err(|e| HoldError::Storage {
            detail: format!("the store URL is not a PostgreSQL connection URL: {e}"),
        })?;
        let statement_ms = settings.statement_timeout.as_millis();
        config
            .connect_timeout(settings.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .options(&format!("-c statement_timeout={statement_ms}"));
        if config.get_application_name().is_none() {
            config.application_name("quorum");
        }
        let manager = pool::Manager::new(config);
        // The pool starts empty and fills on demand, so a replica started
        // while the database is away fails its calls, not its start; but the
        // migrations below need the database now.
        let pool = r2d2::Pool::builder()
            .max_size(settings.max_connections)
            .min_idle(Some(0))
            .connection_timeout(settings.connect_timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        let storage = Self {
            pool: Some(pool),
            clock,
        };
        storage.migrate()?;
        Ok(storage)
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

    /// The clock's "now", or the database's, read inside `tx`.
    fn now_in(&self, tx: &mut postgres::Transaction<'_>) -> Result<DateTime<Utc>, HoldError> {
        if let Some(clock) = &self.clock {
            return Ok(clock.now());
        }
        let row = tx
            .query_one(
                "SELECT (EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::BIGINT",
                &[],
            )
            .map_err(|e| classify(&e).0)?;
        let micros: i64 = row.get(0);
        Ok(from_ns(micros.saturating_mul(1000)))
    }

    fn run<T>(&self, work: &mut Work<'_, T>, writing: bool) -> Result<T, HoldError> {
        let mut connection = self.client()?;
        let pool::Connection { client, statements } = &mut *connection;
        let mut attempt = 1;
        loop {
            let mut transaction = if writing {
                client.transaction()
            } else {
                client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
            }
            .map_err(|e| classify(&e).0)?;
            let now = self.now_in(&mut transaction)?;
            let mut tx = tx::PgTx::new(transaction, statements, writing);
            let outcome = work(&mut tx, now);
            let (outcome, retry) = match outcome {
                Ok(value) => match tx.commit() {
                    Ok(()) => return Ok(value),
                    Err(error) => {
                        let (error, retry) = classify(&error);
                        (Err(error), retry)
                    }
                },
                Err(error) => {
                    let retry = tx.lost_a_race();
                    drop(tx);
                    (Err(error), retry)
                }
            };
            if !retry || attempt >= MAX_ATTEMPTS {
                return outcome;
            }
            attempt += 1;
            // A little jitter so the transactions that collided do not
            // collide again in step.
            let pause = rand::random::<u64>() % (2 * u64::from(attempt));
            std::thread::sleep(Duration::from_millis(pause));
        }
    }
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
