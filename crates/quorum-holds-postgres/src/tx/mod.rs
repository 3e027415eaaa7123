//! The transaction primitives on PostgreSQL. Rows that a change acts on are
//! locked as they are read (`FOR UPDATE`, or the UPDATE itself), so under
//! READ COMMITTED two transactions on one hold take turns, and the second
//! re-reads what the first committed. The no-double-booking rule is the
//! database's own: the exclusion constraint on `hold_attendees`.
//!
//! One transaction is one [`PgTx`] on one pooled connection, begun and ended
//! by hand rather than through `postgres::Transaction`, so that `BEGIN` and
//! the database's "now" travel in one round trip. The statements are split
//! by concern: [`holds`] (placing and changing holds), [`approvals`]
//! (tokens), [`audit`] (the log and the refusal budget), [`reads`]
//! (listings, busy time, the overlap check).
//!
//! Placing a hold is the broker's hot path, so its two writes travel as one:
//! [`Tx::insert_hold`] only notes the placement, and the hold's audit record,
//! which the broker appends next, goes to the database with it in one call
//! (`place_hold`, migration 4). Any other statement, or the commit, sends a
//! noted placement first, so the order of writes the broker sees is kept.
//! With `RUST_LOG=quorum_holds_postgres=debug` every committed transaction
//! logs where its time went (BEGIN, the statements, COMMIT).

mod approvals;
mod audit;
mod holds;
mod plans;
mod reads;

use super::classify;
use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, Row, SimpleQueryMessage, Statement};
use quorum_domain::{AuditRecord, Hold, HoldId, PersonId, TimeRange};
use quorum_holds::HoldError;
use quorum_holds::broker::{AuditEntry, ListQuery, RefusalWindow, Tx, from_ns};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct PgTx<'c> {
    client: &'c mut Client,
    /// The connection's prepared statements, kept across transactions: a
    /// statement prepared once is one round trip per use instead of two.
    statements: &'c mut HashMap<String, Statement>,
    /// Reads for a change lock the hold's row; read-only views cannot.
    writing: bool,
    /// A statement failed because a concurrent transaction got there first.
    raced: bool,
    /// A statement failed, so the database will only roll back: a COMMIT
    /// would answer "ROLLBACK" without an error, which must not pass as done.
    failed: bool,
    /// COMMIT or ROLLBACK was sent; otherwise dropping rolls back.
    ended: bool,
    /// A placement noted by `insert_hold` and not yet sent (see the module).
    pending: Option<holds::Placement>,
    /// For the debug log: when BEGIN was sent, how long it took, and how
    /// many round trips followed.
    timing: Timing,
}

struct Timing {
    started: Instant,
    begin: Duration,
    round_trips: u32,
}

/// Active at `now`: blocks its attendees. `$N` is now in nanoseconds.
macro_rules! active {
    ($alias:literal, $now:literal) => {
        concat!(
            "(",
            $alias,
            ".state = 'CONFIRMED' OR (",
            $alias,
            ".state = 'TENTATIVE' AND ",
            $alias,
            ".expires_at_ns > ",
            $now,
            "))"
        )
    };
}
pub(crate) use active;

/// How a transaction failed to begin.
pub enum BeginError {
    /// The connection is dead (the database restarted or dropped it):
    /// nothing was sent that could decide anything, so another connection
    /// may be tried.
    DeadConnection(HoldError),
    Other(HoldError),
}

