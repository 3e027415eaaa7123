//! Placing and changing holds: their rows, their attendee rows (which the
//! exclusion constraint guards), and the state changes that follow the
//! hold's.

use super::{PgTx, as_i64};
use chrono::{DateTime, Utc};
use quorum_domain::{Hold, HoldAttendee, HoldId, HoldState, PersonId, RoleId, TimeRange};
use quorum_holds::broker::{AuditEntry, from_ns, ns};
use quorum_holds::{HoldClash, HoldError};

pub fn load(tx: &mut PgTx<'_>, id: &HoldId) -> Result<Hold, HoldError> {
    let sql = if tx.writing {
        "SELECT change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, release_reason
         FROM holds WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT change_ticket, start_ns, end_ns, state, expires_at_ns, created_at_ns, requester, version, release_reason
         FROM holds WHERE id = $1"
    };
    let row = tx
        .query_opt(sql, &[&id.0])?
        .ok_or_else(|| HoldError::NotFound { id: id.clone() })?;
    let state: String = row.get(3);
    let state = HoldState::parse(&state).ok_or_else(|| HoldError::Storage {
        detail: format!("hold {id} has unknown state {state:?}"),
    })?;
    let attendees = tx
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

pub fn ticket_of(tx: &mut PgTx<'_>, id: &HoldId) -> Result<Option<String>, HoldError> {
    let row = tx.query_opt("SELECT change_ticket FROM holds WHERE id = $1", &[&id.0])?;
    Ok(row.map(|r| r.get(0)))
}

pub fn release_owner(tx: &mut PgTx<'_>, ticket: &str) -> Result<Option<String>, HoldError> {
    let row = tx.query_opt(
        "SELECT release_owner FROM tickets WHERE change_ticket = $1",
        &[&ticket],
    )?;
    Ok(row.map(|r| r.get(0)))
}

pub fn name_owner(
    tx: &mut PgTx<'_>,
    ticket: &str,
    owner: &str,
    at: DateTime<Utc>,
) -> Result<(), HoldError> {
    // Two replicas naming one ticket at once: the second hits the
    // primary key, reruns, and finds the first's owner.
    tx.execute(
        "INSERT INTO tickets (change_ticket, release_owner, created_at_ns) VALUES ($1, $2, $3)",
        &[&ticket, &owner, &ns(at)?],
    )?;
    Ok(())
}

pub fn placed_on(tx: &mut PgTx<'_>, ticket: &str, identity: &str) -> Result<bool, HoldError> {
    let row = tx.query_opt(
        "SELECT 1 FROM holds WHERE change_ticket = $1 AND requester = $2 LIMIT 1",
        &[&ticket, &identity],
    )?;
    Ok(row.is_some())
}

pub fn find_by_key(
    tx: &mut PgTx<'_>,
    requester: &str,
    key: &str,
) -> Result<Option<(HoldId, String)>, HoldError> {
    let row = tx.query_opt(
        "SELECT id, request_fingerprint FROM holds WHERE requester = $1 AND idempotency_key = $2",
        &[&requester, &key],
    )?;
    Ok(row.map(|r| (HoldId(r.get(0)), r.get(1))))
}

/// A placement noted by `insert_hold`, sent with the next statement or with
/// its audit record (see the module of `PgTx`).
pub struct Placement {
    pub hold: Hold,
    key: String,
    fingerprint: String,
    now: DateTime<Utc>,
}

pub fn insert_hold(
    tx: &mut PgTx<'_>,
    hold: &Hold,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), HoldError> {
    tx.send_placement()?;
    tx.pending = Some(Placement {
        hold: hold.clone(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        now,
    });
    Ok(())
}

/// Sends a placement, with its audit record when given, as one call of
/// migration 4's `place_hold`: the hold's row, its attendee rows (by
/// `place_attendees`, whose comment says why there) and the record. The
/// same key placed by a concurrent transaction hits the unique index; the
/// rerun finds that hold and answers with it.
pub fn place(
    tx: &mut PgTx<'_>,
    placement: &Placement,
    audit: Option<&AuditEntry<'_>>,
) -> Result<(), HoldError> {
    let Placement {
        hold,
        key,
        fingerprint,
        now,
    } = placement;
    let people: Vec<&str> = hold.attendees.iter().map(|a| a.person.0.as_str()).collect();
    let roles: Vec<&str> = hold.attendees.iter().map(|a| a.role.0.as_str()).collect();
    let audit_at = audit.map(|e| ns(e.at)).transpose()?;
    let row = tx.query_opt(
        "SELECT place_hold($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        &[
            &hold.id.0,
            &hold.change_ticket,
            &ns(hold.slot.start)?,
            &ns(hold.slot.end)?,
            &ns(hold.expires_at)?,
            &ns(hold.created_at)?,
            &hold.requester,
            &as_i64(hold.version),
            key,
            fingerprint,
            &people,
            &roles,
            &ns(*now)?,
            &audit_at,
            &audit.map(|e| e.actor),
            &audit.map(|e| e.action.as_str()),
            &audit.map(|e| e.reason),
        ],
    )?;
    settle(tx, &people, hold.slot, row)
}

/// Inserts the hold's attendee rows in `state` with the migration's
/// `place_attendees`, one round trip: the exclusion constraint refuses a
/// clash, which becomes `Conflict` with the holds in the way. Why the insert
/// and its undoing happen in the database is said at the function.
fn insert_attendees(
    tx: &mut PgTx<'_>,
    hold: &Hold,
    state: HoldState,
    now: DateTime<Utc>,
) -> Result<(), HoldError> {
    let people: Vec<&str> = hold.attendees.iter().map(|a| a.person.0.as_str()).collect();
    let roles: Vec<&str> = hold.attendees.iter().map(|a| a.role.0.as_str()).collect();
    let row = tx.query_opt(
        "SELECT place_attendees($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &hold.id.0,
            &people,
            &roles,
            &hold.change_ticket,
            &ns(hold.slot.start)?,
            &ns(hold.slot.end)?,
            &ns(hold.expires_at)?,
            &state.as_str(),
            &ns(now)?,
        ],
    )?;
    settle(tx, &people, hold.slot, row)
}

