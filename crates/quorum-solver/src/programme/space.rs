//! Each milestone on its own: the FindSlots presolve run on a slot problem
//! built from the milestone (its working-hours roles, the freezes in its
//! scope), then the rules FindSlots does not know — on-call cover over the
//! window plus soak, and each resource's own bookings — and the role matching
//! over both bases. What is left are the milestone's feasible starts, each
//! with FindSlots' cost.

use crate::grid::{Grid, Offset};
use crate::matching;
use crate::presolve::{Presolve, RoleCandidate};
use crate::ranking::Costs;
use crate::{SolverError, StopSignal};
use fixedbitset::FixedBitSet;
use quorum_domain::{Milestone, PersonId, ReleaseProgramme, RoleBasis, SlotProblem, TimeRange};
use std::collections::HashMap;

/// The slot problem FindSlots would solve for this milestone alone, minus
/// on-call roles and resources (which it has no words for).
pub fn slot_problem(programme: &ReleaseProgramme, milestone: &Milestone) -> SlotProblem {
    SlotProblem {
        change_ticket: programme.change_ticket.clone(),
        horizon: programme.horizon,
        bucket: programme.bucket,
        meeting_minutes: milestone.duration_minutes,
        not_before: milestone.not_before,
        evidence_deadline: milestone.deadline,
        roles: super::exceptions::roles(milestone)
            .iter()
            .filter(|r| r.basis == RoleBasis::WorkingHours)
            .map(|r| r.role.clone())
            .collect(),
        people: programme.people.clone(),
        optional_attendees: milestone.optional_attendees.clone(),
        freeze_windows: programme
            .freeze_windows
            .iter()
            .filter(|f| {
                f.applies_to(milestone)
                    && !super::exceptions::overrides_freeze(milestone, &f.window.id)
            })
            .map(|f| f.window.clone())
            .collect(),
        review_capacity: None,
        preferences: milestone.preferences.clone(),
        optional_attendee_weight_minutes: milestone.optional_attendee_weight_minutes,
        top_k: 1,
        allow_multiple_roles_per_person: milestone.allow_multiple_roles_per_person,
        tentative_is_free: programme.tentative_is_free,
        explain: false,
    }
}

/// One milestone's presolved search space.
pub struct MilestoneSpace<'p> {
    pub presolve: Presolve<'p>,
    pub costs: Costs,
    /// Per role in request order: its basis and candidates in preference order.
    pub roles: Vec<(RoleBasis, Vec<RoleCandidate>)>,
    /// Per person index: grid starts at which their on-call shifts cover the
    /// window and its soak. `None` for people in no on-call role.
    pub cover: Vec<Option<FixedBitSet>>,
    /// Starts where the milestone's own rules hold and its roles can be
    /// filled; what the joint search chooses from.
    pub feasible: FixedBitSet,
    /// Resource indices it uses.
    pub resources: Vec<usize>,
    /// Grid starts it has (those whose window fits in the horizon).
    pub starts: usize,
}

