//! One person, one role: distinct people fill the roles unless the request
//! allows sharing. It allows no set of starts (the matching enforces it per
//! start) and is a rule of the request, not an exception, so it never relaxes.

use super::Opened;
use quorum_domain::{ConstraintKind, ConstraintRef, RelaxationKind, SlotProblem};

/// Never waived, alone or in a combination.
pub const WAIVABLE: bool = false;

/// Whether the rule is in force for `problem`.
pub fn applies(problem: &SlotProblem) -> bool {
    !problem.allow_multiple_roles_per_person
}

pub fn describe() -> ConstraintRef {
    ConstraintRef {
        kind: ConstraintKind::OnePersonOneRole,
        id: String::new(),
        ranges: Vec::new(),
    }
}

pub fn relaxation() -> Vec<Opened> {
    Vec::new()
}

pub fn change_at() -> Option<RelaxationKind> {
    None
}
