//! The problem's constraints as switches, and feasibility with any subset of
//! them in force, built from presolve's per-rule sets so each check costs a
//! few bitset operations plus a matching per surviving start.

pub use crate::constraints::Constraint;
use crate::{
    constraints::{freeze_window, one_person_one_role},
    grid::Grid,
    matching,
    presolve::{Presolve, RoleCandidate},
};
use fixedbitset::FixedBitSet;
use quorum_domain::TimeRange;

/// Which constraints are in force. Constraints the problem does not have
/// (no deadline, no capacity) are switched on and cost nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforced {
    roles: Vec<bool>,
    working: Vec<bool>,
    busy: Vec<bool>,
    freezes: Vec<bool>,
    one_person_one_role: bool,
    capacity: bool,
    not_before: bool,
    deadline: bool,
}

impl Enforced {
    pub fn all(presolve: &Presolve<'_>) -> Self {
        let problem = presolve.problem;
        Self {
            roles: vec![true; problem.roles.len()],
            working: vec![true; problem.people.len()],
            busy: vec![true; problem.people.len()],
            freezes: vec![true; problem.freeze_windows.len()],
            one_person_one_role: one_person_one_role::applies(problem),
            capacity: true,
            not_before: true,
            deadline: true,
        }
    }

    fn switch(&mut self, constraint: Constraint) -> Option<&mut bool> {
        match constraint {
            Constraint::Role(r) => self.roles.get_mut(r),
            Constraint::WorkingHours(p) => self.working.get_mut(p),
            Constraint::Busy(p) => self.busy.get_mut(p),
            Constraint::Freeze(f) => self.freezes.get_mut(f),
            Constraint::OnePersonOneRole => Some(&mut self.one_person_one_role),
            Constraint::Capacity => Some(&mut self.capacity),
            Constraint::NotBefore => Some(&mut self.not_before),
            Constraint::Deadline => Some(&mut self.deadline),
        }
    }

    pub fn contains(&self, constraint: Constraint) -> bool {
        let on = match constraint {
            Constraint::Role(r) => self.roles.get(r),
            Constraint::WorkingHours(p) => self.working.get(p),
            Constraint::Busy(p) => self.busy.get(p),
            Constraint::Freeze(f) => self.freezes.get(f),
            Constraint::OnePersonOneRole => Some(&self.one_person_one_role),
            Constraint::Capacity => Some(&self.capacity),
            Constraint::NotBefore => Some(&self.not_before),
            Constraint::Deadline => Some(&self.deadline),
        };
        on.is_some_and(|on| *on)
    }

    pub fn set(&mut self, constraint: Constraint, on: bool) {
        if let Some(switch) = self.switch(constraint) {
            *switch = on;
        }
    }

    pub fn without(&self, constraint: Constraint) -> Self {
        let mut less = self.clone();
        less.set(constraint, false);
        less
    }
}

/// An extra candidate for one role (a delegate a human might confirm).
pub type ExtraCandidate = Option<(usize, RoleCandidate)>;

pub struct Rules<'a> {
    pub presolve: &'a Presolve<'a>,
    /// Per freeze window, the starts clear of it.
    freeze_ok: Vec<FixedBitSet>,
    /// Every constraint that can matter, in the order the deletion filter
    /// tries to drop them: the least telling first, so what remains reads as
    /// a story about roles, hours and the deadline.
    pub universe: Vec<Constraint>,
}

