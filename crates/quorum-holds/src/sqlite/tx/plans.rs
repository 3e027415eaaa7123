//! A held plan's rows on SQLite: the plan, its members' links and its
//! approval tokens, in tables of their own beside the holds'. Each statement
//! runs inside the caller's `BEGIN IMMEDIATE` transaction, so a plan's holds
//! and its rows commit together or not at all.

use super::SqliteTx;
use crate::HoldError;
use crate::broker::{PlanRow, PlanTx, from_ns, ns};
use chrono::{DateTime, Utc};
use quorum_domain::{HoldId, PlanId};
use rusqlite::{OptionalExtension, params};

/// Created on open, like the rest of the schema.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    change_ticket TEXT NOT NULL REFERENCES tickets(change_ticket),
    requester TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    UNIQUE (requester, idempotency_key)
);
CREATE TABLE IF NOT EXISTS plan_members (
    plan_id TEXT NOT NULL REFERENCES plans(id),
    position INTEGER NOT NULL,
    milestone_id TEXT NOT NULL,
    hold_id TEXT NOT NULL UNIQUE REFERENCES holds(id),
    PRIMARY KEY (plan_id, position),
    UNIQUE (plan_id, milestone_id)
);
CREATE TABLE IF NOT EXISTS plan_approvals (
    token_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    approver TEXT NOT NULL,
    expires_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_used_tokens (
    token_id TEXT PRIMARY KEY REFERENCES plan_approvals(token_id),
    plan_id TEXT NOT NULL,
    used_at_ns INTEGER NOT NULL
);
"#;

impl PlanTx for SqliteTx<'_> {
    fn find_plan_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(PlanId, String)>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT id, request_fingerprint FROM plans WHERE requester = ?1 AND idempotency_key = ?2",
                params![requester, key],
                |r| Ok((PlanId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    fn insert_plan(
        &mut self,
        plan: &PlanRow,
        key: &str,
        fingerprint: &str,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO plans (id, change_ticket, requester, created_at_ns, idempotency_key, request_fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                plan.id.0,
                plan.change_ticket,
                plan.requester,
                ns(plan.created_at)?,
                key,
                fingerprint
            ],
        )?;
        Ok(())
    }

    fn add_plan_member(
        &mut self,
        plan: &PlanId,
        position: usize,
        milestone: &str,
        hold: &HoldId,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO plan_members (plan_id, position, milestone_id, hold_id) VALUES (?1, ?2, ?3, ?4)",
            params![
                plan.0,
                i64::try_from(position).unwrap_or(i64::MAX),
                milestone,
                hold.0
            ],
        )?;
        Ok(())
    }

    fn load_plan(&mut self, id: &PlanId) -> Result<PlanRow, HoldError> {
        let (change_ticket, requester, created): (String, String, i64) = self
            .connection
            .query_row(
                "SELECT change_ticket, requester, created_at_ns FROM plans WHERE id = ?1",
                params![id.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| HoldError::PlanNotFound { id: id.clone() })?;
        let mut statement = self.connection.prepare_cached(
            "SELECT milestone_id, hold_id FROM plan_members WHERE plan_id = ?1 ORDER BY position",
        )?;
        let members = statement
            .query_map(params![id.0], |r| Ok((r.get(0)?, HoldId(r.get(1)?))))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PlanRow {
            id: id.clone(),
            change_ticket,
            requester,
            created_at: from_ns(created),
            members,
        })
    }

    fn plan_of(&mut self, hold: &HoldId) -> Result<Option<(PlanId, String)>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT plan_id, milestone_id FROM plan_members WHERE hold_id = ?1",
                params![hold.0],
                |r| Ok((PlanId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    fn record_plan_approval(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO plan_approvals (token_id, plan_id, approver, expires_at_ns) VALUES (?1, ?2, ?3, ?4)",
            params![token_id, plan.0, approver, ns(expires_at)?],
        )?;
        Ok(())
    }

    fn plan_approval(&mut self, token_id: &str) -> Result<Option<String>, HoldError> {
        Ok(self
            .connection
            .query_row(
                "SELECT plan_id FROM plan_approvals WHERE token_id = ?1",
                params![token_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn plan_token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
        let at: Option<i64> = self
            .connection
            .query_row(
                "SELECT used_at_ns FROM plan_used_tokens WHERE token_id = ?1",
                params![token_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(at.map(from_ns))
    }

    fn spend_plan_token(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.connection.execute(
            "INSERT INTO plan_used_tokens (token_id, plan_id, used_at_ns) VALUES (?1, ?2, ?3)",
            params![token_id, plan.0, ns(at)?],
        )?;
        Ok(())
    }
}
