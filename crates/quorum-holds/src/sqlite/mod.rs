//! The embedded SQLite hold store: one file, WAL with `synchronous=FULL`, and
//! every check-and-write in one `BEGIN IMMEDIATE` transaction, which takes the
//! database's write lock before the check, so no two writers — threads or
//! processes — can both see a person free. The audit log is a table that
//! triggers make append-only, written in the same transaction as the change.

mod approvals;
mod holds;
mod rows;

use crate::{ApprovalGrant, HoldError, HoldFilter, HoldPolicy, HoldStore, PlaceHold, TokenSigner};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, AuditRecord, Clock, Hold, HoldId, PersonId, Substitution, TimeRange,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
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
"#;

pub struct SqliteHoldStore {
    connection: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    signer: TokenSigner,
    policy: HoldPolicy,
}

impl SqliteHoldStore {
    /// Opens (creating if needed) the store at `path`. Without a signer, the
    /// store's own key is used, created on first open and kept in the file.
    pub fn open(
        path: &Path,
        clock: Arc<dyn Clock>,
        signer: Option<TokenSigner>,
        policy: HoldPolicy,
    ) -> Result<Self, HoldError> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.execute_batch(SCHEMA)?;
        let signer = match signer {
            Some(signer) => signer,
            None => TokenSigner::new(stored_key(&connection)?)?,
        };
        Ok(Self {
            connection: Mutex::new(connection),
            clock,
            signer,
            policy,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, HoldError> {
        self.connection.lock().map_err(|_| HoldError::Storage {
            detail: "a previous store operation panicked".into(),
        })
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction, committed only if it
    /// succeeds, with the store's "now" read once inside the lock.
    fn write<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>, DateTime<Utc>) -> Result<T, HoldError>,
    ) -> Result<T, HoldError> {
        let mut connection = self.lock()?;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = self.clock.now();
        let value = work(&tx, now)?;
        tx.commit()?;
        Ok(value)
    }

    /// Records a refusal in its own transaction, after the refused change was
    /// rolled back, so the log keeps it while nothing else changes.
    fn record_refusal(
        &self,
        ticket: &str,
        hold: Option<&HoldId>,
        actor: &str,
        action: AuditAction,
        reason: &str,
    ) -> Result<(), HoldError> {
        self.write(|tx, now| audit(tx, now, actor, ticket, hold, action, reason))
    }

    /// `PRAGMA integrity_check`, for operators and crash tests.
    pub fn integrity_check(&self) -> Result<String, HoldError> {
        Ok(self
            .lock()?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Pairs of active holds that share an attendee and overlap in time; a
    /// correct store always returns none.
    pub fn overlapping_active_holds(&self) -> Result<Vec<(String, String)>, HoldError> {
        let now = rows::ns(self.clock.now())?;
        let connection = self.lock()?;
        let mut statement = connection.prepare(
            "SELECT a.hold_id, b.hold_id FROM hold_attendees a
             JOIN hold_attendees b ON a.person_id = b.person_id AND a.hold_id < b.hold_id
                AND a.start_ns < b.end_ns AND b.start_ns < a.end_ns
             JOIN holds ha ON ha.id = a.hold_id JOIN holds hb ON hb.id = b.hold_id
             WHERE ha.change_ticket != hb.change_ticket
               AND (ha.state = 'CONFIRMED' OR (ha.state = 'TENTATIVE' AND ha.expires_at_ns > ?1))
               AND (hb.state = 'CONFIRMED' OR (hb.state = 'TENTATIVE' AND hb.expires_at_ns > ?1))",
        )?;
        let pairs = statement
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pairs)
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

/// Appends one audit record inside the caller's transaction.
fn audit(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    actor: &str,
    ticket: &str,
    hold: Option<&HoldId>,
    action: AuditAction,
    reason: &str,
) -> Result<(), HoldError> {
    tx.execute(
        "INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![rows::ns(now)?, actor, ticket, hold.map(|h| h.0.as_str()), action.as_str(), reason],
    )?;
    Ok(())
}

fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

impl HoldStore for SqliteHoldStore {
    fn place(&self, request: PlaceHold) -> Result<Hold, HoldError> {
        holds::place(self, request)
    }

    fn extend(&self, id: &HoldId, by: Duration, actor: &str) -> Result<Hold, HoldError> {
        holds::extend(self, id, by, actor)
    }

    fn release(&self, id: &HoldId, reason: &str, actor: &str) -> Result<Hold, HoldError> {
        holds::release(self, id, reason, actor)
    }

    fn get(&self, id: &HoldId) -> Result<Hold, HoldError> {
        let connection = self.lock()?;
        let hold = rows::load(&connection, id)?;
        Ok(rows::as_seen(hold, self.clock.now()))
    }

    fn list(&self, filter: &HoldFilter) -> Result<Vec<Hold>, HoldError> {
        holds::list(self, filter)
    }

    fn approve(
        &self,
        id: &HoldId,
        approver: &str,
        substitutions: &[Substitution],
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError> {
        approvals::approve(self, id, approver, substitutions, token_ttl)
    }

    fn confirm(&self, id: &HoldId, token: &str, actor: &str) -> Result<Hold, HoldError> {
        approvals::confirm(self, id, token, actor)
    }

    fn audit_log(&self, change_ticket: &str) -> Result<Vec<AuditRecord>, HoldError> {
        rows::audit_log(&*self.lock()?, change_ticket)
    }

    fn busy_from_holds(
        &self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
    ) -> Result<Vec<(PersonId, TimeRange)>, HoldError> {
        holds::busy_from_holds(self, people, within, except_ticket)
    }

    fn sweep_expired(&self) -> Result<usize, HoldError> {
        holds::sweep_expired(self)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
