//! The held-plan handlers of `HoldBroker`: thin like the rest — identify the
//! caller, convert, run the broker's plan rules off the async runtime,
//! convert back. All or nothing is the broker's (one store transaction).

use super::{HoldBrokerService, invalid, owners::StoreView};
use crate::{auth::caller, convert::plan_holds as convert, pb};
use chrono::Duration;
use quorum_domain::{FieldViolation, PlanHold, PlanId};
use quorum_holds::HoldError;
use tonic::{Request, Response, Status};

/// The plan as its caller sees it now, each member with the ticket's release
/// owner (the one who approves the plan).
fn seen(store: &StoreView<'_>, plan: PlanHold) -> Result<pb::PlanHold, HoldError> {
    let owner = store.release_owner(&plan.change_ticket)?;
    Ok(convert::plan_hold(plan, store.now(), owner))
}

pub async fn place(
    service: &HoldBrokerService,
    request: Request<pb::PlacePlanHoldRequest>,
) -> Result<Response<pb::PlanHold>, Status> {
    let who = caller(&request)?;
    let place = convert::place_request(request.into_inner()).map_err(invalid)?;
    let now = service.clock.now();
    // Like a single hold: only for slots to come, refused before the store.
    let past: Vec<FieldViolation> = place
        .milestones
        .iter()
        .enumerate()
        .filter(|(_, m)| m.slot.start < now)
        .map(|(i, m)| {
            FieldViolation::new(
                format!("milestones[{i}].start"),
                format!(
                    "milestone {} starts at {}, which is already past (now {}); holds are for slots to come",
                    m.milestone_id,
                    m.slot.start.to_rfc3339(),
                    now.to_rfc3339()
                ),
            )
        })
        .collect();
    if !past.is_empty() {
        return Err(invalid(past));
    }
    let plan = service
        .run(move |store| {
            let plan = store.place_plan(place, &who)?;
            seen(store, plan)
        })
        .await?;
    Ok(Response::new(plan))
}

pub async fn get(
    service: &HoldBrokerService,
    request: Request<pb::GetPlanHoldRequest>,
) -> Result<Response<pb::PlanHold>, Status> {
    let who = caller(&request)?;
    let pb::GetPlanHoldRequest { plan_id } = request.into_inner();
    let plan = service
        .run(move |store| seen(store, store.get_plan(&PlanId(plan_id), &who)?))
        .await?;
    Ok(Response::new(plan))
}

pub async fn extend(
    service: &HoldBrokerService,
    request: Request<pb::ExtendPlanHoldRequest>,
) -> Result<Response<pb::PlanHold>, Status> {
    let who = caller(&request)?;
    let pb::ExtendPlanHoldRequest {
        plan_id,
        extend_by_seconds,
    } = request.into_inner();
    let by = Duration::seconds(extend_by_seconds.into());
    let plan = service
        .run(move |store| {
            let plan = store.extend_plan(&PlanId(plan_id), by, &who)?;
            seen(store, plan)
        })
        .await?;
    Ok(Response::new(plan))
}

pub async fn release(
    service: &HoldBrokerService,
    request: Request<pb::ReleasePlanHoldRequest>,
) -> Result<Response<pb::PlanHold>, Status> {
    let who = caller(&request)?;
    let pb::ReleasePlanHoldRequest { plan_id, reason } = request.into_inner();
    let plan = service
        .run(move |store| {
            let plan = store.release_plan(&PlanId(plan_id), &reason, &who)?;
            seen(store, plan)
        })
        .await?;
    Ok(Response::new(plan))
}

pub async fn approve(
    service: &HoldBrokerService,
    request: Request<pb::ApprovePlanHoldRequest>,
) -> Result<Response<pb::ApproveHoldResponse>, Status> {
    let who = caller(&request)?;
    let pb::ApprovePlanHoldRequest {
        plan_id,
        token_ttl_seconds,
    } = request.into_inner();
    let ttl = Duration::seconds(if token_ttl_seconds == 0 {
        3600
    } else {
        token_ttl_seconds.into()
    });
    let grant = service
        .run(move |store| store.approve_plan(&PlanId(plan_id), &who, ttl))
        .await?;
    Ok(Response::new(pb::ApproveHoldResponse {
        approval_token: grant.token,
        expires_at: Some(crate::convert::to_timestamp(grant.expires_at)),
    }))
}

pub async fn confirm(
    service: &HoldBrokerService,
    request: Request<pb::ConfirmPlanHoldRequest>,
) -> Result<Response<pb::PlanHold>, Status> {
    let who = caller(&request)?;
    let pb::ConfirmPlanHoldRequest {
        plan_id,
        approval_token,
    } = request.into_inner();
    let plan = service
        .run(move |store| {
            let plan = store.confirm_plan(&PlanId(plan_id), &approval_token, &who)?;
            seen(store, plan)
        })
        .await?;
    Ok(Response::new(plan))
}
