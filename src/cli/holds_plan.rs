//! `quorum holds plan …`: a held release plan from the command line — read,
//! extend, release, approve and confirm it as one, exactly as the broker's
//! plan calls do. Placing a plan stays `quorum plan FILE --hold N`, which has
//! the programme to take the plan from.

use super::holds::HoldsCliError;
use crate::{json, pb};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Debug, clap::Subcommand)]
pub enum PlanHoldCommand {
    /// Show a held plan and every milestone's hold.
    Get {
        /// The plan id (P-…) that `quorum plan --hold` printed.
        plan: String,
    },
    /// Extend every milestone's hold of a tentative plan at once.
    Extend {
        /// The plan id.
        plan: String,
        /// Seconds to add to the plan's expiry.
        #[arg(long)]
        by_seconds: u32,
    },
    /// Release every milestone's hold (a confirmed plan needs the release owner and a reason).
    Release {
        /// The plan id.
        plan: String,
        /// Why, for the audit log.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Approve the whole plan as the ticket's release owner; prints the token.
    Approve {
        /// The plan id.
        plan: String,
        /// How long the token stays valid.
        #[arg(long, default_value_t = 3600)]
        token_ttl_seconds: u32,
    },
    /// Confirm every milestone's hold at once with the release owner's token.
    Confirm {
        /// The plan id.
        plan: String,
        /// The token `holds plan approve` printed.
        approval_token: String,
    },
}

type Client<I> = pb::hold_broker_client::HoldBrokerClient<InterceptedService<Channel, I>>;

/// Runs one plan command; the answer is the plan as proto3 JSON, or the
/// approval token alone on its line.
pub async fn run<I>(
    client: &mut Client<I>,
    command: &PlanHoldCommand,
) -> Result<String, HoldsCliError>
where
    I: tonic::service::Interceptor,
{
    let plan = match command {
        PlanHoldCommand::Get { plan } => {
            let request = pb::GetPlanHoldRequest {
                plan_id: plan.clone(),
            };
            client.get_plan_hold(request).await
        }
        PlanHoldCommand::Extend { plan, by_seconds } => {
            let request = pb::ExtendPlanHoldRequest {
                plan_id: plan.clone(),
                extend_by_seconds: *by_seconds,
            };
            client.extend_plan_hold(request).await
        }
        PlanHoldCommand::Release { plan, reason } => {
            let request = pb::ReleasePlanHoldRequest {
                plan_id: plan.clone(),
                reason: reason.clone(),
            };
            client.release_plan_hold(request).await
        }
        PlanHoldCommand::Approve {
            plan,
            token_ttl_seconds,
        } => {
            let request = pb::ApprovePlanHoldRequest {
                plan_id: plan.clone(),
                token_ttl_seconds: *token_ttl_seconds,
            };
            let grant = client
                .approve_plan_hold(request)
                .await
                .map_err(HoldsCliError::Rpc)?
                .into_inner();
            return Ok(format!("{}\n", grant.approval_token));
        }
        PlanHoldCommand::Confirm {
            plan,
            approval_token,
        } => {
            let request = pb::ConfirmPlanHoldRequest {
                plan_id: plan.clone(),
                approval_token: approval_token.clone(),
            };
            client.confirm_plan_hold(request).await
        }
    };
    let plan = plan.map_err(HoldsCliError::Rpc)?.into_inner();
    Ok(json::to_json("quorum.v1.PlanHold", &plan)?)
}
