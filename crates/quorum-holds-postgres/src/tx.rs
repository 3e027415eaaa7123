//! The transaction primitives on PostgreSQL. Rows that a change acts on are
//! locked as they are read (`FOR UPDATE`, or the UPDATE itself), so under
//! READ COMMITTED two transactions on one hold take turns, and the second
//! re-reads what the first committed. The no-double-booking rule is the
//! database's own: the exclusion constraint on `hold_attendees`.

mod plans;

use super::classify;
use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};
use quorum_domain::{
    AuditRecord, Hold, HoldAttendee, HoldId, HoldState, PersonId, RoleId, TimeRange,
};
use quorum_holds::HoldError;
use quorum_holds::broker::{AuditEntry, ListQuery, RefusalWindow, Tx, from_ns, ns};
use std::collections::HashMap;

pub struct PgTx<'c> {
    tx: Transaction<'c>,
    /// The connection's prepared statements, kept across transactions: a
    /// statement prepared once is one round trip per use instead of two.
    statements: &'c mut HashMap<String, Statement>,
    /// Reads for a change lock the hold's row; read-only views cannot.
    writing: bool,
    /// A statement failed because a concurrent transaction got there first.
    raced: bool,
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

impl<'c> PgTx<'c> {
    pub fn new(
        tx: Transaction<'c>,
        statements: &'c mut HashMap<String, Statement>,
        writing: bool,
    ) -> Self {
        Self {
            tx,
            statements,
            writing,
            raced: false,
        }
    }

    pub fn lost_a_race(&self) -> bool {
        self.raced
    }

