//! The rules a release programme must follow, as field violations with the
//! request's own paths (`milestones[2].roles[0].pool[1]`). Sizes are checked
//! first, before any per-item work; a dependency cycle is named in full
//! ("validation → risk-review → validation") so the caller sees which edge to
//! drop.

use crate::validate::{check_people, check_range, check_reference, check_weight, push, quoted};
use crate::{FieldViolation, FreezeScope, Milestone, ProgrammeLimits, ReleaseProgramme};
use std::collections::{HashMap, HashSet};

pub(crate) fn violations(
    programme: &ReleaseProgramme,
    limits: &ProgrammeLimits,
) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    check_frame(programme, limits, &mut out);
    if check_sizes(programme, limits, &mut out) {
        return out;
    }
    check_ids(programme, limits, &mut out);
    let people = check_people(&programme.people, &mut out);
    for (i, shift) in programme.on_call.iter().enumerate() {
        check_reference(
            &shift.person.0,
            &people,
            format!("on_call[{i}].person_id"),
            &mut out,
        );
        check_range(&shift.range, &format!("on_call[{i}]"), &mut out);
    }
    let resources = check_resources(programme, &mut out);
    let milestones = milestone_index(programme, &mut out);
    for (i, milestone) in programme.milestones.iter().enumerate() {
        check_milestone(
            programme, limits, i, milestone, &people, &resources, &mut out,
        );
    }
    check_freezes(programme, &milestones, &mut out);
    check_dependencies(programme, &milestones, &mut out);
    out
}

fn check_frame(
    programme: &ReleaseProgramme,
    limits: &ProgrammeLimits,
    out: &mut Vec<FieldViolation>,
) {
    if programme.change_ticket.trim().is_empty() {
        push(out, "change_ticket", "a change ticket id is required");
    }
    check_range(&programme.horizon, "horizon", out);
    let seconds = programme.horizon.duration().num_seconds().max(0);
    let step = programme.bucket.seconds();
    let buckets = (seconds + step - 1) / step;
    if buckets > i64::from(limits.problem.max_buckets) {
        push(
            out,
            "horizon.end",
            format!(
                "the horizon holds {buckets} buckets of {} minutes, more than this server's limit of {}; shorten the horizon or use larger buckets",
                programme.bucket.minutes(),
                limits.problem.max_buckets
            ),
        );
    }
    if programme.top_k > limits.problem.max_top_k {
        push(
            out,
            "top_k",
            format!(
                "top_k {} is above the limit of {}",
                programme.top_k, limits.problem.max_top_k
            ),
        );
    }
    if programme.milestones.is_empty() {
        push(out, "milestones", "at least one milestone is needed");
    }
}

/// True when some size is over its limit: nothing else is then checked.
fn check_sizes(
    programme: &ReleaseProgramme,
    limits: &ProgrammeLimits,
    out: &mut Vec<FieldViolation>,
) -> bool {
    let before = out.len();
    let p = &limits.problem;
    let busy: usize = programme.people.iter().map(|x| x.busy.len()).sum();
    let bookings: usize = programme.resources.iter().map(|r| r.booked.len()).sum();
    let sizes = [
        ("people", programme.people.len(), p.max_people),
        ("people[].busy", busy, p.max_busy_intervals),
        (
            "on_call",
            programme.on_call.len(),
            limits.max_on_call_shifts,
        ),
        (
            "freeze_windows",
            programme.freeze_windows.len(),
            p.max_freeze_windows,
        ),
        ("resources", programme.resources.len(), limits.max_resources),
        ("resources[].booked", bookings, limits.max_resource_bookings),
        (
            "milestones",
            programme.milestones.len(),
            limits.max_milestones,
        ),
        (
            "dependencies",
            programme.dependencies.len(),
            limits.max_dependencies,
        ),
    ];
    let mut over = |field: String, count: usize, limit: usize| {
        if count > limit {
            push(
                out,
                field,
                format!("{count} entries exceed this server's limit of {limit}"),
            );
        }
    };
    for (field, count, limit) in sizes {
        over(field.to_owned(), count, limit);
    }
    for (i, person) in programme.people.iter().enumerate() {
        over(
            format!("people[{i}].working_hours"),
            person.working_hours.len(),
            p.max_working_hours_per_person,
        );
    }
    for (i, m) in programme
        .milestones
        .iter()
        .take(limits.max_milestones)
        .enumerate()
    {
        over(format!("milestones[{i}].roles"), m.roles.len(), p.max_roles);
        over(
            format!("milestones[{i}].preferences"),
            m.preferences.len(),
            p.max_preferences,
        );
        over(
            format!("milestones[{i}].optional_attendees"),
            m.optional_attendees.len(),
            p.max_optional_attendees,
        );
        for (j, role) in m.roles.iter().enumerate() {
            let candidates = role.role.pool.len() + role.role.delegates.len();
            over(
                format!("milestones[{i}].roles[{j}].pool"),
                candidates,
                p.max_role_candidates,
            );
        }
    }
    out.len() > before
}

