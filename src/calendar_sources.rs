//! FindSlots' calendar reading: between validating a request and solving
//! it, the people's named calendars are read from the operator's configured
//! sources (concurrently, each with its source's timeout, through a short
//! cache) and their busy time added. A calendar that cannot be read fails
//! the call with UNAVAILABLE naming the source and the person, or — when the
//! request allows it — makes that person unavailable for the whole horizon.
//! Nobody is ever treated as free because their calendar could not be read.

use crate::error::ServiceError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_calendars::{CalendarRef, FetchOutcome, FetchRequest, Sources};
use quorum_domain::{
    BusyInterval, BusyStatus, Clock, FieldViolation, PersonId, ProblemLimits, TimeRange,
    ValidatedProblem,
};
use std::sync::Arc;

/// One calendar a request names for one person.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRead {
    /// The request path of the reference, e.g. `people[2].calendars[0]`.
    pub field: String,
    pub person: PersonId,
    pub zone: Tz,
    pub calendar: CalendarRef,
}

/// Every calendar a request names, and what to do when one cannot be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalendarPlan {
    pub reads: Vec<PlannedRead>,
    pub proceed_without_unreadable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    Fetched,
    Cached,
    Unreadable,
}

/// Where one person's busy time came from, for the response.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    pub person: PersonId,
    pub calendar: CalendarRef,
    pub state: ReadState,
    pub fetched_at: Option<DateTime<Utc>>,
    pub busy_intervals: usize,
    pub error: Option<String>,
    pub notes: Vec<String>,
}

/// The configured sources and the clock their cache ages by.
#[derive(Clone)]
pub struct CalendarReader {
    pub sources: Arc<Sources>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CalendarReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CalendarReader")
    }
}

/// Reads the plan's calendars into the validated problem and validates it
/// again (fetched busy time counts against the limits too). Without a plan
/// the problem passes through untouched.
pub fn read_calendars(
    plan: CalendarPlan,
    reader: Option<&CalendarReader>,
    problem: ValidatedProblem,
    limits: &ProblemLimits,
) -> Result<(ValidatedProblem, Vec<Provenance>), ServiceError> {
    if plan.reads.is_empty() {
        return Ok((problem, Vec::new()));
    }
    let reader = check_references(&plan, reader)?;
    let mut problem = problem.into_inner();
    let horizon = problem.horizon;
    let requests = plan
        .reads
        .iter()
        .map(|r| FetchRequest {
            person: r.person.0.clone(),
            zone: r.zone,
            calendar: r.calendar.clone(),
        })
        .collect();
    let mut provenance = Vec::with_capacity(plan.reads.len());
    for outcome in reader
        .sources
        .fetch_all(requests, horizon, reader.clock.now())
    {
        let (busy, record) = settle(outcome, horizon, plan.proceed_without_unreadable)?;
        if let Some(who) = problem.people.iter_mut().find(|p| p.id == record.person) {
            who.busy.extend(busy);
        }
        provenance.push(record);
    }
    let problem = problem
        .validate(limits)
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    Ok((problem, provenance))
}

/// One fetch's busy time and provenance; an unreadable calendar is an error,
/// or (when allowed) the person busy for the whole horizon.
fn settle(
    outcome: FetchOutcome,
    horizon: TimeRange,
    proceed_without_unreadable: bool,
) -> Result<(Vec<BusyInterval>, Provenance), ServiceError> {
    let person = PersonId(outcome.request.person);
    let calendar = outcome.request.calendar;
    match outcome.result {
        Ok(fetched) => {
            let record = Provenance {
                person,
                calendar,
                state: if fetched.from_cache {
                    ReadState::Cached
                } else {
                    ReadState::Fetched
                },
                fetched_at: Some(fetched.fetched_at),
                busy_intervals: fetched.import.busy.len(),
                error: None,
                notes: fetched
                    .import
                    .notes
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            };
            Ok((fetched.import.busy, record))
        }
        Err(error) if proceed_without_unreadable => {
            tracing::warn!(person = %person, source = %calendar.source, %error, "calendar unreadable; person unavailable");
            let whole = BusyInterval {
                range: horizon,
                status: BusyStatus::OutOfOffice,
            };
            let record = Provenance {
                person,
                calendar,
                state: ReadState::Unreadable,
                fetched_at: None,
                busy_intervals: 0,
                error: Some(error.to_string()),
                notes: Vec::new(),
            };
            Ok((vec![whole], record))
        }
        Err(error) => Err(ServiceError::CalendarUnavailable {
            person: person.0,
            source_name: calendar.source,
            detail: error.to_string(),
        }),
    }
}

/// Refuses, before contacting anything, references to sources this server
/// does not have or ids that would leave their source.
fn check_references<'a>(
    plan: &CalendarPlan,
    reader: Option<&'a CalendarReader>,
) -> Result<&'a CalendarReader, ServiceError> {
    let violations: Vec<FieldViolation> = plan
        .reads
        .iter()
        .filter_map(|read| {
            let Some(reader) = reader else {
                return Some(FieldViolation::new(
                    format!("{}.source", read.field),
                    "this server has no calendar sources configured (serve --calendar-sources)",
                ));
            };
            let error = reader.sources.check(&read.calendar).err()?;
            let field = match error {
                quorum_calendars::CalendarError::BadCalendarId { .. } => "calendar",
                _ => "source",
            };
            Some(FieldViolation::new(
                format!("{}.{field}", read.field),
                error.to_string(),
            ))
        })
        .collect();
    match reader {
        Some(reader) if violations.is_empty() => Ok(reader),
        _ => Err(ServiceError::InvalidRequest { violations }),
    }
}
