//! Weekly working hours in a person's own IANA zone, turned into absolute
//! intervals that stay right across DST changes.
//!
//! The rule (documented in the README): a local window runs from the *first*
//! instant the person's clock shows its start to the *last* instant it shows its
//! end. So a window spanning a fall-back hour is longer in absolute time, and a
//! local time that does not exist (a spring-forward gap) resolves to the moment
//! the clock jumps past it, which makes a window touching the gap shorter. An end
//! at or before the start runs past midnight into the next local day.

use crate::{DomainError, TimeRange};
use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Utc, Weekday,
};
use chrono_tz::Tz;
use std::fmt;

/// A local time of day, in minutes after midnight; 1440 is "24:00".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime(0);
    pub const END_OF_DAY: LocalTime = LocalTime(1440);

    pub fn from_hm(hours: u16, minutes: u16) -> Option<Self> {
        let total = hours.checked_mul(60)?.checked_add(minutes)?;
        (minutes < 60 && total <= 1440).then_some(Self(total))
    }

    /// Parses "HH:MM" (24-hour clock, "24:00" allowed).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::BadLocalTime {
            text: text.to_owned(),
        };
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(bad());
        }
        let hours = h.parse().map_err(|_| bad())?;
        let minutes = m.parse().map_err(|_| bad())?;
        Self::from_hm(hours, minutes).ok_or_else(bad)
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// One recurring weekly window of working time in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkingHours {
    pub weekday: Weekday,
    pub start: LocalTime,
    pub end: LocalTime,
}

impl WorkingHours {
    /// An end at or before the start means the window runs past midnight.
    pub fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// The absolute interval of this window on the given local date, which must
    /// fall on `self.weekday`.
    pub fn on_date(&self, zone: Tz, date: NaiveDate) -> TimeRange {
        let local = |day: NaiveDate, at: LocalTime| {
            day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(at.0.into())
        };
        let end_day = if self.crosses_midnight() {
            date.checked_add_days(Days::new(1)).unwrap_or(date)
        } else {
            date
        };
        TimeRange::new(
            resolve_local_start(zone, local(date, self.start)),
            resolve_local_end(zone, local(end_day, self.end)),
        )
    }
}

/// The first instant at which the zone's clock shows `local` (or, inside a
/// spring-forward gap, the instant the clock jumps past it).
pub fn resolve_local_start(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => end_of_gap(zone, local),
    }
}

/// The last instant at which the zone's clock shows `local` (or, inside a
/// spring-forward gap, the instant the clock jumps past it).
pub fn resolve_local_end(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(_, last) => last.with_timezone(&Utc),
        LocalResult::None => end_of_gap(zone, local),
    }
}

/// The transition instant that ends the gap containing `local`: the earliest
/// instant whose wall-clock reading is at or after `local`.
fn end_of_gap(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let offset_at = |utc: NaiveDateTime| -> i64 {
        zone.offset_from_utc_datetime(&utc)
            .fix()
            .local_minus_utc()
            .into()
    };
    let wall = |t: i64| -> Option<NaiveDateTime> {
        let utc = DateTime::from_timestamp(t, 0)?.naive_utc();
        Some(utc + Duration::seconds(offset_at(utc)))
    };
    // The offsets a day either side bracket the transition: read with the later
    // (larger) offset the instant lies before the jump, with the earlier one after.
    let around = |days: i64| offset_at(local - Duration::days(days));
    let (a, b) = (around(1), around(-1));
    let naive = local.and_utc().timestamp();
    let (mut lo, mut hi) = (naive - a.max(b), naive - a.min(b));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match wall(mid) {
            Some(w) if w >= local => hi = mid,
            _ => lo = mid,
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| local.and_utc())
}

/// Absolute working intervals of `hours` in `zone` that intersect `within`,
/// clipped to it, sorted and merged (touching windows join).
pub fn working_intervals(zone: Tz, hours: &[WorkingHours], within: TimeRange) -> Vec<TimeRange> {
    if hours.is_empty() || within.is_empty() {
        return Vec::new();
    }
    // A window starting up to a day before `within` can still reach into it
    // (night shifts), and DST never moves a wall clock by more than a day.
    let first = within.start.with_timezone(&zone).date_naive() - Days::new(2);
    let last = within.end.with_timezone(&zone).date_naive() + Days::new(1);
    let mut intervals = Vec::new();
    for date in first.iter_days().take_while(|d| *d <= last) {
        for window in hours.iter().filter(|w| w.weekday == date.weekday()) {
            let absolute = window.on_date(zone, date);
            let clipped = TimeRange::new(
                absolute.start.max(within.start),
                absolute.end.min(within.end),
            );
            if !clipped.is_empty() {
                intervals.push(clipped);
            }
        }
    }
    merge(intervals)
}

