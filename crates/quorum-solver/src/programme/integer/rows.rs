//! The program's rows beyond the objective: one start per milestone, the
//! dependencies, role filling, distinct people, and the two couplings
//! checked pointwise — nobody in working-hours roles of two overlapping
//! milestones, every resource within capacity — plus the rows a solve adds
//! (start vectors already returned, the cost the tie-breaking steps keep).

use super::{Extra, Program, Vars, weighted};
use crate::programme::coupling::Profile;
use crate::programme::space::MilestoneSpace;
use crate::{SolverError, StopSignal};
use good_lp::{Constraint, Expression, ProblemVariables, Variable, constraint, variable};
use quorum_domain::{RoleBasis, TimeRange};

impl Program<'_, '_> {
    /// One start per milestone, the dependencies, the roles and the
    /// couplings.
    pub(super) fn base_rows(
        &self,
        problem: &mut ProblemVariables,
        vars: &Vars,
        stop: &dyn StopSignal,
    ) -> Result<Vec<Constraint>, SolverError> {
        let mut rows: Vec<Constraint> = vars
            .x
            .iter()
            .map(|x| constraint!(x.iter().copied().sum::<Expression>() == 1))
            .collect();
        for gap in self.gaps {
            let start = |m: usize| weighted(&vars.x[m], &vars.starts[m], |s| s as f64);
            let distance = start(gap.after) - start(gap.before);
            rows.push(constraint!(distance.clone() >= gap.min as f64));
            if let Some(max) = gap.max {
                rows.push(constraint!(distance <= max as f64));
            }
        }
        let seated = self.role_rows(problem, vars, &mut rows);
        stop.check()?;
        self.people_rows(vars, &seated, &mut rows, stop)?;
        self.capacity_rows(vars, &mut rows, stop)?;
        Ok(rows)
    }

    /// Role filling; returns `a[m][p]` (person `p` in a working-hours role of
    /// milestone `m`), `None` where `p` is no such candidate.
    fn role_rows(
        &self,
        problem: &mut ProblemVariables,
        vars: &Vars,
        rows: &mut Vec<Constraint>,
    ) -> Vec<Vec<Option<Variable>>> {
        let people = self.people();
        let mut seated = vec![vec![None; people]; self.spaces.len()];
        for (m, space) in self.spaces.iter().enumerate() {
            let mut load: Vec<Expression> = vec![Expression::default(); people];
            for (basis, candidates) in &space.roles {
                let mut fill = Expression::default();
                for c in candidates {
                    let y = problem.add(variable().binary());
                    fill += y;
                    load[c.person] += y;
                    let serving: Expression = vars.x[m]
                        .iter()
                        .zip(&vars.starts[m])
                        .filter(|(_, s)| space.serves(*basis, c.person, **s))
                        .map(|(x, _)| *x)
                        .sum();
                    rows.push(constraint!(y <= serving));
                    if *basis == RoleBasis::WorkingHours {
                        let a = *seated[m][c.person]
                            .get_or_insert_with(|| problem.add(variable().binary()));
                        rows.push(constraint!(a >= y));
                    }
                }
                rows.push(constraint!(fill == 1));
            }
            if !space.presolve.problem.allow_multiple_roles_per_person {
                rows.extend(load.into_iter().map(|l| constraint!(l <= 1)));
            }
        }
        seated
    }

    fn people(&self) -> usize {
        self.spaces
            .first()
            .map_or(0, |s| s.presolve.problem.people.len())
    }

    /// Nobody sits in working-hours roles of two overlapping milestones:
    /// at each start `t` of `m`, if `m` starts at `t` and `other` covers `t`,
    /// the person is seated in at most one of them.
    fn people_rows(
        &self,
        vars: &Vars,
        seated: &[Vec<Option<Variable>>],
        rows: &mut Vec<Constraint>,
        stop: &dyn StopSignal,
    ) -> Result<(), SolverError> {
        let n = self.spaces.len();
        for m in 0..n {
            for other in (0..n).filter(|&o| o != m) {
                stop.check()?;
                let both: Vec<(Variable, Variable)> = (0..self.people())
                    .filter_map(|p| Some((seated[m][p]?, seated[other][p]?)))
                    .collect();
                if both.is_empty() {
                    continue;
                }
                for (i, &s) in vars.starts[m].iter().enumerate() {
                    let instant = self.spaces[m].range(s).start;
                    let Some(covering) = self.covering(vars, other, instant) else {
                        continue;
                    };
                    let here = vars.x[m][i];
                    for &(a, b) in &both {
                        rows.push(constraint!(here + covering.clone() + a + b <= 3));
                    }
                }
            }
        }
        Ok(())
    }