fn check_ids(
    programme: &ReleaseProgramme,
    limits: &ProgrammeLimits,
    out: &mut Vec<FieldViolation>,
) {
    let max = limits.problem.max_id_bytes;
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
    check(&programme.change_ticket, &|| "change_ticket".into());
    for (i, person) in programme.people.iter().enumerate() {
        check(&person.id.0, &|| format!("people[{i}].id"));
    }
    for (i, r) in programme.resources.iter().enumerate() {
        check(&r.id, &|| format!("resources[{i}].id"));
        check(&r.name, &|| format!("resources[{i}].name"));
    }
    for (i, f) in programme.freeze_windows.iter().enumerate() {
        check(&f.window.id, &|| format!("freeze_windows[{i}].id"));
        check(&f.window.reason, &|| format!("freeze_windows[{i}].reason"));
    }
    for (i, m) in programme.milestones.iter().enumerate() {
        check(&m.id, &|| format!("milestones[{i}].id"));
        check(&m.name, &|| format!("milestones[{i}].name"));
        for (j, role) in m.roles.iter().enumerate() {
            check(&role.role.id.0, &|| {
                format!("milestones[{i}].roles[{j}].id")
            });
            check(&role.role.name, &|| {
                format!("milestones[{i}].roles[{j}].name")
            });
        }
        for (j, p) in m.preferences.iter().enumerate() {
            check(&p.id, &|| format!("milestones[{i}].preferences[{j}].id"));
        }
    }
}

fn check_resources<'a>(
    programme: &'a ReleaseProgramme,
    out: &mut Vec<FieldViolation>,
) -> HashSet<&'a str> {
    let mut ids = HashSet::new();
    for (i, resource) in programme.resources.iter().enumerate() {
        let path = format!("resources[{i}]");
        if resource.id.trim().is_empty() {
            push(out, format!("{path}.id"), "a resource id is required");
        } else if !ids.insert(resource.id.as_str()) {
            push(
                out,
                format!("{path}.id"),
                format!("duplicate resource id {}", quoted(&resource.id)),
            );
        }
        if resource.capacity == 0 {
            push(
                out,
                format!("{path}.capacity"),
                "capacity must be at least 1; a resource nothing may use should not be listed",
            );
        }
        for (j, booked) in resource.booked.iter().enumerate() {
            check_range(booked, &format!("{path}.booked[{j}]"), out);
        }
    }
    ids
}

/// Milestone ids to their index, with missing and duplicate ids reported.
fn milestone_index<'a>(
    programme: &'a ReleaseProgramme,
    out: &mut Vec<FieldViolation>,
) -> HashMap<&'a str, usize> {
    let mut index = HashMap::new();
    for (i, m) in programme.milestones.iter().enumerate() {
        if m.id.trim().is_empty() {
            push(
                out,
                format!("milestones[{i}].id"),
                "a milestone id is required",
            );
        } else if let Some(first) = index.get(m.id.as_str()) {
            push(
                out,
                format!("milestones[{i}].id"),
                format!(
                    "duplicate milestone id {}, first used by milestones[{first}]",
                    quoted(&m.id)
                ),
            );
        } else {
            index.insert(m.id.as_str(), i);
        }
    }
    index
}

