//! The hold broker's core, with no gRPC or async in it: the [`HoldStore`]
//! interface the service calls, the hold rules in [`broker`] over any store's
//! transaction primitives ([`Storage`]), the embedded SQLite store, and
//! signed, single-use approval tokens. The PostgreSQL store, for several
//! replicas, is the `quorum-holds-postgres` crate, behind the same traits.
//!
//! Every check-and-write happens inside one store transaction, so two callers
//! can never both pass the "is this person free?" check: double booking is
//! impossible by construction, not by care. Who may do what is decided in
//! [`access`] from a [`Principal`], inside the same transaction.

pub mod access;
pub mod bounds;
pub mod broker;
mod error;
mod sqlite;
mod token;

pub use access::{Principal, Scope};
pub use broker::{Broker, Storage};
pub use error::{HoldClash, HoldError, clashing_holds};
pub use sqlite::{SqliteHoldStore, SqliteStorage};
pub use token::{ApprovalClaims, PlanApprovalClaims, PlanMemberClaim, TokenSigner};

use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditRecord, Hold, HoldAttendee, HoldId, PersonId, PlanHold, PlanId, Substitution, TimeRange,
};

/// One attendee's time taken by an active hold of another ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldTime {
    pub person: PersonId,
    pub range: TimeRange,
    pub hold: HoldId,
    pub change_ticket: String,
}

/// A request to place a tentative hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceHold {
    pub change_ticket: String,
    pub slot: TimeRange,
    pub attendees: Vec<HoldAttendee>,
    pub ttl: Duration,
    /// Retrying with the same key returns the same hold.
    pub idempotency_key: String,
    /// Names the ticket's release owner on its first hold, only where the
    /// policy allows it (development mode); otherwise it may repeat the
    /// registered owner or be omitted.
    pub release_owner: Option<String>,
}

/// One milestone of a plan to hold: its slot and who attends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanMilestoneHold {
    pub milestone_id: String,
    pub slot: TimeRange,
    pub attendees: Vec<HoldAttendee>,
}

/// A request to hold every milestone of a plan, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacePlan {
    pub change_ticket: String,
    /// In plan order; milestone ids are distinct.
    pub milestones: Vec<PlanMilestoneHold>,
    pub ttl: Duration,
    /// Retrying with the same key returns the same plan.
    pub idempotency_key: String,
    /// As for [`PlaceHold::release_owner`].
    pub release_owner: Option<String>,
}

/// Which holds to list; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldFilter {
    pub change_ticket: Option<String>,
    pub person: Option<PersonId>,
    pub overlapping: Option<TimeRange>,
    /// Also list released and expired holds.
    pub include_inactive: bool,
}

/// One page of a listing, oldest or earliest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// Which page to read: at most `size` items after the `token`'s position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub size: usize,
    pub token: Option<String>,
}

impl PageRequest {
    /// The first page of at most `size` items.
    pub fn first(size: usize) -> Self {
        Self { size, token: None }
    }
}

/// An approval the release owner gave: the token to confirm with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalGrant {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Limits the broker enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldPolicy {
    /// A hold never reaches further than this past "now", by TTL or extension.
    pub max_ttl: Duration,
    pub max_token_ttl: Duration,
    /// Development convenience: a ticket's first hold names its release
    /// owner. Off with a token file, where an admin registers tickets.
    pub owner_from_first_hold: bool,
    /// Refusals written to the audit log per caller per minute; more are
    /// counted and summarised in one `REFUSALS_SUPPRESSED` record, so a flood
    /// of refused calls cannot grow the store faster than this.
    pub audited_refusals_per_minute: u32,
}

impl Default for HoldPolicy {
    fn default() -> Self {
        Self {
            max_ttl: Duration::hours(72),
            max_token_ttl: Duration::hours(24),
            owner_from_first_hold: false,
            audited_refusals_per_minute: 120,
        }
    }
}

/// What every hold store provides. Implementations decide expiry with their
/// own single clock and do every check-and-write in one transaction.
/// Every operation takes the caller as a [`Principal`] and applies the rules
/// of [`access`]; every refusal but a malformed request is audited.
pub trait HoldStore: Send + Sync {
    /// Names a ticket's release owner (admin only); repeating the same owner
    /// is a no-op, naming another is refused.
    fn register_ticket(
        &self,
        change_ticket: &str,
        release_owner: &str,
        by: &Principal,
    ) -> Result<(), HoldError>;
    fn place(&self, request: PlaceHold, by: &Principal) -> Result<Hold, HoldError>;
    fn extend(&self, id: &HoldId, by: Duration, who: &Principal) -> Result<Hold, HoldError>;
    fn release(&self, id: &HoldId, reason: &str, who: &Principal) -> Result<Hold, HoldError>;
    fn get(&self, id: &HoldId, who: &Principal) -> Result<Hold, HoldError>;
    /// The ticket's registered release owner, for exports of holds the caller
    /// may already read.
    fn release_owner(&self, change_ticket: &str) -> Result<Option<String>, HoldError>;
    /// Holds the caller may see, ordered by start then id.
    fn list(
        &self,
        filter: &HoldFilter,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<Hold>, HoldError>;
    fn approve(
        &self,
        id: &HoldId,
        who: &Principal,
        substitutions: &[Substitution],
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError>;
    fn confirm(&self, id: &HoldId, token: &str, who: &Principal) -> Result<Hold, HoldError>;
    /// One ticket's audit records in order; the empty ticket holds refusals
    /// about unknown holds and suppression summaries (read or admin only).
    fn audit_log(
        &self,
        change_ticket: &str,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<AuditRecord>, HoldError>;
    /// Active holds of other tickets on these people, as their busy time,
    /// each with the hold it comes from (so an answer can say what changed it).
    fn busy_from_holds(
        &self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
    ) -> Result<Vec<HeldTime>, HoldError>;
    /// Holds every milestone of a plan in one transaction, or none: a
    /// conflict on any milestone refuses the whole plan.
    fn place_plan(&self, request: PlacePlan, by: &Principal) -> Result<PlanHold, HoldError>;
    fn get_plan(&self, id: &PlanId, who: &Principal) -> Result<PlanHold, HoldError>;
    /// Extends every milestone's hold by the same amount, or none.
    fn extend_plan(
        &self,
        id: &PlanId,
        by: Duration,
        who: &Principal,
    ) -> Result<PlanHold, HoldError>;
    /// Releases every milestone's hold, or none.
    fn release_plan(
        &self,
        id: &PlanId,
        reason: &str,
        who: &Principal,
    ) -> Result<PlanHold, HoldError>;
    /// The release owner's one approval for the whole plan: a single-use
    /// token bound to every member hold's id, version and slot.
    fn approve_plan(
        &self,
        id: &PlanId,
        who: &Principal,
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError>;
    /// One compare-and-set over every member hold: all confirmed, or none.
    fn confirm_plan(
        &self,
        id: &PlanId,
        token: &str,
        who: &Principal,
    ) -> Result<PlanHold, HoldError>;
    /// Writes down expiries that reads already honour; returns how many.
    fn sweep_expired(&self) -> Result<usize, HoldError>;
    /// The store's clock, the one that decides expiry.
    fn now(&self) -> DateTime<Utc>;
}