    /// Each resource's load at every start of a milestone using it and at
    /// every start of a booked segment: bookings there plus the plan's
    /// milestones covering that instant, at most the capacity.
    fn capacity_rows(
        &self,
        vars: &Vars,
        rows: &mut Vec<Constraint>,
        stop: &dyn StopSignal,
    ) -> Result<(), SolverError> {
        for (r, resource) in self.resources.iter().enumerate() {
            stop.check()?;
            let users: Vec<usize> = (0..self.spaces.len())
                .filter(|&m| self.spaces[m].resources.contains(&r))
                .collect();
            if users.len() < 2 && resource.booked.is_empty() {
                continue;
            }
            let profile = Profile::new(&resource.booked);
            let mut instants: Vec<_> = users
                .iter()
                .flat_map(|&m| vars.starts[m].iter().map(move |&s| (m, s)))
                .map(|(m, s)| self.spaces[m].range(s).start)
                .chain(profile.segments.iter().map(|(range, _)| range.start))
                .collect();
            instants.sort_unstable();
            instants.dedup();
            for instant in instants {
                let booked = booked_at(&profile, instant);
                let load: Vec<Expression> = users
                    .iter()
                    .filter_map(|&m| self.covering(vars, m, instant))
                    .collect();
                if booked + load.len() as i64 > i64::from(resource.capacity) {
                    let load: Expression = load.into_iter().sum();
                    rows.push(constraint!(
                        load <= (i64::from(resource.capacity) - booked) as f64
                    ));
                }
            }
        }
        Ok(())
    }

    /// The sum of `m`'s start variables whose window contains `instant`, or
    /// `None` when none does.
    fn covering(
        &self,
        vars: &Vars,
        m: usize,
        instant: chrono::DateTime<chrono::Utc>,
    ) -> Option<Expression> {
        let space = &self.spaces[m];
        let terms: Vec<Variable> = vars.starts[m]
            .iter()
            .zip(&vars.x[m])
            .filter(|(s, _)| contains(space.range(**s), instant))
            .map(|(_, x)| *x)
            .collect();
        (!terms.is_empty()).then(|| terms.into_iter().sum())
    }

    /// Start vectors already returned are cut off; the lexicographic steps
    /// keep the cost.
    pub(super) fn extra_rows(&self, vars: &Vars, extra: &Extra<'_>) -> Vec<Constraint> {
        let n = self.spaces.len();
        let mut rows = Vec::new();
        for plan in extra.excluded {
            let picked: Option<Vec<Variable>> = (0..n)
                .map(|m| {
                    let i = vars.starts[m].iter().position(|&s| s == plan[m])?;
                    Some(vars.x[m][i])
                })
                .collect();
            // A plan outside the fixed starts is already excluded.
            if let Some(picked) = picked {
                let together: Expression = picked.into_iter().sum();
                rows.push(constraint!(together <= (n - 1) as f64));
            }
        }
        if let Some(cost) = extra.cost {
            // Costs are whole minutes: half a minute of slack absorbs rounding.
            rows.push(constraint!(self.cost_expression(vars) <= cost as f64 + 0.5));
        }
        rows
    }
}

fn contains(range: TimeRange, instant: chrono::DateTime<chrono::Utc>) -> bool {
    range.start <= instant && instant < range.end
}

fn booked_at(profile: &Profile, instant: chrono::DateTime<chrono::Utc>) -> i64 {
    profile
        .segments
        .iter()
        .find(|(range, _)| contains(*range, instant))
        .map_or(0, |(_, count)| *count)
}

/// People who are working-hours candidates of both milestones.
pub(super) fn shared_working_people(a: &MilestoneSpace<'_>, b: &MilestoneSpace<'_>) -> Vec<usize> {
    let working = |s: &MilestoneSpace<'_>| -> Vec<usize> {
        let mut people: Vec<usize> = s
            .roles
            .iter()
            .filter(|(basis, _)| *basis == RoleBasis::WorkingHours)
            .flat_map(|(_, c)| c.iter().map(|c| c.person))
            .collect();
        people.sort_unstable();
        people.dedup();
        people
    };
    let theirs = working(b);
    working(a)
        .into_iter()
        .filter(|p| theirs.binary_search(p).is_ok())
        .collect()
}
