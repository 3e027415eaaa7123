//! Refusals in the audit log, within a per-caller budget. Each refusal is
//! logged with its reason until the caller has had `budget` logged in the
//! current minute; after that it is only counted, and the count is written as
//! one `REFUSALS_SUPPRESSED` record when the caller's next minute begins. So a
//! flood of refused calls — garbage ids, strangers' tokens — grows the store
//! by at most `budget + 1` records per caller per minute, and the one
//! bookkeeping row per caller never grows.

use super::{audit, rows};
use crate::HoldError;
use chrono::{DateTime, Utc};
use quorum_domain::{AuditAction, HoldId};
use rusqlite::{OptionalExtension, Transaction, params};

const WINDOW_NS: i64 = 60 * 1_000_000_000;

pub struct Refusal<'a> {
    pub actor: &'a str,
    pub ticket: &'a str,
    pub hold: Option<&'a HoldId>,
    pub action: AuditAction,
    pub reason: &'a str,
}

pub fn record(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    budget: u32,
    refusal: &Refusal<'_>,
) -> Result<(), HoldError> {
    let now_ns = rows::ns(now)?;
    let window: Option<(i64, i64, i64)> = tx
        .query_row(
            "SELECT window_start_ns, logged, suppressed FROM refusal_budget WHERE actor = ?1",
            params![refusal.actor],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (mut start, mut logged, mut suppressed) = window.unwrap_or((now_ns, 0, 0));
    if now_ns.saturating_sub(start) >= WINDOW_NS {
        if suppressed > 0 {
            let summary = format!(
                "{suppressed} further refusal(s) of {} from {} to {} were counted, not logged one by one",
                refusal.actor,
                rows::from_ns(start).to_rfc3339(),
                now.to_rfc3339()
            );
            let action = AuditAction::RefusalsSuppressed;
            audit(tx, now, refusal.actor, "", None, action, &summary)?;
        }
        (start, logged, suppressed) = (now_ns, 0, 0);
    }
    if logged < i64::from(budget) {
        let Refusal {
            actor,
            ticket,
            hold,
            action,
            reason,
        } = refusal;
        audit(tx, now, actor, ticket, *hold, *action, reason)?;
        logged += 1;
    } else {
        suppressed += 1;
    }
    tx.execute(
        "INSERT INTO refusal_budget (actor, window_start_ns, logged, suppressed) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (actor) DO UPDATE SET window_start_ns = ?2, logged = ?3, suppressed = ?4",
        params![refusal.actor, start, logged, suppressed],
    )?;
    Ok(())
}
