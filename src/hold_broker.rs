//! The `HoldBroker` gRPC service: thin handlers that identify the caller,
//! convert the request, run the store operation off the async runtime and
//! convert the answer back. Every rule, including who may do what, lives in
//! the store (`quorum_holds::access`); handlers only pass the caller on.

mod owners;
mod plans;

use crate::{auth::caller, convert::holds as convert, error::ServiceError, pb};
use chrono::Duration;
use owners::{KnownOwners, StoreView};
use quorum_domain::{AuditRecord, Clock, Hold, HoldId, HoldState, PersonId};
use quorum_holds::{HoldError, HoldFilter, HoldStore, PageRequest, bounds};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct HoldBrokerService {
    store: Arc<dyn HoldStore>,
    /// The store's clock: a hold for a slot that has already begun is refused.
    clock: Arc<dyn Clock>,
    owners: Arc<KnownOwners>,
}

impl HoldBrokerService {
    pub fn new(store: Arc<dyn HoldStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            owners: Arc::default(),
        }
    }

    /// Runs a blocking store call on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&StoreView<'_>) -> Result<T, HoldError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let store = self.store.clone();
        let owners = self.owners.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            work(&StoreView::new(store.as_ref(), owners.as_ref()))
        })
        .await
        .map_err(|e| ServiceError::SolverTask {
            detail: e.to_string(),
        })?;
        // Every hold operation is logged in its handler's span (operation and
        // actor); the audit log is the record, this is for operators.
        match &outcome {
            Ok(_) => tracing::info!("hold operation done"),
            Err(error) => tracing::info!(%error, "hold operation refused"),
        }
        outcome.map_err(ServiceError::Holds)
    }
}

/// A hold as the caller sees it, with its ticket's release owner: who must
/// approve it is the next thing a caller wants to know. The caller was
/// already allowed to see the hold; the owner is part of what they see.
fn with_owner(store: &StoreView<'_>, hold: Hold) -> Result<pb::Hold, HoldError> {
    let owner = store.release_owner(&hold.change_ticket)?;
    Ok(convert::hold(hold, owner))
}

/// [`with_owner`] for a page of holds, asking once per ticket.
fn with_owners(store: &StoreView<'_>, holds: Vec<Hold>) -> Result<Vec<pb::Hold>, HoldError> {
    let mut owners: std::collections::HashMap<String, Option<String>> = Default::default();
    holds
        .into_iter()
        .map(|hold| {
            let owner = match owners.get(&hold.change_ticket) {
                Some(owner) => owner.clone(),
                None => {
                    let owner = store.release_owner(&hold.change_ticket)?;
                    owners.insert(hold.change_ticket.clone(), owner.clone());
                    owner
                }
            };
            Ok(convert::hold(hold, owner))
        })
        .collect()
}

pub(crate) fn invalid(violations: Vec<quorum_domain::FieldViolation>) -> Status {
    ServiceError::InvalidRequest { violations }.into()
}

