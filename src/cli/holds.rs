//! `quorum holds …`: the hold broker from the command line, against a running
//! server. Answers print as proto3 JSON.

use crate::cli::connect::{ConnectError, DEFAULT_SERVER, connect_with_tls, credentials};
use crate::cli::holds_plan::{self, PlanHoldCommand};
use crate::{convert::to_timestamp, json, pb};
use chrono::{DateTime, Utc};
use tonic::Status;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

#[derive(Debug, clap::Args)]
pub struct HoldsArgs {
    /// The server to talk to: host:port or a URL (https:// for TLS).
    #[arg(long, default_value = DEFAULT_SERVER, global = true)]
    pub server: String,
    /// Print only the hold id (place) or the token (approve), for scripts.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Bearer token from the server's token file.
    #[arg(long, env = "QUORUM_TOKEN", global = true)]
    pub token: Option<String>,
    /// Identity to claim when the server runs in development mode.
    #[arg(long, env = "QUORUM_IDENTITY", global = true)]
    pub identity: Option<String>,
    /// PEM CA that signed the server's certificate (for an https:// server).
    #[arg(long, env = "QUORUM_CA_CERT", global = true)]
    pub ca_cert: Option<std::path::PathBuf>,
    /// PEM client certificate, for servers that require mutual TLS.
    #[arg(
        long,
        env = "QUORUM_CLIENT_CERT",
        global = true,
        requires = "client_key"
    )]
    pub client_cert: Option<std::path::PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(
        long,
        env = "QUORUM_CLIENT_KEY",
        global = true,
        requires = "client_cert"
    )]
    pub client_key: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: HoldsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HoldsCommand {
    /// Name a ticket's release owner (admin scope).
    RegisterTicket {
        /// The change ticket, e.g. CHG-2291.
        ticket: String,
        /// The identity that alone may approve the ticket's holds.
        #[arg(long)]
        release_owner: String,
    },
    /// Place a tentative hold.
    Place {
        /// The change ticket the hold is for.
        #[arg(long)]
        ticket: String,
        /// Start, RFC 3339 with an offset (2026-12-01T13:00:00Z).
        #[arg(long)]
        start: DateTime<Utc>,
        /// End, RFC 3339 with an offset; after the start.
        #[arg(long)]
        end: DateTime<Utc>,
        /// person=role, once per attendee.
        #[arg(long = "attendee", required = true)]
        attendees: Vec<String>,
        /// How long the hold lives unless extended or confirmed.
        #[arg(long, default_value_t = 3600)]
        ttl_seconds: u32,
        /// Retrying with the same key returns the same hold.
        #[arg(long)]
        idempotency_key: String,
        /// Development mode only: the ticket's release owner, on its first hold.
        #[arg(long, default_value = "")]
        release_owner: String,
    },
    /// Show one hold.
    Get {
        /// The hold id (H-…).
        hold: String,
    },
    /// List holds (active ones unless --all), every page.
    List {
        /// Only this ticket's holds.
        #[arg(long, default_value = "")]
        ticket: String,
        /// Only holds this person attends.
        #[arg(long, default_value = "")]
        person: String,
        /// Only holds overlapping [from, to); RFC 3339 (needs --to).
        #[arg(long, requires = "to")]
        from: Option<DateTime<Utc>>,
        /// End of the --from range.
        #[arg(long, requires = "from")]
        to: Option<DateTime<Utc>>,
        /// Include released and expired holds.
        #[arg(long)]
        all: bool,
    },
    /// Extend a tentative hold (never past the server's --max-hold-hours).
    Extend {
        /// The hold id.
        hold: String,
        /// Seconds to add to its expiry.
        #[arg(long)]
        by_seconds: u32,
    },
    /// Release a hold (a confirmed booking needs the release owner and a reason).
    Release {
        /// The hold id.
        hold: String,
        /// Why, for the audit log.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Approve a hold as the ticket's release owner; prints the token.
    Approve {
        /// The hold id.
        hold: String,
        /// role:from:to, once per substitution.
        #[arg(long = "substitute")]
        substitutions: Vec<String>,
        /// How long the token stays valid.
        #[arg(long, default_value_t = 3600)]
        token_ttl_seconds: u32,
    },
    /// Confirm a hold with the release owner's single-use approval token.
    Confirm {
        /// The hold id.
        hold: String,
        /// The token `approve` printed.
        approval_token: String,
    },
    /// The ticket's audit log as JSON lines, every page.
    Audit {
        /// The change ticket.
        ticket: String,
    },
    /// The hold as an iCalendar VEVENT.
    Ical {
        /// The hold id.
        hold: String,
    },
    /// A held release plan, as one: get, extend, release, approve, confirm.
    #[command(subcommand)]
    Plan(PlanHoldCommand),
}

#[derive(Debug, thiserror::Error)]
pub enum HoldsCliError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the server refused: {}", describe(.0))]
    Rpc(Status),
    #[error("{0}")]
    Arguments(String),
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

fn describe(status: &Status) -> String {
    let code = crate::cli::find_slots::screaming(&format!("{:?}", status.code()));
    format!("{code}: {}", status.message())
}

/// The listing as proto3 JSON, with `"holds": []` spelled out when empty
/// (proto3 JSON leaves empty lists out, which reads like a broken answer).
fn list_json(list: &pb::ListHoldsResponse) -> Result<String, HoldsCliError> {
    let text = json::to_json("quorum.v1.ListHoldsResponse", list)?;
    if !list.holds.is_empty() {
        return Ok(text);
    }
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("holds".into(), serde_json::Value::Array(Vec::new()));
    }
    Ok(serde_json::to_string_pretty(&value).unwrap_or(text) + "\n")
}

