//! The rules every slot problem must follow, reported as field violations with
//! the request's own paths (`people[2].busy[0].end`) so a caller can fix them.
//! Sizes are checked first against the limits, before anything is discretised.

use crate::{FieldViolation, ProblemLimits, SlotProblem, TimeRange};
use std::collections::{HashMap, HashSet};

/// At most this many violations are collected: a 16 MiB request of bad fields
/// would otherwise become a far larger list of sentences.
pub const MAX_COLLECTED_VIOLATIONS: usize = 1_000;

pub(crate) fn violations(problem: &SlotProblem, limits: &ProblemLimits) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    check_frame(problem, limits, &mut out);
    let before = out.len();
    check_sizes(problem, limits, &mut out);
    // Per-item checks allocate a path per item: only worth it once the sizes
    // are known to be within the limits.
    if out.len() > before {
        return out;
    }
    check_id_lengths(problem, limits, &mut out);
    let people = check_people(&problem.people, &mut out);
    check_roles(problem, limits, &people, &mut out);
    check_optional_attendees(problem, limits, &people, &mut out);
    check_rules(problem, limits, &mut out);
    out.truncate(MAX_COLLECTED_VIOLATIONS);
    out
}

pub(crate) fn push(
    out: &mut Vec<FieldViolation>,
    field: impl Into<String>,
    description: impl Into<String>,
) {
    if out.len() < MAX_COLLECTED_VIOLATIONS {
        out.push(FieldViolation::new(field, description));
    }
}

pub(crate) fn check_range(range: &TimeRange, path: &str, out: &mut Vec<FieldViolation>) {
    if range.is_empty() {
        push(
            out,
            format!("{path}.end"),
            format!(
                "end {} is not after start {}",
                range.end.to_rfc3339(),
                range.start.to_rfc3339()
            ),
        );
    }
}

pub(crate) fn check_weight(
    weight: i64,
    path: String,
    limits: &ProblemLimits,
    out: &mut Vec<FieldViolation>,
) {
    if weight.unsigned_abs() > limits.max_weight_minutes.unsigned_abs() {
        push(
            out,
            path,
            format!(
                "weight {weight} is beyond the limit of ±{} minutes",
                limits.max_weight_minutes
            ),
        );
    }
}

fn check_frame(problem: &SlotProblem, limits: &ProblemLimits, out: &mut Vec<FieldViolation>) {
    if problem.change_ticket.trim().is_empty() {
        push(out, "change_ticket", "a change ticket id is required");
    }
    check_range(&problem.horizon, "horizon", out);
    if problem.meeting_minutes == 0 {
        push(
            out,
            "meeting_minutes",
            "the meeting must last at least one minute",
        );
    } else if !problem.horizon.is_empty() && problem.meeting_duration() > problem.horizon.duration()
    {
        push(
            out,
            "meeting_minutes",
            format!(
                "the {}-minute meeting is longer than the {}-minute horizon",
                problem.meeting_minutes,
                problem.horizon.duration().num_minutes()
            ),
        );
    }
    let buckets = problem.bucket_count();
    if buckets > i64::from(limits.max_buckets) {
        push(
            out,
            "horizon.end",
            format!(
                "the horizon holds {buckets} buckets of {} minutes, more than this server's limit of {}; shorten the horizon or use larger buckets",
                problem.bucket.minutes(),
                limits.max_buckets
            ),
        );
    }
    if problem.top_k > limits.max_top_k {
        push(
            out,
            "top_k",
            format!(
                "top_k {} is above the limit of {}",
                problem.top_k, limits.max_top_k
            ),
        );
    }
    check_weight(
        problem.optional_attendee_weight_minutes,
        "optional_attendee_weight_minutes".into(),
        limits,
        out,
    );
}