fn check_milestone(
    programme: &ReleaseProgramme,
    limits: &ProgrammeLimits,
    i: usize,
    m: &Milestone,
    people: &HashMap<&str, usize>,
    resources: &HashSet<&str>,
    out: &mut Vec<FieldViolation>,
) {
    let path = format!("milestones[{i}]");
    if m.duration_minutes == 0 {
        push(
            out,
            format!("{path}.duration_minutes"),
            "a milestone must last at least one minute",
        );
    } else if !programme.horizon.is_empty() && m.duration() > programme.horizon.duration() {
        push(
            out,
            format!("{path}.duration_minutes"),
            format!(
                "the {}-minute milestone is longer than the {}-minute horizon",
                m.duration_minutes,
                programme.horizon.duration().num_minutes()
            ),
        );
    }
    check_milestone_roles(&path, m, people, out);
    let mut seen = HashSet::new();
    for (j, (person, weight)) in m.optional_attendees.iter().enumerate() {
        let at = format!("{path}.optional_attendees[{j}]");
        check_reference(&person.0, people, format!("{at}.person_id"), out);
        if !seen.insert(person) {
            push(
                out,
                format!("{at}.person_id"),
                format!("person {} is listed twice", quoted(&person.0)),
            );
        }
        if let Some(w) = weight {
            check_weight(*w, format!("{at}.weight_minutes"), &limits.problem, out);
        }
    }
    let mut used = HashSet::new();
    for (j, resource) in m.resources.iter().enumerate() {
        let at = format!("{path}.resource_ids[{j}]");
        if !resources.contains(resource.as_str()) {
            push(
                out,
                at,
                format!("resource {} is not defined in resources", quoted(resource)),
            );
        } else if !used.insert(resource) {
            push(
                out,
                at,
                format!("resource {} is listed twice", quoted(resource)),
            );
        }
    }
    for (j, preference) in m.preferences.iter().enumerate() {
        let at = format!("{path}.preferences[{j}]");
        check_range(&preference.range, &at, out);
        check_weight(
            preference.weight_minutes,
            format!("{at}.weight_minutes"),
            &limits.problem,
            out,
        );
    }
    check_weight(
        m.optional_attendee_weight_minutes,
        format!("{path}.optional_attendee_weight_minutes"),
        &limits.problem,
        out,
    );
}

fn check_milestone_roles(
    path: &str,
    m: &Milestone,
    people: &HashMap<&str, usize>,
    out: &mut Vec<FieldViolation>,
) {
    if m.roles.is_empty() {
        push(out, format!("{path}.roles"), "at least one role is needed");
    }
    let mut ids = HashSet::new();
    for (j, role) in m.roles.iter().enumerate() {
        let at = format!("{path}.roles[{j}]");
        let role = &role.role;
        if role.id.0.trim().is_empty() {
            push(out, format!("{at}.id"), "a role id is required");
        } else if !ids.insert(role.id.0.as_str()) {
            push(
                out,
                format!("{at}.id"),
                format!("duplicate role id {} in this milestone", quoted(&role.id.0)),
            );
        }
        if role.pool.is_empty() {
            push(
                out,
                format!("{at}.pool"),
                format!(
                    "role {} has an empty pool; name at least one person who can fill it",
                    quoted(role.label())
                ),
            );
        }
        let mut seen = HashSet::new();
        for (k, person) in role.pool.iter().enumerate() {
            check_reference(&person.0, people, format!("{at}.pool[{k}]"), out);
            if !seen.insert(person) {
                push(
                    out,
                    format!("{at}.pool[{k}]"),
                    format!("person {} is listed twice", quoted(&person.0)),
                );
            }
        }
        for (k, delegate) in role.delegates.iter().enumerate() {
            check_reference(
                &delegate.person.0,
                people,
                format!("{at}.delegates[{k}].person_id"),
                out,
            );
        }
    }
}

