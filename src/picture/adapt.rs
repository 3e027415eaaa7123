//! The one place that reads the wire format for the picture: a request and
//! its response become a [`SlotsView`]. When the response's shape changes
//! (the explanation is being reworked), this file changes and the renderers
//! do not.

use super::model::{
    BusyBlock, Collapsed, Freeze, PersonRow, Proposal, Reason, RejectedRun, ReviewLoad, RoleGroup,
    SlotMark, SlotsView,
};
use crate::{convert, error::ServiceError, pb};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use quorum_domain::{Person, PersonId, ReviewCapacity, SlotProblem, TimeRange};
use std::collections::HashMap;

/// Horizon shown on either side of what matters, so a slot at the window's
/// edge is not drawn against the frame.
const MARGIN: Duration = Duration::hours(2);

/// Builds the view of one answer. The request is the one that was solved
/// (it converts, or it could not have been solved); `zone` is the reader's.
pub fn slots_view(
    request: &pb::FindSlotsRequest,
    response: &pb::FindSlotsResponse,
    zone: Tz,
) -> Result<SlotsView, ServiceError> {
    let (problem, _) = convert::slot_problem(request.clone())
        .map_err(|violations| ServiceError::InvalidRequest { violations })?;
    let roles: HashMap<&str, &str> = problem
        .roles
        .iter()
        .map(|r| (r.id.0.as_str(), r.label()))
        .collect();
    let bucket = Duration::minutes(problem.bucket.minutes().into());
    let slots: Vec<SlotMark> = response
        .slots
        .iter()
        .filter_map(|s| slot_mark(s, &roles))
        .collect();
    let proposal = response.relaxations.first().and_then(|r| {
        Some(Proposal {
            slot: slot_mark(r.best_slot.as_ref()?, &roles)?,
            description: r.description.clone(),
        })
    });
    let (window, collapsed) = drawn_window(&problem, &slots, proposal.as_ref());
    Ok(SlotsView {
        change_ticket: problem.change_ticket.clone(),
        zone,
        horizon: problem.horizon,
        window,
        collapsed,
        allowed: problem.window(),
        meeting_minutes: problem.meeting_minutes,
        bucket_minutes: problem.bucket.minutes(),
        outcome: outcome_name(response.outcome),
        headline: headline(response),
        escalation_reasons: response
            .escalation_reasons
            .iter()
            .map(|r| escalation_name(*r))
            .collect(),
        groups: role_groups(&problem),
        freezes: problem
            .freeze_windows
            .iter()
            .map(|f| Freeze {
                id: f.id.clone(),
                kind: f.kind,
                reason: f.reason.clone(),
                range: f.range,
            })
            .collect(),
        review: problem.review_capacity.as_ref().map(review_load),
        slots,
        proposal,
        rejected: response
            .rejected_starts
            .as_ref()
            .map(|table| rejected_runs(table, bucket))
            .unwrap_or_default(),
    })
}

fn outcome_name(value: i32) -> String {
    pb::Outcome::try_from(value).map_or_else(|_| value.to_string(), |o| o.as_str_name().to_owned())
}

fn escalation_name(value: i32) -> String {
    pb::EscalationReason::try_from(value)
        .map_or_else(|_| value.to_string(), |r| r.as_str_name().to_owned())
}

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(convert::from_timestamp)
}

fn slot_mark(slot: &pb::Slot, roles: &HashMap<&str, &str>) -> Option<SlotMark> {
    let range = TimeRange::new(instant(slot.start.as_ref())?, instant(slot.end.as_ref())?);
    Some(SlotMark {
        rank: slot.rank,
        range,
        assignments: slot
            .assignments
            .iter()
            .map(|a| {
                let role = roles.get(a.role_id.as_str()).copied().unwrap_or(&a.role_id);
                (role.to_owned(), a.person_id.clone(), a.via_delegate)
            })
            .collect(),
        optional_attendees: slot.optional_attendees.clone(),
        cost: slot.score.as_ref().map_or(0, |s| s.cost),
    })
}

/// The sentence a reader needs first when there is no slot: the reporter's
/// headline, else the first conflict's proof, else the outcome and its codes.
fn headline(response: &pb::FindSlotsResponse) -> Option<String> {
    if !response.slots.is_empty() {
        return None;
    }
    if !response.headline.is_empty() {
        return Some(response.headline.clone());
    }
    if let Some(conflict) = response.conflicts.first() {
        return Some(conflict.explanation.clone());
    }
    Some(format!(
        "No slot satisfies every rule ({}).",
        outcome_name(response.outcome)
    ))
}

/// The part of the horizon worth drawing: from not-before (or the earliest
/// mark) to the deadline (or the latest mark), with a margin; the horizon
/// outside it holds nothing a meeting could use and is collapsed.
fn drawn_window(
    problem: &SlotProblem,
    slots: &[SlotMark],
    proposal: Option<&Proposal>,
) -> (TimeRange, Collapsed) {
    let horizon = problem.horizon;
    let allowed = problem.window();
    if allowed.is_empty() {
        return (horizon, Collapsed::default());
    }
    let marks = slots.iter().chain(proposal.map(|p| &p.slot));
    let (mut start, mut end) = (allowed.start, allowed.end);
    for mark in marks {
        start = start.min(mark.range.start);
        end = end.max(mark.range.end);
    }
    let start = (start - MARGIN).max(horizon.start);
    let end = (end + MARGIN).min(horizon.end);
    let collapsed = Collapsed {
        before: (start > horizon.start).then(|| TimeRange::new(horizon.start, start)),
        after: (end < horizon.end).then(|| TimeRange::new(end, horizon.end)),
    };
    (TimeRange::new(start, end), collapsed)
}

