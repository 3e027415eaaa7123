//! The release programme as a time-indexed integer program (good_lp with its
//! pure-Rust microlp backend): the baseline the fast engines are checked
//! against, and the engine a caller can ask for by name (`JOINT_INTEGER_PROGRAM`).
//!
//! Variables: `x[m][i]` — milestone `m` starts at its `i`-th feasible start;
//! `y[m][r][c]` — candidate `c` fills role `r` of `m`; `a[m][p]` — person `p`
//! sits in a working-hours role of `m`. Rows: one start per milestone; the
//! dependencies as linear rows over the starts; one candidate per role, able
//! to serve at the chosen start (`y ≤ Σ x` over the starts where they serve —
//! exactly one `x` is 1); distinct people within a milestone unless it allows
//! several roles per person; and the two couplings checked pointwise at the
//! only instants where they can first fail, a start of one of the intervals
//! involved (two half-open intervals overlap iff one's start lies in the
//! other): nobody in working-hours roles of two overlapping milestones, and a
//! resource's bookings plus the plan's own milestones within capacity. The
//! objective is the plan cost; ties are broken as the other engines break
//! them, by the vector of starts, with one program per milestone that fixes
//! the cost and minimises that milestone's start. The next plan is the
//! optimum with the earlier start vectors cut off.

use super::{Gap, RankedPlan, space::MilestoneSpace};
use crate::{SolverError, StopSignal};
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    WithTimeLimit, microlp, variable, variables,
};
use quorum_domain::Resource;
use rows::shared_working_people;

mod rows;

/// What one program minimises.
#[derive(Debug, Clone, Copy)]
enum Goal {
    /// The plan cost.
    Cost,
    /// The start of this milestone, among plans of the fixed cost.
    Start(usize),
}

/// The rows added to the base program for one solve.
#[derive(Debug, Default)]
struct Extra<'e> {
    /// Start vectors already returned.
    excluded: &'e [Vec<usize>],
    /// The plan cost the lexicographic steps keep.
    cost: Option<i64>,
    /// Starts of the first milestones, fixed by earlier lexicographic steps.
    fixed: &'e [usize],
}

/// The program's data: each milestone's feasible starts, the dependencies and
/// the resources.
pub struct Program<'s, 'p> {
    spaces: &'s [MilestoneSpace<'p>],
    gaps: &'s [Gap],
    resources: &'s [Resource],
    /// Per milestone, its feasible grid starts, ascending.
    starts: Vec<Vec<usize>>,
}

/// The variables of one built program.
struct Vars {
    x: Vec<Vec<Variable>>,
    /// Per milestone, the starts its `x` row stands for (fixed milestones
    /// keep only their fixed start).
    starts: Vec<Vec<usize>>,
}

