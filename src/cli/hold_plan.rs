//! `quorum plan FILE --hold N`: from ranked plan to held plan in one step.
//! Every milestone of plan N becomes a tentative hold of its role
//! assignments, all placed in one transaction by `PlacePlanHold` — all of
//! them or, on any conflict, none.

use crate::cli::hold_slot::{HoldSlotError, HolderArgs};
use crate::{convert::plan_holds::hold_plan_request, pb};
use std::fmt::Write;

/// Which plan to hold, and who holds it.
#[derive(Debug, Clone, clap::Args)]
pub struct HoldPlanArgs {
    /// Hold every milestone of ranked plan N (1 is the best) for every
    /// person it assigns, all or nothing, on --server (default
    /// http://127.0.0.1:50051).
    #[arg(long, value_name = "N")]
    pub hold: Option<u32>,
    #[command(flatten)]
    pub holder: HolderArgs,
}

/// FNV-1a, 64 bits: a short, stable name for a plan's starts, so the default
/// idempotency key stays inside the broker's 128-byte limit however many
/// milestones the plan has.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The hold request for ranked plan `rank` of `response`.
pub fn place_request(
    response: &pb::PlanReleaseResponse,
    rank: u32,
    args: &HoldPlanArgs,
) -> Result<pb::PlacePlanHoldRequest, HoldSlotError> {
    let plan = response
        .plans
        .iter()
        .find(|p| p.rank == rank)
        .ok_or(HoldSlotError::NoSuchPlan {
            rank,
            count: response.plans.len(),
        })?;
    let key = args.holder.idempotency_key.clone().unwrap_or_else(|| {
        let mut starts = response.change_ticket.clone();
        for m in &plan.milestones {
            let (seconds, nanos) = m.start.map(|t| (t.seconds, t.nanos)).unwrap_or_default();
            let _ = write!(starts, "|{}@{seconds}.{nanos:09}", m.milestone_id);
        }
        format!("plan@{:016x}", fnv1a(&starts))
    });
    Ok(hold_plan_request(
        &response.change_ticket,
        plan,
        args.holder.ttl_seconds,
        key,
        args.holder.release_owner.clone(),
    ))
}

/// Places the plan's holds on `server` and returns the held plan.
pub async fn place(
    server: Option<&str>,
    request: pb::PlacePlanHoldRequest,
    args: &HoldPlanArgs,
) -> Result<pb::PlanHold, HoldSlotError> {
    let mut client = args.holder.broker(server).await?;
    Ok(client
        .place_plan_hold(request)
        .await
        .map_err(HoldSlotError::Refused)?
        .into_inner())
}

/// What a person reads after the timeline: the plan id and each
/// milestone's hold.
pub fn placed_lines(plan: &pb::PlanHold, rank: u32) -> String {
    let expires = plan
        .expires_at
        .as_ref()
        .and_then(crate::convert::from_timestamp)
        .map_or_else(String::new, |t| {
            format!(", tentative until {}", t.to_rfc3339())
        });
    let mut out = format!(
        "\nHeld plan #{rank} as {} for {}{expires}\n",
        plan.plan_id, plan.change_ticket
    );
    for m in &plan.milestones {
        let Some(hold) = &m.hold else { continue };
        let people: Vec<&str> = hold
            .attendees
            .iter()
            .map(|a| a.person_id.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  {:<24} {} ({})",
            m.milestone_id,
            hold.id,
            people.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_published_test_vectors() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }
}
