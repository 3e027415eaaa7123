//! Refusals in the audit log, within a per-caller budget. Each refusal is
//! logged with its reason until the caller has had `budget` logged in the
//! current minute; after that it is only counted, and the count is written as
//! one `REFUSALS_SUPPRESSED` record when the caller's next minute begins. So a
//! flood of refused calls — garbage ids, strangers' tokens — grows the store
//! by at most `budget + 1` records per caller per minute, and the one
//! bookkeeping row per caller never grows.

use super::{RefusalWindow, Tx, audit};
use crate::HoldError;
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{AuditAction, HoldId};

pub struct Refusal<'a> {
    pub actor: &'a str,
    pub ticket: &'a str,
    pub hold: Option<&'a HoldId>,
    pub action: AuditAction,
    pub reason: &'a str,
}

pub fn record(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    budget: u32,
    refusal: &Refusal<'_>,
) -> Result<(), HoldError> {
    let fresh = RefusalWindow {
        start: now,
        logged: 0,
        suppressed: 0,
    };
    let mut window = tx.refusal_window(refusal.actor)?.unwrap_or(fresh);
    if now - window.start >= Duration::minutes(1) {
        if window.suppressed > 0 {
            let summary = format!(
                "{} further refusal(s) of {} from {} to {} were counted, not logged one by one",
                window.suppressed,
                refusal.actor,
                window.start.to_rfc3339(),
                now.to_rfc3339()
            );
            let action = AuditAction::RefusalsSuppressed;
            audit(tx, now, refusal.actor, "", None, action, &summary)?;
        }
        window = fresh;
    }
    if window.logged < i64::from(budget) {
        let Refusal {
            actor,
            ticket,
            hold,
            action,
            reason,
        } = refusal;
        audit(tx, now, actor, ticket, *hold, *action, reason)?;
        window.logged += 1;
    } else {
        window.suppressed += 1;
    }
    tx.set_refusal_window(refusal.actor, &window)
}
