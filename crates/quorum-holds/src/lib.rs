//! The hold broker's core, with no gRPC or async in it: the [`HoldStore`]
//! interface every store implements (SQLite now, PostgreSQL next), the
//! embedded SQLite store, and signed, single-use approval tokens.
//!
//! Every check-and-write happens inside one store transaction, so two callers
//! can never both pass the "is this person free?" check: double booking is
//! impossible by construction, not by care.

mod error;
mod sqlite;
mod token;

pub use error::HoldError;
pub use sqlite::SqliteHoldStore;
pub use token::{ApprovalClaims, TokenSigner};

use chrono::{DateTime, Duration, Utc};
use quorum_domain::{AuditRecord, Hold, HoldAttendee, HoldId, PersonId, Substitution, TimeRange};

/// A request to place a tentative hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceHold {
    pub change_ticket: String,
    pub slot: TimeRange,
    pub attendees: Vec<HoldAttendee>,
    pub ttl: Duration,
    /// Retrying with the same key returns the same hold.
    pub idempotency_key: String,
    pub requester: String,
    /// Named with the ticket's first hold; later holds may repeat it or omit it.
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
}

impl Default for HoldPolicy {
    fn default() -> Self {
        Self {
            max_ttl: Duration::hours(72),
            max_token_ttl: Duration::hours(24),
        }
    }
}

/// What every hold store provides. Implementations decide expiry with their
/// own single clock and do every check-and-write in one transaction.
pub trait HoldStore: Send + Sync {
    fn place(&self, request: PlaceHold) -> Result<Hold, HoldError>;
    fn extend(&self, id: &HoldId, by: Duration, actor: &str) -> Result<Hold, HoldError>;
    fn release(&self, id: &HoldId, reason: &str, actor: &str) -> Result<Hold, HoldError>;
    fn get(&self, id: &HoldId) -> Result<Hold, HoldError>;
    fn list(&self, filter: &HoldFilter) -> Result<Vec<Hold>, HoldError>;
    fn approve(
        &self,
        id: &HoldId,
        approver: &str,
        substitutions: &[Substitution],
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError>;
    fn confirm(&self, id: &HoldId, token: &str, actor: &str) -> Result<Hold, HoldError>;
    fn audit_log(&self, change_ticket: &str) -> Result<Vec<AuditRecord>, HoldError>;
    /// Active holds of other tickets on these people, as their busy time.
    fn busy_from_holds(
        &self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
    ) -> Result<Vec<(PersonId, TimeRange)>, HoldError>;
    /// Writes down expiries that reads already honour; returns how many.
    fn sweep_expired(&self) -> Result<usize, HoldError>;
    /// The store's clock, the one that decides expiry.
    fn now(&self) -> DateTime<Utc>;
}
