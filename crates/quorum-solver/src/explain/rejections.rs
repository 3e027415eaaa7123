//! Why each grid start before the last returned slot (or every start, when
//! there is none) was rejected, compressed into runs of consecutive starts
//! rejected for the same reasons, for coordination logs.

use super::{
    report,
    rules::{Constraint, Enforced, Rules},
};
use crate::{SolverError, StopSignal};
use quorum_domain::{ConstraintRef, RejectedStarts};
use std::collections::HashMap;

const STOP_CHECK_EVERY: usize = 256;
/// Encoded size of one time range (two timestamps and their tags), rounded up.
const RANGE_BYTES: usize = 32;
/// A run's own timestamps and sentence, without its reasons.
const RUN_BYTES: usize = 96;

pub fn rejected_runs(
    rules: &Rules<'_>,
    upto: usize,
    max_bytes: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<RejectedStarts>, SolverError> {
    let all = Enforced::all(rules.presolve);
    let mut runs: Vec<(usize, usize, Vec<Constraint>)> = Vec::new();
    for start in 0..upto.min(rules.grid().starts) {
        if start % STOP_CHECK_EVERY == 0 {
            stop.check()?;
        }
        let Some(reasons) = reasons(rules, &all, start) else {
            continue;
        };
        match runs.last_mut() {
            Some((_, last, same)) if *last + 1 == start && *same == reasons => *last = start,
            _ => runs.push((start, start, reasons)),
        }
    }
    // Each constraint is described once; every run then repeats its ranges,
    // so the answer's size is counted, and refused, before it is written out.
    let mut described: HashMap<Constraint, ConstraintRef> = HashMap::new();
    let mut bytes = 0usize;
    for (_, _, reasons) in &runs {
        stop.check()?;
        bytes = bytes.saturating_add(RUN_BYTES);
        for &c in reasons {
            let d = described
                .entry(c)
                .or_insert_with(|| report::describe(rules.presolve, c));
            // The label appears in the reason and in the run's sentence.
            bytes = bytes.saturating_add(RANGE_BYTES * d.ranges.len() + 2 * d.label.len());
        }
        if bytes > max_bytes {
            return Err(SolverError::ExplanationTooLarge {
                bytes,
                limit: max_bytes,
            });
        }
    }
    Ok(runs
        .into_iter()
        .map(|(first, last, reasons)| {
            let reasons: Vec<_> = reasons.iter().map(|c| described[c].clone()).collect();
            let (first_start, last_start) = (
                rules.grid().start_instant(first),
                rules.grid().start_instant(last),
            );
            RejectedStarts {
                first_start,
                last_start,
                explanation: report::rejection_sentence(first_start, last_start, &reasons),
                reasons,
            }
        })
        .collect())
}

/// The constraints that reject `start`, or `None` when it admits a slot.
fn reasons(rules: &Rules<'_>, all: &Enforced, start: usize) -> Option<Vec<Constraint>> {
    let p = rules.presolve;
    let mut found = Vec::new();
    if !p.not_before_ok.contains(start) {
        found.push(Constraint::NotBefore);
    }
    if !p.deadline_ok.contains(start) {
        found.push(Constraint::Deadline);
    }
    for f in 0..p.problem.freeze_windows.len() {
        if !rules.freeze_ok(f).contains(start) {
            found.push(Constraint::Freeze(f));
        }
    }
    if !p.capacity_ok.contains(start) {
        found.push(Constraint::Capacity);
    }
    for (r, candidates) in p.roles.iter().enumerate() {
        if candidates.iter().any(|c| p.is_available(c.person, start)) {
            continue;
        }
        found.push(Constraint::Role(r));
        for c in candidates {
            if let Some(Some(a)) = p.people.get(c.person) {
                if !a.working.contains(start) {
                    found.push(Constraint::WorkingHours(c.person));
                }
                if !a.free.contains(start) {
                    found.push(Constraint::Busy(c.person));
                }
            }
        }
    }
    if found.is_empty() && !rules.admits(all, None, start) {
        found.push(Constraint::OnePersonOneRole);
    }
    // Request-wide rules first: they explain a start on their own.
    found.sort_unstable_by_key(|c| {
        (
            !matches!(
                c,
                Constraint::NotBefore
                    | Constraint::Deadline
                    | Constraint::Freeze(_)
                    | Constraint::Capacity
            ),
            *c,
        )
    });
    found.dedup();
    (!found.is_empty()).then_some(found)
}
