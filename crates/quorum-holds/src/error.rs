//! The hold broker core's one error enum. Each variant says what a caller can
//! do about it; the service maps them to gRPC codes in one exhaustive match.

use quorum_domain::{FieldViolation, HoldId, HoldState, PersonId, PlanId};

/// One attendee of a refused hold and another ticket's active hold that
/// already takes their time: what a caller needs to ask the right person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HoldClash {
    pub person: PersonId,
    pub hold: HoldId,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoldError {
    #[error("the hold request is invalid: {}", .violations.first().map_or(String::new(), ToString::to_string))]
    InvalidRequest { violations: Vec<FieldViolation> },
    #[error("hold {id} does not exist")]
    NotFound { id: HoldId },
    #[error(
        "{}; pick another slot, or ask the other ticket's owner to release",
        describe_clashes(.clashes)
    )]
    Conflict { clashes: Vec<HoldClash> },
    #[error("idempotency key {key:?} was already used with a different request")]
    IdempotencyKeyReused { key: String },
    #[error("hold {id} is {} and cannot be {action}", .state.as_str())]
    WrongState {
        id: HoldId,
        state: HoldState,
        action: &'static str,
    },
    #[error("a hold may reach at most {max_hours} hours past now")]
    TooLong { max_hours: i64 },
    #[error("ticket {ticket} has release owner {owner}; it cannot be changed")]
    ReleaseOwnerFixed { ticket: String, owner: String },
    #[error("{caller} may not {action}: {rule}")]
    NotPermitted {
        caller: String,
        action: &'static str,
        rule: String,
    },
    #[error(
        "ticket {ticket} has no registered release owner; an admin registers it with RegisterTicket"
    )]
    TicketNotRegistered { ticket: String },
    #[error("the approval token is not valid: {reason}")]
    TokenInvalid { reason: String },
    #[error("the approval token is refused: {reason}")]
    TokenRefused { reason: String },
    /// A genuine approval token whose hold moved on after approval.
    #[error(
        "hold {id} moved on since it was approved ({what}); approve it again if it is still wanted"
    )]
    MovedOn { id: HoldId, what: String },
    /// Concurrent changes of the same rows kept winning, however often the
    /// transaction was run again: nothing was decided, and the call may be
    /// repeated.
    #[error(
        "too many concurrent changes of the same holds; nothing was changed, try again: {detail}"
    )]
    Contended { detail: String },
    #[error("plan {id} does not exist")]
    PlanNotFound { id: PlanId },
    /// A hold that belongs to a plan changes only with its plan.
    #[error(
        "hold {id} holds milestone {milestone} of plan {plan}; {action} the plan instead, so it is never half held"
    )]
    InPlan {
        id: HoldId,
        plan: PlanId,
        milestone: String,
        action: &'static str,
    },
    #[error("the hold store failed: {detail}")]
    Storage { detail: String },
    /// The store cannot be reached (a database connection lost or refused):
    /// nothing was decided, and the same call may succeed once it is back.
    #[error("the hold store is unavailable, try again shortly: {detail}")]
    Unavailable { detail: String },
}

impl HoldError {
    /// A conflict from the clashes a store found, sorted and without repeats
    /// so the message and the error details are stable.
    pub fn conflict(mut clashes: Vec<HoldClash>) -> Self {
        clashes.sort();
        clashes.dedup();
        Self::Conflict { clashes }
    }
}

/// The distinct holds in the way, in order.
pub fn clashing_holds(clashes: &[HoldClash]) -> Vec<&HoldId> {
    let mut holds: Vec<&HoldId> = clashes.iter().map(|c| &c.hold).collect();
    holds.sort();
    holds.dedup();
    holds
}

fn describe_clashes(clashes: &[HoldClash]) -> String {
    let each: Vec<String> = clashes
        .iter()
        .map(|c| format!("{} is already held by {}", c.person.0, c.hold.0))
        .collect();
    if each.is_empty() {
        "an attendee already has an overlapping active hold".to_owned()
    } else {
        each.join(", ")
    }
}

impl From<rusqlite::Error> for HoldError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage {
            detail: error.to_string(),
        }
    }
}
