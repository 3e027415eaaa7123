//! The `SlotFinder` gRPC service: validate → convert → solve off the async
//! runtime within a time budget → convert back. The same synchronous path,
//! [`solve_request`], serves the CLI's local mode.

use crate::calendar_sources::{CalendarReader, Provenance, read_calendars};
use crate::{convert, error::ServiceError, pb};
use quorum_domain::{FieldViolation, PersonId, ProblemLimits, ValidatedProblem};
use quorum_holds::HoldStore;
use quorum_solver::{Engine, StopSignal, find_slots};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

/// Solves one request synchronously: the whole pipeline minus the transport.
pub fn solve_request(
    request: pb::FindSlotsRequest,
    limits: &ProblemLimits,
    stop: &dyn StopSignal,
) -> Result<pb::FindSlotsResponse, ServiceError> {
    solve_with_holds(request, limits, None, stop)
}

/// As [`solve_request`], with other tickets' active holds in `holds` counted
/// as busy time of their attendees.
pub fn solve_with_holds(
    request: pb::FindSlotsRequest,
    limits: &ProblemLimits,
    holds: Option<&dyn HoldStore>,
    stop: &dyn StopSignal,
) -> Result<pb::FindSlotsResponse, ServiceError> {
    solve_with_sources(request, limits, holds, None, stop)
}

/// As [`solve_with_holds`], with the people's named calendars read from the
/// configured sources after the request validates and before the solve.
pub fn solve_with_sources(
    request: pb::FindSlotsRequest,
    limits: &ProblemLimits,
    holds: Option<&dyn HoldStore>,
    calendars: Option<&CalendarReader>,
    stop: &dyn StopSignal,
) -> Result<pb::FindSlotsResponse, ServiceError> {
    let prepared = prepare_request(request, limits, calendars)?;
    solve_prepared(prepared, holds, stop)
}

/// A request checked and its calendars read: everything before the solve.
pub struct Prepared {
    problem: ValidatedProblem,
    engine: Engine,
    provenance: Vec<Provenance>,
    /// Where the reader reads times: the reporter words the answer in it.
    zone: chrono_tz::Tz,
}

/// Validates a request and reads the calendars it names. This part waits on
/// the network rather than the CPU, so the service runs it before taking a
/// solver permit.
pub fn prepare_request(
    request: pb::FindSlotsRequest,
    limits: &ProblemLimits,
    calendars: Option<&CalendarReader>,
) -> Result<Prepared, ServiceError> {
    let plan = convert::calendar_plan(&request)
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    let zone = convert::display_zone(&request);
    let (problem, engine, zone) = match (convert::slot_problem(request), zone) {
        (Ok((problem, engine)), Ok(zone)) => (problem, engine, zone),
        (converted, zone) => {
            let mut violations = converted.err().unwrap_or_default();
            violations.extend(zone.err());
            return Err(ServiceError::InvalidRequest { violations });
        }
    };
    // The caller's request is checked on its own first: the hold store is
    // never asked about a request that is invalid, and holds never push a
    // valid request over the caller's limits.
    let problem = problem
        .validate(limits)
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    let (problem, provenance) = read_calendars(plan, calendars, problem, limits)?;
    Ok(Prepared {
        problem,
        engine,
        provenance,
        zone,
    })
}

/// Solves a prepared request, with other tickets' holds as busy time.
pub fn solve_prepared(
    prepared: Prepared,
    holds: Option<&dyn HoldStore>,
    stop: &dyn StopSignal,
) -> Result<pb::FindSlotsResponse, ServiceError> {
    let Prepared {
        mut problem,
        engine,
        provenance,
        zone,
    } = prepared;
    let mut held = Vec::new();
    if let Some(holds) = holds {
        let people: Vec<PersonId> = problem.people.iter().map(|p| p.id.clone()).collect();
        held = holds.busy_from_holds(&people, problem.horizon, &problem.change_ticket)?;
        problem.add_busy_time(held.iter().map(|h| (h.person.clone(), h.range)));
    }
    let search = find_slots(&problem, engine, stop)?;
    let reporter = crate::report::Reporter::new(&problem, zone);
    let mut response =
        convert::search_to_response(&problem.change_ticket, search, engine, &reporter);
    response.calendar_provenance = convert::provenance_to_proto(&provenance);
    response.holds_counted_as_busy = convert::holds::held_times(&held);
    Ok(response)
}

/// Stops a solve at a deadline, or as soon as the request that started it is
/// dropped (the client cancelled, or its deadline passed in the transport).
#[derive(Debug, Clone)]
pub struct SolveBudget {
    /// `None` when the limit is beyond what the clock can represent.
    deadline: Option<Instant>,
    abandoned: Arc<AtomicBool>,
}

