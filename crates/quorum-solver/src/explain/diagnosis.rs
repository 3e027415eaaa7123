//! The root cause of "no slot", in stages, so a pipeline that routes on one
//! code sends it to the team that can act. The stages are checked in order on
//! the window [not-before, evidence deadline] and the first that fails is the
//! primary reason:
//!
//! 1. no grid start lies in the window (`DEADLINE_TOO_EARLY`);
//! 2. some role has nobody available at any start of it (`ROLE_POOL_UNAVAILABLE`);
//! 3. every role is staffed at some start, never all at one (`NO_COMMON_WORKING_HOURS`);
//! 4. all roles have someone at some start, never distinct people (`ROLES_NEED_SAME_PERSON`);
//! 5. the team can meet ("staffable" starts) but freezes and/or the review
//!    capacity block every such start (`FREEZE_WINDOW`, `REVIEW_CAPACITY_FULL`;
//!    both, freeze first, when neither alone blocks them all).
//!
//! Secondary: `DEADLINE_TOO_EARLY` when ignoring not-before and the deadline
//! would admit a slot; `AFTER_HOURS_ONLY` when an after-hours relaxation opens one.
//! Each is kept with what shows it (the start, the relaxation), so the proof
//! words the very finding the code came from, never a second search.

use super::rules::{Constraint, Enforced, Rules};
use crate::matching::StartRoles;
use quorum_domain::{DecisiveFact, EscalationReason, Relaxation, RelaxationKind, TimeRange};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub primary: EscalationReason,
    pub secondary: Vec<EscalationReason>,
    pub fact: DecisiveFact,
    /// Stage 5: the grid starts at which the team can meet (ascending).
    pub staffable: Vec<usize>,
    /// `DEADLINE_TOO_EARLY` as a secondary reason: the best-ranked start
    /// admitted with not-before and the deadline dropped.
    pub without_window: Option<usize>,
    /// `AFTER_HOURS_ONLY`: the index (in the relaxations) of the smallest
    /// after-hours relaxation.
    pub after_hours: Option<usize>,
}

/// The staged diagnosis; `ranked` is every grid start, best first.
pub fn diagnose(rules: &Rules<'_>, relaxations: &[Relaxation], ranked: &[usize]) -> Diagnosis {
    let Stage {
        primary,
        mut secondary,
        fact,
        staffable,
    } = first_failing_stage(rules);
    let mut without_window = None;
    if primary != EscalationReason::DeadlineTooEarly {
        let all = Enforced::all(rules.presolve);
        let unbounded = all
            .without(Constraint::NotBefore)
            .without(Constraint::Deadline);
        without_window = rules
            .admitted(&unbounded, None, ranked.iter().copied())
            .next();
        if without_window.is_some() {
            secondary.push(EscalationReason::DeadlineTooEarly);
        }
    }
    let after_hours = relaxations
        .iter()
        .position(|r| matches!(r.kind, RelaxationKind::AfterHours { .. }));
    if after_hours.is_some() {
        secondary.push(EscalationReason::AfterHoursOnly);
    }
    Diagnosis {
        primary,
        secondary,
        fact,
        staffable,
        without_window,
        after_hours,
    }
}

struct Stage {
    primary: EscalationReason,
    secondary: Vec<EscalationReason>,
    fact: DecisiveFact,
    staffable: Vec<usize>,
}

impl Stage {
    fn only(primary: EscalationReason, fact: DecisiveFact) -> Self {
        Self {
            primary,
            secondary: Vec::new(),
            fact,
            staffable: Vec::new(),
        }
    }
}

/// The meetings at `starts` (ascending), merged where they overlap or touch.
pub(super) fn merged_meetings(rules: &Rules<'_>, starts: &[usize]) -> Vec<TimeRange> {
    let mut merged: Vec<TimeRange> = Vec::new();
    for &s in starts {
        let meeting = rules.grid().meeting_range(s);
        match merged.last_mut() {
            Some(last) if meeting.start <= last.end => last.end = last.end.max(meeting.end),
            _ => merged.push(meeting),
        }
    }
    merged
}

fn first_failing_stage(rules: &Rules<'_>) -> Stage {
    let p = rules.presolve;
    let problem = p.problem;
    let window = problem.window();
    let mut in_window = p.not_before_ok.clone();
    in_window.intersect_with(&p.deadline_ok);
    if in_window.is_clear() {
        let fact = DecisiveFact::EmptyWindow {
            not_before: window.start,
            deadline: window.end,
        };
        return Stage::only(EscalationReason::DeadlineTooEarly, fact);
    }
    let mut all_roles = in_window.clone();
    let mut never = Vec::new();
    for r in 0..p.roles.len() {
        let mut coverage = p.role_coverage(r);
        coverage.intersect_with(&in_window);
        if coverage.is_clear() {
            never.push(problem.roles[r].id.clone());
        }
        all_roles.intersect_with(&coverage);
    }
    if !never.is_empty() {
        let fact = DecisiveFact::RolesNeverStaffed {
            roles: never,
            window,
        };
        return Stage::only(EscalationReason::RolePoolUnavailable, fact);
    }
    if all_roles.is_clear() {
        let fact = DecisiveFact::RolesNeverTogether { window };
        return Stage::only(EscalationReason::NoCommonWorkingHours, fact);
    }
    let shared = problem.allow_multiple_roles_per_person;
    let covered: Vec<usize> = all_roles.ones().collect();
    let staffable: Vec<usize> = covered
        .iter()
        .copied()
        .filter(|&s| StartRoles::at(p, s).fillable(shared))
        .collect();
    if staffable.is_empty() {
        let fact = DecisiveFact::SamePersonNeeded {
            meetings: merged_meetings(rules, &covered),
        };
        return Stage::only(EscalationReason::RolesNeedSamePerson, fact);
    }
    blocked_by_rules(rules, &staffable)
}

/// Stage 5: which of freeze and capacity block the staffable starts.
fn blocked_by_rules(rules: &Rules<'_>, staffable: &[usize]) -> Stage {
    let p = rules.presolve;
    let frozen = staffable.iter().any(|&s| !p.freeze_ok.contains(s));
    let capacity_alone = staffable
        .iter()
        .any(|&s| p.freeze_ok.contains(s) && !p.capacity_ok.contains(s));
    let freezes: Vec<String> = (0..p.problem.freeze_windows.len())
        .filter(|&f| staffable.iter().any(|&s| !rules.freeze_ok(f).contains(s)))
        .map(|f| p.problem.freeze_windows[f].id.clone())
        .collect();
    let fact = DecisiveFact::TeamMeetsOnlyIn {
        meetings: merged_meetings(rules, staffable),
        freezes: if frozen { freezes } else { Vec::new() },
        capacity_full: !frozen || capacity_alone,
    };
    let (primary, secondary) = match (frozen, capacity_alone) {
        (true, true) => (
            EscalationReason::FreezeWindow,
            vec![EscalationReason::ReviewCapacityFull],
        ),
        (true, false) => (EscalationReason::FreezeWindow, Vec::new()),
        (false, _) => (EscalationReason::ReviewCapacityFull, Vec::new()),
    };
    Stage {
        primary,
        secondary,
        fact,
        staffable: staffable.to_vec(),
    }
}