/// One JSON object per audit record, one record per line.
pub fn json_lines(records: &[AuditRecord]) -> String {
    records
        .iter()
        .map(|r| {
            serde_json::json!({
                "sequence": r.sequence,
                "at": r.at.to_rfc3339(),
                "actor": r.actor,
                "change_ticket": r.change_ticket,
                "hold_id": r.hold_id.as_ref().map(|h| h.0.as_str()),
                "action": r.action,
                "reason": r.reason,
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// The calendar's product id: stable, naming Quorum, no version in it, so
/// calendar clients see one producer across upgrades.
pub const PRODID: &str = "-//Quorum//Hold Broker//EN";

/// Replaces control characters, so nothing stored before input checks
/// existed can break a content line (CR, LF) or a terminal (ESC).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A person as a calendar address: a URN with everything outside RFC 3986's
/// unreserved characters percent-encoded, so `:;,"` and spaces cannot end
/// the value or a parameter.
fn address(person: &str) -> String {
    let mut out = String::from("urn:quorum:person:");
    for byte in person.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A parameter value: the crate quotes values with `:;,`, and a quoted
/// value may not hold a double quote, so those become single quotes.
fn parameter(text: &str) -> String {
    printable(text).replace('"', "'")
}

/// The hold as an RFC 5545 calendar with one VEVENT: the release owner as
/// ORGANIZER, each attendee as ATTENDEE. The icalendar crate escapes TEXT
/// values and folds lines at 75 octets.
pub fn icalendar(hold: &Hold, release_owner: Option<&str>) -> String {
    use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};
    let status = match hold.state {
        HoldState::Tentative => EventStatus::Tentative,
        HoldState::Confirmed => EventStatus::Confirmed,
        HoldState::Released | HoldState::Expired => EventStatus::Cancelled,
    };
    let attendees: Vec<String> = hold
        .attendees
        .iter()
        .map(|a| format!("{} ({})", a.person, a.role))
        .collect();
    let mut event = Event::new();
    event
        .uid(&format!("{}@quorum", printable(&hold.id.0)))
        .summary(&printable(&format!(
            "{}: production review",
            hold.change_ticket
        )))
        .description(&printable(&format!(
            "Quorum hold {} for {}: {}",
            hold.id,
            hold.change_ticket,
            attendees.join(", ")
        )))
        .starts(hold.slot.start)
        .ends(hold.slot.end)
        .status(status)
        .sequence(u32::try_from(hold.version).unwrap_or(u32::MAX));
    if let Some(owner) = release_owner {
        let organizer = Property::new("ORGANIZER", address(owner))
            .add_parameter("CN", &parameter(owner))
            .done();
        event.append_property(organizer);
    }
    for attendee in &hold.attendees {
        let line = Property::new("ATTENDEE", address(&attendee.person.0))
            .add_parameter("CN", &parameter(&attendee.person.0))
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("X-QUORUM-ROLE", &parameter(&attendee.role.0))
            .done();
        event.append_multi_property(line);
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"));
    calendar.push(event.done()).done().to_string()
}

pub(crate) fn page(size: u32, token: String) -> PageRequest {
    PageRequest {
        size: bounds::page_size(size),
        token: (!token.is_empty()).then_some(token),
    }
}

#[tonic::async_trait]
impl pb::hold_broker_server::HoldBroker for HoldBrokerService {
    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn register_ticket(
        &self,
        request: Request<pb::RegisterTicketRequest>,
    ) -> Result<Response<pb::RegisterTicketResponse>, Status> {
        let who = caller(&request)?;
        let pb::RegisterTicketRequest {
            change_ticket,
            release_owner,
        } = request.into_inner();
        self.run(move |store| store.register_ticket(&change_ticket, &release_owner, &who))
            .await?;
        Ok(Response::new(pb::RegisterTicketResponse {}))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn place_hold(
        &self,
        request: Request<pb::PlaceHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let who = caller(&request)?;
        let place = convert::place_request(request.into_inner()).map_err(invalid)?;
        let now = self.clock.now();
        if place.slot.start < now {
            // Like every malformed request, refused before the store and not
            // audited: nothing about any hold changed.
            return Err(invalid(vec![quorum_domain::FieldViolation::new(
                "start",
                format!(
                    "the slot starts at {}, which is already past (now {}); holds are for slots to come",
                    place.slot.start.to_rfc3339(),
                    now.to_rfc3339()
                ),
            )]));
        }
        let hold = self
            .run(move |store| with_owner(store, store.place(place, &who)?))
            .await?;
        Ok(Response::new(hold))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn extend_hold(
        &self,
        request: Request<pb::ExtendHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let who = caller(&request)?;
        let pb::ExtendHoldRequest {
            hold_id,
            extend_by_seconds,
        } = request.into_inner();
        let by = Duration::seconds(extend_by_seconds.into());
        let hold = self
            .run(move |store| with_owner(store, store.extend(&HoldId(hold_id), by, &who)?))
            .await?;
        Ok(Response::new(hold))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn release_hold(
        &self,
        request: Request<pb::ReleaseHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let who = caller(&request)?;
        let pb::ReleaseHoldRequest { hold_id, reason } = request.into_inner();
        let hold = self
            .run(move |store| with_owner(store, store.release(&HoldId(hold_id), &reason, &who)?))
            .await?;
        Ok(Response::new(hold))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn get_hold(
        &self,
        request: Request<pb::GetHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let who = caller(&request)?;
        let pb::GetHoldRequest { hold_id } = request.into_inner();
        let hold = self
            .run(move |store| with_owner(store, store.get(&HoldId(hold_id), &who)?))
            .await?;
        Ok(Response::new(hold))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn list_holds(
        &self,
        request: Request<pb::ListHoldsRequest>,
    ) -> Result<Response<pb::ListHoldsResponse>, Status> {
        let who = caller(&request)?;
        let pb::ListHoldsRequest {
            change_ticket,
            person_id,
            overlapping_start,
            overlapping_end,
            include_inactive,
            page_size,
            page_token,
        } = request.into_inner();
        let filter = HoldFilter {
            change_ticket: (!change_ticket.is_empty()).then_some(change_ticket),
            person: (!person_id.is_empty()).then_some(PersonId(person_id)),
            overlapping: convert::overlapping(overlapping_start.as_ref(), overlapping_end.as_ref())
                .map_err(invalid)?,
            include_inactive,
        };
        let page = page(page_size, page_token);
        let (holds, next_page_token) = self
            .run(move |store| {
                let page = store.list(&filter, &page, &who)?;
                Ok((with_owners(store, page.items)?, page.next_page_token))
            })
            .await?;
        Ok(Response::new(pb::ListHoldsResponse {
            holds,
            next_page_token: next_page_token.unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn approve_hold(
        &self,
        request: Request<pb::ApproveHoldRequest>,
    ) -> Result<Response<pb::ApproveHoldResponse>, Status> {
        let who = caller(&request)?;
        let pb::ApproveHoldRequest {
            hold_id,
            substitutions,
            token_ttl_seconds,
        } = request.into_inner();
        let substitutions = convert::substitutions(substitutions);
        let ttl = Duration::seconds(if token_ttl_seconds == 0 {
            3600
        } else {
            token_ttl_seconds.into()
        });
        let grant = self
            .run(move |store| store.approve(&HoldId(hold_id), &who, &substitutions, ttl))
            .await?;
        Ok(Response::new(pb::ApproveHoldResponse {
            approval_token: grant.token,
            expires_at: Some(crate::convert::to_timestamp(grant.expires_at)),
        }))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn confirm_hold(
        &self,
        request: Request<pb::ConfirmHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let who = caller(&request)?;
        let pb::ConfirmHoldRequest {
            hold_id,
            approval_token,
        } = request.into_inner();
        let hold = self
            .run(move |store| {
                with_owner(
                    store,
                    store.confirm(&HoldId(hold_id), &approval_token, &who)?,
                )
            })
            .await?;
        Ok(Response::new(hold))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn get_audit_log(
        &self,
        request: Request<pb::GetAuditLogRequest>,
    ) -> Result<Response<pb::GetAuditLogResponse>, Status> {
        let who = caller(&request)?;
        let pb::GetAuditLogRequest {
            change_ticket,
            page_size,
            page_token,
        } = request.into_inner();
        let page = page(page_size, page_token);
        let records = self
            .run(move |store| store.audit_log(&change_ticket, &page, &who))
            .await?;
        Ok(Response::new(pb::GetAuditLogResponse {
            json_lines: json_lines(&records.items),
            records: records
                .items
                .into_iter()
                .map(convert::audit_record)
                .collect(),
            next_page_token: records.next_page_token.unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn export_i_calendar(
        &self,
        request: Request<pb::ExportICalendarRequest>,
    ) -> Result<Response<pb::ExportICalendarResponse>, Status> {
        let who = caller(&request)?;
        let pb::ExportICalendarRequest { hold_id } = request.into_inner();
        let (hold, owner) = self
            .run(move |store| {
                let hold = store.get(&HoldId(hold_id), &who)?;
                let owner = store.release_owner(&hold.change_ticket)?;
                Ok((hold, owner))
            })
            .await?;
        Ok(Response::new(pb::ExportICalendarResponse {
            icalendar: icalendar(&hold, owner.as_deref()),
        }))
    }
    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn place_plan_hold(
        &self,
        request: Request<pb::PlacePlanHoldRequest>,
    ) -> Result<Response<pb::PlanHold>, Status> {
        plans::place(self, request).await
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn get_plan_hold(
        &self,
        request: Request<pb::GetPlanHoldRequest>,
    ) -> Result<Response<pb::PlanHold>, Status> {
        plans::get(self, request).await
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn extend_plan_hold(
        &self,
        request: Request<pb::ExtendPlanHoldRequest>,
    ) -> Result<Response<pb::PlanHold>, Status> {
        plans::extend(self, request).await
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn release_plan_hold(
        &self,
        request: Request<pb::ReleasePlanHoldRequest>,
    ) -> Result<Response<pb::PlanHold>, Status> {
        plans::release(self, request).await
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn approve_plan_hold(
        &self,
        request: Request<pb::ApprovePlanHoldRequest>,
    ) -> Result<Response<pb::ApproveHoldResponse>, Status> {
        plans::approve(self, request).await
    }

    #[tracing::instrument(skip_all, fields(actor = tracing::field::Empty))]
    async fn confirm_plan_hold(
        &self,
        request: Request<pb::ConfirmPlanHoldRequest>,
    ) -> Result<Response<pb::PlanHold>, Status> {
        plans::confirm(self, request).await
    }
}
