//! Why each grid start before the last returned slot (or every start, when
//! there is none) was rejected, for coordination logs. Compact by design:
//! each constraint is described once in a table, consecutive starts rejected
//! for the same reasons form a run, a role pool that fails the same way is
//! listed once, and runs with the same reasons merge into one group that
//! refers to the tables by index. The answer grows with runs
//! plus constraints, never their product; runs are capped by the server.

use super::rules::{Constraint, Enforced, Rules};
use crate::presolve::RoleCandidate;
use crate::{SolverError, StopSignal};
use fixedbitset::FixedBitSet;
use quorum_domain::{ConstraintRef, PoolBlame, RejectedStarts, RejectionGroup, StartRun};
use std::collections::HashMap;

const STOP_CHECK_EVERY: usize = 256;
/// Encoded size of one time range (two timestamps and their tags), rounded up.
const RANGE_BYTES: usize = 32;
/// A constraint's kind, id tag and framing in the table.
const CONSTRAINT_BYTES: usize = 16;
/// The label the reporter at the edge adds to each constraint ("working
/// hours of sec-2 (security reviewer pool, Europe/Berlin)"), generously.
const LABEL_BYTES: usize = 96;
/// One run's two timestamps and framing.
const RUN_BYTES: usize = 32;
/// One group's framing, and one reason index in it.
const GROUP_BYTES: usize = 8;
const INDEX_BYTES: usize = 4;

/// The limits an `explain: true` answer is held to.
#[derive(Debug, Clone, Copy)]
pub struct RejectionLimits {
    pub max_bytes: usize,
    pub max_runs: usize,
}

/// Why one start is rejected: request-wide rules (and one-person-one-role),
/// and each role nobody can fill, as the id of what keeps its candidates
/// away in the [`PoolTable`]. Comparing and copying it is a few words, since
/// a run is extended by comparing one start's reasons with the last.
#[derive(Debug, Default, Clone, PartialEq)]
struct Reasons {
    wide: Vec<Constraint>,
    pools: Vec<u32>,
}

impl Reasons {
    fn is_empty(&self) -> bool {
        self.wide.is_empty() && self.pools.is_empty()
    }
}

/// Each distinct (role, what keeps each of its candidates away) once, by id.
/// Neighbouring starts almost always blame a role the same way, so each
/// role's last entry is checked before the table is hashed.
struct PoolTable {
    ids: HashMap<(usize, Vec<Constraint>), u32>,
    entries: Vec<(usize, Vec<Constraint>)>,
    last: Vec<Option<u32>>,
    /// Per role, its candidates' people, sorted and without repeats, so the
    /// blame comes out sorted (working hours, then busy time, by person).
    people: Vec<Vec<usize>>,
    /// Per role, the starts where some candidate is available: one bit per
    /// (role, start) instead of a look at every candidate.
    covered: Vec<FixedBitSet>,
    scratch: Vec<Constraint>,
    /// The matching's per-role options, reused across starts.
    options: Vec<Vec<RoleCandidate>>,
}

impl PoolTable {
    fn new(rules: &Rules<'_>) -> Self {
        let people = rules
            .presolve
            .roles
            .iter()
            .map(|candidates| {
                let mut people: Vec<usize> = candidates.iter().map(|c| c.person).collect();
                people.sort_unstable();
                people.dedup();
                people
            })
            .collect::<Vec<_>>();
        let covered = (0..people.len())
            .map(|r| rules.presolve.role_coverage(r))
            .collect();
        Self {
            ids: HashMap::new(),
            entries: Vec::new(),
            last: vec![None; people.len()],
            people,
            covered,
            scratch: Vec::new(),
            options: Vec::new(),
        }
    }

    /// The id of what keeps role `r`'s candidates away at `start`.
    fn blame(&mut self, rules: &Rules<'_>, r: usize, start: usize) -> u32 {
        let p = rules.presolve;
        self.scratch.clear();
        for &person in &self.people[r] {
            if let Some(Some(a)) = p.people.get(person)
                && !a.working.contains(start)
            {
                self.scratch.push(Constraint::WorkingHours(person));
            }
        }
        for &person in &self.people[r] {
            if let Some(Some(a)) = p.people.get(person)
                && !a.free.contains(start)
            {
                self.scratch.push(Constraint::Busy(person));
            }
        }
        if let Some(id) = self.last[r]
            && self.entries[id as usize].1 == self.scratch
        {
            return id;
        }
        let key = (r, self.scratch.clone());
        let next = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(key).or_insert_with_key(|key| {
            self.entries.push(key.clone());
            next
        });
        self.last[r] = Some(id);
        id
    }
}

type Run = (usize, usize, Reasons);

/// Runs of consecutive starts with the same reasons, in time order, up to
/// `max_runs`; the flag says whether the cap cut the scan short. One scratch
/// value is reused, so a start that extends a run allocates nothing.
fn runs(
    rules: &Rules<'_>,
    table: &mut PoolTable,
    upto: usize,
    max_runs: usize,
    stop: &dyn StopSignal,
) -> Result<(Vec<Run>, bool), SolverError> {
    let all = Enforced::all(rules.presolve);
    let mut runs: Vec<Run> = Vec::new();
    let mut scratch = Reasons::default();
    for start in 0..upto.min(rules.grid().starts) {
        if start % STOP_CHECK_EVERY == 0 {
            stop.check()?;
        }
        blame(rules, table, &all, start, &mut scratch);
        if scratch.is_empty() {
            continue;
        }
        if let Some((_, last, same)) = runs.last_mut()
            && *last + 1 == start
            && *same == scratch
        {
            *last = start;
        } else if runs.len() == max_runs {
            return Ok((runs, true));
        } else {
            runs.push((start, start, scratch.clone()));
        }
    }
    Ok((runs, false))
}

