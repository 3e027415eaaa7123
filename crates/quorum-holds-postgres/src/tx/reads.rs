//! Views that change nothing: listings of holds, holds as busy time for
//! FindSlots, and the overlap check the tests run behind the API.

use super::{PgTx, active};
use chrono::{DateTime, Utc};
use quorum_domain::{HoldId, PersonId, TimeRange};
use quorum_holds::HoldError;
use quorum_holds::broker::{ListQuery, from_ns, ns};

pub fn list_holds(tx: &mut PgTx<'_>, q: &ListQuery<'_>) -> Result<Vec<(HoldId, i64)>, HoldError> {
    let rows = tx.query(
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

pub fn busy(
    tx: &mut PgTx<'_>,
    people: &[PersonId],
    within: TimeRange,
    except_ticket: &str,
    now: DateTime<Utc>,
) -> Result<Vec<quorum_holds::HeldTime>, HoldError> {
    let people: Vec<&str> = people.iter().map(|p| p.0.as_str()).collect();
    let rows = tx.query(
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
            hold: HoldId(r.get(3)),
            change_ticket: r.get(4),
        })
        .collect())
}

/// Judged by the holds' own state and expiry, not the attendee rows'
/// marks, so a mark that went wrong would show here too.
pub fn overlapping_active_holds(
    tx: &mut PgTx<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, HoldError> {
    let rows = tx.query(
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
