//! Approval tokens: which hold a token was issued for, and spending it once.
//! The primary key of `used_tokens` is what makes a token single-use when
//! several replicas confirm with it at once.

use super::PgTx;
use chrono::{DateTime, Utc};
use quorum_domain::HoldId;
use quorum_holds::HoldError;
use quorum_holds::broker::{from_ns, ns};

pub fn record(
    tx: &mut PgTx<'_>,
    token_id: &str,
    hold: &HoldId,
    approver: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), HoldError> {
    tx.execute(
        "INSERT INTO approvals (token_id, hold_id, approver, expires_at_ns) VALUES ($1, $2, $3, $4)",
        &[&token_id, &hold.0, &approver, &ns(expires_at)?],
    )?;
    Ok(())
}

pub fn hold_of(tx: &mut PgTx<'_>, token_id: &str) -> Result<Option<String>, HoldError> {
    let row = tx.query_opt(
        "SELECT hold_id FROM approvals WHERE token_id = $1",
        &[&token_id],
    )?;
    Ok(row.map(|r| r.get(0)))
}

pub fn spent_at(tx: &mut PgTx<'_>, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError> {
    let row = tx.query_opt(
        "SELECT used_at_ns FROM used_tokens WHERE token_id = $1",
        &[&token_id],
    )?;
    Ok(row.map(|r| from_ns(r.get(0))))
}

pub fn spend(
    tx: &mut PgTx<'_>,
    token_id: &str,
    hold: &HoldId,
    at: DateTime<Utc>,
) -> Result<(), HoldError> {
    tx.execute(
        "INSERT INTO used_tokens (token_id, hold_id, used_at_ns) VALUES ($1, $2, $3)",
        &[&token_id, &hold.0, &ns(at)?],
    )?;
    Ok(())
}