/// What `place_attendees` answered: NULL when placed, else the holds in the
/// way.
fn settle(
    tx: &mut PgTx<'_>,
    people: &[&str],
    slot: TimeRange,
    answer: Option<postgres::Row>,
) -> Result<(), HoldError> {
    let in_the_way: Option<Vec<String>> = answer.and_then(|r| r.get(0));
    match in_the_way {
        None => Ok(()),
        Some(holds) if holds.is_empty() => {
            // The hold in the way is gone already: run again.
            tx.raced = true;
            Err(HoldError::Storage {
                detail: "a conflicting hold vanished while placing".into(),
            })
        }
        Some(holds) => Err(HoldError::conflict(clashes(tx, people, slot, &holds)?)),
    }
}

/// Which of the hold's attendees each hold in the way takes: read only when
/// placing failed, so the placing path keeps its one round trip.
fn clashes(
    tx: &mut PgTx<'_>,
    people: &[&str],
    slot: TimeRange,
    holds: &[String],
) -> Result<Vec<HoldClash>, HoldError> {
    let rows = tx.query(
        "SELECT DISTINCT person_id, hold_id FROM hold_attendees
         WHERE hold_id = ANY($1) AND person_id = ANY($2) AND during && int8range($3, $4)",
        &[&holds, &people, &ns(slot.start)?, &ns(slot.end)?],
    )?;
    Ok(rows
        .iter()
        .map(|r| HoldClash {
            person: PersonId(r.get(0)),
            hold: HoldId(r.get(1)),
        })
        .collect())
}

