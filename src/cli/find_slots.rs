//! `quorum find-slots FILE`: solve a request file locally (or on a server with
//! `--server`) and print the ranked slots as a table, with every person's
//! local time beside the slot, or as proto3 JSON.

use crate::cli::connect::{ConnectError, DEFAULT_SERVER, connect};
use crate::cli::hold_slot::{self, HoldSlotArgs, HoldSlotError};
use crate::{error::ServiceError, json, pb, slot_finder::solve_request};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use tonic_types::StatusExt;

#[derive(Debug, clap::Args)]
pub struct FindSlotsArgs {
    /// A FindSlotsRequest in proto3 JSON (`-` reads standard input).
    pub file: PathBuf,
    /// Solve on a running server instead of locally: host:port or a URL
    /// (`--server` alone means http://127.0.0.1:50051).
    #[arg(long, num_args = 0..=1, default_missing_value = DEFAULT_SERVER)]
    pub server: Option<String>,
    /// Print the response as proto3 JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The IANA zone to show times in, e.g. Europe/Berlin.
    #[arg(long, default_value = "UTC", value_parser = parse_zone)]
    pub zone: Tz,
    /// Return at most this many slots (overrides the file's topK).
    #[arg(long)]
    pub top_k: Option<u32>,
    /// Also explain why earlier starts were rejected (sets explain: true).
    #[arg(long)]
    pub explain: bool,
    /// Also write the answer as a picture: one self-contained HTML page
    /// (opens offline). Solves with explain on, so rejected starts are drawn.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub hold: HoldSlotArgs,
}

/// An IANA zone name, with a hint when it is not one.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>().map_err(|_| {
        format!(
            "{text:?} is not an IANA time zone; write a name such as Europe/Berlin, America/New_York or UTC"
        )
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Json(#[from] json::JsonError),
    #[error("{}", describe_violations(.0))]
    Invalid(Vec<quorum_domain::FieldViolation>),
    #[error(transparent)]
    Service(ServiceError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the server refused the request: {}", describe_status(.0))]
    Rpc(tonic::Status),
    #[error(transparent)]
    Hold(#[from] HoldSlotError),
    #[error("cannot write the picture to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<ServiceError> for CliError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::InvalidRequest { violations } => Self::Invalid(violations),
            other => Self::Service(other),
        }
    }
}

/// A field as the user spells it in the JSON file (camelCase), with the
/// proto path beside it when that differs.
pub fn json_field(path: &str) -> String {
    let mut camel = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                camel.extend(c.to_uppercase());
                upper = false;
            }
            c => camel.push(c),
        }
    }
    if camel == path {
        camel
    } else {
        format!("{camel} ({path})")
    }
}

fn describe_violations(violations: &[quorum_domain::FieldViolation]) -> String {
    let mut text = format!("the request has {} problem(s):", violations.len());
    if violations.len() >= quorum_domain::MAX_COLLECTED_VIOLATIONS {
        text = format!(
            "the request has {} or more problems (the first {} are shown):",
            violations.len(),
            violations.len()
        );
    }
    for v in violations {
        let _ = write!(text, "\n  {}: {}", json_field(&v.field), v.description);
    }
    text
}

fn describe_status(status: &tonic::Status) -> String {
    let code = format!("{:?}", status.code());
    let mut text = format!("{}: {}", screaming(&code), status.message());
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            let _ = write!(text, "\n  {}: {}", json_field(&v.field), v.description);
        }
    }
    text
}

