//! Reads, limited to what the caller may see and paged so no answer outgrows
//! a message: one hold, listings of holds, a ticket's audit log. Page tokens
//! are the position of the last item returned (opaque to callers), so pages
//! stay consistent while new holds and records are written.

use super::{Broker, ListQuery, Storage, Tx, as_seen, ns};
use crate::{HoldError, HoldFilter, Page, PageRequest, Principal, access, bounds};
use quorum_domain::{AuditAction, AuditRecord, FieldViolation, Hold, HoldId};

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
fn may_read(tx: &mut dyn Tx, ticket: &str, who: &Principal) -> Result<(), HoldError> {
    if access::reads_everything(who) {
        return Ok(());
    }
    let owner = tx.release_owner(ticket)?;
    let placed = tx.placed_on(ticket, &who.identity)?;
    access::may_read(who, ticket, owner.as_deref(), placed)
}

pub fn get<S: Storage>(
    broker: &Broker<S>,
    id: &HoldId,
    who: &Principal,
) -> Result<Hold, HoldError> {
    super::holds::hold_id(id)?;
    let outcome = broker.storage.read(&mut |tx, now| {
        let hold = tx.load(id)?;
        may_read(tx, &hold.change_ticket, who)?;
        Ok(as_seen(hold, now))
    });
    broker.audited(outcome, Some(id), None, who, AuditAction::ReadRefused)
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
pub fn list<S: Storage>(
    broker: &Broker<S>,
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
    let (from_ns, to_ns) = match filter.overlapping {
        Some(range) => (ns(range.start)?, ns(range.end)?),
        None => (i64::MIN, i64::MAX),
    };
    let viewer = (!access::reads_everything(who)).then_some(who.identity.as_str());
    let outcome = broker.storage.read(&mut |tx, now| {
        if let Some(ticket) = &filter.change_ticket {
            may_read(tx, ticket, who)?;
        }
        let query = ListQuery {
            ticket: filter.change_ticket.as_deref(),
            person: filter.person.as_ref().map(|p| p.0.as_str()),
            from_ns,
            to_ns,
            include_inactive: filter.include_inactive,
            viewer,
            after: after.clone(),
            limit,
            now,
        };
        list_in(tx, &query)
    });
    let ticket = filter.change_ticket.as_deref();
    broker.audited(outcome, None, ticket, who, AuditAction::ReadRefused)
}

fn list_in(tx: &mut dyn Tx, query: &ListQuery<'_>) -> Result<Page<Hold>, HoldError> {
    let found = tx.list_holds(query)?;
    let limit = query.limit;
    let more = i64::try_from(found.len()).unwrap_or(i64::MAX) >= limit;
    let keep = found.len().min(usize::try_from(limit - 1).unwrap_or(0));
    let next_page_token = match (more, found.get(keep.wrapping_sub(1))) {
        (true, Some((id, start))) => Some(format!("{start}/{id}")),
        _ => None,
    };
    let mut items = Vec::with_capacity(keep);
    for (id, _) in found.into_iter().take(keep) {
        items.push(as_seen(tx.load(&id)?, query.now));
    }
    Ok(Page {
        items,
        next_page_token,
    })
}

/// The empty ticket's records (refusals about unknown holds, suppression
/// summaries) are readable with the read or admin scope only.
pub fn audit_log<S: Storage>(
    broker: &Broker<S>,
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
    let outcome = broker.storage.read(&mut |tx, _| {
        if ticket.is_empty() && !access::reads_everything(who) {
            access::may_read(who, "", None, false)?;
        } else {
            may_read(tx, ticket, who)?;
        }
        let mut items = tx.audit_page(ticket, after, limit)?;
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
    });
    broker.audited(outcome, None, Some(ticket), who, AuditAction::ReadRefused)
}
