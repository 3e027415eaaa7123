//! The bucket grid and the exact edge rules that turn absolute intervals into
//! sets of candidate starts.
//!
//! Candidate start `k` is `origin + k × bucket`; its meeting is
//! `[start, start + length)`. Instants become whole-second offsets from the
//! origin, rounded so that no decision changes: a blocker's start is floored
//! and its end ceiled, an allowed window's start is ceiled and its end floored.
//! Because every meeting edge is a whole number of seconds from the origin, this
//! rounding is exact (a meeting overlaps `[a, b)` iff it overlaps
//! `[⌊a⌋, ⌈b⌉)`), even for sub-second timestamps.

use chrono::{DateTime, Utc};
use fixedbitset::FixedBitSet;
use quorum_domain::TimeRange;

/// Seconds from the grid origin.
pub type Offset = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub origin: DateTime<Utc>,
    /// Seconds between grid points.
    pub step: Offset,
    /// Seconds the meeting lasts.
    pub meeting: Offset,
    /// Grid starts whose whole meeting fits inside the horizon.
    pub starts: usize,
    /// Buckets over the horizon, the last possibly partial.
    pub buckets: usize,
}

impl Grid {
    pub fn new(horizon: TimeRange, step: Offset, meeting: Offset) -> Self {
        let length = horizon.duration().num_seconds().max(0);
        let starts = if meeting > length {
            0
        } else {
            usize::try_from((length - meeting) / step + 1).unwrap_or(0)
        };
        let buckets = usize::try_from((length + step - 1) / step).unwrap_or(0);
        Self {
            origin: horizon.start,
            step,
            meeting,
            starts,
            buckets,
        }
    }

    pub fn start_offset(&self, k: usize) -> Offset {
        self.step * k as Offset
    }

    pub fn start_instant(&self, k: usize) -> DateTime<Utc> {
        self.origin + chrono::Duration::seconds(self.start_offset(k))
    }

    pub fn meeting_range(&self, k: usize) -> TimeRange {
        let start = self.start_instant(k);
        TimeRange::new(start, start + chrono::Duration::seconds(self.meeting))
    }

    pub fn empty_set(&self) -> FixedBitSet {
        FixedBitSet::with_capacity(self.starts)
    }

    pub fn full_set(&self) -> FixedBitSet {
        let mut set = self.empty_set();
        set.insert_range(..);
        set
    }

    pub fn floor(&self, t: DateTime<Utc>) -> Offset {
        let d = t - self.origin;
        d.num_seconds() - Offset::from(d.subsec_nanos() < 0)
    }

    pub fn ceil(&self, t: DateTime<Utc>) -> Offset {
        let d = t - self.origin;
        d.num_seconds() + Offset::from(d.subsec_nanos() > 0)
    }

    /// Grid indices `k` with `lo ≤ k × step ≤ hi`, clipped to the grid.
    fn index_range(&self, lo: Offset, hi: Offset) -> Option<(usize, usize)> {
        let first = div_ceil(lo, self.step).max(0);
        let last = hi.div_euclid(self.step).min(self.starts as Offset - 1);
        (first <= last).then(|| (first as usize, last as usize + 1))
    }

    /// Starts whose whole meeting lies inside one of `allowed` (sorted, merged).
    pub fn starts_inside(&self, allowed: &[TimeRange]) -> FixedBitSet {
        let mut set = self.empty_set();
        for range in allowed {
            let (a, b) = (self.ceil(range.start), self.floor(range.end));
            if let Some((lo, hi)) = self.index_range(a, b - self.meeting) {
                set.insert_range(lo..hi);
            }
        }
        set
    }

    /// Starts whose meeting overlaps none of `blockers`.
    pub fn starts_clear_of(&self, blockers: &[TimeRange]) -> FixedBitSet {
        let mut set = self.full_set();
        for range in blockers {
            if let Some((lo, hi)) = self.overlapping(range) {
                set.remove_range(lo..hi);
            }
        }
        set
    }

