//! The hold broker core's one error enum. Each variant says what a caller can
//! do about it; the service maps them to gRPC codes in one exhaustive match.

use quorum_domain::{FieldViolation, HoldId, HoldState, PlanId};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoldError {
    #[error("the hold request is invalid: {}", .violations.first().map_or(String::new(), ToString::to_string))]
    InvalidRequest { violations: Vec<FieldViolation> },
    #[error("hold {id} does not exist")]
    NotFound { id: HoldId },
    #[error("an attendee already has an overlapping active hold: {}", join(.holds))]
    Conflict { holds: Vec<HoldId> },
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

fn join(ids: &[HoldId]) -> String {
    ids.iter()
        .map(|id| id.0.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<rusqlite::Error> for HoldError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage {
            detail: error.to_string(),
        }
    }
}