fn check_sizes(problem: &SlotProblem, limits: &ProblemLimits, out: &mut Vec<FieldViolation>) {
    let busy: usize = problem.people.iter().map(|p| p.busy.len()).sum();
    let review_count = problem
        .review_capacity
        .as_ref()
        .map_or(0, |c| c.booked.len());
    let sizes = [
        ("people", problem.people.len(), limits.max_people),
        ("roles", problem.roles.len(), limits.max_roles),
        ("people[].busy", busy, limits.max_busy_intervals),
        (
            "freeze_windows",
            problem.freeze_windows.len(),
            limits.max_freeze_windows,
        ),
        (
            "review_capacity.booked",
            review_count,
            limits.max_booked_reviews,
        ),
        (
            "preferences",
            problem.preferences.len(),
            limits.max_preferences,
        ),
        (
            "optional_attendees",
            problem.optional_attendees.len(),
            limits.max_optional_attendees,
        ),
    ];
    for (field, count, limit) in sizes {
        if count > limit {
            push(
                out,
                field,
                format!("{count} entries exceed this server's limit of {limit}"),
            );
        }
    }
    for (i, person) in problem.people.iter().enumerate() {
        let count = person.working_hours.len();
        if count > limits.max_working_hours_per_person {
            push(
                out,
                format!("people[{i}].working_hours"),
                format!(
                    "{count} working windows exceed this server's limit of {} per person; join touching windows",
                    limits.max_working_hours_per_person
                ),
            );
        }
    }
}

/// Every id and label a response or log may echo is bounded in size.
fn check_id_lengths(problem: &SlotProblem, limits: &ProblemLimits, out: &mut Vec<FieldViolation>) {
    let max = limits.max_id_bytes;
    for (i, freeze) in problem.freeze_windows.iter().enumerate() {
        // A reason is a short sentence, not an id: four times the room.
        if freeze.reason.len() > 4 * max {
            push(
                out,
                format!("freeze_windows[{i}].reason"),
                format!(
                    "{} bytes is longer than this server's limit of {} bytes for a reason",
                    freeze.reason.len(),
                    4 * max
                ),
            );
        }
    }
    let mut check = |text: &str, path: &dyn Fn() -> String| {
        if text.len() > max {
            push(
                out,
                path(),
                format!(
                    "{} bytes is longer than this server's limit of {max} bytes for ids and labels",
                    text.len()
                ),
            );
        }
    };
    check(&problem.change_ticket, &|| "change_ticket".to_owned());
    for (i, person) in problem.people.iter().enumerate() {
        check(&person.id.0, &|| format!("people[{i}].id"));
    }
    for (i, role) in problem.roles.iter().enumerate() {
        check(&role.id.0, &|| format!("roles[{i}].id"));
        check(role.label(), &|| format!("roles[{i}].name"));
    }
    for (i, freeze) in problem.freeze_windows.iter().enumerate() {
        check(&freeze.id, &|| format!("freeze_windows[{i}].id"));
        check(&freeze.owner, &|| format!("freeze_windows[{i}].owner"));
    }
    if let Some(capacity) = &problem.review_capacity {
        for (i, review) in capacity.booked.iter().enumerate() {
            check(&review.change_ticket, &|| {
                format!("review_capacity.booked[{i}].change_ticket")
            });
        }
    }
    for (i, preference) in problem.preferences.iter().enumerate() {
        check(&preference.id, &|| format!("preferences[{i}].id"));
    }
}

/// An id as a message may quote it: long ones are cut, so a violation never
/// echoes megabytes back to the caller.
pub(crate) fn quoted(id: &str) -> String {
    const SHOWN: usize = 64;
    if id.len() <= SHOWN {
        format!("{id:?}")
    } else {
        let cut = (0..=SHOWN)
            .rev()
            .find(|&i| id.is_char_boundary(i))
            .unwrap_or(0);
        format!("{:?}…", &id[..cut])
    }
}

/// Checks people and returns the index of each defined id.
pub(crate) fn check_people<'a>(
    people: &'a [crate::Person],
    out: &mut Vec<FieldViolation>,
) -> HashMap<&'a str, usize> {
    let mut index = HashMap::new();
    for (i, person) in people.iter().enumerate() {
        let path = format!("people[{i}]");
        if person.id.0.trim().is_empty() {
            push(out, format!("{path}.id"), "a person id is required");
        } else if let Some(first) = index.insert(person.id.0.as_str(), i) {
            index.insert(person.id.0.as_str(), first);
            push(
                out,
                format!("{path}.id"),
                format!(
                    "duplicate person id {}, first defined at people[{first}]",
                    quoted(&person.id.0)
                ),
            );
        }
        for (j, hours) in person.working_hours.iter().enumerate() {
            if hours.start == hours.end {
                push(
                    out,
                    format!("{path}.working_hours[{j}].end"),
                    format!("the window {}–{} is empty", hours.start, hours.end),
                );
            }
            if hours.start == crate::LocalTime::END_OF_DAY {
                push(
                    out,
                    format!("{path}.working_hours[{j}].start"),
                    "a window cannot start at 24:00; start it at 00:00 of the next day",
                );
            }
        }
        for (j, busy) in person.busy.iter().enumerate() {
            check_range(&busy.range, &format!("{path}.busy[{j}]"), out);
        }
    }
    index
}