impl SolveBudget {
    pub fn new(limit: Duration) -> Self {
        Self {
            deadline: Instant::now().checked_add(limit),
            abandoned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Sets the flag the solver watches when the returned guard is dropped.
    pub(crate) fn abandon_on_drop(&self) -> AbandonGuard {
        AbandonGuard(self.abandoned.clone())
    }
}

impl StopSignal for SolveBudget {
    fn should_stop(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

pub(crate) struct AbandonGuard(Arc<AtomicBool>);

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Parses a `grpc-timeout` header value ("250m", "5S", "1H").
pub(crate) fn grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok().filter(|_| digits.len() <= 8)?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

pub struct SlotFinderService {
    limits: Arc<ProblemLimits>,
    max_solve_time: Duration,
    /// Solves are CPU-bound: at most this many run at once, the rest queue.
    solvers: Arc<Semaphore>,
    /// The hold broker's store, when both run together: other tickets'
    /// active holds are busy time.
    holds: Option<Arc<dyn HoldStore>>,
    /// The operator's calendar sources, when configured.
    calendars: Option<CalendarReader>,
}

impl SlotFinderService {
    /// Reads the calendars requests name from these sources.
    pub fn with_calendars(mut self, calendars: Option<CalendarReader>) -> Self {
        self.calendars = calendars;
        self
    }

    pub fn new(
        limits: ProblemLimits,
        max_solve_time: Duration,
        concurrent_solves: usize,
        holds: Option<Arc<dyn HoldStore>>,
    ) -> Self {
        Self {
            holds,
            calendars: None,
            limits: Arc::new(limits),
            max_solve_time,
            solvers: Arc::new(Semaphore::new(concurrent_solves.max(1))),
        }
    }
}

impl SlotFinderService {
    /// Solves one request off the async runtime, within the server's budget
    /// (or the client's, when shorter) and the concurrent-solve limit.
    async fn solve(
        &self,
        request: pb::FindSlotsRequest,
        client_limit: Option<Duration>,
    ) -> Result<pb::FindSlotsResponse, ServiceError> {
        let limit = client_limit.map_or(self.max_solve_time, |c| c.min(self.max_solve_time));
        let budget = SolveBudget::new(limit);
        let _guard = budget.abandon_on_drop();
        let started = Instant::now();
        let outcome = match self.prepare(request).await? {
            Ok(prepared) => self.solve_prepared(prepared, budget).await?,
            Err(refused) => Err(refused),
        };
        match &outcome {
            Ok(response) => tracing::info!(
                slots = response.slots.len(),
                presolved = response.presolved_starts,
                micros = started.elapsed().as_micros() as u64,
                "solved"
            ),
            Err(error) => tracing::info!(%error, "refused"),
        }
        outcome
    }
}

impl SlotFinderService {
    /// Validation and calendar reads, on a blocking thread but without a
    /// solver permit: a call waiting on a slow calendar server must not
    /// keep another call's solve from the CPU.
    async fn prepare(
        &self,
        request: pb::FindSlotsRequest,
    ) -> Result<Result<Prepared, ServiceError>, ServiceError> {
        let limits = self.limits.clone();
        let calendars = self.calendars.clone();
        tokio::task::spawn_blocking(move || prepare_request(request, &limits, calendars.as_ref()))
            .await
            .map_err(|e| ServiceError::SolverTask {
                detail: e.to_string(),
            })
    }

    async fn solve_prepared(
        &self,
        prepared: Prepared,
        budget: SolveBudget,
    ) -> Result<Result<pb::FindSlotsResponse, ServiceError>, ServiceError> {
        // The permit moves into the solve, so a solve abandoned by its client
        // keeps its place until it has actually stopped and freed the CPU.
        let permit = self
            .solvers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::ShuttingDown)?;
        let holds = self.holds.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = solve_prepared(prepared, holds.as_deref(), &budget);
            drop(permit);
            outcome
        })
        .await
        .map_err(|e| ServiceError::SolverTask {
            detail: e.to_string(),
        })
    }
}

/// The client's deadline, from its `grpc-timeout` header.
fn client_limit(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    metadata
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(grpc_timeout)
}

/// The picture's zone: empty is UTC, anything else must be an IANA name.
fn picture_zone(zone: &str) -> Result<chrono_tz::Tz, ServiceError> {
    if zone.is_empty() {
        return Ok(chrono_tz::Tz::UTC);
    }
    zone.parse().map_err(|_| ServiceError::InvalidRequest {
        violations: vec![FieldViolation::new(
            "zone",
            format!("{zone:?} is not an IANA time zone; write a name such as Europe/Berlin or UTC"),
        )],
    })
}

#[tonic::async_trait]
impl pb::slot_finder_server::SlotFinder for SlotFinderService {
    #[tracing::instrument(skip_all, fields(change_ticket = %request.get_ref().change_ticket))]
    async fn find_slots(
        &self,
        request: Request<pb::FindSlotsRequest>,
    ) -> Result<Response<pb::FindSlotsResponse>, Status> {
        let limit = client_limit(request.metadata());
        Ok(Response::new(
            self.solve(request.into_inner(), limit).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn render_slots(
        &self,
        request: Request<pb::RenderSlotsRequest>,
    ) -> Result<Response<pb::RenderSlotsResponse>, Status> {
        let limit = client_limit(request.metadata());
        let pb::RenderSlotsRequest { request, zone } = request.into_inner();
        let zone = picture_zone(&zone)?;
        let Some(mut request) = request else {
            return Err(ServiceError::InvalidRequest {
                violations: vec![FieldViolation::new(
                    "request",
                    "the request to solve is required",
                )],
            }
            .into());
        };
        // The picture draws why earlier starts lost, so it always asks; its
        // words are in the picture's zone unless the request names another.
        request.explain = true;
        if request.display_time_zone.is_empty() {
            request.display_time_zone = zone.name().to_owned();
        }
        let response = self.solve(request.clone(), limit).await?;
        // Drawing a large answer takes milliseconds of CPU: off the runtime too.
        let html = tokio::task::spawn_blocking(move || {
            crate::picture::render_slots(&request, &response, zone)
        })
        .await
        .map_err(|e| ServiceError::SolverTask {
            detail: e.to_string(),
        })??;
        Ok(Response::new(pb::RenderSlotsResponse { html }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units_parse() {
        assert_eq!(grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(grpc_timeout("1x"), None);
        assert_eq!(grpc_timeout(""), None);
        assert_eq!(grpc_timeout("123456789S"), None);
    }

    #[test]
    fn budget_stops_once_abandoned() {
        let budget = SolveBudget::new(Duration::from_secs(60));
        assert!(!budget.should_stop());
        drop(budget.abandon_on_drop());
        assert!(budget.should_stop());
    }
}