fn check_freezes(
    programme: &ReleaseProgramme,
    milestones: &HashMap<&str, usize>,
    out: &mut Vec<FieldViolation>,
) {
    let mut ids = HashSet::new();
    for (i, freeze) in programme.freeze_windows.iter().enumerate() {
        let path = format!("freeze_windows[{i}]");
        if freeze.window.id.trim().is_empty() {
            push(
                out,
                format!("{path}.id"),
                "a freeze window id is required, so explanations can name it",
            );
        } else if !ids.insert(freeze.window.id.as_str()) {
            push(
                out,
                format!("{path}.id"),
                format!("duplicate freeze window id {}", quoted(&freeze.window.id)),
            );
        }
        check_range(&freeze.window.range, &path, out);
        if let FreezeScope::Milestones(listed) = &freeze.scope {
            if listed.is_empty() {
                push(
                    out,
                    format!("{path}.milestone_ids"),
                    "a freeze scoped to milestones must list at least one",
                );
            }
            for (j, id) in listed.iter().enumerate() {
                if !milestones.contains_key(id.as_str()) {
                    push(
                        out,
                        format!("{path}.milestone_ids[{j}]"),
                        format!("milestone {} is not defined in milestones", quoted(id)),
                    );
                }
            }
        }
    }
}

fn check_dependencies(
    programme: &ReleaseProgramme,
    milestones: &HashMap<&str, usize>,
    out: &mut Vec<FieldViolation>,
) {
    let n = programme.milestones.len();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, dep) in programme.dependencies.iter().enumerate() {
        let path = format!("dependencies[{i}]");
        let before = milestones.get(dep.before.as_str()).copied();
        let after = milestones.get(dep.after.as_str()).copied();
        for (id, found, field) in [
            (&dep.before, before, "before"),
            (&dep.after, after, "after"),
        ] {
            if found.is_none() {
                push(
                    out,
                    format!("{path}.{field}"),
                    format!("milestone {} is not defined in milestones", quoted(id)),
                );
            }
        }
        if let Some(max) = dep.max_gap_minutes
            && max < dep.min_gap_minutes
        {
            push(
                out,
                format!("{path}.max_gap_minutes"),
                format!(
                    "the largest gap, {max} minutes, is below the smallest, {} minutes",
                    dep.min_gap_minutes
                ),
            );
        }
        if let (Some(b), Some(a)) = (before, after) {
            if a == b {
                push(
                    out,
                    format!("{path}.after"),
                    format!("milestone {} cannot follow itself", quoted(&dep.after)),
                );
            } else {
                edges[b].push((a, i));
            }
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&m| programme.milestones[m].id.as_str())
            .collect();
        let first_edge = edges[cycle[0]]
            .iter()
            .find(|(to, _)| *to == cycle[1])
            .map_or(0, |e| e.1);
        push(
            out,
            format!("dependencies[{first_edge}]"),
            format!(
                "the dependencies form a cycle: {}; drop one of its edges",
                names.join(" → ")
            ),
        );
    }
}

