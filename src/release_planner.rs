//! The `ReleasePlanner` gRPC service: validate → convert → plan off the async
//! runtime within a time budget → convert back, exactly as `SlotFinder` does
//! (the same budget, stop signal and queue discipline). The synchronous
//! [`plan_request`] also serves the CLI's local mode.

use crate::slot_finder::{SolveBudget, grpc_timeout};
use crate::{convert, error::ServiceError, pb};
use quorum_domain::ProgrammeLimits;
use quorum_solver::{StopSignal, plan_release};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

/// Plans one request synchronously: the whole pipeline minus the transport.
pub fn plan_request(
    request: pb::PlanReleaseRequest,
    limits: &ProgrammeLimits,
    stop: &dyn StopSignal,
) -> Result<pb::PlanReleaseResponse, ServiceError> {
    let zone = convert::programme_display_zone(&request).map_err(|violation| {
        ServiceError::InvalidRequest {
            violations: vec![violation],
        }
    })?;
    let (programme, engine) = convert::release_programme(request)
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    let programme = programme
        .validate(limits)
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    let found = plan_release(&programme, engine, stop)?;
    Ok(convert::plans_to_response(&programme, found, zone))
}

pub struct ReleasePlannerService {
    limits: Arc<ProgrammeLimits>,
    max_solve_time: Duration,
    /// Plans are CPU-bound: at most this many run at once, the rest queue.
    solvers: Arc<Semaphore>,
}

impl ReleasePlannerService {
    pub fn new(
        limits: ProgrammeLimits,
        max_solve_time: Duration,
        concurrent_solves: usize,
    ) -> Self {
        Self {
            limits: Arc::new(limits),
            max_solve_time,
            solvers: Arc::new(Semaphore::new(concurrent_solves.max(1))),
        }
    }
}

#[tonic::async_trait]
impl pb::release_planner_server::ReleasePlanner for ReleasePlannerService {
    #[tracing::instrument(skip_all, fields(change_ticket = %request.get_ref().change_ticket))]
    async fn plan_release(
        &self,
        request: Request<pb::PlanReleaseRequest>,
    ) -> Result<Response<pb::PlanReleaseResponse>, Status> {
        let client_limit = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(grpc_timeout);
        let limit = client_limit.map_or(self.max_solve_time, |c| c.min(self.max_solve_time));
        let budget = SolveBudget::new(limit);
        let _guard = budget.abandon_on_drop();
        // The permit moves into the solve, so an abandoned plan keeps its
        // place until it has actually stopped and freed the CPU.
        let permit = self
            .solvers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::ShuttingDown)?;
        let limits = self.limits.clone();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let outcome = plan_request(request.into_inner(), &limits, &budget);
            drop(permit);
            outcome
        })
        .await
        .map_err(|e| ServiceError::SolverTask {
            detail: e.to_string(),
        })?;
        match &outcome {
            Ok(response) => tracing::info!(
                plans = response.plans.len(),
                micros = started.elapsed().as_micros() as u64,
                "planned"
            ),
            Err(error) => tracing::info!(%error, "refused"),
        }
        Ok(Response::new(outcome?))
    }
}