/// Fills `out` with what rejects `start` (empty when it admits a slot).
fn blame(
    rules: &Rules<'_>,
    table: &mut PoolTable,
    all: &Enforced,
    start: usize,
    out: &mut Reasons,
) {
    let p = rules.presolve;
    out.wide.clear();
    out.pools.clear();
    if !p.not_before_ok.contains(start) {
        out.wide.push(Constraint::NotBefore);
    }
    if !p.deadline_ok.contains(start) {
        out.wide.push(Constraint::Deadline);
    }
    for f in 0..p.problem.freeze_windows.len() {
        if !rules.freeze_ok(f).contains(start) {
            out.wide.push(Constraint::Freeze(f));
        }
    }
    if !p.capacity_ok.contains(start) {
        out.wide.push(Constraint::Capacity);
    }
    for r in 0..p.roles.len() {
        if !table.covered[r].contains(start) {
            out.pools.push(table.blame(rules, r, start));
        }
    }
    if out.is_empty() && !rules.admits_into(all, None, start, &mut table.options) {
        out.wide.push(Constraint::OnePersonOneRole);
    }
}

/// Numbers constraints in order of first use, through a dense table.
struct Numbering {
    table: Vec<u32>,
    order: Vec<Constraint>,
    size: (usize, usize, usize),
}

impl Numbering {
    fn new(rules: &Rules<'_>) -> Self {
        let problem = rules.presolve.problem;
        let size = (
            problem.roles.len(),
            problem.people.len(),
            problem.freeze_windows.len(),
        );
        Self {
            table: vec![u32::MAX; Constraint::dense_count(size.0, size.1, size.2)],
            order: Vec::new(),
            size,
        }
    }

    fn index(&mut self, c: Constraint) -> u32 {
        let slot = &mut self.table[c.dense_index(self.size.0, self.size.1, self.size.2)];
        if *slot == u32::MAX {
            self.order.push(c);
            *slot = u32::try_from(self.order.len() - 1).unwrap_or(u32::MAX - 1);
        }
        *slot
    }

    fn indices(&mut self, cs: &[Constraint]) -> Vec<u32> {
        cs.iter().map(|c| self.index(*c)).collect()
    }
}

pub fn rejected_starts(
    rules: &Rules<'_>,
    upto: usize,
    limits: RejectionLimits,
    stop: &dyn StopSignal,
) -> Result<RejectedStarts, SolverError> {
    let mut table = PoolTable::new(rules);
    let (runs, run_cap_reached) = runs(rules, &mut table, upto, limits.max_runs, stop)?;
    let mut numbering = Numbering::new(rules);
    // The answer's index of each table entry, given at its first use so
    // constraints are numbered in the order a reader meets them.
    let mut answer_pool: Vec<Option<u32>> = vec![None; table.entries.len()];
    let mut groups: HashMap<(Vec<u32>, Vec<u32>), usize> = HashMap::new();
    let mut out = RejectedStarts {
        run_cap_reached,
        ..RejectedStarts::default()
    };
    let mut bytes = 0usize;
    for (first, last, reasons) in runs {
        stop.check()?;
        let wide = numbering.indices(&reasons.wide);
        let mut pool_ids = Vec::with_capacity(reasons.pools.len());
        for &id in &reasons.pools {
            let index = *answer_pool[id as usize].get_or_insert_with(|| {
                let (r, members) = &table.entries[id as usize];
                let pool = PoolBlame {
                    role: numbering.index(Constraint::Role(*r)),
                    members: numbering.indices(members),
                };
                bytes = bytes.saturating_add(GROUP_BYTES + INDEX_BYTES * (pool.members.len() + 1));
                out.pools.push(pool);
                u32::try_from(out.pools.len() - 1).unwrap_or(u32::MAX)
            });
            pool_ids.push(index);
        }
        bytes = bytes.saturating_add(RUN_BYTES);
        let key = (wide, pool_ids);
        let group = *groups.entry(key.clone()).or_insert_with(|| {
            bytes = bytes.saturating_add(GROUP_BYTES + INDEX_BYTES * (key.0.len() + key.1.len()));
            out.groups.push(RejectionGroup {
                reasons: key.0,
                pools: key.1,
                runs: Vec::new(),
            });
            out.groups.len() - 1
        });
        out.groups[group].runs.push(StartRun {
            first_start: rules.grid().start_instant(first),
            last_start: rules.grid().start_instant(last),
        });
    }
    out.constraints = describe_within(rules, &numbering.order, bytes, limits.max_bytes, stop)?;
    Ok(out)
}

/// Each constraint once, its ranges, label and id counted (on top of
/// `bytes` already used) and refused past `max_bytes` before it is written.
fn describe_within(
    rules: &Rules<'_>,
    order: &[Constraint],
    mut bytes: usize,
    max_bytes: usize,
    stop: &dyn StopSignal,
) -> Result<Vec<ConstraintRef>, SolverError> {
    let too_large = |bytes| SolverError::ExplanationTooLarge {
        bytes,
        limit: max_bytes,
    };
    if bytes > max_bytes {
        return Err(too_large(bytes));
    }
    let mut hours = crate::constraints::HoursCache::new();
    let mut described = Vec::with_capacity(order.len());
    for &c in order {
        stop.check()?;
        let d = c.describe(rules.presolve, &mut hours);
        bytes = bytes.saturating_add(
            CONSTRAINT_BYTES + LABEL_BYTES + RANGE_BYTES * d.ranges.len() + d.id.len(),
        );
        if bytes > max_bytes {
            return Err(too_large(bytes));
        }
        described.push(d);
    }
    Ok(described)
}