/// Sorts ranges and joins those that overlap or touch.
pub(crate) fn merge(mut ranges: Vec<TimeRange>) -> Vec<TimeRange> {
    ranges.sort();
    let mut merged: Vec<TimeRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn window(weekday: Weekday, start: &str, end: &str) -> WorkingHours {
        WorkingHours {
            weekday,
            start: LocalTime::parse(start).unwrap(),
            end: LocalTime::parse(end).unwrap(),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn local_time_parses_only_clock_times() {
        assert_eq!(LocalTime::parse("09:30").unwrap().minutes(), 570);
        assert_eq!(LocalTime::parse("24:00").unwrap(), LocalTime::END_OF_DAY);
        for bad in ["9:30", "24:01", "12:60", "ab:cd", "", "12-00", "012:00"] {
            assert!(LocalTime::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn window_in_spring_forward_gap_is_shorter() {
        // Europe/Berlin jumps 02:00 -> 03:00 on Sunday 2026-03-29.
        let w = window(Weekday::Sun, "01:00", "04:00");
        let range = w.on_date(chrono_tz::Europe::Berlin, date(2026, 3, 29));
        assert_eq!(range.start, utc(2026, 3, 29, 0, 0));
        assert_eq!(range.end, utc(2026, 3, 29, 2, 0));
        assert_eq!(range.duration(), Duration::hours(2));
    }

    #[test]
    fn start_inside_gap_resolves_to_the_jump() {
        let w = window(Weekday::Sun, "02:30", "05:00");
        let range = w.on_date(chrono_tz::Europe::Berlin, date(2026, 3, 29));
        // 03:00 CEST, the first instant after the gap, is 01:00 UTC.
        assert_eq!(range.start, utc(2026, 3, 29, 1, 0));
        assert_eq!(range.end, utc(2026, 3, 29, 3, 0));
    }

    #[test]
    fn window_spanning_fall_back_hour_is_longer() {
        // America/New_York repeats 01:00-02:00 on Sunday 2026-11-01.
        let w = window(Weekday::Sun, "00:00", "03:00");
        let range = w.on_date(chrono_tz::America::New_York, date(2026, 11, 1));
        assert_eq!(range.start, utc(2026, 11, 1, 4, 0));
        assert_eq!(range.end, utc(2026, 11, 1, 8, 0));
        assert_eq!(range.duration(), Duration::hours(4));
    }

    #[test]
    fn ambiguous_edges_take_first_start_and_last_end() {
        let w = window(Weekday::Sun, "01:30", "01:45");
        let range = w.on_date(chrono_tz::America::New_York, date(2026, 11, 1));
        // First 01:30 is EDT (05:30 UTC); last 01:45 is EST (06:45 UTC).
        assert_eq!(range.start, utc(2026, 11, 1, 5, 30));
        assert_eq!(range.end, utc(2026, 11, 1, 6, 45));
    }

    #[test]
    fn half_and_three_quarter_hour_offsets() {
        let w = window(Weekday::Thu, "09:00", "17:00");
        let kolkata = w.on_date(chrono_tz::Asia::Kolkata, date(2026, 3, 5));
        assert_eq!(kolkata.start, utc(2026, 3, 5, 3, 30));
        let kathmandu = w.on_date(chrono_tz::Asia::Kathmandu, date(2026, 3, 5));
        assert_eq!(kathmandu.start, utc(2026, 3, 5, 3, 15));
        assert_eq!(kathmandu.end, utc(2026, 3, 5, 11, 15));
    }

    #[test]
    fn night_shift_runs_past_midnight() {
        let w = window(Weekday::Mon, "22:00", "06:00");
        let range = w.on_date(chrono_tz::UTC, date(2026, 3, 2));
        assert_eq!(range.start, utc(2026, 3, 2, 22, 0));
        assert_eq!(range.end, utc(2026, 3, 3, 6, 0));
    }

    #[test]
    fn intervals_are_clipped_and_merged_across_days() {
        let hours = [
            window(Weekday::Mon, "20:00", "24:00"),
            window(Weekday::Tue, "00:00", "02:00"),
            window(Weekday::Tue, "09:00", "10:00"),
        ];
        let within = TimeRange::new(utc(2026, 3, 2, 21, 0), utc(2026, 3, 3, 9, 30));
        let got = working_intervals(chrono_tz::UTC, &hours, within);
        assert_eq!(
            got,
            vec![
                TimeRange::new(utc(2026, 3, 2, 21, 0), utc(2026, 3, 3, 2, 0)),
                TimeRange::new(utc(2026, 3, 3, 9, 0), utc(2026, 3, 3, 9, 30)),
            ]
        );
    }

    #[test]
    fn skipped_day_yields_no_window() {
        // Pacific/Apia skipped Friday 2011-12-30 entirely.
        let w = window(Weekday::Fri, "09:00", "17:00");
        let range = w.on_date(chrono_tz::Pacific::Apia, date(2011, 12, 30));
        assert!(range.is_empty());
    }
}