pub(crate) fn check_reference(
    id: &str,
    people: &HashMap<&str, usize>,
    path: String,
    out: &mut Vec<FieldViolation>,
) {
    if !people.contains_key(id) {
        push(
            out,
            path,
            format!("person {} is not defined in people", quoted(id)),
        );
    }
}

fn check_roles(
    problem: &SlotProblem,
    limits: &ProblemLimits,
    people: &HashMap<&str, usize>,
    out: &mut Vec<FieldViolation>,
) {
    if problem.roles.is_empty() {
        push(out, "roles", "at least one required role is needed");
    }
    let mut ids = HashMap::new();
    for (i, role) in problem.roles.iter().enumerate() {
        let path = format!("roles[{i}]");
        if role.id.0.trim().is_empty() {
            push(out, format!("{path}.id"), "a role id is required");
        } else if let Some(first) = ids.get(role.id.0.as_str()) {
            push(
                out,
                format!("{path}.id"),
                format!(
                    "duplicate role id {}, first used by roles[{first}]",
                    quoted(&role.id.0)
                ),
            );
        } else {
            ids.insert(role.id.0.as_str(), i);
        }
        if role.pool.is_empty() {
            push(
                out,
                format!("{path}.pool"),
                format!(
                    "role {} has an empty pool; name at least one person who can fill it",
                    quoted(role.label())
                ),
            );
        }
        let candidates = role.pool.len() + role.delegates.len();
        if candidates > limits.max_role_candidates {
            push(
                out,
                format!("{path}.pool"),
                format!(
                    "{candidates} candidates exceed this server's limit of {}",
                    limits.max_role_candidates
                ),
            );
        }
        let mut seen = HashSet::new();
        for (j, person) in role.pool.iter().enumerate() {
            check_reference(&person.0, people, format!("{path}.pool[{j}]"), out);
            if !seen.insert(person) {
                push(
                    out,
                    format!("{path}.pool[{j}]"),
                    format!("person {} is listed twice", quoted(&person.0)),
                );
            }
        }
        for (j, delegate) in role.delegates.iter().enumerate() {
            check_reference(
                &delegate.person.0,
                people,
                format!("{path}.delegates[{j}].person_id"),
                out,
            );
        }
    }
}

fn check_optional_attendees(
    problem: &SlotProblem,
    limits: &ProblemLimits,
    people: &HashMap<&str, usize>,
    out: &mut Vec<FieldViolation>,
) {
    let mut seen = HashSet::new();
    for (i, (person, weight)) in problem.optional_attendees.iter().enumerate() {
        let path = format!("optional_attendees[{i}]");
        check_reference(&person.0, people, format!("{path}.person_id"), out);
        if !seen.insert(person) {
            push(
                out,
                format!("{path}.person_id"),
                format!("person {} is listed twice", quoted(&person.0)),
            );
        }
        if let Some(w) = weight {
            check_weight(*w, format!("{path}.weight_minutes"), limits, out);
        }
    }
}

fn check_rules(problem: &SlotProblem, limits: &ProblemLimits, out: &mut Vec<FieldViolation>) {
    let mut ids = HashSet::new();
    for (i, freeze) in problem.freeze_windows.iter().enumerate() {
        let path = format!("freeze_windows[{i}]");
        if freeze.id.trim().is_empty() {
            push(
                out,
                format!("{path}.id"),
                "a freeze window id is required, so explanations can name it",
            );
        } else if !ids.insert(freeze.id.as_str()) {
            push(
                out,
                format!("{path}.id"),
                format!("duplicate freeze window id {}", quoted(&freeze.id)),
            );
        }
        check_range(&freeze.range, &path, out);
    }
    if let Some(capacity) = &problem.review_capacity {
        if capacity.max_concurrent == 0 {
            push(
                out,
                "review_capacity.max_concurrent",
                "capacity must be at least 1; omit review_capacity for no limit",
            );
        }
        for (i, review) in capacity.booked.iter().enumerate() {
            check_range(&review.range, &format!("review_capacity.booked[{i}]"), out);
        }
    }
    for (i, preference) in problem.preferences.iter().enumerate() {
        let path = format!("preferences[{i}]");
        check_range(&preference.range, &path, out);
        check_weight(
            preference.weight_minutes,
            format!("{path}.weight_minutes"),
            limits,
            out,
        );
    }
}