/// `InvalidArgument` → `INVALID_ARGUMENT`: the spelling gRPC and the JSON use.
pub fn screaming(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// The request file's text; `-` is standard input.
pub(crate) fn read_request(path: &std::path::Path) -> Result<String, CliError> {
    let read = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

pub async fn run(args: &FindSlotsArgs) -> Result<String, CliError> {
    let mut request = json::request_from_json(&read_request(&args.file)?)?;
    if let Some(top_k) = args.top_k {
        request.top_k = top_k;
    }
    request.explain |= args.explain;
    // The server's reporter writes the answer's words in the reader's zone.
    request.display_time_zone = args.zone.name().to_owned();
    let explain_asked = request.explain;
    // The picture draws why earlier starts lost, so it always asks.
    request.explain |= args.html.is_some();
    let mut response = match &args.server {
        None => solve_request(request.clone(), &ProblemLimits::default(), &NeverStop)?,
        Some(server) => {
            let mut client = pb::slot_finder_client::SlotFinderClient::new(connect(server).await?);
            client
                .find_slots(request.clone())
                .await
                .map_err(CliError::Rpc)?
                .into_inner()
        }
    };
    if let Some(path) = &args.html {
        write_picture(path, &request, &response, args.zone)?;
        if !explain_asked {
            response.rejected_starts = None;
        }
    }
    let mut out = if args.json {
        json::response_to_json(&response)?
    } else {
        render_table(&request, &response, args.zone)
    };
    if let (Some(path), false) = (&args.html, args.json) {
        let _ = writeln!(out, "\nPicture: {}", path.display());
    }
    if let Some(rank) = args.hold.hold {
        let place = hold_slot::place_request(&response, rank, &args.hold)?;
        let hold = hold_slot::place(args.server.as_deref(), place, &args.hold).await?;
        if args.json {
            out.push_str(&json::to_json("quorum.v1.Hold", &hold)?);
        } else {
            out.push_str(&hold_slot::placed_line(&hold, rank));
        }
    }
    Ok(out)
}

/// The answer as one HTML page at `path` (see [`crate::picture`]).
fn write_picture(
    path: &std::path::Path,
    request: &pb::FindSlotsRequest,
    response: &pb::FindSlotsResponse,
    zone: Tz,
) -> Result<(), CliError> {
    let html = crate::picture::render_slots(request, response, zone)?;
    std::fs::write(path, html).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
}

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(crate::convert::from_timestamp)
}

/// The slots as a person reads them: one block per slot, each role with its
/// person and that person's local time.
pub fn render_table(
    request: &pb::FindSlotsRequest,
    response: &pb::FindSlotsResponse,
    zone: Tz,
) -> String {
    let zones: HashMap<&str, Tz> = request
        .people
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.time_zone.parse().ok()?)))
        .collect();
    let roles: HashMap<&str, &str> = request
        .roles
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                if r.name.is_empty() {
                    r.id.as_str()
                } else {
                    r.name.as_str()
                },
            )
        })
        .collect();
    let mut out = String::new();
    // With no slot: the headline first, then the best way out a human could
    // approve and who approves it, then the proof behind it, indented.
    if response.slots.is_empty() && !response.headline.is_empty() {
        let _ = writeln!(out, "{}\n", response.headline);
        if let Some(best) = best_way_out(response) {
            let _ = writeln!(out, "{best}\n");
        }
        for line in response.proof.lines() {
            let _ = writeln!(out, "    {line}");
        }
        if !response.proof.is_empty() {
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "{}: {} slot(s) of {} minutes; {} candidate starts, {} after presolve (times in {})",
        response.change_ticket,
        response.slots.len(),
        request.meeting_minutes,
        response.candidate_starts_considered,
        response.presolved_starts,
        zone.name()
    );
    out.push_str(&hold_slot::counted_holds(response, zone));
    for slot in &response.slots {
        let (Some(start), Some(end)) = (instant(slot.start.as_ref()), instant(slot.end.as_ref()))
        else {
            continue;
        };
        let score = slot.score.clone().unwrap_or_default();
        let _ = writeln!(
            out,
            "\n#{:<3} {} – {}   cost {} (start +{} min, preferences −{}, attendees −{})",
            slot.rank,
            start.with_timezone(&zone).format("%a %Y-%m-%d %H:%M"),
            end.with_timezone(&zone).format("%H:%M %Z"),
            score.cost,
            score.start_offset_minutes,
            score.preference_credit_minutes,
            score.optional_attendee_credit_minutes,
        );
        for a in &slot.assignments {
            let local = zones
                .get(a.person_id.as_str())
                .map_or_else(String::new, |tz| {
                    format!(
                        "{} ({})",
                        start.with_timezone(tz).format("%a %H:%M %Z"),
                        tz.name()
                    )
                });
            let delegate = if a.via_delegate {
                " [confirmed delegate]"
            } else {
                ""
            };
            let role = roles.get(a.role_id.as_str()).copied().unwrap_or(&a.role_id);
            let _ = writeln!(out, "     {role:<28} {:<16} {local}{delegate}", a.person_id);
        }
        if !slot.optional_attendees.is_empty() {
            let _ = writeln!(out, "     optional: {}", slot.optional_attendees.join(", "));
        }
    }
    render_explanation(response, zone, &mut out);
    out
}

/// The best relaxation (or, when no single change helps, the best
/// combination) with the slot it opens and its approvers, in one line; never
/// applied, only offered.
fn best_way_out(response: &pb::FindSlotsResponse) -> Option<String> {
    if let Some(best) = response.relaxations.first() {
        return Some(format!(
            "Best relaxation (not applied): {} Approved by {}.",
            best.description,
            approvers(&best.approvers)
        ));
    }
    response.relaxation_combinations.first().map(|best| {
        format!(
            "Best combination of changes (not applied): {} Approved by {}.",
            best.description,
            approvers(&best.approvers)
        )
    })
}

/// An enum value spelled as in the proto and its JSON (`NEEDS_EXCEPTION`),
/// so the table, the JSON and the README use one spelling.
fn enum_name<E: TryFrom<i32> + std::fmt::Debug>(value: i32) -> String {
    E::try_from(value).map_or_else(|_| value.to_string(), |e| screaming(&format!("{e:?}")))
}