fn pairs(
    items: &[String],
    separator: char,
    parts: usize,
) -> Result<Vec<Vec<String>>, HoldsCliError> {
    items
        .iter()
        .map(|item| {
            let split: Vec<String> = item.split(separator).map(str::to_owned).collect();
            if split.len() == parts {
                Ok(split)
            } else {
                Err(HoldsCliError::Arguments(format!(
                    "{item:?} should have {parts} parts separated by {separator:?}"
                )))
            }
        })
        .collect()
}

/// TLS settings from the CA and client-certificate flags, if any is given.
fn client_tls(args: &HoldsArgs) -> Result<Option<ClientTlsConfig>, HoldsCliError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| HoldsCliError::Arguments(format!("cannot read {}: {e}", path.display())))
    };
    if args.ca_cert.is_none() && args.client_cert.is_none() {
        return Ok(None);
    }
    let mut tls = ClientTlsConfig::new();
    if let Some(ca) = &args.ca_cert {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
    }
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Some(tls))
}

pub async fn run(args: &HoldsArgs) -> Result<String, HoldsCliError> {
    let channel = connect_with_tls(&args.server, client_tls(args)?).await?;
    let mut client = pb::hold_broker_client::HoldBrokerClient::with_interceptor(
        channel,
        credentials(args.token.as_deref(), args.identity.as_deref()),
    );
    let hold_json = |hold: pb::Hold| json::to_json("quorum.v1.Hold", &hold);
    Ok(match &args.command {
        HoldsCommand::RegisterTicket {
            ticket,
            release_owner,
        } => {
            let request = pb::RegisterTicketRequest {
                change_ticket: ticket.clone(),
                release_owner: release_owner.clone(),
            };
            client
                .register_ticket(request)
                .await
                .map_err(HoldsCliError::Rpc)?;
            format!("{ticket}: release owner {release_owner}\n")
        }
        HoldsCommand::Place {
            ticket,
            start,
            end,
            attendees,
            ttl_seconds,
            idempotency_key,
            release_owner,
        } => {
            let attendees = pairs(attendees, '=', 2)?
                .into_iter()
                .map(|p| pb::HoldAttendee {
                    person_id: p[0].clone(),
                    role_id: p[1].clone(),
                })
                .collect();
            let request = pb::PlaceHoldRequest {
                change_ticket: ticket.clone(),
                start: Some(to_timestamp(*start)),
                end: Some(to_timestamp(*end)),
                attendees,
                ttl_seconds: *ttl_seconds,
                idempotency_key: idempotency_key.clone(),
                release_owner: release_owner.clone(),
            };
            let hold = client
                .place_hold(request)
                .await
                .map_err(HoldsCliError::Rpc)?
                .into_inner();
            if args.quiet {
                format!("{}\n", hold.id)
            } else {
                hold_json(hold)?
            }
        }
        HoldsCommand::Get { hold } => {
            let request = pb::GetHoldRequest {
                hold_id: hold.clone(),
            };
            hold_json(
                client
                    .get_hold(request)
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner(),
            )?
        }
        HoldsCommand::List {
            ticket,
            person,
            from,
            to,
            all,
        } => {
            let mut request = pb::ListHoldsRequest {
                change_ticket: ticket.clone(),
                person_id: person.clone(),
                overlapping_start: from.map(to_timestamp),
                overlapping_end: to.map(to_timestamp),
                include_inactive: *all,
                ..pb::ListHoldsRequest::default()
            };
            let mut all_pages = pb::ListHoldsResponse::default();
            loop {
                let page = client
                    .list_holds(request.clone())
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner();
                all_pages.holds.extend(page.holds);
                if page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            list_json(&all_pages)?
        }
        HoldsCommand::Extend { hold, by_seconds } => {
            let request = pb::ExtendHoldRequest {
                hold_id: hold.clone(),
                extend_by_seconds: *by_seconds,
            };
            hold_json(
                client
                    .extend_hold(request)
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner(),
            )?
        }
        HoldsCommand::Release { hold, reason } => {
            let request = pb::ReleaseHoldRequest {
                hold_id: hold.clone(),
                reason: reason.clone(),
            };
            hold_json(
                client
                    .release_hold(request)
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner(),
            )?
        }
        HoldsCommand::Approve {
            hold,
            substitutions,
            token_ttl_seconds,
        } => {
            let substitutions = pairs(substitutions, ':', 3)?
                .into_iter()
                .map(|p| pb::Substitution {
                    role_id: p[0].clone(),
                    from_person_id: p[1].clone(),
                    to_person_id: p[2].clone(),
                })
                .collect();
            let request = pb::ApproveHoldRequest {
                hold_id: hold.clone(),
                substitutions,
                token_ttl_seconds: *token_ttl_seconds,
            };
            let grant = client
                .approve_hold(request)
                .await
                .map_err(HoldsCliError::Rpc)?
                .into_inner();
            format!("{}\n", grant.approval_token)
        }
        HoldsCommand::Confirm {
            hold,
            approval_token,
        } => {
            let request = pb::ConfirmHoldRequest {
                hold_id: hold.clone(),
                approval_token: approval_token.clone(),
            };
            hold_json(
                client
                    .confirm_hold(request)
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner(),
            )?
        }
        HoldsCommand::Audit { ticket } => {
            let mut request = pb::GetAuditLogRequest {
                change_ticket: ticket.clone(),
                ..pb::GetAuditLogRequest::default()
            };
            let mut lines = String::new();
            loop {
                let page = client
                    .get_audit_log(request.clone())
                    .await
                    .map_err(HoldsCliError::Rpc)?
                    .into_inner();
                lines.push_str(&page.json_lines);
                if page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            lines
        }
        HoldsCommand::Ical { hold } => {
            let request = pb::ExportICalendarRequest {
                hold_id: hold.clone(),
            };
            client
                .export_i_calendar(request)
                .await
                .map_err(HoldsCliError::Rpc)?
                .into_inner()
                .icalendar
        }
        HoldsCommand::Plan(command) => holds_plan::run(&mut client, command).await?,
    })
}
