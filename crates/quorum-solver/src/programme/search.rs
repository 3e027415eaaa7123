//! The general exact method: best-first branch and bound over the milestones
//! in request order, with the coupling rules (people, capacity) checked
//! lazily as each milestone is placed.
//!
//! A search entry is keyed by (lower bound, starts placed so far). A prefix
//! sorts before every vector that extends it, and a partial plan's bound is at
//! most the cost of any plan completing it, so when a complete plan leaves
//! the queue no plan still to be found ranks before it: plans come out in
//! exactly the order (cost, vector of starts). The bound is the placed cost
//! plus, for each unplaced milestone, its cheapest feasible start within the
//! interval its dependencies still allow (propagated through the dependency
//! graph, and answered by a range-minimum table).
//!
//! Children of an entry are made lazily, cheapest start first: a generator
//! stands for the ones not made yet, keyed by the weakest bound any of them
//! can have, so an entry with hundreds of possible starts costs one child per
//! visit instead of hundreds.

use super::coupling::{Placement, Profile, assign, capacity_ok, coupled_group};
use super::{Gap, RankedPlan, space::MilestoneSpace};
use crate::{SolverError, StopSignal};
use quorum_domain::Resource;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

const INFEASIBLE: i64 = i64::MAX / 4;

/// Everything the search asks of the presolved milestones, indexed once.
pub struct Joint<'a, 'p> {
    spaces: &'a [MilestoneSpace<'p>],
    gaps: &'a [Gap],
    resources: &'a [Resource],
    profiles: Vec<Profile>,
    /// Per milestone: the first feasible start at or after each start.
    next: Vec<Vec<i64>>,
    /// Per milestone: the last feasible start at or before each start.
    prev: Vec<Vec<i64>>,
    minimum: Vec<RangeMin>,
}

/// Cheapest cost over a range of starts (a sparse table).
struct RangeMin {
    levels: Vec<Vec<i64>>,
}

impl RangeMin {
    fn new(values: Vec<i64>) -> Self {
        let len = values.len();
        let mut levels = vec![values];
        let mut width = 1;
        // Level k holds the minimum of each run of 2^k starts.
        while 2 * width <= len {
            let last = &levels[levels.len() - 1];
            let next: Vec<i64> = (0..=len - 2 * width)
                .map(|i| last[i].min(last[i + width]))
                .collect();
            levels.push(next);
            width *= 2;
        }
        Self { levels }
    }

    /// Minimum over `lo..=hi` (non-empty).
    fn query(&self, lo: usize, hi: usize) -> i64 {
        let level = (usize::BITS - 1 - (hi - lo + 1).leading_zeros()) as usize;
        let row = &self.levels[level];
        row[lo].min(row[hi + 1 - (1 << level)])
    }
}

/// The interval of starts each milestone may still take.
type Domains = Vec<(i64, i64)>;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key(i64, Vec<u32>);

enum Entry {
    /// A partial plan whose next milestone is not yet branched on.
    Partial(Domains, i64),
    /// The untried starts of the next milestone after a partial plan.
    Children {
        domains: Domains,
        placed_cost: i64,
        rest: i64,
        order: Rc<Vec<u32>>,
        next: usize,
    },
    Complete(i64),
}

struct Queued(Reverse<Key>, u64, Entry);

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (&self.0, self.1) == (&other.0, other.1)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.0, Reverse(self.1)).cmp(&(&other.0, Reverse(other.1)))
    }
}

