//! The audit log and the per-caller refusal budget. The log is append-only
//! in the database itself (triggers, see the migrations); pages are read up
//! to a horizon that no running transaction can still commit below.

use super::PgTx;
use quorum_domain::{AuditRecord, HoldId};
use quorum_holds::HoldError;
use quorum_holds::broker::{AuditEntry, RefusalWindow, from_ns, ns};

pub fn append(tx: &mut PgTx<'_>, e: &AuditEntry<'_>) -> Result<(), HoldError> {
    let hold = e.hold.map(|h| h.0.as_str());
    tx.execute(
        "INSERT INTO audit_log (at_ns, actor, change_ticket, hold_id, action, reason) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&ns(e.at)?, &e.actor, &e.ticket, &hold, &e.action.as_str(), &e.reason],
    )?;
    Ok(())
}

pub fn refusal_window(tx: &mut PgTx<'_>, actor: &str) -> Result<Option<RefusalWindow>, HoldError> {
    let row = tx.query_opt(
        "SELECT window_start_ns, logged, suppressed FROM refusal_budget WHERE actor = $1 FOR UPDATE",
        &[&actor],
    )?;
    Ok(row.map(|r| RefusalWindow {
        start: from_ns(r.get(0)),
        logged: r.get(1),
        suppressed: r.get(2),
    }))
}

pub fn set_refusal_window(
    tx: &mut PgTx<'_>,
    actor: &str,
    window: &RefusalWindow,
) -> Result<(), HoldError> {
    tx.execute(
        "INSERT INTO refusal_budget (actor, window_start_ns, logged, suppressed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (actor) DO UPDATE SET window_start_ns = $2, logged = $3, suppressed = $4",
        &[&actor, &ns(window.start)?, &window.logged, &window.suppressed],
    )?;
    Ok(())
}

/// At most `limit` of `ticket`'s records after the record with sequence
/// `after` (0: from the start). The identity sequence is taken at insert,
/// not at commit, so a transaction can commit record 10 after record 11 was
/// read; a page in sequence order would skip it for good. Instead a page
/// holds only records of transactions older than the snapshot's oldest
/// running one (`tx < xmin`: all finished, so no record can appear among
/// them later), in (transaction, sequence) order; every record committed
/// later has a newer transaction and sorts after the page. Records of
/// concurrent transactions can so come out of sequence order, and a record
/// shows once every transaction older than its own has ended.
pub fn page(
    tx: &mut PgTx<'_>,
    ticket: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, HoldError> {
    let rows = tx.query(
        "WITH cursor AS (
             SELECT COALESCE((SELECT tx FROM audit_log WHERE sequence = $2), '0'::XID8) AS tx
         )
         SELECT a.sequence, a.at_ns, a.actor, a.change_ticket, a.hold_id, a.action, a.reason
         FROM audit_log a, cursor c
         WHERE a.change_ticket = $1 AND (a.tx, a.sequence) > (c.tx, $2)
           AND a.tx < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY a.tx, a.sequence LIMIT $3",
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
