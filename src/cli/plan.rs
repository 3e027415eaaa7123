//! `quorum plan FILE`: plan a release programme locally (or on a server with
//! `--server`) and print each plan as a timeline — every milestone with its
//! window, who fills each role in their own local time, and the parts of its
//! score — or the reason there is no plan; `--json` prints the response as
//! proto3 JSON.

use crate::cli::connect::{DEFAULT_SERVER, connect};
use crate::cli::find_slots::{CliError, approvers, parse_zone, read_request};
use crate::cli::hold_plan::{self, HoldPlanArgs};
use crate::{json, pb, release_planner::plan_request};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_domain::ProgrammeLimits;
use quorum_solver::NeverStop;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// A PlanReleaseRequest in proto3 JSON (`-` reads standard input).
    pub file: PathBuf,
    /// Plan on a running server instead of locally: host:port or a URL.
    #[arg(long, num_args = 0..=1, default_missing_value = DEFAULT_SERVER)]
    pub server: Option<String>,
    /// Print the response as proto3 JSON instead of a timeline.
    #[arg(long)]
    pub json: bool,
    /// The IANA zone to show milestone windows in, e.g. Europe/Berlin.
    #[arg(long, default_value = "UTC", value_parser = parse_zone)]
    pub zone: Tz,
    /// Return at most this many plans (overrides the file's topK).
    #[arg(long)]
    pub top_k: Option<u32>,
    #[command(flatten)]
    pub hold: HoldPlanArgs,
}

pub async fn run(args: &PlanArgs) -> Result<String, CliError> {
    let text = read_request(&args.file)?;
    let mut request: pb::PlanReleaseRequest =
        json::from_json("quorum.v1.PlanReleaseRequest", &text)?;
    if let Some(top_k) = args.top_k {
        request.top_k = top_k;
    }
    // The server words conflicts and changes in the reader's zone unless
    // the file names one.
    if request.display_time_zone.is_empty() {
        request.display_time_zone = args.zone.name().to_owned();
    }
    let response = match &args.server {
        None => plan_request(request.clone(), &ProgrammeLimits::default(), &NeverStop)?,
        Some(server) => {
            let mut client =
                pb::release_planner_client::ReleasePlannerClient::new(connect(server).await?);
            client
                .plan_release(request.clone())
                .await
                .map_err(CliError::Rpc)?
                .into_inner()
        }
    };
    let mut out = if args.json {
        json::to_json("quorum.v1.PlanReleaseResponse", &response)?
    } else {
        render_timeline(&request, &response, args.zone)
    };
    if let Some(rank) = args.hold.hold {
        let place = hold_plan::place_request(&response, rank, &args.hold)?;
        let held = hold_plan::place(args.server.as_deref(), place, &args.hold).await?;
        if args.json {
            out.push_str(&json::to_json("quorum.v1.PlanHold", &held)?);
        } else {
            out.push_str(&hold_plan::placed_lines(&held, rank));
        }
    }
    Ok(out)
}

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(crate::convert::from_timestamp)
}

fn local(t: Option<DateTime<Utc>>, zone: Tz, format: &str) -> String {
    t.map_or_else(
        || "?".into(),
        |t| t.with_timezone(&zone).format(format).to_string(),
    )
}

/// Plans as timelines, or the reason there is none.
pub fn render_timeline(
    request: &pb::PlanReleaseRequest,
    response: &pb::PlanReleaseResponse,
    zone: Tz,
) -> String {
    let zones: HashMap<&str, Tz> = request
        .people
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.time_zone.parse().ok()?)))
        .collect();
    let names: HashMap<&str, &str> = request
        .milestones
        .iter()
        .map(|m| {
            (
                m.id.as_str(),
                if m.name.is_empty() {
                    m.id.as_str()
                } else {
                    m.name.as_str()
                },
            )
        })
        .collect();
    let mut out = String::new();
    for plan in &response.plans {
        let _ = writeln!(out, "Plan {} — total cost {}", plan.rank, plan.cost);
        for m in &plan.milestones {
            render_milestone(&mut out, m, &names, &zones, zone);
        }
        out.push('\n');
    }
    if response.plans.is_empty() {
        render_no_plan(&mut out, response, &names, &zones, zone);
    }
    out
}

fn render_milestone(
    out: &mut String,
    m: &pb::PlannedMilestone,
    names: &HashMap<&str, &str>,
    zones: &HashMap<&str, Tz>,
    zone: Tz,
) {
    let (start, end) = (instant(m.start.as_ref()), instant(m.end.as_ref()));
    let _ = writeln!(
        out,
        "  {}–{} {}  {}",
        local(start, zone, "%a %Y-%m-%d %H:%M"),
        local(end, zone, "%H:%M %Z"),
        names
            .get(m.milestone_id.as_str())
            .copied()
            .unwrap_or(&m.milestone_id),
        m.score.as_ref().map_or(String::new(), |s| format!(
            "cost {} = {} min from horizon start − {} preference ({}) − {} attendees",
            s.cost,
            s.start_offset_minutes,
            s.preference_credit_minutes,
            s.preference_ids.join(", "),
            s.optional_attendee_credit_minutes
        )),
    );
    for a in &m.assignments {
        let person_zone = zones
            .get(a.person_id.as_str())
            .copied()
            .unwrap_or(chrono_tz::UTC);
        let _ = writeln!(
            out,
            "      {}: {}{} — {}–{} {}",
            a.role_id,
            a.person_id,
            if a.via_delegate { " (delegate)" } else { "" },
            local(start, person_zone, "%a %H:%M"),
            local(end, person_zone, "%H:%M"),
            person_zone.name()
        );
    }
    if !m.optional_attendees.is_empty() {
        let _ = writeln!(out, "      optional: {}", m.optional_attendees.join(", "));
    }
}