/// One group per role (pool, then delegates), then everyone else.
fn role_groups(problem: &SlotProblem) -> Vec<RoleGroup> {
    let people: HashMap<&PersonId, &Person> = problem.people.iter().map(|p| (&p.id, p)).collect();
    let mut placed = std::collections::HashSet::new();
    let mut groups = Vec::with_capacity(problem.roles.len() + 1);
    for role in &problem.roles {
        let members = role.pool.iter().map(|id| (id, None)).chain(
            role.delegates
                .iter()
                .map(|d| (&d.person, Some(d.authority_confirmed))),
        );
        let rows = members
            .filter_map(|(id, delegate)| {
                placed.insert(id.clone());
                Some(person_row(people.get(id)?, delegate, problem.horizon))
            })
            .collect();
        groups.push(RoleGroup {
            label: role.label().to_owned(),
            rows,
        });
    }
    let others: Vec<PersonRow> = problem
        .people
        .iter()
        .filter(|p| !placed.contains(&p.id))
        .map(|p| person_row(p, None, problem.horizon))
        .collect();
    if !others.is_empty() {
        groups.push(RoleGroup {
            label: "optional attendees and others".to_owned(),
            rows: others,
        });
    }
    groups
}

fn person_row(person: &Person, delegate: Option<bool>, horizon: TimeRange) -> PersonRow {
    PersonRow {
        id: person.id.0.clone(),
        display_name: person.display_name.clone(),
        zone: person.time_zone,
        delegate,
        working: person.working_intervals(horizon),
        busy: person
            .busy
            .iter()
            .filter(|b| !b.range.is_empty())
            .map(|b| BusyBlock {
                range: b.range,
                status: b.status,
            })
            .collect(),
    }
}

/// Booked reviews as a step function of how many run at once.
fn review_load(capacity: &ReviewCapacity) -> ReviewLoad {
    let mut edges: Vec<(DateTime<Utc>, i64)> = capacity
        .booked
        .iter()
        .filter(|b| !b.range.is_empty())
        .flat_map(|b| [(b.range.start, 1), (b.range.end, -1)])
        .collect();
    edges.sort();
    let mut steps = Vec::new();
    let mut load = 0i64;
    for pair in edges.windows(2) {
        load += pair[0].1;
        let range = TimeRange::new(pair[0].0, pair[1].0);
        if load > 0 && !range.is_empty() {
            steps.push((range, u32::try_from(load).unwrap_or(u32::MAX)));
        }
    }
    ReviewLoad {
        max_concurrent: capacity.max_concurrent,
        steps,
    }
}

/// The runs of the compact rejection table: each group's reasons (and the
/// role pools it blames, with their members) are looked up once by index and
/// shared by all of the group's runs.
fn rejected_runs(table: &pb::RejectedStarts, bucket: Duration) -> Vec<RejectedRun> {
    let mut runs = Vec::new();
    for group in &table.groups {
        let mut refs: Vec<&pb::ConstraintRef> = group
            .reasons
            .iter()
            .filter_map(|&i| table.constraints.get(i as usize))
            .collect();
        for blame in group
            .pools
            .iter()
            .filter_map(|&i| table.pools.get(i as usize))
        {
            let members = blame
                .members
                .iter()
                .filter_map(|&i| table.constraints.get(i as usize));
            refs.extend(
                table
                    .constraints
                    .get(blame.role as usize)
                    .into_iter()
                    .chain(members),
            );
        }
        // Until the response names a primary reason per run, the most telling
        // one colours it: "the role's pool" is there whenever anyone is away,
        // the freeze or the working hours say why.
        let reason = refs
            .iter()
            .map(|r| reason(r.kind))
            .min_by_key(|r| telling(*r))
            .unwrap_or(Reason::Other);
        let labels: Vec<&str> = refs.iter().map(|r| r.label.as_str()).collect();
        for run in &group.runs {
            let (Some(first), Some(last)) = (
                instant(run.first_start.as_ref()),
                instant(run.last_start.as_ref()),
            ) else {
                continue;
            };
            runs.push(RejectedRun {
                starts: TimeRange::new(first, last + bucket),
                reason,
                text: format!(
                    "Starts {} to {} (UTC) rejected by the {}.",
                    first.format("%a %Y-%m-%d %H:%M"),
                    last.format("%a %Y-%m-%d %H:%M"),
                    labels.join("; the ")
                ),
            });
        }
    }
    runs.sort_by_key(|r| r.starts.start);
    runs
}

/// The colour key's reason for a constraint kind on the wire.
fn reason(kind: i32) -> Reason {
    use pb::ConstraintKind as K;
    match K::try_from(kind) {
        Ok(K::RoleRequirement) => Reason::RolePool,
        Ok(K::WorkingHours) => Reason::WorkingHours,
        Ok(K::BusyTime) => Reason::Busy,
        Ok(K::OnePersonOneRole) => Reason::OnePersonOneRole,
        Ok(K::Freeze) => Reason::Freeze,
        Ok(K::ReviewCapacity) => Reason::ReviewCapacity,
        Ok(K::NotBefore) => Reason::NotBefore,
        Ok(K::EvidenceDeadline) => Reason::Deadline,
        Ok(K::Unspecified) | Err(_) => Reason::Other,
    }
}

/// How much a reason says about a rejected run; smaller says more.
fn telling(reason: Reason) -> u8 {
    match reason {
        Reason::NotBefore | Reason::Deadline => 0,
        Reason::Freeze => 1,
        Reason::ReviewCapacity => 2,
        Reason::WorkingHours => 3,
        Reason::Busy => 4,
        Reason::OnePersonOneRole => 5,
        Reason::RolePool => 6,
        Reason::Other => 7,
    }
}