    /// The grid indices whose meeting overlaps `range`, as `lo..hi`.
    pub fn overlapping(&self, range: &TimeRange) -> Option<(usize, usize)> {
        let (a, b) = (self.floor(range.start), self.ceil(range.end));
        // [s, s + m) overlaps [a, b) iff a − m < s < b.
        self.index_range(a - self.meeting + 1, b - 1)
    }

    /// Starts at or after `t` (the not-before rule).
    pub fn starts_at_or_after(&self, t: DateTime<Utc>) -> FixedBitSet {
        let mut set = self.empty_set();
        if let Some((lo, hi)) = self.index_range(self.ceil(t), Offset::MAX / 2) {
            set.insert_range(lo..hi);
        }
        set
    }

    /// Starts whose meeting ends at or before `t` (the deadline rule).
    pub fn meetings_ending_by(&self, t: DateTime<Utc>) -> FixedBitSet {
        let mut set = self.empty_set();
        if let Some((lo, hi)) = self.index_range(Offset::MIN / 2, self.floor(t) - self.meeting) {
            set.insert_range(lo..hi);
        }
        set
    }

    /// Starts `s` with `range.start ≤ s < range.end`.
    pub fn starts_within(&self, range: &TimeRange) -> Option<(usize, usize)> {
        self.index_range(self.ceil(range.start), self.ceil(range.end) - 1)
    }
}

fn div_ceil(x: Offset, step: Offset) -> Offset {
    -((-x).div_euclid(step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 5, 8, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn range(a: i64, b: i64) -> TimeRange {
        TimeRange::new(t(a), t(b))
    }

    fn ones(set: &FixedBitSet) -> Vec<usize> {
        set.ones().collect()
    }

    #[test]
    fn grid_counts_only_meetings_that_fit_the_horizon() {
        let grid = Grid::new(range(0, 60), 15 * 60, 25 * 60);
        // Starts 0, 15, 30 fit (30 + 25 = 55); 45 + 25 > 60 does not.
        assert_eq!(grid.starts, 3);
        assert_eq!(grid.buckets, 4);
    }

    #[test]
    fn busy_starting_after_a_short_meeting_does_not_block() {
        let grid = Grid::new(range(0, 120), 15 * 60, 25 * 60);
        // Busy from minute 26: the meeting at 0 ends at 25 and stays clear,
        // as does the one at 45; those at 15 and 30 overlap it.
        let clear = grid.starts_clear_of(&[range(26, 40)]);
        assert_eq!(ones(&clear), vec![0, 3, 4, 5, 6]);
    }

    #[test]
    fn touching_busy_does_not_block() {
        let grid = Grid::new(range(0, 120), 15 * 60, 30 * 60);
        let clear = grid.starts_clear_of(&[range(30, 60)]);
        // 0 ends at 30 (touches), 60 starts at 60 (touches).
        assert_eq!(ones(&clear), vec![0, 4, 5, 6]);
    }

    #[test]
    fn sub_second_edges_are_exact() {
        let grid = Grid::new(range(0, 120), 15 * 60, 30 * 60);
        let late = TimeRange::new(t(30) + Duration::milliseconds(1), t(31));
        assert_eq!(ones(&grid.starts_clear_of(&[late])), vec![0, 3, 4, 5, 6]);
        let early_end = TimeRange::new(t(0), t(15) - Duration::milliseconds(1));
        assert!(grid.starts_clear_of(&[early_end]).contains(1));
        let working = TimeRange::new(t(0) + Duration::milliseconds(1), t(60));
        assert_eq!(ones(&grid.starts_inside(&[working])), vec![1, 2]);
    }

    #[test]
    fn window_edges_allow_a_meeting_ending_exactly_at_the_deadline() {
        let grid = Grid::new(range(0, 120), 15 * 60, 30 * 60);
        assert_eq!(ones(&grid.meetings_ending_by(t(60))), vec![0, 1, 2]);
        assert_eq!(ones(&grid.starts_at_or_after(t(16))), vec![2, 3, 4, 5, 6]);
        assert_eq!(grid.starts_within(&range(15, 45)), Some((1, 3)));
    }
}
