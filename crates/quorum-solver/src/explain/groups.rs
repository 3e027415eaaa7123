//! How a conflict is laid out for a reader: request-wide rules first (one
//! rule is easier to act on than many calendars), then roles and the
//! calendars of their people; and a role pool whose people's calendars all
//! fail together becomes one group, so a reader sees "the security reviewer
//! pool and its calendars" rather than a list of calendars.

use super::rules::Constraint;
use crate::presolve::Presolve;
use quorum_domain::ConflictGroup;

/// The conflict's members, request-wide rules first, each side in its
/// original order.
pub fn request_wide_first(set: &[Constraint]) -> Vec<Constraint> {
    let (mut wide, rest): (Vec<Constraint>, Vec<Constraint>) =
        set.iter().copied().partition(|c| c.is_request_wide());
    wide.extend(rest);
    wide
}

/// For each role in `set` whose every candidate has a calendar in `set`
/// (and more than one calendar in all), the role and those calendars.
pub fn pool_groups(presolve: &Presolve<'_>, set: &[Constraint]) -> Vec<ConflictGroup> {
    let index = |c: Constraint| set.iter().position(|&m| m == c);
    let mut groups = Vec::new();
    for (at, c) in set.iter().enumerate() {
        let Constraint::Role(r) = *c else {
            continue;
        };
        let mut members = vec![at];
        let mut every_candidate = !presolve.roles[r].is_empty();
        for candidate in &presolve.roles[r] {
            let calendars: Vec<usize> = [
                Constraint::WorkingHours(candidate.person),
                Constraint::Busy(candidate.person),
            ]
            .into_iter()
            .filter_map(index)
            .collect();
            every_candidate &= !calendars.is_empty();
            members.extend(calendars);
        }
        if every_candidate && members.len() > 2 {
            groups.push(ConflictGroup {
                role: presolve.problem.roles[r].id.clone(),
                members: members
                    .into_iter()
                    .filter_map(|m| u32::try_from(m).ok())
                    .collect(),
            });
        }
    }
    groups
}