/// A cycle as milestone indices, the first repeated at the end, found by a
/// depth-first search over the dependency edges (the smallest index first, so
/// the same request always names the same cycle).
fn find_cycle(edges: &[Vec<(usize, usize)>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative, so a long chain cannot overflow the stack.
        let mut path = vec![(root, 0usize)];
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if let Some(&(to, _)) = edges[node].get(*next) {
                *next += 1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnPath;
                        path.push((to, 0));
                    }
                    Mark::OnPath => {
                        let from = path.iter().position(|(m, _)| *m == to).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].iter().map(|(m, _)| *m).collect();
                        cycle.push(to);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                path.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::{
        BucketSize, Dependency, Milestone, MilestoneKind, MilestoneRole, Person, PersonId,
        ProgrammeLimits, ReleaseProgramme, RequiredRole, RoleBasis, RoleId, TimeRange,
    };
    use chrono::{TimeZone, Utc};

    fn milestone(id: &str) -> Milestone {
        Milestone {
            id: id.into(),
            name: String::new(),
            kind: MilestoneKind::Meeting,
            duration_minutes: 30,
            not_before: None,
            deadline: None,
            roles: vec![MilestoneRole {
                role: RequiredRole {
                    id: RoleId("owner".into()),
                    name: String::new(),
                    pool: vec![PersonId::from("ana")],
                    delegates: Vec::new(),
                },
                basis: RoleBasis::WorkingHours,
            }],
            optional_attendees: Vec::new(),
            resources: Vec::new(),
            soak_minutes: 0,
            preferences: Vec::new(),
            optional_attendee_weight_minutes: 0,
            allow_multiple_roles_per_person: false,
            exceptions: Vec::new(),
        }
    }

    fn dep(before: &str, after: &str) -> Dependency {
        Dependency {
            before: before.into(),
            after: after.into(),
            min_gap_minutes: 0,
            max_gap_minutes: None,
        }
    }

    fn programme(ids: &[&str], dependencies: Vec<Dependency>) -> ReleaseProgramme {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        ReleaseProgramme {
            change_ticket: "CHG-1".into(),
            horizon: TimeRange::new(start, start + chrono::Duration::days(7)),
            bucket: BucketSize::default(),
            people: vec![Person {
                id: PersonId::from("ana"),
                display_name: String::new(),
                time_zone: chrono_tz::Europe::Berlin,
                working_hours: Vec::new(),
                busy: Vec::new(),
            }],
            on_call: Vec::new(),
            freeze_windows: Vec::new(),
            resources: Vec::new(),
            milestones: ids.iter().map(|id| milestone(id)).collect(),
            dependencies,
            top_k: 1,
            tentative_is_free: false,
        }
    }

    fn violations(p: ReleaseProgramme) -> Vec<String> {
        match p.validate(&ProgrammeLimits::default()) {
            Ok(_) => Vec::new(),
            Err(v) => v.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_cycle_is_named_in_full() {
        let p = programme(
            &["data", "validation", "risk"],
            vec![
                dep("data", "validation"),
                dep("validation", "risk"),
                dep("risk", "validation"),
            ],
        );
        assert_eq!(
            violations(p),
            vec![
                "dependencies[1]: the dependencies form a cycle: validation → risk → validation; drop one of its edges"
            ]
        );
    }

    #[test]
    fn an_acyclic_diamond_is_valid() {
        let p = programme(
            &["a", "b", "c", "d"],
            vec![dep("a", "b"), dep("a", "c"), dep("b", "d"), dep("c", "d")],
        );
        assert_eq!(violations(p), Vec::<String>::new());
    }

    #[test]
    fn references_are_checked_with_field_paths() {
        let mut p = programme(&["a", "b"], vec![dep("a", "zz")]);
        p.milestones[1].resources.push("board".into());
        p.milestones[1].roles[0]
            .role
            .pool
            .push(PersonId::from("bob"));
        p.dependencies[0].max_gap_minutes = Some(0);
        p.dependencies[0].min_gap_minutes = 5;
        let found = violations(p);
        assert!(
            found
                .iter()
                .any(|v| v.starts_with("milestones[1].roles[0].pool[1]: person \"bob\"")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|v| v.starts_with("milestones[1].resource_ids[0]: resource \"board\"")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|v| v.starts_with("dependencies[0].after: milestone \"zz\"")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|v| v.starts_with("dependencies[0].max_gap_minutes")),
            "{found:?}"
        );
    }

    #[test]
    fn sizes_are_refused_before_anything_else() {
        let p = programme(&["a", "b", "c"], vec![dep("a", "a")]);
        let limits = ProgrammeLimits {
            max_milestones: 2,
            ..ProgrammeLimits::default()
        };
        let found: Vec<String> = p
            .validate(&limits)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec!["milestones: 3 entries exceed this server's limit of 2"]
        );
    }
}