impl<'c> PgTx<'c> {
    /// Begins a transaction — READ COMMITTED for changes, a REPEATABLE READ
    /// read-only snapshot for views — and, unless `clock` gives it, reads
    /// the database's "now" in the same round trip.
    pub fn begin(
        client: &'c mut Client,
        statements: &'c mut HashMap<String, Statement>,
        writing: bool,
        clock_now: Option<DateTime<Utc>>,
    ) -> Result<(Self, DateTime<Utc>), BeginError> {
        let begin = if writing {
            "BEGIN ISOLATION LEVEL READ COMMITTED"
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        };
        let sql = match clock_now {
            Some(_) => begin.to_owned(),
            None => format!(
                "{begin}; SELECT (EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::BIGINT"
            ),
        };
        let started = Instant::now();
        let answer = client.simple_query(&sql);
        let mut tx = Self {
            client,
            statements,
            writing,
            raced: false,
            failed: false,
            ended: false,
            pending: None,
            timing: Timing {
                started,
                begin: started.elapsed(),
                round_trips: 0,
            },
        };
        let messages = match answer {
            Ok(messages) => messages,
            Err(error) if error.code().is_none() => {
                tx.ended = true;
                return Err(BeginError::DeadConnection(classify(&error).0));
            }
            Err(error) => return Err(BeginError::Other(classify(&error).0)),
        };
        if let Some(now) = clock_now {
            return Ok((tx, now));
        }
        let micros = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).and_then(|v| v.parse::<i64>().ok()),
            _ => None,
        });
        match micros {
            Some(micros) => Ok((tx, from_ns(micros.saturating_mul(1000)))),
            None => Err(BeginError::Other(HoldError::Storage {
                detail: "the database did not say what time it is".into(),
            })),
        }
    }

    pub fn lost_a_race(&self) -> bool {
        self.raced
    }

    /// Commits; on failure, the error and whether it was a lost race (a
    /// serialization failure at commit), so running again may succeed.
    pub fn commit(mut self) -> Result<(), (HoldError, bool)> {
        if let Err(error) = self.send_placement() {
            // Not ended: dropping rolls the transaction back.
            return Err((error, self.raced));
        }
        self.ended = true;
        if self.failed {
            let _ = self.client.batch_execute("ROLLBACK");
            return Err((
                HoldError::Storage {
                    detail: "a statement failed, so the transaction was rolled back".into(),
                },
                self.raced,
            ));
        }
        let work = self.timing.started.elapsed();
        let committing = Instant::now();
        match self.client.batch_execute("COMMIT") {
            Ok(()) => {
                tracing::debug!(
                    writing = self.writing,
                    begin_us = self.timing.begin.as_micros(),
                    work_us = (work - self.timing.begin).as_micros(),
                    round_trips = self.timing.round_trips,
                    commit_us = committing.elapsed().as_micros(),
                    "transaction committed"
                );
                Ok(())
            }
            Err(error) => {
                let error = self.fail(&error);
                Err((error, self.raced))
            }
        }
    }

    fn fail(&mut self, error: &postgres::Error) -> HoldError {
        let (error, raced) = classify(error);
        self.raced |= raced;
        self.failed = true;
        error
    }

    /// Sends a placement noted by `insert_hold`, alone (no audit record
    /// came to fold into it).
    fn send_placement(&mut self) -> Result<(), HoldError> {
        match self.pending.take() {
            Some(placement) => holds::place(self, &placement, None),
            None => Ok(()),
        }
    }

    /// The prepared statement for `sql`, prepared on first use. A noted
    /// placement goes first, so statements reach the database in the
    /// broker's order.
    fn statement(&mut self, sql: &str) -> Result<Statement, HoldError> {
        self.send_placement()?;
        self.timing.round_trips += 1;
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        self.timing.round_trips += 1;
        match self.client.prepare(sql) {
            Ok(statement) => {
                self.statements.insert(sql.to_owned(), statement.clone());
                Ok(statement)
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, HoldError> {
        let statement = self.statement(sql)?;
        match self.client.query(&statement, params) {
            Ok(rows) => Ok(rows),
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, HoldError> {
        let statement = self.statement(sql)?;
        match self.client.query_opt(&statement, params) {
            Ok(row) => Ok(row),
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, HoldError> {
        let statement = self.statement(sql)?;
        match self.client.execute(&statement, params) {
            Ok(count) => Ok(count),
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn count(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<i64, HoldError> {
        let row = self.query_opt(sql, params)?;
        Ok(row.map_or(0, |r| r.get(0)))
    }
}

/// A transaction left without COMMIT (an error, a panic in the rules) is
/// rolled back before its connection goes back to the pool.
impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

fn as_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

impl Tx for PgTx<'_> {
    fn load(&mut self, id: &HoldId) -> Result<Hold, HoldError> {
        holds::load(self, id)
    }

    fn ticket_of(&mut self, id: &HoldId) -> Result<Option<String>, HoldError> {
        holds::ticket_of(self, id)
    }

    fn release_owner(&mut self, ticket: &str) -> Result<Option<String>, HoldError> {
        holds::release_owner(self, ticket)
    }

    fn name_owner(
        &mut self,
        ticket: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        holds::name_owner(self, ticket, owner, at)
    }

    fn placed_on(&mut self, ticket: &str, identity: &str) -> Result<bool, HoldError> {
        holds::placed_on(self, ticket, identity)
    }

    fn find_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(HoldId, String)>, HoldError> {
        holds::find_by_key(self, requester, key)
    }

    fn insert_hold(
        &mut self,
        hold: &Hold,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        holds::insert_hold(self, hold, key, fingerprint, now)
    }

    fn replace_attendees(&mut self, hold: &Hold, now: DateTime<Utc>) -> Result<(), HoldError> {
        holds::replace_attendees(self, hold, now)
    }

    fn set_expiry(&mut self, id: &HoldId, expires_at: DateTime<Utc>) -> Result<(), HoldError> {
        holds::set_expiry(self, id, expires_at)
    }

    fn set_released(&mut self, id: &HoldId, reason: &str) -> Result<(), HoldError> {
        holds::set_released(self, id, reason)
    }

    fn set_confirmed(
        &mut self,
        id: &HoldId,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, HoldError> {
        holds::set_confirmed(self, id, version, now)
    }

    fn expire_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(HoldId, String, DateTime<Utc>)>, HoldError> {
        holds::expire_due(self, now)
    }

    fn record_approval(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        approvals::record(self, token_id, hold, approver, expires_at)
    }

    fn approval_hold(&mut self, token_id: &str) -> Result<Option<String>, HoldError> {
        approvals::hold_of(self, token_id)
    }

    fn token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
        approvals::spent_at(self, token_id)
    }

    fn spend_token(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        approvals::spend(self, token_id, hold, at)
    }

    /// The audit record of a placement still noted travels with it.
    fn audit(&mut self, entry: &AuditEntry<'_>) -> Result<(), HoldError> {
        let placed = |p: &mut holds::Placement| {
            entry.hold == Some(&p.hold.id) && entry.ticket == p.hold.change_ticket
        };
        match self.pending.take_if(placed) {
            Some(placement) => holds::place(self, &placement, Some(entry)),
            None => audit::append(self, entry),
        }
    }

    fn refusal_window(&mut self, actor: &str) -> Result<Option<RefusalWindow>, HoldError> {
        audit::refusal_window(self, actor)
    }

    fn set_refusal_window(&mut self, actor: &str, window: &RefusalWindow) -> Result<(), HoldError> {
        audit::set_refusal_window(self, actor, window)
    }

    fn list_holds(&mut self, query: &ListQuery<'_>) -> Result<Vec<(HoldId, i64)>, HoldError> {
        reads::list_holds(self, query)
    }

    fn audit_page(
        &mut self,
        ticket: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, HoldError> {
        audit::page(self, ticket, after, limit)
    }

    fn busy(
        &mut self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<quorum_holds::HeldTime>, HoldError> {
        reads::busy(self, people, within, except_ticket, now)
    }

    fn overlapping_active_holds(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, HoldError> {
        reads::overlapping_active_holds(self, now)
    }
}
