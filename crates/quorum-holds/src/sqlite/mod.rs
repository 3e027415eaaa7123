//! The embedded SQLite hold store: one file, WAL with `synchronous=FULL`, and
//! every check-and-write in one `BEGIN IMMEDIATE` transaction, which takes the
//! database's write lock before the check, so no two writers — threads or
//! processes — can both see a person free. The audit log is a table that
//! triggers make append-only, written in the same transaction as the change.

mod approvals;
mod holds;
mod reads;
mod refusals;
mod rows;

use crate::{
    ApprovalGrant, HoldError, HoldFilter, HoldPolicy, HoldStore, Page, PageRequest, PlaceHold,
    Principal, TokenSigner,
};
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
    /// rolled back, so the log keeps it while nothing else changes; within
    /// the caller's per-minute budget (see [`refusals::record`]). The ticket
    /// is the hold's, or empty when the hold is unknown.
    fn record_refusal(
        &self,
        hold: Option<&HoldId>,
        ticket: Option<&str>,
        who: &Principal,
        action: AuditAction,
        error: &HoldError,
    ) -> Result<(), HoldError> {
        let budget = self.policy.audited_refusals_per_minute;
        self.write(|tx, now| {
            let ticket = match (ticket, hold) {
                (Some(ticket), _) => ticket.to_owned(),
                (None, Some(id)) => rows::ticket_of(tx, id)?.unwrap_or_default(),
                (None, None) => String::new(),
            };
            let refusal = refusals::Refusal {
                actor: &who.identity,
                ticket: &ticket,
                hold,
                action,
                reason: &error.to_string(),
            };
            refusals::record(tx, now, budget, &refusal)
        })
    }

    /// Audits `outcome` if it is a refusal (anything but a malformed request
    /// or a storage failure), then returns it unchanged.
    fn audited<T>(
        &self,
        outcome: Result<T, HoldError>,
        hold: Option<&HoldId>,
        ticket: Option<&str>,
        who: &Principal,
        action: AuditAction,
    ) -> Result<T, HoldError> {
        match &outcome {
            Ok(_) | Err(HoldError::InvalidRequest { .. } | HoldError::Storage { .. }) => outcome,
            Err(error) => {
                self.record_refusal(hold, ticket, who, action, error)?;
                outcome
            }
        }
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

/// Audit reasons are cut here, so no record outgrows what a page can carry.
const MAX_AUDIT_REASON_BYTES: usize = 2048;

fn clipped(reason: &str) -> &str {
    if reason.len() <= MAX_AUDIT_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_AUDIT_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
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
        params![rows::ns(now)?, actor, ticket, hold.map(|h| h.0.as_str()), action.as_str(), clipped(reason)],
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
    fn register_ticket(
        &self,
        change_ticket: &str,
        release_owner: &str,
        by: &Principal,
    ) -> Result<(), HoldError> {
        holds::register_ticket(self, change_ticket, release_owner, by)
    }

    fn place(&self, request: PlaceHold, by: &Principal) -> Result<Hold, HoldError> {
        holds::place(self, request, by)
    }

    fn extend(&self, id: &HoldId, by: Duration, who: &Principal) -> Result<Hold, HoldError> {
        holds::extend(self, id, by, who)
    }

    fn release(&self, id: &HoldId, reason: &str, who: &Principal) -> Result<Hold, HoldError> {
        holds::release(self, id, reason, who)
    }

    fn get(&self, id: &HoldId, who: &Principal) -> Result<Hold, HoldError> {
        reads::get(self, id, who)
    }

    fn release_owner(&self, change_ticket: &str) -> Result<Option<String>, HoldError> {
        rows::release_owner(&*self.lock()?, change_ticket)
    }

    fn list(
        &self,
        filter: &HoldFilter,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<Hold>, HoldError> {
        reads::list(self, filter, page, who)
    }

    fn approve(
        &self,
        id: &HoldId,
        who: &Principal,
        substitutions: &[Substitution],
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError> {
        approvals::approve(self, id, who, substitutions, token_ttl)
    }

    fn confirm(&self, id: &HoldId, token: &str, who: &Principal) -> Result<Hold, HoldError> {
        approvals::confirm(self, id, token, who)
    }

    fn audit_log(
        &self,
        change_ticket: &str,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<AuditRecord>, HoldError> {
        reads::audit_log(self, change_ticket, page, who)
    }

    fn busy_from_holds(
        &self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
    ) -> Result<Vec<crate::HeldTime>, HoldError> {
        holds::busy_from_holds(self, people, within, except_ticket)
    }

    fn sweep_expired(&self) -> Result<usize, HoldError> {
        holds::sweep_expired(self)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let connection = store.lock().expect("lock");
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
