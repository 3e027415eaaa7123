//! `quorum find-slots FILE --hold N`: from ranked slot to tentative hold in
//! one step. The slot's role assignments become the hold's attendees (person
//! and role ids exactly as the broker wants them), so nobody copies ids and
//! UTC instants out of a table by hand.

use crate::cli::connect::{ConnectError, DEFAULT_SERVER, connect, credentials};
use crate::{json, pb};

/// Who places the hold, and how it lives.
#[derive(Debug, Clone, clap::Args)]
pub struct HoldSlotArgs {
    /// Place a tentative hold on ranked slot N (1 is the best) for every
    /// person it assigns, on --server (default http://127.0.0.1:50051).
    #[arg(long, value_name = "N")]
    pub hold: Option<u32>,
    #[command(flatten)]
    pub holder: HolderArgs,
}

/// Who places holds from a ranked answer and how they live: shared by
/// `find-slots --hold` and `plan --hold`, which differ only in what is held.
#[derive(Debug, Clone, clap::Args)]
pub struct HolderArgs {
    /// Bearer token from the server's token file (with --hold).
    #[arg(long, env = "QUORUM_TOKEN")]
    pub token: Option<String>,
    /// Identity to claim when the server runs in development mode (with --hold).
    #[arg(long, env = "QUORUM_IDENTITY")]
    pub identity: Option<String>,
    /// How long the holds live unless extended or confirmed (with --hold).
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: u32,
    /// Retrying with the same key returns the same hold (or plan); by default
    /// derived from the ticket and the start(s), so running the command twice
    /// is safe.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Development mode only: the ticket's release owner, on its first hold.
    #[arg(long, default_value = "")]
    pub release_owner: String,
}

impl HolderArgs {
    /// A hold broker client on `server` (default [`DEFAULT_SERVER`]) that
    /// sends these credentials with every call.
    pub async fn broker(
        &self,
        server: Option<&str>,
    ) -> Result<
        pb::hold_broker_client::HoldBrokerClient<
            tonic::service::interceptor::InterceptedService<
                tonic::transport::Channel,
                impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone,
            >,
        >,
        HoldSlotError,
    > {
        let channel = connect(server.unwrap_or(DEFAULT_SERVER)).await?;
        Ok(pb::hold_broker_client::HoldBrokerClient::with_interceptor(
            channel,
            credentials(self.token.as_deref(), self.identity.as_deref()),
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HoldSlotError {
    #[error("there is no slot #{rank}: the answer has {count} slot(s)")]
    NoSuchSlot { rank: u32, count: usize },
    #[error("there is no plan #{rank}: the answer has {count} plan(s)")]
    NoSuchPlan { rank: u32, count: usize },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the hold broker refused the hold: {}: {}", crate::cli::find_slots::screaming(&format!("{:?}", .0.code())), .0.message())]
    Refused(tonic::Status),
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

/// The hold request for ranked slot `rank` of `response`.
pub fn place_request(
    response: &pb::FindSlotsResponse,
    rank: u32,
    args: &HoldSlotArgs,
) -> Result<pb::PlaceHoldRequest, HoldSlotError> {
    let slot = response
        .slots
        .iter()
        .find(|s| s.rank == rank)
        .ok_or(HoldSlotError::NoSuchSlot {
            rank,
            count: response.slots.len(),
        })?;
    let start = slot.start.as_ref().map(|t| (t.seconds, t.nanos));
    let key = args.holder.idempotency_key.clone().unwrap_or_else(|| {
        let (seconds, nanos) = start.unwrap_or_default();
        format!("{}@{seconds}.{nanos:09}", response.change_ticket)
    });
    Ok(pb::PlaceHoldRequest {
        change_ticket: response.change_ticket.clone(),
        start: slot.start,
        end: slot.end,
        attendees: slot
            .assignments
            .iter()
            .map(|a| pb::HoldAttendee {
                person_id: a.person_id.clone(),
                role_id: a.role_id.clone(),
            })
            .collect(),
        ttl_seconds: args.holder.ttl_seconds,
        idempotency_key: key,
        release_owner: args.holder.release_owner.clone(),
    })
}

/// Places the hold on `server` and returns it.
pub async fn place(
    server: Option<&str>,
    request: pb::PlaceHoldRequest,
    args: &HoldSlotArgs,
) -> Result<pb::Hold, HoldSlotError> {
    let mut client = args.holder.broker(server).await?;
    Ok(client
        .place_hold(request)
        .await
        .map_err(HoldSlotError::Refused)?
        .into_inner())
}

/// One line a person reads after the table.
pub fn placed_line(hold: &pb::Hold, rank: u32) -> String {
    let people: Vec<&str> = hold
        .attendees
        .iter()
        .map(|a| a.person_id.as_str())
        .collect();
    let expires = hold
        .expires_at
        .as_ref()
        .and_then(crate::convert::from_timestamp)
        .map_or_else(String::new, |t| {
            format!(", tentative until {}", t.to_rfc3339())
        });
    format!(
        "\nHeld slot #{rank} as {} for {} ({}){expires}\n",
        hold.id,
        hold.change_ticket,
        people.join(", ")
    )
}

/// "Counted as busy: …" — other tickets' holds the server added to people's
/// busy time, so the reader knows why a server's answer differs from a local
/// one. Empty when none counted.
pub fn counted_holds(response: &pb::FindSlotsResponse, zone: chrono_tz::Tz) -> String {
    if response.holds_counted_as_busy.is_empty() {
        return String::new();
    }
    let when = |t: Option<&prost_types::Timestamp>| {
        t.and_then(crate::convert::from_timestamp)
            .map_or_else(String::new, |t| {
                t.with_timezone(&zone)
                    .format("%a %Y-%m-%d %H:%M")
                    .to_string()
            })
    };
    let mut out = String::from("Counted as busy (other tickets' holds on this server):\n");
    for held in &response.holds_counted_as_busy {
        out.push_str(&format!(
            "  {:<16} {} – {}  {} ({})\n",
            held.person_id,
            when(held.start.as_ref()),
            when(held.end.as_ref()),
            held.hold_id,
            held.change_ticket
        ));
    }
    out
}
