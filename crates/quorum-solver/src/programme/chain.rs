//! The fast path: a chain of milestones in request order, each starting a
//! gap after the previous one ends. No two milestones of such a chain ever
//! overlap, so people and the plan's own use of a resource cannot couple
//! them, and the best plans are the k shortest paths through the layers of
//! feasible starts — a dynamic program with a sliding window over the gap.
//!
//! Each start keeps its k best continuations. The window of allowed next
//! starts only moves forward as the start does, so a sorted set of the
//! window's continuations is updated by insertions and removals at its ends.
//! Continuations are ordered by (cost, next start, rank at that start), which
//! is exactly (cost, vector of starts): ranks at one start follow its vector
//! order among equal costs.

use super::{Gap, RankedPlan, space::MilestoneSpace};
use crate::{SolverError, StopSignal};
use std::collections::BTreeSet;

/// A continuation from one start: its cost (this milestone onward), the next
/// milestone's start and that start's rank of continuation.
type Link = (i64, u32, u32);

/// Whether the programme is a chain in request order: exactly one gap
/// between each milestone and the next, and no other dependency.
pub fn chain_gaps(milestones: usize, gaps: &[Gap]) -> Option<Vec<Gap>> {
    if gaps.len() + 1 != milestones {
        return None;
    }
    let mut ordered: Vec<Option<Gap>> = vec![None; gaps.len()];
    for gap in gaps {
        if gap.after != gap.before + 1 || ordered[gap.before].is_some() {
            return None;
        }
        ordered[gap.before] = Some(*gap);
    }
    ordered.into_iter().collect()
}

pub fn ranked_plans(
    spaces: &[MilestoneSpace<'_>],
    gaps: &[Gap],
    top_k: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<RankedPlan>, SolverError> {
    let n = spaces.len();
    if n == 0 || top_k == 0 {
        return Ok(Vec::new());
    }
    // layers[i][s]: the best continuations of milestone i at start s.
    let mut layers: Vec<Vec<Vec<Link>>> = vec![Vec::new(); n];
    layers[n - 1] = (0..spaces[n - 1].starts)
        .map(|s| {
            if spaces[n - 1].feasible.contains(s) {
                vec![(spaces[n - 1].cost(s), u32::MAX, 0)]
            } else {
                Vec::new()
            }
        })
        .collect();
    for i in (0..n - 1).rev() {
        stop.check()?;
        layers[i] = layer(&spaces[i], &gaps[i], &layers[i + 1], top_k, stop)?;
    }
    let mut firsts: Vec<(i64, u32, u32)> = layers[0]
        .iter()
        .enumerate()
        .flat_map(|(s, links)| {
            links
                .iter()
                .enumerate()
                .map(move |(r, l)| (l.0, s as u32, r as u32))
        })
        .collect();
    firsts.sort_unstable();
    firsts.truncate(top_k);
    Ok(firsts
        .into_iter()
        .map(|(cost, s, r)| {
            let mut starts = Vec::with_capacity(n);
            let (mut s, mut r) = (s, r);
            for layer in &layers {
                starts.push(s as usize);
                let link = layer[s as usize][r as usize];
                (s, r) = (link.1, link.2);
            }
            RankedPlan { cost, starts }
        })
        .collect())
}

fn layer(
    space: &MilestoneSpace<'_>,
    gap: &Gap,
    next: &[Vec<Link>],
    top_k: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<Vec<Link>>, SolverError> {
    let mut window: BTreeSet<Link> = BTreeSet::new();
    let (mut added, mut removed) = (0usize, 0usize);
    let mut out = vec![Vec::new(); space.starts];
    let insert = |window: &mut BTreeSet<Link>, t: usize| {
        for (r, link) in next[t].iter().enumerate() {
            window.insert((link.0, t as u32, r as u32));
        }
    };
    for (visited, s) in space.feasible.ones().enumerate() {
        if visited % 256 == 0 {
            stop.check()?;
        }
        let lo = (s as i64 + gap.min).max(0) as usize;
        let hi = gap.max.map_or(next.len(), |m| {
            ((s as i64 + m + 1).max(0) as usize).min(next.len())
        });
        while removed < lo {
            if removed < added {
                for (r, link) in next[removed].iter().enumerate() {
                    window.remove(&(link.0, removed as u32, r as u32));
                }
            }
            removed += 1;
        }
        added = added.max(lo);
        while added < hi {
            insert(&mut window, added);
            added += 1;
        }
        let own = space.cost(s);
        out[s] = window
            .iter()
            .take(top_k)
            .map(|&(cost, t, r)| (own + cost, t, r))
            .collect();
    }
    Ok(out)
}
