//! Release programmes: the dependent milestones of one release placed
//! jointly. Each milestone is presolved alone with the FindSlots engine
//! ([`space`]); then either the chain dynamic program ([`chain`]) or the
//! best-first branch and bound ([`search`]) finds the `top_k` plans in the
//! order (total cost, vector of starts), exactly; [`coupling`] holds the rules
//! that tie milestones together and [`explain`] says why there is no plan.

mod chain;
mod coupling;
mod exceptions;
mod explain;
mod integer;
mod milestone_changes;
mod search;
mod space;

use crate::{SolverError, StopSignal};
use quorum_domain::{
    Plan, PlannedMilestone, ProgrammeExplanation, ReleaseProgramme, RoleAssignment, Slot,
    SlotProblem, ValidatedProgramme,
};
use space::MilestoneSpace;

pub use space::joined_shifts;

/// How the joint plans are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgrammeEngine {
    /// Branch and bound; on a chain in request order, the chain dynamic
    /// program instead once the search outgrows the program's own table.
    #[default]
    Auto,
    /// The dynamic program; falls back to branch and bound when the
    /// programme is not a chain (the answer says which ran).
    ChainDp,
    BranchAndBound,
    /// The time-indexed integer program: the baseline the fast engines are
    /// checked against; exact, but far slower.
    IntegerProgram,
}

/// A dependency in grid steps: `min ≤ start(after) − start(before) ≤ max`.
/// Exact, because every start is a whole number of steps from the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub before: usize,
    pub after: usize,
    pub min: i64,
    pub max: Option<i64>,
}

/// A plan as the search sees it: grid starts in request order and the cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedPlan {
    pub cost: i64,
    pub starts: Vec<usize>,
}

/// The answer to one programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePlans {
    /// Best first: (total cost, vector of starts in request order).
    pub plans: Vec<Plan>,
    /// The engine that actually ran.
    pub engine: ProgrammeEngine,
    /// Per milestone, its feasible starts on its own.
    pub presolved_starts: Vec<u32>,
    pub explanation: ProgrammeExplanation,
}

/// The slot problem of every milestone, in request order.
pub fn slot_problems(programme: &ReleaseProgramme) -> Vec<SlotProblem> {
    programme
        .milestones
        .iter()
        .map(|m| space::slot_problem(programme, m))
        .collect()
}

pub fn gaps(programme: &ReleaseProgramme) -> Vec<Gap> {
    let step = programme.bucket.seconds();
    programme
        .dependencies
        .iter()
        .filter_map(|d| {
            let before = programme.milestone_index(&d.before)?;
            let after = programme.milestone_index(&d.after)?;
            let length = i64::from(programme.milestones[before].duration_minutes) * 60;
            let min = length + i64::from(d.min_gap_minutes) * 60;
            let max = d.max_gap_minutes.map(|g| length + i64::from(g) * 60);
            Some(Gap {
                before,
                after,
                min: min.div_euclid(step) + i64::from(min.rem_euclid(step) != 0),
                max: max.map(|m| m.div_euclid(step)),
            })
        })
        .collect()
}

/// The best `top_k` plans of `programme`, best first, or why there is none.
pub fn plan_release(
    programme: &ValidatedProgramme,
    engine: ProgrammeEngine,
    stop: &dyn StopSignal,
) -> Result<ReleasePlans, SolverError> {
    let (plans, engine, presolved_starts, explanation) = solve_explained(programme, engine, stop)?;
    Ok(ReleasePlans {
        plans,
        engine,
        presolved_starts,
        explanation,
    })
}

type Solved = (Vec<Plan>, ProgrammeEngine, Vec<u32>, ProgrammeExplanation);

fn solve_explained(
    programme: &ValidatedProgramme,
    engine: ProgrammeEngine,
    stop: &dyn StopSignal,
) -> Result<Solved, SolverError> {
    with_spaces(programme, stop, |spaces, gaps| {
        let (plans, engine) = plans(programme, spaces, gaps, engine, stop)?;
        let explanation = if plans.is_empty() {
            explain::explain(programme, spaces, gaps, stop)?
        } else {
            ProgrammeExplanation::feasible()
        };
        let presolved = spaces
            .iter()
            .map(|s| u32::try_from(s.feasible.count_ones(..)).unwrap_or(u32::MAX))
            .collect();
        Ok((plans, engine, presolved, explanation))
    })
}

/// Plans only, with no explanation: what the explainer asks of relaxed
/// programmes.
fn solve(
    programme: &ValidatedProgramme,
    engine: ProgrammeEngine,
    stop: &dyn StopSignal,
) -> Result<(Vec<Plan>, ProgrammeEngine), SolverError> {
    with_spaces(programme, stop, |spaces, gaps| {
        plans(programme, spaces, gaps, engine, stop)
    })
}