impl<'a, 'p> Joint<'a, 'p> {
    pub fn new(
        spaces: &'a [MilestoneSpace<'p>],
        gaps: &'a [Gap],
        resources: &'a [Resource],
    ) -> Self {
        let profiles = resources.iter().map(|r| Profile::new(&r.booked)).collect();
        let mut next = Vec::new();
        let mut prev = Vec::new();
        let mut minimum = Vec::new();
        for space in spaces {
            let n = space.starts;
            let mut nx = vec![n as i64; n + 1];
            for s in (0..n).rev() {
                nx[s] = if space.feasible.contains(s) {
                    s as i64
                } else {
                    nx[s + 1]
                };
            }
            let mut pv = vec![-1i64; n];
            let mut last = -1;
            for (s, p) in pv.iter_mut().enumerate() {
                if space.feasible.contains(s) {
                    last = s as i64;
                }
                *p = last;
            }
            let costs = (0..n)
                .map(|s| {
                    if space.feasible.contains(s) {
                        space.cost(s)
                    } else {
                        INFEASIBLE
                    }
                })
                .collect();
            next.push(nx);
            prev.push(pv);
            minimum.push(RangeMin::new(costs));
        }
        Self {
            spaces,
            gaps,
            resources,
            profiles,
            next,
            prev,
            minimum,
        }
    }

    /// Narrows the domains along the dependencies; `false` when one empties.
    fn propagate(&self, domains: &mut Domains) -> bool {
        for _ in 0..=domains.len() + 1 {
            let mut changed = false;
            for gap in self.gaps {
                let (b, a) = (domains[gap.before], domains[gap.after]);
                let mut nb = (b.0, b.1.min(a.1 - gap.min));
                let mut na = (a.0.max(b.0 + gap.min), a.1);
                if let Some(max) = gap.max {
                    na.1 = na.1.min(b.1 + max);
                    nb.0 = nb.0.max(a.0 - max);
                }
                for (m, d) in [(gap.before, nb), (gap.after, na)] {
                    let Some(snapped) = self.snap(m, d) else {
                        return false;
                    };
                    if snapped != domains[m] {
                        domains[m] = snapped;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        true
    }

    fn snap(&self, m: usize, (lo, hi): (i64, i64)) -> Option<(i64, i64)> {
        let n = self.spaces[m].starts as i64;
        if lo >= n || hi < 0 || lo > hi {
            return None;
        }
        let lo = self.next[m][lo.max(0) as usize];
        let hi = self.prev[m][hi.min(n - 1) as usize];
        (lo <= hi).then_some((lo, hi))
    }

    fn cheapest(&self, m: usize, (lo, hi): (i64, i64)) -> i64 {
        self.minimum[m].query(lo as usize, hi as usize)
    }

    fn root(&self) -> Option<Domains> {
        let mut domains: Domains = self
            .spaces
            .iter()
            .map(|s| (0, s.starts as i64 - 1))
            .collect();
        for (m, domain) in domains.iter_mut().enumerate() {
            *domain = self.snap(m, *domain)?;
        }
        self.propagate(&mut domains).then_some(domains)
    }

    /// Whether milestone `placed.len()` at `s` keeps people and resources
    /// consistent with the milestones placed before it.
    fn coupling_ok(&self, prefix: &[u32], s: usize) -> bool {
        let m = prefix.len();
        let space = &self.spaces[m];
        let range = space.range(s);
        for &r in &space.resources {
            let others = prefix
                .iter()
                .enumerate()
                .filter(|(o, _)| self.spaces[*o].resources.contains(&r))
                .map(|(o, &t)| self.spaces[o].range(t as usize));
            if !capacity_ok(&self.profiles[r], self.resources[r].capacity, range, others) {
                return false;
            }
        }
        let mut placed: Vec<Placement> = prefix
            .iter()
            .enumerate()
            .map(|(o, &t)| (o, t as usize))
            .collect();
        placed.push((m, s));
        let group = coupled_group(self.spaces, &placed, m);
        group.len() == 1 || assign(self.spaces, &group).is_some()
    }

    pub fn ranked_plans(
        &self,
        top_k: usize,
        max_nodes: usize,
        stop: &dyn StopSignal,
    ) -> Result<Vec<RankedPlan>, SolverError> {
        let n = self.spaces.len();
        let mut plans = Vec::new();
        let Some(root) = self.root() else {
            return Ok(plans);
        };
        let bound = (0..n).map(|m| self.cheapest(m, root[m])).sum();
        let mut queue = BinaryHeap::new();
        let mut pushed = 0u64;
        let mut push = |queue: &mut BinaryHeap<Queued>, key: Key, entry: Entry| {
            pushed += 1;
            queue.push(Queued(Reverse(key), pushed, entry));
        };
        push(&mut queue, Key(bound, Vec::new()), Entry::Partial(root, 0));
        let mut visits = 0usize;
        while let Some(Queued(Reverse(Key(key, prefix)), _, entry)) = queue.pop() {
            if plans.len() == top_k {
                break;
            }
            visits += 1;
            if visits.is_multiple_of(256) {
                stop.check()?;
            }
            if queue.len() > max_nodes {
                return Err(SolverError::SearchTooLarge {
                    nodes: queue.len(),
                    limit: max_nodes,
                });
            }
            match entry {
                Entry::Complete(cost) => plans.push(RankedPlan {
                    cost,
                    starts: prefix.iter().map(|&s| s as usize).collect(),
                }),
                Entry::Partial(domains, placed_cost) => {
                    let m = prefix.len();
                    let rest = key - placed_cost - self.cheapest(m, domains[m]);
                    let (lo, hi) = domains[m];
                    let mut order: Vec<u32> = (lo..=hi)
                        .filter(|&s| self.spaces[m].feasible.contains(s as usize))
                        .map(|s| s as u32)
                        .collect();
                    order.sort_by_key(|&s| (self.spaces[m].cost(s as usize), s));
                    let first = placed_cost + rest + self.spaces[m].cost(order[0] as usize);
                    let entry = Entry::Children {
                        domains,
                        placed_cost,
                        rest,
                        order: Rc::new(order),
                        next: 0,
                    };
                    push(&mut queue, Key(first, prefix), entry);
                }
                Entry::Children {
                    domains,
                    placed_cost,
                    rest,
                    order,
                    next,
                } => {
                    let s = order[next] as usize;
                    if let Some((child, key)) = self.child(&prefix, &domains, placed_cost, s) {
                        push(&mut queue, key, child);
                    }
                    if next + 1 < order.len() {
                        let weakest = placed_cost
                            + rest
                            + self.spaces[prefix.len()].cost(order[next + 1] as usize);
                        let entry = Entry::Children {
                            domains,
                            placed_cost,
                            rest,
                            order,
                            next: next + 1,
                        };
                        push(&mut queue, Key(weakest, prefix), entry);
                    }
                }
            }
        }
        Ok(plans)
    }

    /// The entry for placing the next milestone at `s`, unless it breaks a
    /// dependency, the coupling rules, or leaves a milestone no start.
    fn child(
        &self,
        prefix: &[u32],
        domains: &Domains,
        placed_cost: i64,
        s: usize,
    ) -> Option<(Entry, Key)> {
        let m = prefix.len();
        if !self.coupling_ok(prefix, s) {
            return None;
        }
        let mut domains = domains.clone();
        domains[m] = (s as i64, s as i64);
        if !self.propagate(&mut domains) || domains[m] != (s as i64, s as i64) {
            return None;
        }
        let placed_cost = placed_cost + self.spaces[m].cost(s);
        let mut vector = prefix.to_vec();
        vector.push(s as u32);
        if m + 1 == self.spaces.len() {
            return Some((Entry::Complete(placed_cost), Key(placed_cost, vector)));
        }
        let bound = placed_cost
            + (m + 1..self.spaces.len())
                .map(|o| self.cheapest(o, domains[o]))
                .sum::<i64>();
        Some((Entry::Partial(domains, placed_cost), Key(bound, vector)))
    }
}

#[cfg(test)]
mod tests {
    use super::RangeMin;

    #[test]
    fn range_minimum_matches_a_scan() {
        let values: Vec<i64> = (0..37).map(|i| (i * 7919 % 23) as i64 - 11).collect();
        let table = RangeMin::new(values.clone());
        for lo in 0..values.len() {
            for hi in lo..values.len() {
                assert_eq!(table.query(lo, hi), *values[lo..=hi].iter().min().unwrap());
            }
        }
    }
}