    pub fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }

    fn fail(&mut self, error: &postgres::Error) -> HoldError {
        let (error, raced) = classify(error);
        self.raced |= raced;
        error
    }

    /// The prepared statement for `sql`, prepared on first use.
    fn statement(&mut self, sql: &str) -> Result<Statement, HoldError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        match self.tx.prepare(sql) {
            Ok(statement) => {
                self.statements.insert(sql.to_owned(), statement.clone());
                Ok(statement)
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, HoldError> {
        let statement = self.statement(sql)?;
        match self.tx.query(&statement, params) {
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
        match self.tx.query_opt(&statement, params) {
            Ok(row) => Ok(row),
            Err(error) => Err(self.fail(&error)),
        }
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, HoldError> {
        let statement = self.statement(sql)?;
        match self.tx.execute(&statement, params) {
            Ok(count) => Ok(count),
            Err(error) => Err(self.fail(&error)),
        }
    }

    /// Marks tentative rows of these people in this range whose hold expired
    /// by `now` as no longer blocking, so the constraint lets a new hold in.
    fn expire_in_the_way(
        &mut self,
        people: &[&str],
        slot: (i64, i64),
        now: i64,
    ) -> Result<(), HoldError> {
        self.execute(
            "UPDATE hold_attendees SET state = 'EXPIRED'
             WHERE person_id = ANY($1) AND during && int8range($2, $3)
               AND state = 'TENTATIVE' AND expires_at_ns <= $4",
            &[&people, &slot.0, &slot.1, &now],
        )?;
        Ok(())
    }

    /// Inserts the hold's attendee rows in `state`; the exclusion constraint
    /// refuses a clash, which becomes `Conflict` with the holds in the way.
    fn insert_attendees(
        &mut self,
        hold: &Hold,
        state: HoldState,
        now: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        let people: Vec<&str> = hold.attendees.iter().map(|a| a.person.0.as_str()).collect();
        let roles: Vec<&str> = hold.attendees.iter().map(|a| a.role.0.as_str()).collect();
        let slot = (ns(hold.slot.start)?, ns(hold.slot.end)?);
        let now_ns = ns(now)?;
        self.expire_in_the_way(&people, slot, now_ns)?;
        let insert = self.statement(INSERT_ATTENDEES)?;
        let inserted = {
            let mut savepoint = match self.tx.savepoint("attendees") {
                Ok(savepoint) => savepoint,
                Err(error) => return Err(classify(&error).0),
            };
            let result = savepoint.execute(
                &insert,
                &[
                    &hold.id.0,
                    &people,
                    &roles,
                    &hold.change_ticket,
                    &slot.0,
                    &slot.1,
                    &ns(hold.expires_at)?,
                    &state.as_str(),
                ],
            );
            match result {
                Ok(_) => savepoint.commit(),
                Err(error) => Err(error),
            }
        };
        match inserted {
            Ok(()) => Ok(()),
            Err(error) if error.code() == Some(&SqlState::EXCLUSION_VIOLATION) => {
                let holds = self.in_the_way(&people, slot, &hold.change_ticket, now_ns)?;
                if holds.is_empty() {
                    // The hold in the way is gone already: run again.
                    self.raced = true;
                    return Err(HoldError::Storage {
                        detail: "a conflicting hold vanished while placing".into(),
                    });
                }
                Err(HoldError::Conflict { holds })
            }
            Err(error) => Err(self.fail(&error)),
        }
    }

    /// Other tickets' holds active at `now` on these people in this range.
    fn in_the_way(
        &mut self,
        people: &[&str],
        slot: (i64, i64),
        ticket: &str,
        now: i64,
    ) -> Result<Vec<HoldId>, HoldError> {
        let rows = self.query(
            concat!(
                "SELECT DISTINCT a.hold_id FROM hold_attendees a
                 WHERE a.person_id = ANY($1) AND a.during && int8range($2, $3)
                   AND a.change_ticket <> $4 AND ",
                active!("a", "$5"),
                " ORDER BY a.hold_id"
            ),
            &[&people, &slot.0, &slot.1, &ticket, &now],
        )?;
        Ok(rows.iter().map(|r| HoldId(r.get(0))).collect())
    }

    fn count(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<i64, HoldError> {
        let row = self.query_opt(sql, params)?;
        Ok(row.map_or(0, |r| r.get(0)))
    }
}

const INSERT_ATTENDEES: &str = "INSERT INTO hold_attendees (hold_id, person_id, role_id, change_ticket, during, expires_at_ns, state)
     SELECT $1, p, r, $4, int8range($5, $6), $7, $8 FROM UNNEST($2::TEXT[], $3::TEXT[]) AS t (p, r)";

fn as_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

impl Tx for PgTx<'_> {
    fn load(&mut self, id: &HoldId) -> Result<Hold, HoldError> {
        let sql = if self.writing {
            "SELECT change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, release_reason
             FROM holds WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, release_reason
             FROM holds WHERE id = $1"
        };
        let row = self
            .query_opt(sql, &[&id.0])?
            .ok_or_else(|| HoldError::NotFound { id: id.clone() })?;
        let state: String = row.get(3);
        let state = HoldState::parse(&state).ok_or_else(|| HoldError::Storage {
            detail: format!("hold {id} has unknown state {state:?}"),
        })?;
        let attendees = self
            .query(
                "SELECT person_id, role_id FROM hold_attendees WHERE hold_id = $1 ORDER BY person_id COLLATE \"C\"",
                &[&id.0],
            )?
            .iter()
            .map(|r| HoldAttendee {
                person: PersonId(r.get(0)),
                role: RoleId(r.get(1)),
            })
            .collect();
        Ok(Hold {
            id: id.clone(),
            change_ticket: row.get(0),
            slot: TimeRange::new(from_ns(row.get(1)), from_ns(row.get(2))),
            attendees,
            state,
            expires_at: from_ns(row.get(4)),
            created_at: from_ns(row.get(5)),
            requester: row.get(6),
            version: u64::try_from(row.get::<_, i64>(7)).unwrap_or(0),
            release_reason: row.get(8),
        })
    }

    fn ticket_of(&mut self, id: &HoldId) -> Result<Option<String>, HoldError> {
        let row = self.query_opt("SELECT change_ticket FROM holds WHERE id = $1", &[&id.0])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn release_owner(&mut self, ticket: &str) -> Result<Option<String>, HoldError> {
        let row = self.query_opt(
            "SELECT release_owner FROM tickets WHERE change_ticket = $1",
            &[&ticket],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn name_owner(
        &mut self,
        ticket: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        // Two replicas naming one ticket at once: the second hits the
        // primary key, reruns, and finds the first's owner.
        self.execute(
            "INSERT INTO tickets (change_ticket, release_owner, created_at_ns) VALUES ($1, $2, $3)",
            &[&ticket, &owner, &ns(at)?],
        )?;
        Ok(())
    }

    fn placed_on(&mut self, ticket: &str, identity: &str) -> Result<bool, HoldError> {
        let row = self.query_opt(
            "SELECT 1 FROM holds WHERE change_ticket = $1 AND requester = $2 LIMIT 1",
            &[&ticket, &identity],
        )?;
        Ok(row.is_some())
    }

    fn find_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(HoldId, String)>, HoldError> {
        let row = self.query_opt(
            "SELECT id, request_fingerprint FROM holds WHERE requester = $1 AND idempotency_key = $2",
            &[&requester, &key],
        )?;
        Ok(row.map(|r| (HoldId(r.get(0)), r.get(1))))
    }

    fn insert_hold(
        &mut self,
        hold: &Hold,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        // The same key placed by a concurrent transaction hits the unique
        // index; the rerun finds that hold and answers with it.
        self.execute(
            "INSERT INTO holds (id, change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, idempotency_key, request_fingerprint)
             VALUES ($1, $2, $3, $4, 'TENTATIVE', $5, $6, $7, $8, $9, $10)",
            &[
                &hold.id.0,
                &hold.change_ticket,
                &ns(hold.slot.start)?,
                &ns(hold.slot.end)?,
                &ns(hold.expires_at)?,
                &ns(hold.created_at)?,
                &hold.requester,
                &as_i64(hold.version),
                &key,
                &fingerprint,
            ],
        )?;
        self.insert_attendees(hold, HoldState::Tentative, now)
    }

    fn replace_attendees(&mut self, hold: &Hold, now: DateTime<Utc>) -> Result<(), HoldError> {
        self.execute(
            "DELETE FROM hold_attendees WHERE hold_id = $1",
            &[&hold.id.0],
        )?;
        self.insert_attendees(hold, hold.state_at(now), now)
    }

    fn set_expiry(&mut self, id: &HoldId, expires_at: DateTime<Utc>) -> Result<(), HoldError> {
        let at = ns(expires_at)?;
        self.execute(
            "UPDATE holds SET expires_at_ns = $2, version = version + 1 WHERE id = $1",
            &[&id.0, &at],
        )?;
        // The UPDATE waits for a placing transaction that is marking these
        // rows expired; if one did, the database's clock says the hold had
        // expired, and the extension comes too late.
        self.execute(
            "UPDATE hold_attendees SET expires_at_ns = $2 WHERE hold_id = $1 AND state = 'TENTATIVE'",
            &[&id.0, &at],
        )?;
        let expired = self.count(
            "SELECT count(*) FROM hold_attendees WHERE hold_id = $1 AND state <> 'TENTATIVE'",
            &[&id.0],
        )?;
        if expired > 0 {
            return Err(HoldError::WrongState {
                id: id.clone(),
                state: HoldState::Expired,
                action: "extended",
            });
        }
        Ok(())
    }

    fn set_released(&mut self, id: &HoldId, reason: &str) -> Result<(), HoldError> {
        self.execute(
            "UPDATE holds SET state = 'RELEASED', version = version + 1, release_reason = $2 WHERE id = $1",
            &[&id.0, &reason],
        )?;
        self.execute(
            "UPDATE hold_attendees SET state = 'RELEASED' WHERE hold_id = $1",
            &[&id.0],
        )?;
        Ok(())
    }

    fn set_confirmed(
        &mut self,
        id: &HoldId,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, HoldError> {
        let changed = self.execute(
            "UPDATE holds SET state = 'CONFIRMED', version = version + 1
             WHERE id = $1 AND state = 'TENTATIVE' AND version = $2 AND expires_at_ns > $3",
            &[&id.0, &as_i64(version), &ns(now)?],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        self.execute(
            "UPDATE hold_attendees SET state = 'CONFIRMED' WHERE hold_id = $1 AND state = 'TENTATIVE'",
            &[&id.0],
        )?;
        // Rows a placing transaction marked expired: too late to confirm.
        let left = self.count(
            "SELECT count(*) FROM hold_attendees WHERE hold_id = $1 AND state <> 'CONFIRMED'",
            &[&id.0],
        )?;
        Ok(left == 0)
    }

    fn expire_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(HoldId, String, DateTime<Utc>)>, HoldError> {
        let now = ns(now)?;
        let rows = self.query(
            "UPDATE holds SET state = 'EXPIRED', version = version + 1
             WHERE state = 'TENTATIVE' AND expires_at_ns <= $1
             RETURNING id, change_ticket, expires_at_ns",
            &[&now],
        )?;
        self.execute(
            "UPDATE hold_attendees SET state = 'EXPIRED' WHERE state = 'TENTATIVE' AND expires_at_ns <= $1",
            &[&now],
        )?;
        let mut expired: Vec<(HoldId, String, DateTime<Utc>)> = rows
            .iter()
            .map(|r| (HoldId(r.get(0)), r.get(1), from_ns(r.get(2))))
            .collect();
        expired.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(expired)
    }

    fn record_approval(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.execute(
            "INSERT INTO approvals (token_id, hold_id, approver, expires_at_ns) VALUES ($1, $2, $3, $4)",
            &[&token_id, &hold.0, &approver, &ns(expires_at)?],
        )?;
        Ok(())
    }

    fn approval_hold(&mut self, token_id: &str) -> Result<Option<String>, HoldError> {
        let row = self.query_opt(
            "SELECT hold_id FROM approvals WHERE token_id = $1",
            &[&token_id],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
        let row = self.query_opt(
            "SELECT used_at_ns FROM used_tokens WHERE token_id = $1",
            &[&token_id],
        )?;
        Ok(row.map(|r| from_ns(r.get(0))))
    }

    fn spend_token(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.execute(
            "INSERT INTO used_tokens (token_id, hold_id, used_at_ns) VALUES ($1, $2, $3)",
            &[&token_id, &hold.0, &ns(at)?],
        )?;
        Ok(())
    }

    fn audit(&mut self, e: &AuditEntry<'_>) -> Result<(), HoldError> {
        let hold = e.hold.map(|h| h.0.as_str());
        self.execute(
            "INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&ns(e.at)?, &e.actor, &e.ticket, &hold, &e.action.as_str(), &e.reason],
        )?;
        Ok(())
    }

    fn refusal_window(&mut self, actor: &str) -> Result<Option<RefusalWindow>, HoldError> {
        let row = self.query_opt(
            "SELECT window_start_ns, logged, suppressed FROM refusal_budget WHERE actor = $1 FOR UPDATE",
            &[&actor],
        )?;
        Ok(row.map(|r| RefusalWindow {
            start: from_ns(r.get(0)),
            logged: r.get(1),
            suppressed: r.get(2),
        }))
    }

    fn set_refusal_window(&mut self, actor: &str, window: &RefusalWindow) -> Result<(), HoldError> {
        self.execute(
            "INSERT INTO refusal_budget (actor, window_start_ns, logged, suppressed) VALUES ($1, $2, $3, $4)
             ON CONFLICT (actor) DO UPDATE SET window_start_ns = $2, logged = $3, suppressed = $4",
            &[&actor, &ns(window.start)?, &window.logged, &window.suppressed],
        )?;
        Ok(())
    }

    fn list_holds(&mut self, q: &ListQuery<'_>) -> Result<Vec<(HoldId, i64)>, HoldError> {
        let rows = self.query(
            concat!(
                "SELECT h.id, h.start_ns FROM holds h
                 WHERE ($1::TEXT IS NULL OR h.change_ticket = $1)
                   AND ($2::TEXT IS NULL OR EXISTS (SELECT 1 FROM hold_attendees a WHERE a.hold_id = h.id AND a.person_id = $2))
                   AND h.start_ns < $4 AND h.end_ns > $3
                   AND ($5 OR ",
                active!("h", "$6"),
                ")
                   AND ($7::TEXT IS NULL
                        OR h.change_ticket IN (SELECT change_ticket FROM tickets WHERE release_owner = $7)
                        OR h.change_ticket IN (SELECT change_ticket FROM holds WHERE requester = $7))
                   AND (h.start_ns, h.id COLLATE \"C\") > ($8, $9::TEXT COLLATE \"C\")
                 ORDER BY h.start_ns, h.id COLLATE \"C\" LIMIT $10"
            ),
            &[
                &q.ticket,
                &q.person,
                &q.from_ns,
                &q.to_ns,
                &q.include_inactive,
                &ns(q.now)?,
                &q.viewer,
                &q.after.0,
                &q.after.1,
                &q.limit,
            ],
        )?;
        Ok(rows.iter().map(|r| (HoldId(r.get(0)), r.get(1))).collect())
    }

    fn audit_page(
        &mut self,
        ticket: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, HoldError> {
        let rows = self.query(
            "SELECT sequence, at_ns, actor, change_ticket, hold_id, action, reason FROM audit_log
             WHERE change_ticket = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
            &[&ticket, &after, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| AuditRecord {
                sequence: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                at: from_ns(r.get(1)),
                actor: r.get(2),
                change_ticket: r.get(3),
                hold_id: r.get::<_, Option<String>>(4).map(HoldId),
                action: r.get(5),
                reason: r.get(6),
            })
            .collect())
    }

    fn busy(
        &mut self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<quorum_holds::HeldTime>, HoldError> {
        let people: Vec<&str> = people.iter().map(|p| p.0.as_str()).collect();
        let rows = self.query(
            concat!(
                "SELECT a.person_id, lower(a.during), upper(a.during), a.hold_id, a.change_ticket FROM hold_attendees a
                 WHERE a.person_id = ANY($1) AND a.during && int8range($2, $3) AND a.change_ticket <> $4
                   AND a.state IN ('TENTATIVE', 'CONFIRMED') AND ",
                active!("a", "$5")
            ),
            &[
                &people,
                &ns(within.start)?,
                &ns(within.end)?,
                &except_ticket,
                &ns(now)?,
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| quorum_holds::HeldTime {
                person: PersonId(r.get(0)),
                range: TimeRange::new(from_ns(r.get(1)), from_ns(r.get(2))),
                hold: quorum_domain::HoldId(r.get(3)),
                change_ticket: r.get(4),
            })
            .collect())
    }

    /// Judged by the holds' own state and expiry, not the attendee rows'
    /// marks, so a mark that went wrong would show here too.
    fn overlapping_active_holds(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, HoldError> {
        let rows = self.query(
            concat!(
                "SELECT a.hold_id, b.hold_id FROM hold_attendees a
                 JOIN hold_attendees b ON a.person_id = b.person_id AND a.hold_id < b.hold_id
                    AND a.during && b.during
                 JOIN holds ha ON ha.id = a.hold_id JOIN holds hb ON hb.id = b.hold_id
                 WHERE ha.change_ticket <> hb.change_ticket AND ",
                active!("ha", "$1"),
                " AND ",
                active!("hb", "$1")
            ),
            &[&ns(now)?],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
