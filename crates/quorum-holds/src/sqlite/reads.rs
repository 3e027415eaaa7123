//! Reads, limited to what the caller may see and paged so no answer outgrows
//! a message: one hold, listings of holds, a ticket's audit log. Page tokens
//! are the position of the last item returned (opaque to callers), so pages
//! stay consistent while new holds and records are written.

use super::{SqliteHoldStore, rows};
use crate::{HoldError, HoldFilter, Page, PageRequest, Principal, access, bounds};
use quorum_domain::{AuditAction, AuditRecord, FieldViolation, Hold, HoldId};
use rusqlite::{Connection, params};

fn bad_token() -> HoldError {
    HoldError::InvalidRequest {
        violations: vec![FieldViolation::new(
            "page_token",
            "not a page token this server returned",
        )],
    }
}

fn page_size(page: &PageRequest) -> Result<i64, HoldError> {
    let token = page.token.as_deref().unwrap_or("");
    if token.len() > bounds::MAX_PAGE_TOKEN_BYTES {
        return Err(bad_token());
    }
    let size = page.size.clamp(1, bounds::MAX_PAGE_SIZE);
    // One more than asked tells whether another page follows.
    Ok(i64::try_from(size).unwrap_or(1) + 1)
}

/// Whether the caller may read `ticket`.
fn may_read(connection: &Connection, ticket: &str, who: &Principal) -> Result<(), HoldError> {
    if access::reads_everything(who) {
        return Ok(());
    }
    let owner = rows::release_owner(connection, ticket)?;
    let placed = rows::placed_on(connection, ticket, &who.identity)?;
    access::may_read(who, ticket, owner.as_deref(), placed)
}

pub fn get(store: &SqliteHoldStore, id: &HoldId, who: &Principal) -> Result<Hold, HoldError> {
    let mut violations = Vec::new();
    bounds::id("hold_id", &id.0, true, &mut violations);
    bounds::verdict(violations)?;
    let outcome = {
        let connection = store.lock()?;
        rows::load(&connection, id).and_then(|hold| {
            may_read(&connection, &hold.change_ticket, who)?;
            Ok(rows::as_seen(hold, store.clock.now()))
        })
    };
    store.audited(outcome, Some(id), None, who, AuditAction::ReadRefused)
}

fn check_filter(filter: &HoldFilter) -> Result<(), HoldError> {
    let mut violations = Vec::new();
    let ticket = filter.change_ticket.as_deref().unwrap_or("");
    bounds::id("change_ticket", ticket, false, &mut violations);
    let person = filter.person.as_ref().map_or("", |p| p.0.as_str());
    bounds::id("person_id", person, false, &mut violations);
    bounds::verdict(violations)
}

/// A filter by ticket the caller may not read is refused; without one, the
/// listing holds only tickets the caller may read.
pub fn list(
    store: &SqliteHoldStore,
    filter: &HoldFilter,
    page: &PageRequest,
    who: &Principal,
) -> Result<Page<Hold>, HoldError> {
    check_filter(filter)?;
    let limit = page_size(page)?;
    let after = match page.token.as_deref() {
        None | Some("") => (i64::MIN, String::new()),
        Some(token) => token
            .split_once('/')
            .and_then(|(start, id)| Some((start.parse::<i64>().ok()?, id.to_owned())))
            .ok_or_else(bad_token)?,
    };
    let outcome = {
        let connection = store.lock()?;
        match &filter.change_ticket {
            Some(ticket) => may_read(&connection, ticket, who),
            None => Ok(()),
        }
        .and_then(|()| list_in(store, &connection, filter, &after, limit, who))
    };
    let ticket = filter.change_ticket.as_deref();
    store.audited(outcome, None, ticket, who, AuditAction::ReadRefused)
}

fn list_in(
    store: &SqliteHoldStore,
    connection: &Connection,
    filter: &HoldFilter,
    after: &(i64, String),
    limit: i64,
    who: &Principal,
) -> Result<Page<Hold>, HoldError> {
    let now = store.clock.now();
    let (from, to) = match filter.overlapping {
        Some(range) => (rows::ns(range.start)?, rows::ns(range.end)?),
        None => (i64::MIN, i64::MAX),
    };
    let everything = access::reads_everything(who);
    let viewer = (!everything).then_some(who.identity.as_str());
    let mut statement = connection.prepare_cached(
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
                filter.change_ticket,
                filter.person.as_ref().map(|p| p.0.as_str()),
                from,
                to,
                filter.include_inactive,
                rows::ns(now)?,
                viewer,
                after.0,
                after.1,
                limit
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let more = i64::try_from(found.len()).unwrap_or(i64::MAX) >= limit;
    let keep = found.len().min(usize::try_from(limit - 1).unwrap_or(0));
    let next_page_token = match (more, found.get(keep.wrapping_sub(1))) {
        (true, Some((id, start))) => Some(format!("{start}/{id}")),
        _ => None,
    };
    let mut items = Vec::with_capacity(keep);
    for (id, _) in found.into_iter().take(keep) {
        items.push(rows::as_seen(rows::load(connection, &HoldId(id))?, now));
    }
    Ok(Page {
        items,
        next_page_token,
    })
}

/// The empty ticket's records (refusals about unknown holds, suppression
/// summaries) are readable with the read or admin scope only.
pub fn audit_log(
    store: &SqliteHoldStore,
    ticket: &str,
    page: &PageRequest,
    who: &Principal,
) -> Result<Page<AuditRecord>, HoldError> {
    let mut violations = Vec::new();
    bounds::id("change_ticket", ticket, false, &mut violations);
    bounds::verdict(violations)?;
    let limit = page_size(page)?;
    let after: i64 = match page.token.as_deref() {
        None | Some("") => 0,
        Some(token) => token.parse().map_err(|_| bad_token())?,
    };
    let outcome = {
        let connection = store.lock()?;
        let allowed = if ticket.is_empty() && !access::reads_everything(who) {
            access::may_read(who, "", None, false)
        } else {
            may_read(&connection, ticket, who)
        };
        allowed.and_then(|()| audit_page(&connection, ticket, after, limit))
    };
    store.audited(outcome, None, Some(ticket), who, AuditAction::ReadRefused)
}

fn audit_page(
    connection: &Connection,
    ticket: &str,
    after: i64,
    limit: i64,
) -> Result<Page<AuditRecord>, HoldError> {
    let mut statement = connection.prepare_cached(
        "SELECT sequence, at_ns, actor, change_ticket, hold_id, action, reason FROM audit_log
         WHERE change_ticket = ?1 AND sequence > ?2 ORDER BY sequence LIMIT ?3",
    )?;
    let mut items = statement
        .query_map(params![ticket, after, limit], rows::audit_record)?
        .collect::<Result<Vec<_>, _>>()?;
    let more = i64::try_from(items.len()).unwrap_or(i64::MAX) >= limit;
    if more {
        items.pop();
    }
    let next_page_token = match (more, items.last()) {
        (true, Some(last)) => Some(last.sequence.to_string()),
        _ => None,
    };
    Ok(Page {
        items,
        next_page_token,
    })
}