impl<'p> MilestoneSpace<'p> {
    pub fn build(
        programme: &ReleaseProgramme,
        milestone: &Milestone,
        problem: &'p SlotProblem,
        stop: &dyn StopSignal,
    ) -> Result<Self, SolverError> {
        let mut presolve = Presolve::run(problem, stop)?;
        super::exceptions::apply(&mut presolve, milestone);
        let costs = Costs::new(&presolve);
        let index: HashMap<&PersonId, usize> = programme
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id, i))
            .collect();
        let roles: Vec<(RoleBasis, Vec<RoleCandidate>)> = super::exceptions::roles(milestone)
            .iter()
            .map(|r| {
                let candidates = r
                    .role
                    .candidates()
                    .filter_map(|(id, via_delegate)| {
                        Some(RoleCandidate {
                            person: *index.get(id)?,
                            via_delegate,
                        })
                    })
                    .collect();
                (r.basis, candidates)
            })
            .collect();
        let cover_grid = Grid {
            meeting: presolve.grid.meeting + Offset::from(milestone.soak_minutes) * 60,
            ..presolve.grid
        };
        let mut cover = vec![None; programme.people.len()];
        for (_, candidates) in roles.iter().filter(|(b, _)| *b == RoleBasis::OnCall) {
            for c in candidates {
                if cover[c.person].is_none() {
                    let shifts = joined_shifts(programme, &programme.people[c.person].id);
                    cover[c.person] = Some(cover_grid.starts_inside(&shifts));
                }
            }
        }
        let resources: Vec<usize> = milestone
            .resources
            .iter()
            .filter_map(|id| programme.resources.iter().position(|r| &r.id == id))
            .collect();
        let starts = presolve.grid.starts;
        let mut space = Self {
            presolve,
            costs,
            roles,
            cover,
            feasible: FixedBitSet::with_capacity(starts),
            resources,
            starts,
        };
        space.feasible = space.own_feasible(programme, stop)?;
        Ok(space)
    }

    fn own_feasible(
        &self,
        programme: &ReleaseProgramme,
        stop: &dyn StopSignal,
    ) -> Result<FixedBitSet, SolverError> {
        let grid = &self.presolve.grid;
        let mut feasible = self.presolve.candidates.clone();
        for &r in &self.resources {
            let resource = &programme.resources[r];
            feasible.intersect_with(
                &grid.starts_clear_of(&crate::programme::coupling::saturated(
                    &resource.booked,
                    resource.capacity,
                )),
            );
        }
        for (basis, candidates) in &self.roles {
            if *basis == RoleBasis::OnCall {
                let mut covered = FixedBitSet::with_capacity(self.starts);
                for c in candidates {
                    if let Some(cover) = &self.cover[c.person] {
                        covered.union_with(cover);
                    }
                }
                feasible.intersect_with(&covered);
            }
        }
        let shared = self.presolve.problem.allow_multiple_roles_per_person;
        let mut fillable = FixedBitSet::with_capacity(self.starts);
        // One buffer for every start: see `matching::fillable`.
        let mut options = vec![Vec::new(); self.roles.len()];
        for (i, s) in feasible.ones().enumerate() {
            if i % 256 == 0 {
                stop.check()?;
            }
            self.options_into(s, &mut options);
            if matching::fillable(&options, shared) {
                fillable.insert(s);
            }
        }
        Ok(fillable)
    }

    /// Each role's candidates able to serve at grid start `s`, in preference
    /// order.
    pub fn options(&self, s: usize) -> Vec<Vec<RoleCandidate>> {
        let mut options = vec![Vec::new(); self.roles.len()];
        self.options_into(s, &mut options);
        options
    }

    /// [`Self::options`] into `out` (one list per role), reusing its lists.
    fn options_into(&self, s: usize, out: &mut [Vec<RoleCandidate>]) {
        for ((basis, candidates), list) in self.roles.iter().zip(out.iter_mut()) {
            list.clear();
            list.extend(
                candidates
                    .iter()
                    .copied()
                    .filter(|c| self.serves(*basis, c.person, s)),
            );
        }
    }

    pub fn serves(&self, basis: RoleBasis, person: usize, s: usize) -> bool {
        match basis {
            RoleBasis::WorkingHours => self.presolve.is_available(person, s),
            RoleBasis::OnCall => self.cover[person].as_ref().is_some_and(|c| c.contains(s)),
        }
    }

    pub fn cost(&self, s: usize) -> i64 {
        self.costs.cost(s)
    }

    pub fn range(&self, s: usize) -> TimeRange {
        self.presolve.grid.meeting_range(s)
    }
}

/// A person's on-call shifts, sorted and joined where they touch or overlap:
/// a handover to oneself is seamless, but shifts of different people never
/// combine.
pub fn joined_shifts(programme: &ReleaseProgramme, person: &PersonId) -> Vec<TimeRange> {
    let mut shifts: Vec<TimeRange> = programme
        .on_call
        .iter()
        .filter(|s| &s.person == person && !s.range.is_empty())
        .map(|s| s.range)
        .collect();
    shifts.sort();
    let mut joined: Vec<TimeRange> = Vec::with_capacity(shifts.len());
    for shift in shifts {
        match joined.last_mut() {
            Some(last) if shift.start <= last.end => last.end = last.end.max(shift.end),
            _ => joined.push(shift),
        }
    }
    joined
}