/// The outcome, conflicts, relaxations and rejections in plain language.
fn render_explanation(response: &pb::FindSlotsResponse, zone: Tz, out: &mut String) {
    if response.slots.is_empty() {
        let _ = writeln!(
            out,
            "\nOutcome: {}. No slot satisfies every rule.",
            enum_name::<pb::Outcome>(response.outcome)
        );
        let secondary: Vec<String> = response
            .secondary_reasons
            .iter()
            .map(|r| enum_name::<pb::EscalationReason>(*r))
            .collect();
        let _ = writeln!(
            out,
            "Primary reason: {}",
            enum_name::<pb::EscalationReason>(response.primary_reason)
        );
        if !secondary.is_empty() {
            let _ = writeln!(out, "Secondary reasons: {}", secondary.join(", "));
        }
    }
    for (i, conflict) in response.conflicts.iter().enumerate() {
        let _ = writeln!(out, "\n  Conflict {}: {}", i + 1, conflict.explanation);
    }
    if response.more_conflicts_may_exist {
        let _ = writeln!(out, "More conflicts may exist beyond those listed.");
    }
    if !response.relaxations.is_empty() {
        let _ = writeln!(
            out,
            "\n  Relaxations a human could approve (none is applied):"
        );
        for (i, relaxation) in response.relaxations.iter().enumerate() {
            let _ = writeln!(out, "    {}. {}", i + 1, relaxation.description);
            let _ = writeln!(
                out,
                "       approved by {}",
                approvers(&relaxation.approvers)
            );
        }
    }
    if !response.relaxation_combinations.is_empty() {
        let _ = writeln!(
            out,
            "\n  No single change opens a slot; changes a human could approve together (none is applied):"
        );
        for (i, combination) in response.relaxation_combinations.iter().enumerate() {
            let _ = writeln!(out, "    {}. {}", i + 1, combination.description);
            let _ = writeln!(
                out,
                "       approved by {}",
                approvers(&combination.approvers)
            );
        }
    }
    if let Some(rejected) = &response.rejected_starts {
        render_rejections(rejected, zone, out);
    }
}

/// "sec-2 (the person)", "the release owner", "fw-owner (owner of freeze window)".
pub(crate) fn approvers(approvers: &[pb::Approver]) -> String {
    use pb::approver::Role;
    let named: Vec<String> = approvers
        .iter()
        .map(|a| match Role::try_from(a.role) {
            Ok(Role::Person) => format!("{} (their own time)", a.id),
            Ok(Role::ReleaseOwner) => "the release owner".to_owned(),
            Ok(Role::FreezeWindowOwner) if a.id.is_empty() => {
                "the freeze window's owner (none named)".to_owned()
            }
            Ok(Role::FreezeWindowOwner) => format!("{} (freeze window owner)", a.id),
            Ok(Role::ReviewBoard) => "the review board".to_owned(),
            Ok(Role::ResourceOwner) if a.id.is_empty() => {
                "the resource's owner (none named)".to_owned()
            }
            Ok(Role::ResourceOwner) => format!("{} (resource owner)", a.id),
            Ok(Role::Unspecified) | Err(_) => "?".to_owned(),
        })
        .collect();
    named.join(" and ")
}

/// Each group of rejected runs under its reasons, times in the reader's zone.
fn render_rejections(rejected: &pb::RejectedStarts, zone: Tz, out: &mut String) {
    let when = |ts: Option<&prost_types::Timestamp>| {
        instant(ts).map_or_else(String::new, |t| {
            t.with_timezone(&zone)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
    };
    let _ = writeln!(out, "\nRejected starts:");
    let label = |i: &u32| {
        rejected
            .constraints
            .get(*i as usize)
            .map_or("?", |c| c.label.as_str())
    };
    for group in &rejected.groups {
        let mut labels: Vec<String> = group.reasons.iter().map(|i| label(i).to_owned()).collect();
        for pool in group
            .pools
            .iter()
            .filter_map(|&p| rejected.pools.get(p as usize))
        {
            let members: Vec<&str> = pool.members.iter().map(label).collect();
            labels.push(format!(
                "{} (because of the {})",
                label(&pool.role),
                members.join(", the ")
            ));
        }
        let _ = writeln!(out, "  rejected by the {}:", labels.join("; the "));
        for run in &group.runs {
            let (first, last) = (
                when(run.first_start.as_ref()),
                when(run.last_start.as_ref()),
            );
            if first == last {
                let _ = writeln!(out, "    start {first}");
            } else {
                let _ = writeln!(out, "    starts {first} to {last}");
            }
        }
    }
    if rejected.run_cap_reached {
        let _ = writeln!(
            out,
            "  (the server's cap on runs was reached; later starts are not described)"
        );
    }
}
