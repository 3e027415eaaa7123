//! The embedded SQLite hold store: one file, WAL with `synchronous=FULL`, and
//! every check-and-write in one `BEGIN IMMEDIATE` transaction, which takes the
//! database's write lock before the check, so no two writers — threads or
//! processes — can both see a person free. The audit log is a table that
//! triggers make append-only, written in the same transaction as the change.

mod rows;
mod tx;

use crate::broker::{Broker, Storage, Work};
use crate::{HoldError, HoldPolicy, TokenSigner};
use chrono::{DateTime, Utc};
use quorum_domain::Clock;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    change_ticket TEXT PRIMARY KEY,
    release_owner TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    change_ticket TEXT NOT NULL REFERENCES tickets(change_ticket),
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('TENTATIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    expires_at_ns INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    requester TEXT NOT NULL,
    version INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    release_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (requester, idempotency_key)
);
CREATE INDEX IF NOT EXISTS holds_by_ticket ON holds (change_ticket);
CREATE TABLE IF NOT EXISTS hold_attendees (
    hold_id TEXT NOT NULL REFERENCES holds(id),
    person_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    PRIMARY KEY (hold_id, person_id)
);
CREATE INDEX IF NOT EXISTS attendees_by_person ON hold_attendees (person_id, start_ns);
CREATE INDEX IF NOT EXISTS attendees_by_end ON hold_attendees (end_ns);
CREATE TABLE IF NOT EXISTS approvals (
    token_id TEXT PRIMARY KEY,
    hold_id TEXT NOT NULL REFERENCES holds(id),
    approver TEXT NOT NULL,
    expires_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_tokens (
    token_id TEXT PRIMARY KEY REFERENCES approvals(token_id),
    hold_id TEXT NOT NULL,
    used_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ns INTEGER NOT NULL,
    actor TEXT NOT NULL,
    change_ticket TEXT NOT NULL,
    hold_id TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_ticket ON audit_log (change_ticket, sequence);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- INSERT OR REPLACE deletes the row it collides with without firing DELETE
-- triggers (unless recursive_triggers is on, on that one connection), so an
-- insert that names an existing sequence is refused before it can replace it.
CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log
WHEN NEW.sequence IS NOT NULL AND EXISTS (SELECT 1 FROM audit_log WHERE sequence = NEW.sequence)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE INDEX IF NOT EXISTS tickets_by_owner ON tickets (release_owner);
-- Per caller, how many refusals were logged in the current minute and how
-- many were only counted: one row per caller, however many refusals.
CREATE TABLE IF NOT EXISTS refusal_budget (
    actor TEXT PRIMARY KEY,
    window_start_ns INTEGER NOT NULL,
    logged INTEGER NOT NULL,
    suppressed INTEGER NOT NULL
);
"#;

/// The SQLite file's transactions: one connection, serialised by a mutex
/// within the process and by `BEGIN IMMEDIATE` across processes.
pub struct SqliteStorage {
    connection: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

/// The hold broker on an embedded SQLite file.
pub type SqliteHoldStore = Broker<SqliteStorage>;

impl SqliteStorage {
    /// Opens (creating if needed) the file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, HoldError> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.execute_batch(SCHEMA)?;
        connection.execute_batch(tx::plans::SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
            clock,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, HoldError> {
        self.connection.lock().map_err(|_| HoldError::Storage {
            detail: "a previous store operation panicked".into(),
        })
    }

    /// `PRAGMA integrity_check`, for operators and crash tests.
    pub fn integrity_check(&self) -> Result<String, HoldError> {
        Ok(self
            .lock()?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

impl Broker<SqliteStorage> {
    /// Opens (creating if needed) the store at `path`. Without a signer, the
    /// store's own key is used, created on first open and kept in the file.
    pub fn open(
        path: &Path,
        clock: Arc<dyn Clock>,
        signer: Option<TokenSigner>,
        policy: HoldPolicy,
    ) -> Result<Self, HoldError> {
        Broker::new(SqliteStorage::open(path, clock)?, signer, policy)
    }

    /// `PRAGMA integrity_check`, for operators and crash tests.
    pub fn integrity_check(&self) -> Result<String, HoldError> {
        self.storage().integrity_check()
    }
}

impl Storage for SqliteStorage {
    /// One `BEGIN IMMEDIATE` transaction, which takes the write lock first,
    /// with "now" read once inside it; never retried, as nothing can get in
    /// its way once it holds the lock.
    fn write<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = self.clock.now();
        let value = work(&mut tx::SqliteTx::new(&transaction), now)?;
        transaction.commit()?;
        Ok(value)
    }

    /// Reads on the connection under the mutex: no writer of this process
    /// runs meanwhile, and WAL keeps other processes' commits whole.
    fn read<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError> {
        let connection = self.lock()?;
        let now = self.clock.now();
        work(&mut tx::SqliteTx::new(&connection), now)
    }

    fn signing_key(&self) -> Result<Vec<u8>, HoldError> {
        stored_key(&*self.lock()?)
    }

    fn now(&self) -> Result<DateTime<Utc>, HoldError> {
        Ok(self.clock.now())
    }
}

fn stored_key(connection: &Connection) -> Result<Vec<u8>, HoldError> {
    let existing: Option<Vec<u8>> = connection
        .query_row(
            "SELECT value FROM meta WHERE key = 'signing_key'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(key) = existing {
        return Ok(key);
    }
    let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    connection.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('signing_key', ?1)",
        params![key],
    )?;
    Ok(connection.query_row(
        "SELECT value FROM meta WHERE key = 'signing_key'",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HoldStore, Principal};
    use quorum_domain::ManualClock;

    #[test]
    fn audit_log_refuses_insert_or_replace_of_an_existing_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let store = SqliteHoldStore::open(
            &dir.path().join("holds.db"),
            clock,
            None,
            HoldPolicy::default(),
        )
        .expect("opens");
        let admin = Principal::with_every_scope("root");
        store
            .register_ticket("CHG-1", "olga", &admin)
            .expect("registered");
        let connection = store.storage().lock().expect("lock");
        for statement in [
            "INSERT OR REPLACE INTO audit_log (sequence, at_ns, actor, change_ticket, hold_id, action, reason) VALUES (1, 0, 'mallory', 'CHG-1', NULL, 'NOTHING', 'rewritten')",
            "REPLACE INTO audit_log (sequence, at_ns, actor, change_ticket, hold_id, action, reason) VALUES (1, 0, 'mallory', 'CHG-1', NULL, 'NOTHING', 'rewritten')",
            "UPDATE audit_log SET actor = 'mallory'",
            "UPDATE OR REPLACE audit_log SET sequence = 2",
            "DELETE FROM audit_log",
        ] {
            let refused = connection.execute(statement, []);
            assert!(refused.is_err(), "{statement} was allowed");
        }
        let actor: String = connection
            .query_row("SELECT actor FROM audit_log WHERE sequence = 1", [], |r| {
                r.get(0)
            })
            .expect("the record is still there");
        assert_eq!(actor, "root");
        // Appending stays allowed.
        connection
            .execute(
                "INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason) VALUES (0, 'root', 'CHG-1', NULL, 'NOTE', '')",
                [],
            )
            .expect("append");
    }
}
