//! A held plan's rows on PostgreSQL (tables of migration 3): the plan, its
//! members' links and its approval tokens, written inside the caller's
//! transaction, so a plan's holds and rows commit together or not at all.
//! A writing transaction locks the plan's row as it loads it, so two
//! changes of one plan take turns.

use super::PgTx;
use chrono::{DateTime, Utc};
use quorum_domain::{HoldId, PlanId};
use quorum_holds::HoldError;
use quorum_holds::broker::{PlanRow, PlanTx, from_ns, ns};

impl PlanTx for PgTx<'_> {
    fn find_plan_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(PlanId, String)>, HoldError> {
        let row = self.query_opt(
            "SELECT id, request_fingerprint FROM plans WHERE requester = $1 AND idempotency_key = $2",
            &[&requester, &key],
        )?;
        Ok(row.map(|r| (PlanId(r.get(0)), r.get(1))))
    }

    fn insert_plan(
        &mut self,
        plan: &PlanRow,
        key: &str,
        fingerprint: &str,
    ) -> Result<(), HoldError> {
        // The same key placed by a concurrent transaction hits the unique
        // index; the rerun finds that plan and answers with it.
        self.execute(
            "INSERT INTO plans (id, change_ticket, requester, created_at_ns, idempotency_key, request_fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &plan.id.0,
                &plan.change_ticket,
                &plan.requester,
                &ns(plan.created_at)?,
                &key,
                &fingerprint,
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
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        self.execute(
            "INSERT INTO plan_members (plan_id, position, milestone_id, hold_id) VALUES ($1, $2, $3, $4)",
            &[&plan.0, &position, &milestone, &hold.0],
        )?;
        Ok(())
    }

    fn load_plan(&mut self, id: &PlanId) -> Result<PlanRow, HoldError> {
        let sql = if self.writing {
            "SELECT change_ticket, requester, created_at_ns FROM plans WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT change_ticket, requester, created_at_ns FROM plans WHERE id = $1"
        };
        let row = self
            .query_opt(sql, &[&id.0])?
            .ok_or_else(|| HoldError::PlanNotFound { id: id.clone() })?;
        let members = self
            .query(
                "SELECT milestone_id, hold_id FROM plan_members WHERE plan_id = $1 ORDER BY position",
                &[&id.0],
            )?
            .iter()
            .map(|r| (r.get(0), HoldId(r.get(1))))
            .collect();
        Ok(PlanRow {
            id: id.clone(),
            change_ticket: row.get(0),
            requester: row.get(1),
            created_at: from_ns(row.get(2)),
            members,
        })
    }

    fn plan_of(&mut self, hold: &HoldId) -> Result<Option<(PlanId, String)>, HoldError> {
        let row = self.query_opt(
            "SELECT plan_id, milestone_id FROM plan_members WHERE hold_id = $1",
            &[&hold.0],
        )?;
        Ok(row.map(|r| (PlanId(r.get(0)), r.get(1))))
    }

    fn record_plan_approval(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.execute(
            "INSERT INTO plan_approvals (token_id, plan_id, approver, expires_at_ns) VALUES ($1, $2, $3, $4)",
            &[&token_id, &plan.0, &approver, &ns(expires_at)?],
        )?;
        Ok(())
    }

    fn plan_approval(&mut self, token_id: &str) -> Result<Option<String>, HoldError> {
        let row = self.query_opt(
            "SELECT plan_id FROM plan_approvals WHERE token_id = $1",
            &[&token_id],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn plan_token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
        let row = self.query_opt(
            "SELECT used_at_ns FROM plan_used_tokens WHERE token_id = $1",
            &[&token_id],
        )?;
        Ok(row.map(|r| from_ns(r.get(0))))
    }

    fn spend_plan_token(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError> {
        self.execute(
            "INSERT INTO plan_used_tokens (token_id, plan_id, used_at_ns) VALUES ($1, $2, $3)",
            &[&token_id, &plan.0, &ns(at)?],
        )?;
        Ok(())
    }
}
