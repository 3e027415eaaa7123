//! The rules every slot problem must follow, reported as field violations with
//! the request's own paths (`people[2].busy[0].end`) so a caller can fix them.
//! Sizes are checked first against the limits, before anything is discretised.

use crate::{FieldViolation, ProblemLimits, SlotProblem, TimeRange};
use std::collections::{HashMap, HashSet};

pub(crate) fn violations(problem: &SlotProblem, limits: &ProblemLimits) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    check_frame(problem, limits, &mut out);
    check_sizes(problem, limits, &mut out);
    let people = check_people(problem, &mut out);
    check_roles(problem, limits, &people, &mut out);
    check_optional_attendees(problem, limits, &people, &mut out);
    check_rules(problem, limits, &mut out);
    out
}

fn push(out: &mut Vec<FieldViolation>, field: impl Into<String>, description: impl Into<String>) {
    out.push(FieldViolation::new(field, description));
}

fn check_range(range: &TimeRange, path: &str, out: &mut Vec<FieldViolation>) {
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

fn check_weight(weight: i64, path: String, limits: &ProblemLimits, out: &mut Vec<FieldViolation>) {
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
}

/// Checks people and returns the index of each defined id.
fn check_people<'a>(
    problem: &'a SlotProblem,
    out: &mut Vec<FieldViolation>,
) -> HashMap<&'a str, usize> {
    let mut index = HashMap::new();
    for (i, person) in problem.people.iter().enumerate() {
        let path = format!("people[{i}]");
        if person.id.0.trim().is_empty() {
            push(out, format!("{path}.id"), "a person id is required");
        } else if let Some(first) = index.insert(person.id.0.as_str(), i) {
            index.insert(person.id.0.as_str(), first);
            push(
                out,
                format!("{path}.id"),
                format!(
                    "duplicate person id {:?}, first defined at people[{first}]",
                    person.id.0
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

fn check_reference(
    id: &str,
    people: &HashMap<&str, usize>,
    path: String,
    out: &mut Vec<FieldViolation>,
) {
    if !people.contains_key(id) {
        push(out, path, format!("person {id:?} is not defined in people"));
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
                    "duplicate role id {:?}, first used by roles[{first}]",
                    role.id.0
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
                    "role {:?} has an empty pool; name at least one person who can fill it",
                    role.label()
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
                    format!("person {:?} is listed twice", person.0),
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
                format!("person {:?} is listed twice", person.0),
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
                format!("duplicate freeze window id {:?}", freeze.id),
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
