//! The transaction primitives on SQLite: plain statements on a connection
//! that holds the write lock (`BEGIN IMMEDIATE`), so a check followed by a
//! write is atomic — no other writer, thread or process, runs in between.

pub(super) mod plans;

use super::rows;
use crate::HoldError;
use crate::broker::{AuditEntry, ListQuery, RefusalWindow, Tx, from_ns, ns};
use chrono::{DateTime, Utc};
use quorum_domain::{AuditRecord, Hold, HoldId, PersonId, TimeRange};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;

pub struct SqliteTx<'c> {
    connection: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub fn new(connection: &'c Connection) -> Self {
        Self { connection }
    }

    /// Other tickets' active holds on the hold's people in its slot.
    fn refuse_conflicts(&self, hold: &Hold, now: DateTime<Utc>) -> Result<(), HoldError> {
        let people: Vec<&PersonId> = hold.attendees.iter().map(|a| &a.person).collect();
        let clashes = rows::conflicting_holds(
            self.connection,
            &people,
            hold.slot,
            &hold.change_ticket,
            now,
        )?;
        if clashes.is_empty() {
            Ok(())
        } else {
            Err(HoldError::conflict(clashes))
        }
    }
}

impl Tx for SqliteTx<'_> {
    fn load(&mut self, id: &HoldId) -> Result<Hold, HoldError> {
        rows::load(self.connection, id)
    }

    fn ticket_of(&mut self, id: &HoldId) -> Result<Option<String>, HoldError> {
        rows::ticket_of(self.connection, id)
    }

    fn release_owner(&mut self, ticket: &str) -> Result<Option<String>, HoldError> {
        rows::release_owner(self.connection, ticket)
    }

    fn name_owner(
        &mut self,
        ticket: &str,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO tickets (change_ticket, release_owner, created_at_ns) VALUES (?1, ?2, ?3)",
            params![ticket, owner, ns(at)?],
        )?;
        Ok(())
    }

    fn placed_on(&mut self, ticket: &str, identity: &str) -> Result<bool, HoldError> {
        rows::placed_on(self.connection, ticket, identity)
    }

    fn find_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(HoldId, String)>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT id, request_fingerprint FROM holds WHERE requester = ?1 AND idempotency_key = ?2",
                params![requester, key],
                |r| Ok((HoldId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    fn insert_hold(
        &mut self,
        hold: &Hold,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.refuse_conflicts(hold, now)?;
        self.connection.execute(
            "INSERT INTO holds (id, change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, idempotency_key, request_fingerprint)
             VALUES (?1, ?2, ?3, ?4, 'TENTATIVE', ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                hold.id.0,
                hold.change_ticket,
                ns(hold.slot.start)?,
                ns(hold.slot.end)?,
                ns(hold.expires_at)?,
                ns(hold.created_at)?,
                hold.requester,
                i64::try_from(hold.version).unwrap_or(i64::MAX),
                key,
                fingerprint
            ],
        )?;
        rows::insert_attendees(self.connection, hold)
    }

    fn replace_attendees(&mut self, hold: &Hold, now: DateTime<Utc>) -> Result<(), HoldError> {
        self.refuse_conflicts(hold, now)?;
        self.connection.execute(
            "DELETE FROM hold_attendees WHERE hold_id = ?1",
            params![hold.id.0],
        )?;
        rows::insert_attendees(self.connection, hold)
    }

    fn set_expiry(&mut self, id: &HoldId, expires_at: DateTime<Utc>) -> Result<(), HoldError> {
        self.connection.execute(
            "UPDATE holds SET expires_at_ns = ?1, version = version + 1 WHERE id = ?2",
            params![ns(expires_at)?, id.0],
        )?;
        Ok(())
    }

    fn set_released(&mut self, id: &HoldId, reason: &str) -> Result<(), HoldError> {
        self.connection.execute(
            "UPDATE holds SET state = 'RELEASED', version = version + 1, release_reason = ?1 WHERE id = ?2",
            params![reason, id.0],
        )?;
        Ok(())
    }

    fn set_confirmed(
        &mut self,
        id: &HoldId,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, HoldError> {
        let changed = self.connection.execute(
            "UPDATE holds SET state = 'CONFIRMED', version = version + 1
             WHERE id = ?1 AND state = 'TENTATIVE' AND version = ?2 AND expires_at_ns > ?3",
            params![id.0, i64::try_from(version).unwrap_or(-1), ns(now)?],
        )?;
        Ok(changed == 1)
    }

    fn expire_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(HoldId, String, DateTime<Utc>)>, HoldError> {
        let expired: Vec<(String, String, i64)> = self
            .connection
            .prepare("SELECT id, change_ticket, expires_at_ns FROM holds WHERE state = 'TENTATIVE' AND expires_at_ns <= ?1")?
            .query_map(params![ns(now)?], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, _, _) in &expired {
            self.connection.execute(
                "UPDATE holds SET state = 'EXPIRED', version = version + 1 WHERE id = ?1",
                params![id],
            )?;
        }
        Ok(expired
            .into_iter()
            .map(|(id, ticket, at)| (HoldId(id), ticket, from_ns(at)))
            .collect())
    }

    fn record_approval(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO approvals (token_id, hold_id, approver, expires_at_ns) VALUES (?1, ?2, ?3, ?4)",
            params![token_id, hold.0, approver, ns(expires_at)?],
        )?;
        Ok(())
    }

    fn approval_hold(&mut self, token_id: &str) -> Result<Option<String>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT hold_id FROM approvals WHERE token_id = ?1",
                params![token_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
        let at: Option<i64> = self
            .connection
            .query_row(
                "SELECT used_at_ns FROM used_tokens WHERE token_id = ?1",
                params![token_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(at.map(from_ns))
    }

    fn spend_token(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO used_tokens (token_id, hold_id, used_at_ns) VALUES (?1, ?2, ?3)",
            params![token_id, hold.0, ns(at)?],
        )?;
        Ok(())
    }

    fn audit(&mut self, e: &AuditEntry<'_>) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ns(e.at)?, e.actor, e.ticket, e.hold.map(|h| h.0.as_str()), e.action.as_str(), e.reason],
        )?;
        Ok(())
    }

    fn refusal_window(&mut self, actor: &str) -> Result<Option<RefusalWindow>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT window_start_ns, logged, suppressed FROM refusal_budget WHERE actor = ?1",
                params![actor],
                |r| {
                    Ok(RefusalWindow {
                        start: from_ns(r.get(0)?),
                        logged: r.get(1)?,
                        suppressed: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn set_refusal_window(&mut self, actor: &str, window: &RefusalWindow) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO refusal_budget (actor, window_start_ns, logged, suppressed) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (actor) DO UPDATE SET window_start_ns = ?2, logged = ?3, suppressed = ?4",
            params![actor, ns(window.start)?, window.logged, window.suppressed],
        )?;
        Ok(())
    }

    fn list_holds(&mut self, q: &ListQuery<'_>) -> Result<Vec<(HoldId, i64)>, HoldError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT DISTINCT h.id, h.start_ns FROM holds h LEFT JOIN hold_attendees a ON a.hold_id = h.id
             WHERE (?1 IS NULL OR h.change_ticket = ?1) AND (?2 IS NULL OR a.person_id = ?2)
               AND h.start_ns < ?4 AND h.end_ns > ?3
               AND (?5 OR h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > ?6))
               AND (?7 IS NULL
                    OR h.change_ticket IN (SELECT change_ticket FROM tickets WHERE release_owner = ?7)
                    OR h.change_ticket IN (SELECT change_ticket FROM holds WHERE requester = ?7))
               AND (h.start_ns, h.id) > (?8, ?9)
             ORDER BY h.start_ns, h.id LIMIT ?10",
        )?;
        let found = statement
            .query_map(
                params![
                    q.ticket,
                    q.person,
                    q.from_ns,
                    q.to_ns,
                    q.include_inactive,
                    ns(q.now)?,
                    q.viewer,
                    q.after.0,
                    q.after.1,
                    q.limit
                ],
                |r| Ok((HoldId(r.get(0)?), r.get::<_, i64>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found)
    }

    fn audit_page(
        &mut self,
        ticket: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, HoldError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT sequence, at_ns, actor, change_ticket, hold_id, action, reason FROM audit_log
             WHERE change_ticket = ?1 AND sequence > ?2 ORDER BY sequence LIMIT ?3",
        )?;
        let items = statement
            .query_map(params![ticket, after, limit], rows::audit_record)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(items)
    }

    /// One query for the whole request: holds that end after the horizon
    /// starts are few (the index on `end_ns` skips the past), and filtering
    /// people here beats one query per person, which cost a quarter of
    /// FindSlots' throughput.
    fn busy(
        &mut self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::HeldTime>, HoldError> {
        let wanted: HashSet<&str> = people.iter().map(|p| p.0.as_str()).collect();
        let mut statement = self.connection.prepare_cached(
            "SELECT a.person_id, a.start_ns, a.end_ns, h.id, h.change_ticket FROM hold_attendees a JOIN holds h ON h.id = a.hold_id
             WHERE a.end_ns > ?1 AND a.start_ns < ?2 AND h.change_ticket != ?3
               AND (h.state = 'CONFIRMED' OR (h.state = 'TENTATIVE' AND h.expires_at_ns > ?4))",
        )?;
        let (start, end) = (ns(within.start)?, ns(within.end)?);
        let rows = statement.query_map(params![start, end, except_ticket, ns(now)?], |r| {
            Ok(crate::HeldTime {
                person: PersonId(r.get::<_, String>(0)?),
                range: TimeRange::new(from_ns(r.get(1)?), from_ns(r.get(2)?)),
                hold: HoldId(r.get(3)?),
                change_ticket: r.get(4)?,
            })
        })?;
        let mut busy = Vec::new();
        for row in rows {
            let held = row?;
            if wanted.contains(held.person.0.as_str()) {
                busy.push(held);
            }
        }
        Ok(busy)
    }

    fn overlapping_active_holds(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, HoldError> {
        let mut statement = self.connection.prepare(
            "SELECT a.hold_id, b.hold_id FROM hold_attendees a
             JOIN hold_attendees b ON a.person_id = b.person_id AND a.hold_id < b.hold_id
                AND a.start_ns < b.end_ns AND b.start_ns < a.end_ns
             JOIN holds ha ON ha.id = a.hold_id JOIN holds hb ON hb.id = b.hold_id
             WHERE ha.change_ticket != hb.change_ticket
               AND (ha.state = 'CONFIRMED' OR (ha.state = 'TENTATIVE' AND ha.expires_at_ns > ?1))
               AND (hb.state = 'CONFIRMED' OR (hb.state = 'TENTATIVE' AND hb.expires_at_ns > ?1))",
        )?;
        let pairs = statement
            .query_map([ns(now)?], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pairs)
    }
}
