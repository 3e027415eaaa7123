//! Quorum's solver: turns a validated slot problem into ranked slots.
//!
//! The pipeline is presolve (each rule as a set of grid starts, intersected),
//! then either the integer program or the enumerator to pick starts whose roles
//! can be filled, then ranking and the canonical role assignment. It is plain,
//! synchronous, deterministic Rust: no clocks of its own, no I/O, no async. A
//! caller that needs a time budget passes a [`StopSignal`].
//!
//! Every kind of constraint (role requirement, working hours, busy time, one
//! person one role, freeze window, review capacity, not-before, evidence
//! deadline) is one module in `constraints/`: the starts it allows, how it is
//! described as a fact, how it relaxes. To add a kind (on-call coverage is
//! next), add its variant to `quorum_domain::ConstraintKind` and to
//! `constraints::Constraint`, write its module after the others, and build:
//! every `match` on `Constraint` is exhaustive, so the compiler lists each
//! place that must decide what the new kind means (its switch and dense
//! index, whether it is request-wide, what dropping it touches in the
//! conflict search, its description, relaxation and change in a
//! combination). Then add it to the universe in `explain::rules` and, if it
//! allows a set of starts, to presolve.

mod constraints;
mod enumerate;
mod explain;
mod grid;
mod matching;
mod presolve;
mod program;
mod programme;
mod ranking;
mod slot;

pub use explain::relaxation_approvers;
pub use grid::Grid;
pub use presolve::{PersonAvailability, Presolve, RoleCandidate};
pub use programme::{
    Gap, ProgrammeEngine, RankedPlan, ReleasePlans, gaps, joined_shifts, plan_release,
    slot_problems,
};

use matching::StartRoles;
use quorum_domain::{SlotSearch, ValidatedProblem};
use ranking::Costs;
use std::time::Duration;

/// How the starts that survive presolve are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Rank order with a matching check per start: the fast path.
    #[default]
    Enumerate,
    /// The integer program, solved once per returned slot.
    IntegerProgram,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SolverError {
    #[error(
        "the solve ran out of its time budget and was stopped; allow a longer deadline or shrink the horizon"
    )]
    Stopped,
    #[error(
        "the integer program would have {terms} terms, more than this server's limit of {limit}; use a search engine (ENUMERATE for slots, AUTO for a programme), larger buckets or a shorter horizon"
    )]
    ProgramTooLarge { terms: usize, limit: usize },
    #[error(
        "the explanation of rejected starts would take about {bytes} bytes, more than this server's limit of {limit}; ask without explain, or for a shorter horizon"
    )]
    ExplanationTooLarge { bytes: usize, limit: usize },
    #[error(
        "the joint search would hold more than {limit} partial plans (reached {nodes}); ask for fewer plans, fewer milestones or larger buckets"
    )]
    SearchTooLarge { nodes: usize, limit: usize },
    #[error("the integer program could not be solved: {detail}")]
    Program { detail: String },
    #[error("internal inconsistency in the solver: {detail}; please report this request")]
    Inconsistent { detail: String },
}

/// Tells a running solve when to give up: a client deadline passed, or the
/// client went away. The solver looks at it between units of work.
pub trait StopSignal {
    fn should_stop(&self) -> bool;

    /// Time left, if bounded, for solvers that take a time limit.
    fn remaining(&self) -> Option<Duration> {
        None
    }

    fn check(&self) -> Result<(), SolverError> {
        if self.should_stop() {
            Err(SolverError::Stopped)
        } else {
            Ok(())
        }
    }
}

/// A stop signal that never fires, for tests, benches and the local CLI.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverStop;

impl StopSignal for NeverStop {
    fn should_stop(&self) -> bool {
        false
    }
}

/// Finds the best `top_k` slots of `problem`, best first.
pub fn find_slots(
    problem: &ValidatedProblem,
    engine: Engine,
    stop: &dyn StopSignal,
) -> Result<SlotSearch, SolverError> {
    let presolve = Presolve::run(problem, stop)?;
    let costs = Costs::new(&presolve);
    let top_k = problem.top_k;
    let starts = match engine {
        Engine::Enumerate => enumerate::ranked_starts(&presolve, &costs, top_k, stop)?,
        Engine::IntegerProgram => program::ranked_starts(
            &presolve,
            &costs,
            top_k,
            problem.limits().max_program_terms,
            stop,
        )?,
    };
    let slots = starts
        .iter()
        .map(|&start| slot::build(&presolve, &costs, start, &StartRoles::at(&presolve, start)))
        .collect::<Result<Vec<_>, _>>()?;
    let explanation = explain::explain(
        &presolve,
        &costs,
        &starts,
        explain::RejectionLimits {
            max_bytes: problem.limits().max_explanation_bytes,
            max_runs: problem.limits().max_rejected_runs,
        },
        stop,
    )?;
    Ok(SlotSearch {
        slots,
        grid_origin: presolve.grid.origin,
        bucket_minutes: problem.bucket.minutes(),
        bucket_count: u32::try_from(presolve.grid.buckets).unwrap_or(u32::MAX),
        candidate_starts_considered: count(&{
            let mut window = presolve.not_before_ok.clone();
            window.intersect_with(&presolve.deadline_ok);
            window
        }),
        presolved_starts: count(&presolve.candidates),
        explanation,
    })
}

fn count(set: &fixedbitset::FixedBitSet) -> u32 {
    u32::try_from(set.count_ones(..)).unwrap_or(u32::MAX)
}
