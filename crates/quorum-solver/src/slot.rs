//! Builds a returned slot at a grid start: the canonical role assignment, the
//! optional attendees who can come and the parts of the score.

use crate::{SolverError, matching::StartRoles, presolve::Presolve, ranking::Costs};
use quorum_domain::{RoleAssignment, Slot};

/// The slot at `start`, with roles filled from `roles` (the options in force:
/// the problem's own, or a relaxation's).
pub fn build(
    presolve: &Presolve<'_>,
    costs: &Costs,
    start: usize,
    roles: &StartRoles,
) -> Result<Slot, SolverError> {
    let problem = presolve.problem;
    let assignment = roles
        .assignment(problem.allow_multiple_roles_per_person)
        .ok_or_else(|| SolverError::Inconsistent {
            detail: format!("grid start {start} was chosen but its roles cannot be filled"),
        })?;
    let assignments = problem
        .roles
        .iter()
        .zip(assignment)
        .map(|(role, c)| RoleAssignment {
            role: role.id.clone(),
            person: problem.people[c.person].id.clone(),
            via_delegate: c.via_delegate,
        })
        .collect();
    let (score, optional_attendees) = costs.breakdown(presolve, start);
    Ok(Slot {
        range: presolve.grid.meeting_range(start),
        assignments,
        optional_attendees,
        score,
    })
}