pub fn replace_attendees(
    tx: &mut PgTx<'_>,
    hold: &Hold,
    now: DateTime<Utc>,
) -> Result<(), HoldError> {
    tx.execute(
        "DELETE FROM hold_attendees WHERE hold_id = $1",
        &[&hold.id.0],
    )?;
    insert_attendees(tx, hold, hold.state_at(now), now)
}

pub fn set_expiry(
    tx: &mut PgTx<'_>,
    id: &HoldId,
    expires_at: DateTime<Utc>,
) -> Result<(), HoldError> {
    let at = ns(expires_at)?;
    lock_attendees(tx, id)?;
    tx.execute(
        "UPDATE holds SET expires_at_ns = $2, version = version + 1 WHERE id = $1",
        &[&id.0, &at],
    )?;
    // The UPDATE waits for a placing transaction that is marking these
    // rows expired; if one did, the database's clock says the hold had
    // expired, and the extension comes too late.
    tx.execute(
        "UPDATE hold_attendees SET expires_at_ns = $2 WHERE hold_id = $1 AND state = 'TENTATIVE'",
        &[&id.0, &at],
    )?;
    let expired = tx.count(
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

/// Takes the per-person locks that placing takes (migration 4's
/// `lock_hold_attendees`, the same keys in the same order) before a change
/// of the hold's attendee rows. The rows' new versions are checked by the
/// exclusion constraint like a placement's inserts; without the lock, a
/// confirmation or extension and a placement for one of its people could
/// each find the other's uncommitted row in the constraint's index and wait
/// on it — a deadlock PostgreSQL breaks only after `deadlock_timeout` (a
/// second), and the loser reruns. With it they take turns.
fn lock_attendees(tx: &mut PgTx<'_>, id: &HoldId) -> Result<(), HoldError> {
    tx.query_opt("SELECT lock_hold_attendees($1)", &[&id.0])?;
    Ok(())
}

pub fn set_released(tx: &mut PgTx<'_>, id: &HoldId, reason: &str) -> Result<(), HoldError> {
    tx.execute(
        "UPDATE holds SET state = 'RELEASED', version = version + 1, release_reason = $2 WHERE id = $1",
        &[&id.0, &reason],
    )?;
    tx.execute(
        "UPDATE hold_attendees SET state = 'RELEASED' WHERE hold_id = $1",
        &[&id.0],
    )?;
    Ok(())
}

pub fn set_confirmed(
    tx: &mut PgTx<'_>,
    id: &HoldId,
    version: u64,
    now: DateTime<Utc>,
) -> Result<bool, HoldError> {
    let changed = tx.execute(
        "UPDATE holds SET state = 'CONFIRMED', version = version + 1
         WHERE id = $1 AND state = 'TENTATIVE' AND version = $2 AND expires_at_ns > $3",
        &[&id.0, &as_i64(version), &ns(now)?],
    )?;
    if changed != 1 {
        return Ok(false);
    }
    lock_attendees(tx, id)?;
    tx.execute(
        "UPDATE hold_attendees SET state = 'CONFIRMED' WHERE hold_id = $1 AND state = 'TENTATIVE'",
        &[&id.0],
    )?;
    // Rows a placing transaction marked expired: too late to confirm.
    let left = tx.count(
        "SELECT count(*) FROM hold_attendees WHERE hold_id = $1 AND state <> 'CONFIRMED'",
        &[&id.0],
    )?;
    Ok(left == 0)
}

pub fn expire_due(
    tx: &mut PgTx<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(HoldId, String, DateTime<Utc>)>, HoldError> {
    let now = ns(now)?;
    let rows = tx.query(
        "UPDATE holds SET state = 'EXPIRED', version = version + 1
         WHERE state = 'TENTATIVE' AND expires_at_ns <= $1
         RETURNING id, change_ticket, expires_at_ns",
        &[&now],
    )?;
    tx.execute(
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