impl<'s, 'p> Program<'s, 'p> {
    pub fn new(
        spaces: &'s [MilestoneSpace<'p>],
        gaps: &'s [Gap],
        resources: &'s [Resource],
    ) -> Self {
        let starts = spaces.iter().map(|s| s.feasible.ones().collect()).collect();
        Self {
            spaces,
            gaps,
            resources,
            starts,
        }
    }

    /// The best `top_k` plans in (cost, start vector) order.
    pub fn ranked_plans(
        &self,
        top_k: usize,
        max_terms: usize,
        stop: &dyn StopSignal,
    ) -> Result<Vec<RankedPlan>, SolverError> {
        let terms = self.terms();
        if terms > max_terms {
            return Err(SolverError::ProgramTooLarge {
                terms,
                limit: max_terms,
            });
        }
        let mut plans: Vec<RankedPlan> = Vec::new();
        let mut excluded: Vec<Vec<usize>> = Vec::new();
        while plans.len() < top_k {
            let extra = Extra {
                excluded: &excluded,
                ..Extra::default()
            };
            let Some(first) = self.solve(Goal::Cost, &extra, stop)? else {
                break;
            };
            let cost = self.cost(&first);
            let starts = self.earliest_of_cost(cost, &excluded, stop)?;
            plans.push(RankedPlan {
                cost,
                starts: starts.clone(),
            });
            excluded.push(starts);
        }
        Ok(plans)
    }

    /// Among plans of `cost` not yet returned, the one with the smallest
    /// vector of starts: each milestone's start minimised in turn.
    fn earliest_of_cost(
        &self,
        cost: i64,
        excluded: &[Vec<usize>],
        stop: &dyn StopSignal,
    ) -> Result<Vec<usize>, SolverError> {
        let mut fixed: Vec<usize> = Vec::with_capacity(self.spaces.len());
        for m in 0..self.spaces.len() {
            let extra = Extra {
                excluded,
                cost: Some(cost),
                fixed: &fixed,
            };
            let best = self.solve(Goal::Start(m), &extra, stop)?.ok_or_else(|| {
                SolverError::Inconsistent {
                    detail: format!(
                        "the integer program lost its plan of cost {cost} when fixing milestone {m}'s start"
                    ),
                }
            })?;
            fixed.push(best[m]);
        }
        Ok(fixed)
    }

    fn cost(&self, starts: &[usize]) -> i64 {
        starts
            .iter()
            .zip(self.spaces)
            .map(|(&s, space)| space.cost(s))
            .sum()
    }

    /// Non-zero terms the base program will have, counted before any of it
    /// is built: its memory, and microlp's, grows with them.
    fn terms(&self) -> usize {
        let mut terms: usize = 2 * self.starts.iter().map(Vec::len).sum::<usize>();
        for gap in self.gaps {
            terms += 2 * (self.starts[gap.before].len() + self.starts[gap.after].len());
        }
        for (m, space) in self.spaces.iter().enumerate() {
            for (basis, candidates) in &space.roles {
                for c in candidates {
                    let serving = self.starts[m]
                        .iter()
                        .filter(|&&s| space.serves(*basis, c.person, s))
                        .count();
                    terms += 4 + serving;
                }
            }
        }
        terms + self.coupling_terms()
    }

    fn coupling_terms(&self) -> usize {
        let n = self.spaces.len();
        let mut terms = 0;
        for m in 0..n {
            for other in (0..n).filter(|&o| o != m) {
                let shared = shared_working_people(&self.spaces[m], &self.spaces[other]).len();
                let resources = self.spaces[m]
                    .resources
                    .iter()
                    .filter(|r| self.spaces[other].resources.contains(r))
                    .count();
                if shared + resources > 0 {
                    // A row per start of m, each with up to all of other's starts.
                    terms += (shared + resources)
                        * self.starts[m].len()
                        * (3 + self.starts[other].len().min(64));
                }
            }
        }
        terms
    }

    /// Builds and solves one program; the chosen start of every milestone,
    /// or `None` when the rows admit no plan.
    fn solve(
        &self,
        goal: Goal,
        extra: &Extra<'_>,
        stop: &dyn StopSignal,
    ) -> Result<Option<Vec<usize>>, SolverError> {
        stop.check()?;
        let mut problem = variables!();
        let vars = self.start_vars(&mut problem, extra.fixed);
        let mut rows = self.base_rows(&mut problem, &vars, stop)?;
        rows.extend(self.extra_rows(&vars, extra));
        let objective = match goal {
            Goal::Cost => self.cost_expression(&vars),
            Goal::Start(m) => weighted(&vars.x[m], &vars.starts[m], |s| s as f64),
        };
        let mut model = problem.minimise(objective).using(microlp);
        if let Some(left) = stop.remaining() {
            model = model.with_time_limit(left.as_secs_f64());
        }
        let solved = model.with_all(rows).solve();
        let solution = match solved {
            Ok(solution) if matches!(solution.status(), SolutionStatus::Optimal) => solution,
            Ok(_) => return Err(SolverError::Stopped),
            Err(ResolutionError::Infeasible) => return Ok(None),
            Err(_) if stop.should_stop() => return Err(SolverError::Stopped),
            Err(ResolutionError::Other(text)) if text.contains("Time limit") => {
                return Err(SolverError::Stopped);
            }
            Err(other) => {
                return Err(SolverError::Program {
                    detail: other.to_string(),
                });
            }
        };
        let chosen = vars
            .x
            .iter()
            .zip(&vars.starts)
            .map(|(x, starts)| {
                x.iter()
                    .position(|v| solution.value(*v) > 0.5)
                    .map(|i| starts[i])
            })
            .collect::<Option<Vec<usize>>>();
        chosen.map(Some).ok_or_else(|| SolverError::Inconsistent {
            detail: "the integer program's solution chose no start for a milestone".into(),
        })
    }

    fn start_vars(&self, problem: &mut ProblemVariables, fixed: &[usize]) -> Vars {
        let starts: Vec<Vec<usize>> = self
            .starts
            .iter()
            .enumerate()
            .map(|(m, all)| match fixed.get(m) {
                Some(&s) => vec![s],
                None => all.clone(),
            })
            .collect();
        let x = starts
            .iter()
            .map(|list| {
                list.iter()
                    .map(|_| problem.add(variable().binary()))
                    .collect()
            })
            .collect();
        Vars { x, starts }
    }

    fn cost_expression(&self, vars: &Vars) -> Expression {
        (0..self.spaces.len())
            .map(|m| {
                weighted(&vars.x[m], &vars.starts[m], |s| {
                    self.spaces[m].cost(s) as f64
                })
            })
            .sum()
    }
}

fn weighted(x: &[Variable], starts: &[usize], weight: impl Fn(usize) -> f64) -> Expression {
    x.iter().zip(starts).map(|(v, &s)| weight(s) * *v).sum()
}