/// Presolves every milestone and hands the spaces (which borrow their slot
/// problems) to `then`.
fn with_spaces<R>(
    programme: &ValidatedProgramme,
    stop: &dyn StopSignal,
    then: impl FnOnce(&[MilestoneSpace<'_>], &[Gap]) -> Result<R, SolverError>,
) -> Result<R, SolverError> {
    let problems = slot_problems(programme);
    let spaces = programme
        .milestones
        .iter()
        .zip(&problems)
        .map(|(m, p)| MilestoneSpace::build(programme, m, p, stop))
        .collect::<Result<Vec<_>, _>>()?;
    then(&spaces, &gaps(programme))
}

fn plans(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    engine: ProgrammeEngine,
    stop: &dyn StopSignal,
) -> Result<(Vec<Plan>, ProgrammeEngine), SolverError> {
    let (ranked, engine) = rank(programme, spaces, gaps, programme.top_k, engine, stop)?;
    let plans = ranked
        .iter()
        .map(|plan| build(programme, spaces, plan))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((plans, engine))
}

fn rank(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    top_k: usize,
    engine: ProgrammeEngine,
    stop: &dyn StopSignal,
) -> Result<(Vec<RankedPlan>, ProgrammeEngine), SolverError> {
    let chain = chain::chain_gaps(spaces.len(), gaps);
    match (engine, chain) {
        (ProgrammeEngine::IntegerProgram, _) => Ok((
            integer::Program::new(spaces, gaps, &programme.resources).ranked_plans(
                top_k,
                programme.limits().problem.max_program_terms,
                stop,
            )?,
            ProgrammeEngine::IntegerProgram,
        )),
        (ProgrammeEngine::Auto, Some(chain)) => {
            let joint = search::Joint::new(spaces, gaps, &programme.resources);
            match joint.ranked_plans(top_k, auto_budget(programme, spaces, top_k), stop) {
                Ok(plans) => Ok((plans, ProgrammeEngine::BranchAndBound)),
                Err(SolverError::SearchTooLarge { .. }) => Ok((
                    chain::ranked_plans(spaces, &chain, top_k, stop)?,
                    ProgrammeEngine::ChainDp,
                )),
                Err(other) => Err(other),
            }
        }
        (ProgrammeEngine::ChainDp, Some(chain)) => Ok((
            chain::ranked_plans(spaces, &chain, top_k, stop)?,
            ProgrammeEngine::ChainDp,
        )),
        _ => Ok((
            search::Joint::new(spaces, gaps, &programme.resources).ranked_plans(
                top_k,
                programme.limits().max_search_nodes,
                stop,
            )?,
            ProgrammeEngine::BranchAndBound,
        )),
    }
}

/// How many partial plans branch and bound may hold on a chain before
/// `AUTO` hands the chain to the dynamic program instead: about the dynamic
/// program's own table (every feasible start keeps `top_k` continuations), so
/// best-first search — which on the benchmarks touches only the starts near
/// the optimum and runs 1.3–3.5× faster — never costs much more than the
/// program whose worst case is bounded.
fn auto_budget(
    programme: &ValidatedProgramme,
    spaces: &[MilestoneSpace<'_>],
    top_k: usize,
) -> usize {
    let starts: usize = spaces.iter().map(|s| s.feasible.count_ones(..)).sum();
    starts
        .saturating_mul(top_k)
        .max(4_096)
        .min(programme.limits().max_search_nodes)
}

/// The plan at `ranked`'s starts: canonical role assignments (milestones and
/// roles in request order, each role its first candidate that leaves the rest
/// fillable), optional attendees and each milestone's score parts.
fn build(
    programme: &ReleaseProgramme,
    spaces: &[MilestoneSpace<'_>],
    ranked: &RankedPlan,
) -> Result<Plan, SolverError> {
    let placed: Vec<coupling::Placement> = ranked.starts.iter().copied().enumerate().collect();
    let mut assigned = vec![None; placed.len()];
    for m in 0..placed.len() {
        if assigned[m].is_some() {
            continue;
        }
        let group = coupling::coupled_group(spaces, &placed, m);
        let roles = coupling::assign(spaces, &group).ok_or_else(|| SolverError::Inconsistent {
            detail: format!(
                "a plan with starts {:?} was chosen but its roles cannot be filled",
                ranked.starts
            ),
        })?;
        for (&(o, _), r) in group.iter().zip(roles) {
            assigned[o] = Some(r);
        }
    }
    let milestones = placed
        .iter()
        .zip(assigned)
        .map(|(&(m, s), roles)| {
            let space = &spaces[m];
            let milestone = &programme.milestones[m];
            let (score, optional_attendees) = space.costs.breakdown(&space.presolve, s);
            let assignments = milestone
                .roles
                .iter()
                .zip(roles.unwrap_or_default())
                .map(|(role, c)| RoleAssignment {
                    role: role.role.id.clone(),
                    person: programme.people[c.person].id.clone(),
                    via_delegate: c.via_delegate,
                })
                .collect();
            PlannedMilestone {
                milestone: milestone.id.clone(),
                slot: Slot {
                    range: space.range(s),
                    assignments,
                    optional_attendees,
                    score,
                },
            }
        })
        .collect();
    Ok(Plan {
        milestones,
        cost: ranked.cost,
    })
}
