//! The one sentence a release owner reads first when there is no slot: the
//! primary reason and the fact that decides it, in the reader's zone. Written
//! here, at the edge, from the response's data; the solver holds no words
//! for it.

use crate::pb::{self, decisive_fact::Fact};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Meeting windows listed in a headline before "and N more".
const WINDOWS_SHOWN: usize = 4;

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(crate::convert::from_timestamp)
}

fn when(ts: Option<&prost_types::Timestamp>, zone: Tz) -> String {
    instant(ts).map_or_else(
        || "?".to_owned(),
        |t| {
            t.with_timezone(&zone)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        },
    )
}

fn span(range: Option<&pb::TimeRange>, zone: Tz) -> String {
    range.map_or_else(
        || "?".to_owned(),
        |r| {
            format!(
                "{} to {}",
                when(r.start.as_ref(), zone),
                when(r.end.as_ref(), zone)
            )
        },
    )
}

/// "Tue 14:00–15:30, Thu 09:00–10:00 CET" (and how many more).
fn windows(meetings: &[pb::TimeRange], zone: Tz) -> String {
    let shown: Vec<String> = meetings
        .iter()
        .take(WINDOWS_SHOWN)
        .filter_map(|r| {
            let (start, end) = (instant(r.start.as_ref())?, instant(r.end.as_ref())?);
            let (start, end) = (start.with_timezone(&zone), end.with_timezone(&zone));
            let end_format = if start.date_naive() == end.date_naive() {
                "%H:%M"
            } else {
                "%a %H:%M"
            };
            Some(format!(
                "{}–{}",
                start.format("%a %d %b %H:%M"),
                end.format(end_format)
            ))
        })
        .collect();
    let more = meetings.len().saturating_sub(WINDOWS_SHOWN);
    let mut text = format!("{} ({})", shown.join(", "), zone.name());
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

fn role_label<'r>(request: &'r pb::FindSlotsRequest, id: &'r str) -> &'r str {
    request
        .roles
        .iter()
        .find(|r| r.id == id)
        .map_or(id, |r| if r.name.is_empty() { &r.id } else { &r.name })
}

/// The headline for a response with no slot, if it carries a decisive fact.
pub fn headline(
    request: &pb::FindSlotsRequest,
    response: &pb::FindSlotsResponse,
    zone: Tz,
) -> Option<String> {
    let fact = response.decisive_fact.as_ref()?.fact.as_ref()?;
    let minutes = request.meeting_minutes;
    Some(match fact {
        Fact::EmptyWindow(w) => format!(
            "No slot: no {minutes}-minute meeting fits between the not-before time {} and the evidence deadline {}.",
            when(w.not_before.as_ref(), zone),
            when(w.deadline.as_ref(), zone)
        ),
        Fact::RolesNeverStaffed(r) => {
            let roles: Vec<&str> = r
                .role_ids
                .iter()
                .map(|id| role_label(request, id))
                .collect();
            format!(
                "No slot: nobody in the {} pool{} is available for {minutes} minutes at any time from {}.",
                roles.join(" and "),
                if roles.len() > 1 { "s" } else { "" },
                span(r.window.as_ref(), zone)
            )
        }
        Fact::RolesNeverTogether(r) => format!(
            "No slot: each role can be staffed at some time from {}, but never all of them at once.",
            span(r.window.as_ref(), zone)
        ),
        Fact::SamePersonNeeded(s) => format!(
            "No slot: every role has someone only in {}, and there only if one person held two roles.",
            windows(&s.meetings, zone)
        ),
        Fact::TeamMeetsOnlyIn(t) => {
            let mut blockers = Vec::new();
            match t.freeze_window_ids.as_slice() {
                [] => {}
                [one] => blockers.push(format!("freeze window {one}")),
                many => blockers.push(format!("freeze windows {}", many.join(", "))),
            }
            if t.capacity_full {
                let limit = request
                    .review_capacity
                    .as_ref()
                    .map_or(0, |c| c.max_concurrent);
                blockers.push(format!("the review capacity of {limit}, already full"));
            }
            format!(
                "No slot: the roles can all meet only in {}, and every one of them is blocked by {}.",
                windows(&t.meetings, zone),
                blockers.join(" and ")
            )
        }
    })
}
