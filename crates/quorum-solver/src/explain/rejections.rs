//! Why each grid start before the last returned slot (or every start, when
//! there is none) was rejected, for coordination logs. Compact by design:
//! each constraint is described once in a table, consecutive starts rejected
//! for the same reasons form a run, a role pool that fails the same way is
//! listed once, and runs with the same reasons merge into one group that
//! refers to the tables by index. The answer grows with runs
//! plus constraints, never their product; runs are capped by the server.

use super::rules::{Constraint, Enforced, Rules};
use crate::{SolverError, StopSignal};
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
/// and each role nobody can fill with what keeps each candidate away. Only
/// the first `used` pools count: the rest are buffers kept for reuse, since
/// every start of a night rejects every role.
#[derive(Debug, Default)]
struct Reasons {
    wide: Vec<Constraint>,
    pools: Vec<(usize, Vec<Constraint>)>,
    used: usize,
}

impl Reasons {
    fn is_empty(&self) -> bool {
        self.wide.is_empty() && self.used == 0
    }

    fn pools(&self) -> &[(usize, Vec<Constraint>)] {
        &self.pools[..self.used]
    }

    /// A buffer for the next failing pool, cleared.
    fn next_pool(&mut self, role: usize) -> &mut Vec<Constraint> {
        if self.used == self.pools.len() {
            self.pools.push((role, Vec::new()));
        }
        let (r, members) = &mut self.pools[self.used];
        *r = role;
        members.clear();
        self.used += 1;
        members
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Self) -> bool {
        self.wide == other.wide && self.pools() == other.pools()
    }
}

impl Clone for Reasons {
    fn clone(&self) -> Self {
        Self {
            wide: self.wide.clone(),
            pools: self.pools().to_vec(),
            used: self.used,
        }
    }
}

type Run = (usize, usize, Reasons);

/// Runs of consecutive starts with the same reasons, in time order, up to
/// `max_runs`; the flag says whether the cap cut the scan short. One scratch
/// value is reused, so a start that extends a run allocates nothing.
fn runs(
    rules: &Rules<'_>,
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
        blame(rules, &all, start, &mut scratch);
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
fn blame(rules: &Rules<'_>, all: &Enforced, start: usize, out: &mut Reasons) {
    let p = rules.presolve;
    out.wide.clear();
    out.used = 0;
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
    for (r, candidates) in p.roles.iter().enumerate() {
        if candidates.iter().any(|c| p.is_available(c.person, start)) {
            continue;
        }
        let members = out.next_pool(r);
        for c in candidates {
            if let Some(Some(a)) = p.people.get(c.person) {
                if !a.working.contains(start) {
                    members.push(Constraint::WorkingHours(c.person));
                }
                if !a.free.contains(start) {
                    members.push(Constraint::Busy(c.person));
                }
            }
        }
        members.sort_unstable();
        members.dedup();
    }
    if out.is_empty() && !rules.admits(all, None, start) {
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
    let (runs, run_cap_reached) = runs(rules, upto, limits.max_runs, stop)?;
    let mut numbering = Numbering::new(rules);
    let mut pools: HashMap<PoolBlame, u32> = HashMap::new();
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
        for (r, members) in reasons.pools() {
            let pool = PoolBlame {
                role: numbering.index(Constraint::Role(*r)),
                members: numbering.indices(members),
            };
            let id = *pools.entry(pool.clone()).or_insert_with(|| {
                bytes = bytes.saturating_add(GROUP_BYTES + INDEX_BYTES * (pool.members.len() + 1));
                out.pools.push(pool);
                u32::try_from(out.pools.len() - 1).unwrap_or(u32::MAX)
            });
            pool_ids.push(id);
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