impl<'a> Rules<'a> {
    pub fn new(presolve: &'a Presolve<'a>) -> Self {
        let problem = presolve.problem;
        let grid = &presolve.grid;
        let freeze_ok = problem
            .freeze_windows
            .iter()
            .map(|f| freeze_window::allowed(grid, f))
            .collect();
        let mut people: Vec<usize> = presolve.roles.iter().flatten().map(|c| c.person).collect();
        people.sort_unstable();
        people.dedup();
        let mut universe: Vec<Constraint> = people.iter().map(|&p| Constraint::Busy(p)).collect();
        universe.extend(people.iter().map(|&p| Constraint::WorkingHours(p)));
        universe.extend((0..problem.freeze_windows.len()).map(Constraint::Freeze));
        if problem.review_capacity.is_some() {
            universe.push(Constraint::Capacity);
        }
        if one_person_one_role::applies(problem) {
            universe.push(Constraint::OnePersonOneRole);
        }
        universe.extend((0..problem.roles.len()).map(Constraint::Role));
        if problem.not_before.is_some() {
            universe.push(Constraint::NotBefore);
        }
        if problem.evidence_deadline.is_some() {
            universe.push(Constraint::Deadline);
        }
        Self {
            presolve,
            freeze_ok,
            universe,
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.presolve.grid
    }

    pub fn freeze_ok(&self, freeze: usize) -> &FixedBitSet {
        &self.freeze_ok[freeze]
    }

    /// Starts the enforced request-wide rules allow.
    pub fn allowed_starts(&self, enforced: &Enforced) -> FixedBitSet {
        let p = self.presolve;
        let mut allowed = self.grid().full_set();
        let mut narrow = |on: bool, set: &FixedBitSet| {
            if on {
                allowed.intersect_with(set);
            }
        };
        narrow(enforced.not_before, &p.not_before_ok);
        narrow(enforced.deadline, &p.deadline_ok);
        narrow(enforced.capacity, &p.capacity_ok);
        for (f, ok) in self.freeze_ok.iter().enumerate() {
            narrow(enforced.freezes[f], ok);
        }
        allowed
    }

    /// Whether `person` can attend at `start` under the enforced rules.
    pub fn can_attend(&self, enforced: &Enforced, person: usize, start: usize) -> bool {
        let Some(Some(a)) = self.presolve.people.get(person) else {
            return false;
        };
        (!enforced.working[person] || a.working.contains(start))
            && (!enforced.busy[person] || a.free.contains(start))
    }

    /// The enforced roles' options at `start`, with an extra candidate if given.
    pub fn options_at(
        &self,
        enforced: &Enforced,
        extra: ExtraCandidate,
        start: usize,
    ) -> Vec<Vec<RoleCandidate>> {
        let mut options = Vec::new();
        self.fill_options(enforced, extra, start, &mut options);
        options
    }

    /// [`Self::options_at`] into `options`, reusing its lists: the
    /// relaxation searches ask this of thousands of starts, and a fresh list
    /// per role per start was most of their time.
    fn fill_options(
        &self,
        enforced: &Enforced,
        extra: ExtraCandidate,
        start: usize,
        options: &mut Vec<Vec<RoleCandidate>>,
    ) {
        let mut used = 0;
        for (r, candidates) in self.presolve.roles.iter().enumerate() {
            if !enforced.roles[r] {
                continue;
            }
            if options.len() == used {
                options.push(Vec::new());
            }
            let list = &mut options[used];
            list.clear();
            let extra = extra.filter(|(er, _)| *er == r).map(|(_, c)| c);
            list.extend(
                candidates
                    .iter()
                    .copied()
                    .chain(extra)
                    .filter(|c| self.can_attend(enforced, c.person, start)),
            );
            used += 1;
        }
        options.truncate(used);
    }

    /// Whether the enforced rules admit a slot at `start`; `options` is a
    /// buffer the caller keeps across starts (one list per role).
    pub(super) fn admits_into(
        &self,
        enforced: &Enforced,
        extra: ExtraCandidate,
        start: usize,
        options: &mut Vec<Vec<RoleCandidate>>,
    ) -> bool {
        self.fill_options(enforced, extra, start, options);
        matching::fillable(options, !enforced.one_person_one_role)
    }

    /// The starts `person` can attend under the enforced rules; `None` for
    /// people no role or attendee names.
    pub(super) fn attendable(&self, enforced: &Enforced, person: usize) -> Option<FixedBitSet> {
        let Some(Some(a)) = self.presolve.people.get(person) else {
            return None;
        };
        let mut can = if enforced.working[person] {
            a.working.clone()
        } else {
            self.grid().full_set()
        };
        if enforced.busy[person] {
            can.intersect_with(&a.free);
        }
        Some(can)
    }

    /// The starts a candidate of every enforced role can attend (as a set).
    pub(super) fn covered_starts(&self, enforced: &Enforced, extra: ExtraCandidate) -> FixedBitSet {
        let grid = self.grid();
        let mut covered = self.allowed_starts(enforced);
        for (r, candidates) in self.presolve.roles.iter().enumerate() {
            if !enforced.roles[r] {
                continue;
            }
            let mut any = grid.empty_set();
            let extra = extra.filter(|(er, _)| *er == r).map(|(_, c)| c);
            for c in candidates.iter().copied().chain(extra) {
                if let Some(can) = self.attendable(enforced, c.person) {
                    any.union_with(&can);
                }
            }
            covered.intersect_with(&any);
        }
        covered
    }

    /// Every start the enforced rules admit, in `order`.
    pub fn admitted<'s>(
        &'s self,
        enforced: &'s Enforced,
        extra: ExtraCandidate,
        order: impl IntoIterator<Item = usize> + 's,
    ) -> impl Iterator<Item = usize> + 's {
        let covered = self.covered_starts(enforced, extra);
        let mut options = Vec::new();
        order
            .into_iter()
            .filter(move |s| covered.contains(*s))
            .filter(move |&s| self.admits_into(enforced, extra, s, &mut options))
    }

    pub fn feasible(&self, enforced: &Enforced) -> bool {
        let covered = self.covered_starts(enforced, None);
        let mut options = Vec::new();
        covered
            .ones()
            .any(|s| self.admits_into(enforced, None, s, &mut options))
    }
}

impl Rules<'_> {
    /// The admitted start with the smallest `(cost, rank)`, where `cost` is
    /// what a change asks at that start's meeting (`None`: the change does
    /// not fit there). Exactly the minimum over every admitted start, but
    /// the matching (the dear part) runs only on starts the cheap tests
    /// leave, cheapest first, and stops at the first that admits a slot: on
    /// four weeks of 5-minute buckets the searches asked "can the team meet
    /// here?" of thousands of starts to keep one.
    pub fn cheapest_admitted<K: Ord>(
        &self,
        enforced: &Enforced,
        ranked: &[usize],
        cost: impl Fn(&TimeRange) -> Option<K>,
    ) -> Option<(K, usize)> {
        let covered = self.covered_starts(enforced, None);
        let mut costed: Vec<(K, usize, usize)> = ranked
            .iter()
            .copied()
            .filter(|s| covered.contains(*s))
            .enumerate()
            .filter_map(|(rank, s)| Some((cost(&self.grid().meeting_range(s))?, rank, s)))
            .collect();
        costed.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut options = Vec::new();
        costed
            .into_iter()
            .find(|(_, _, s)| self.admits_into(enforced, None, *s, &mut options))
            .map(|(k, _, s)| (k, s))
    }
}
