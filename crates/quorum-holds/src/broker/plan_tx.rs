//! The rows a held plan adds, as transaction primitives every store provides
//! beside [`super::Tx`]'s: the plan, the link from each milestone to its hold,
//! and the plan's approval tokens. Member holds are ordinary holds, inserted
//! with [`super::Tx::insert_hold`], so the no-double-booking rule guards
//! them exactly as it guards one hold.

use crate::HoldError;
use chrono::{DateTime, Utc};
use quorum_domain::{HoldId, PlanId};

/// A plan as stored: who placed it for which ticket, and its members in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: PlanId,
    pub change_ticket: String,
    pub requester: String,
    pub created_at: DateTime<Utc>,
    /// (milestone id, hold) in plan order.
    pub members: Vec<(String, HoldId)>,
}

pub trait PlanTx {
    /// The plan this requester placed with this idempotency key, and the
    /// fingerprint of the request that placed it.
    fn find_plan_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(PlanId, String)>, HoldError>;
    /// Inserts the plan's own row (its members are linked one by one).
    fn insert_plan(
        &mut self,
        plan: &PlanRow,
        key: &str,
        fingerprint: &str,
    ) -> Result<(), HoldError>;
    /// Links milestone `position` of the plan to its hold.
    fn add_plan_member(
        &mut self,
        plan: &PlanId,
        position: usize,
        milestone: &str,
        hold: &HoldId,
    ) -> Result<(), HoldError>;
    /// The plan with its members in order, or `PlanNotFound`. Where a store
    /// has row locks, a writing transaction takes the plan's, so two changes
    /// of one plan take turns.
    fn load_plan(&mut self, id: &PlanId) -> Result<PlanRow, HoldError>;
    /// The plan and milestone a hold belongs to, if any.
    fn plan_of(&mut self, hold: &HoldId) -> Result<Option<(PlanId, String)>, HoldError>;
    fn record_plan_approval(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError>;
    /// The plan a plan token was issued for, if this store issued it.
    fn plan_approval(&mut self, token_id: &str) -> Result<Option<String>, HoldError>;
    fn plan_token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError>;
    fn spend_plan_token(
        &mut self,
        token_id: &str,
        plan: &PlanId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError>;
}
