//! The service's one error enum and its single, exhaustive mapping to gRPC
//! status codes, so every failure reaches the caller as an actionable status.

use quorum_domain::FieldViolation;
use quorum_holds::HoldError;
use quorum_solver::SolverError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the request is invalid: {}", summary(.violations))]
    InvalidRequest { violations: Vec<FieldViolation> },
    #[error(transparent)]
    Solver(#[from] SolverError),
    #[error("the solver task failed: {detail}")]
    SolverTask { detail: String },
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Holds(#[from] HoldError),
    #[error(
        "the calendar of {person} in source {source_name:?} cannot be read: {detail} (set proceed_without_unreadable_calendars to solve with {person} unavailable)"
    )]
    CalendarUnavailable {
        person: String,
        source_name: String,
        detail: String,
    },
}

/// At most this many field violations travel in `google.rpc.BadRequest`: a
/// default client drops trailers past 16 kB, and the details with them.
pub const MAX_REPORTED_VIOLATIONS: usize = 50;

fn summary(violations: &[FieldViolation]) -> String {
    let more = if violations.len() >= quorum_domain::MAX_COLLECTED_VIOLATIONS {
        " or more"
    } else {
        ""
    };
    match violations {
        [] => "no details".to_owned(),
        [only] => only.to_string(),
        [first, ..] if violations.len() > MAX_REPORTED_VIOLATIONS => format!(
            "{} field violations{more}, the first {MAX_REPORTED_VIOLATIONS} in the details; first: {first}",
            violations.len()
        ),
        [first, rest @ ..] => format!("{first} (and {} more in the details)", rest.len()),
    }
}

/// `INVALID_ARGUMENT` with the first violations as `BadRequest` details.
fn bad_request(message: String, violations: Vec<FieldViolation>) -> Status {
    let details = ErrorDetails::with_bad_request(
        violations
            .into_iter()
            .take(MAX_REPORTED_VIOLATIONS)
            .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, message, details)
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::InvalidRequest { violations }
            | ServiceError::Holds(HoldError::InvalidRequest { violations }) => {
                bad_request(message, violations)
            }
            // Too large to solve or to explain is the request's doing, and the
            // caller can change it: the field that chose it is named.
            ServiceError::Solver(SolverError::ProgramTooLarge { .. }) => {
                let field = FieldViolation::new("engine", message.clone());
                bad_request(message, vec![field])
            }
            ServiceError::Solver(SolverError::ExplanationTooLarge { .. }) => {
                let field = FieldViolation::new("explain", message.clone());
                bad_request(message, vec![field])
            }
            ServiceError::Solver(SolverError::SearchTooLarge { .. }) => {
                let field = FieldViolation::new("top_k", message.clone());
                bad_request(message, vec![field])
            }
            ServiceError::Solver(SolverError::Stopped) => Status::deadline_exceeded(message),
            ServiceError::Solver(
                SolverError::Program { .. } | SolverError::Inconsistent { .. },
            ) => Status::internal(message),
            ServiceError::SolverTask { .. } => Status::internal(message),
            ServiceError::ShuttingDown | ServiceError::CalendarUnavailable { .. } => {
                Status::unavailable(message)
            }
            ServiceError::Holds(HoldError::NotFound { .. } | HoldError::PlanNotFound { .. }) => {
                Status::not_found(message)
            }
            ServiceError::Holds(HoldError::Conflict { clashes }) => {
                // Machines read the conflicting holds and the attendees they
                // clash on from ErrorInfo, not the text.
                let ids: Vec<&str> = quorum_holds::clashing_holds(&clashes)
                    .into_iter()
                    .map(|h| h.0.as_str())
                    .collect();
                let mut people: Vec<&str> = clashes.iter().map(|c| c.person.0.as_str()).collect();
                people.dedup();
                let metadata: std::collections::HashMap<String, String> = [
                    ("conflicting_holds".to_owned(), ids.join(",")),
                    ("clashing_attendees".to_owned(), people.join(",")),
                ]
                .into();
                let details = ErrorDetails::with_error_info(
                    "HOLD_CONFLICT",
                    "quorum.v1.HoldBroker",
                    metadata,
                );
                Status::with_error_details(Code::Aborted, message, details)
            }
            ServiceError::Holds(
                HoldError::IdempotencyKeyReused { .. }
                | HoldError::WrongState { .. }
                | HoldError::MovedOn { .. }
                | HoldError::TooLong { .. }
                | HoldError::ReleaseOwnerFixed { .. }
                | HoldError::TicketNotRegistered { .. }
                | HoldError::InPlan { .. },
            ) => Status::failed_precondition(message),
            ServiceError::Holds(
                HoldError::NotPermitted { .. } | HoldError::TokenRefused { .. },
            ) => Status::permission_denied(message),
            ServiceError::Holds(HoldError::TokenInvalid { .. }) => Status::unauthenticated(message),
            ServiceError::Holds(HoldError::Storage { .. }) => Status::internal(message),
            // Lost races only, every rerun of the transaction: a concurrency
            // abort the caller may retry, not a fault of the server.
            ServiceError::Holds(HoldError::Contended { .. }) => Status::aborted(message),
            // The database is away: nothing was decided, and a retry (on
            // this replica or another) may succeed once it is back.
            ServiceError::Holds(HoldError::Unavailable { .. }) => Status::unavailable(message),
        }
    }
}