fn render_no_plan(
    out: &mut String,
    response: &pb::PlanReleaseResponse,
    names: &HashMap<&str, &str>,
    zones: &HashMap<&str, Tz>,
    zone: Tz,
) {
    let outcome = pb::Outcome::try_from(response.outcome)
        .map_or_else(|_| "?".into(), |o| o.as_str_name().to_owned());
    let _ = writeln!(out, "No plan ({outcome}).");
    if let Some(reason) = &response.reason {
        let _ = writeln!(out, "Reason: {}", reason.detail);
        for conflict in &reason.milestone_conflicts {
            let _ = writeln!(out, "  {}", conflict.explanation);
        }
    }
    if !response.conflict.is_empty() {
        let items: Vec<String> = response
            .conflict
            .iter()
            .map(|c| match pb::ProgrammeConstraintKind::try_from(c.kind) {
                Ok(pb::ProgrammeConstraintKind::Dependency) => {
                    format!("dependency #{}", c.dependency_index)
                }
                Ok(pb::ProgrammeConstraintKind::MilestoneDeadline) => {
                    format!("deadline of {}", c.milestone_id)
                }
                _ => format!("rules of {}", c.milestone_id),
            })
            .collect();
        let _ = writeln!(out, "Conflict: {}", items.join(" + "));
    }
    for r in &response.relaxations {
        let change = match pb::ProgrammeRelaxationKind::try_from(r.kind) {
            Ok(pb::ProgrammeRelaxationKind::MoveDeadline) => format!(
                "move the deadline of {} to {}",
                r.milestone_id,
                local(instant(r.deadline.as_ref()), zone, "%a %Y-%m-%d %H:%M %Z")
            ),
            Ok(pb::ProgrammeRelaxationKind::LengthenGap) => format!(
                "lengthen dependency #{}'s maximum gap to {} minutes",
                r.dependency_index, r.max_gap_minutes
            ),
            Ok(pb::ProgrammeRelaxationKind::ExceedResource) => format!(
                "let {} run beyond resource {}'s capacity",
                names
                    .get(r.milestone_id.as_str())
                    .copied()
                    .unwrap_or(&r.milestone_id),
                r.resource_id
            ),
            Ok(pb::ProgrammeRelaxationKind::MilestoneChange) => {
                milestone_change(r, names, zones, zone)
            }
            _ => format!(
                "shorten dependency #{}'s minimum gap to {} minutes",
                r.dependency_index, r.min_gap_minutes
            ),
        };
        let cost = r.plan.as_ref().map_or(0, |p| p.cost);
        let _ = writeln!(out, "With approval: {change} (opens a plan of cost {cost})");
        let _ = writeln!(out, "  approved by {}", approvers(&r.approvers));
    }
}

/// One of FindSlots' changes for one milestone, times in the reader's zone
/// and, for a person's own change, in theirs.
fn milestone_change(
    r: &pb::ProgrammeRelaxation,
    names: &HashMap<&str, &str>,
    zones: &HashMap<&str, Tz>,
    zone: Tz,
) -> String {
    use pb::relaxation::Change;
    let milestone = names
        .get(r.milestone_id.as_str())
        .copied()
        .unwrap_or(&r.milestone_id);
    let slot = r.change.as_ref().and_then(|c| c.best_slot.as_ref());
    let (start, end) = (
        instant(slot.and_then(|s| s.start.as_ref())),
        instant(slot.and_then(|s| s.end.as_ref())),
    );
    let theirs = |person: &str| {
        let tz = zones.get(person).copied().unwrap_or(chrono_tz::UTC);
        format!(
            "{}–{} {}",
            local(start, tz, "%a %H:%M"),
            local(end, tz, "%H:%M"),
            tz.name()
        )
    };
    match r.change.as_ref().and_then(|c| c.change.as_ref()) {
        Some(Change::AfterHours(a)) => format!(
            "ask {} to attend {} {} minutes outside their working hours ({}, their time)",
            a.person_id,
            milestone,
            a.minutes,
            theirs(&a.person_id)
        ),
        Some(Change::MoveCommitments(m)) => {
            let moved: Vec<String> = m
                .intervals
                .iter()
                .map(|b| {
                    format!(
                        "{}–{}",
                        local(instant(b.start.as_ref()), zone, "%a %H:%M"),
                        local(instant(b.end.as_ref()), zone, "%H:%M %Z")
                    )
                })
                .collect();
            format!(
                "ask {} to move their commitment(s) {} for {} ({}, their time)",
                m.person_id,
                moved.join(", "),
                milestone,
                theirs(&m.person_id)
            )
        }
        Some(Change::ConfirmDelegate(d)) => format!(
            "confirm {}'s authority to stand in as {} for {}",
            d.person_id, d.role_id, milestone
        ),
        Some(Change::OverrideFreezeWindow(f)) => format!(
            "hold {} inside freeze window {}",
            milestone, f.freeze_window_id
        ),
        Some(Change::MoveEvidenceDeadline(_) | Change::ExceedReviewCapacity(_)) | None => format!(
            "change {milestone}: {}",
            r.change.as_ref().map_or("", |c| c.description.as_str())
        ),
    }
}
