//! The domain's one error enum, and the field violation that names the exact
//! culprit of a bad request so a caller can fix it without guessing.

use std::fmt;

/// A field of the request that breaks a rule, with a sentence saying how.
///
/// `field` is the path of the culprit in the request's own field names, e.g.
/// `people[2].busy[0].end`, so it maps one-to-one onto
/// `google.rpc.BadRequest.FieldViolation` at the service edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("local time {text:?} is not a time of day; write it as HH:MM, from 00:00 to 24:00")]
    BadLocalTime { text: String },
    #[error("{count} field(s) of the request are invalid; first: {first}")]
    InvalidProblem {
        count: usize,
        first: FieldViolation,
        violations: Vec<FieldViolation>,
    },
}

impl DomainError {
    /// Wraps a non-empty list of violations; `None` when there are none.
    pub fn from_violations(violations: Vec<FieldViolation>) -> Option<Self> {
        let first = violations.first()?.clone();
        Some(Self::InvalidProblem {
            count: violations.len(),
            first,
            violations,
        })
    }
}
