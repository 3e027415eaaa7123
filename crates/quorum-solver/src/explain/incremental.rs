//! Feasibility under "the current constraints minus one", asked hundreds of
//! times in a row by the deletion filter. Asking [`Rules::feasible`] afresh
//! rebuilt every candidate's allowed starts and every role's coverage for
//! each question (~80 % of the conflict search on four weeks of 5-minute
//! buckets with 200 people). Here they are kept for the current constraints,
//! and a question about dropping one constraint recomputes only what that
//! constraint touches: one person's starts and the coverage of their roles,
//! or the request-wide starts. Answers are exactly those of
//! [`Rules::feasible`]: dropping a constraint only widens a person's starts,
//! so a role's new coverage is its old coverage united with them.

use super::rules::{Constraint, Enforced, Rules};
use fixedbitset::FixedBitSet;

pub struct Incremental<'r, 'a> {
    rules: &'r Rules<'a>,
    enforced: Enforced,
    /// Per person (indexed like `problem.people`), the starts they can
    /// attend under `enforced`; `None` for people no role names.
    can: Vec<Option<FixedBitSet>>,
    /// Per role, the starts at which one of its candidates can attend.
    cover: Vec<FixedBitSet>,
    /// Per person, the roles that list them as a candidate.
    roles_of: Vec<Vec<usize>>,
    /// The starts the enforced request-wide rules allow.
    allowed: FixedBitSet,
}

impl<'r, 'a> Incremental<'r, 'a> {
    pub fn new(rules: &'r Rules<'a>, enforced: Enforced) -> Self {
        let presolve = rules.presolve;
        let people = presolve.problem.people.len();
        let mut roles_of = vec![Vec::new(); people];
        for (r, candidates) in presolve.roles.iter().enumerate() {
            for c in candidates {
                if roles_of[c.person].last() != Some(&r) {
                    roles_of[c.person].push(r);
                }
            }
        }
        let can: Vec<Option<FixedBitSet>> = (0..people)
            .map(|p| {
                (!roles_of[p].is_empty())
                    .then(|| rules.attendable(&enforced, p))
                    .flatten()
            })
            .collect();
        let cover = (0..presolve.roles.len())
            .map(|r| union_of(rules, &can, r))
            .collect();
        let allowed = rules.allowed_starts(&enforced);
        Self {
            rules,
            enforced,
            can,
            cover,
            roles_of,
            allowed,
        }
    }

    pub fn enforced(&self) -> &Enforced {
        &self.enforced
    }

    /// Whether the current constraints without `constraint` admit a slot.
    pub fn feasible_without(&self, constraint: Constraint) -> bool {
        let less = self.enforced.without(constraint);
        let covered = self.covered(&less, constraint);
        let mut options = Vec::new();
        covered
            .ones()
            .any(|s| self.rules.admits_into(&less, None, s, &mut options))
    }

    /// Drops `constraint` for good, updating what it touched.
    pub fn drop(&mut self, constraint: Constraint) {
        let less = self.enforced.without(constraint);
        match constraint {
            Constraint::WorkingHours(p) | Constraint::Busy(p) => {
                if let Some(wider) = self.rules.attendable(&less, p) {
                    for &r in &self.roles_of[p] {
                        self.cover[r].union_with(&wider);
                    }
                    self.can[p] = Some(wider);
                }
            }
            Constraint::Freeze(_)
            | Constraint::Capacity
            | Constraint::NotBefore
            | Constraint::Deadline => self.allowed = self.rules.allowed_starts(&less),
            Constraint::Role(_) | Constraint::OnePersonOneRole => {}
        }
        self.enforced = less;
    }

    /// `Rules::covered_starts(less, None)`, from the kept sets.
    fn covered(&self, less: &Enforced, dropped: Constraint) -> FixedBitSet {
        let mut covered = match dropped {
            Constraint::Freeze(_)
            | Constraint::Capacity
            | Constraint::NotBefore
            | Constraint::Deadline => self.rules.allowed_starts(less),
            Constraint::WorkingHours(_)
            | Constraint::Busy(_)
            | Constraint::Role(_)
            | Constraint::OnePersonOneRole => self.allowed.clone(),
        };
        let wider = match dropped {
            Constraint::WorkingHours(p) | Constraint::Busy(p) => {
                self.rules.attendable(less, p).map(|w| (p, w))
            }
            Constraint::Role(_)
            | Constraint::OnePersonOneRole
            | Constraint::Freeze(_)
            | Constraint::Capacity
            | Constraint::NotBefore
            | Constraint::Deadline => None,
        };
        for (r, cover) in self.cover.iter().enumerate() {
            if !less.contains(Constraint::Role(r)) {
                continue;
            }
            match &wider {
                Some((p, w)) if self.roles_of[*p].contains(&r) => {
                    let mut grown = cover.clone();
                    grown.union_with(w);
                    covered.intersect_with(&grown);
                }
                _ => covered.intersect_with(cover),
            }
            if covered.is_clear() {
                break;
            }
        }
        covered
    }
}

/// The starts at which some candidate of role `r` can attend.
fn union_of(rules: &Rules<'_>, can: &[Option<FixedBitSet>], r: usize) -> FixedBitSet {
    let mut any = rules.grid().empty_set();
    for c in &rules.presolve.roles[r] {
        if let Some(Some(set)) = can.get(c.person) {
            any.union_with(set);
        }
    }
    any
}
