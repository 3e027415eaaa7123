//! Absolute half-open time ranges and the allowed bucket sizes of the grid.
//!
//! Every instant is a UTC `DateTime`; local time only exists inside working
//! hours, where each person's wall clock is read (see `working_hours`). Ranges are
//! half-open, so a meeting may start exactly when a busy interval ends.

use chrono::{DateTime, Duration, Utc};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeRange {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self { start, end }
    }

    /// True when the range holds no instant (end at or before start).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Half-open overlap: ranges that only touch do not overlap.
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains_range(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{}",
            self.start.format("%a %Y-%m-%d %H:%M UTC"),
            self.end.format("%a %Y-%m-%d %H:%M UTC")
        )
    }
}

/// The grid step. Only sizes that divide an hour are allowed, so grid points
/// stay on the same minutes of every hour for the whole horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketSize(u32);

impl BucketSize {
    pub const ALLOWED_MINUTES: [u32; 5] = [5, 10, 15, 30, 60];

    pub fn from_minutes(minutes: u32) -> Option<Self> {
        Self::ALLOWED_MINUTES
            .contains(&minutes)
            .then_some(Self(minutes))
    }

    pub fn minutes(self) -> u32 {
        self.0
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0) * 60
    }
}

impl Default for BucketSize {
    fn default() -> Self {
        Self(15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 5, h, m, 0).unwrap()
    }

    #[test]
    fn touching_ranges_do_not_overlap() {
        let a = TimeRange::new(at(9, 0), at(10, 0));
        let b = TimeRange::new(at(10, 0), at(11, 0));
        assert!(!a.overlaps(&b));
        assert!(!b.overlaps(&a));
        assert!(a.overlaps(&TimeRange::new(at(9, 59), at(10, 1))));
    }

    #[test]
    fn only_sizes_dividing_an_hour_are_buckets() {
        assert_eq!(
            BucketSize::from_minutes(15).map(BucketSize::minutes),
            Some(15)
        );
        assert!(BucketSize::from_minutes(20).is_none());
        assert!(BucketSize::from_minutes(0).is_none());
    }
}
