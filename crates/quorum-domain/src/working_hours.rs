//! Weekly working hours in a person's own IANA zone, turned into the absolute
//! intervals in which the person is working.
//!
//! The rule (documented in the README) is the wall clock and nothing else: a
//! person works at instant `t` iff their clock at `t` reads a time inside one
//! of that weekday's windows. So no local time needs resolving. A window whose
//! clock times happen twice (a fall-back hour) holds both occurrences, which
//! can make it two absolute pieces; clock times that never happen (a
//! spring-forward gap) hold no instant. An end at or before the start runs past
//! midnight into the next local day.

use crate::{DomainError, TimeRange};
use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc, Weekday,
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

    /// The instants of this window on the given local date (which must fall on
    /// `self.weekday`): those whose wall-clock reading lies in
    /// `[date + start, end)`, where the end is on the next day for a window
    /// past midnight. Zero, one or (around a fall-back) two absolute pieces.
    pub fn on_date(&self, zone: Tz, date: NaiveDate) -> impl Iterator<Item = TimeRange> + use<> {
        self.read_on(&mut ZoneClock::new(zone), date)
    }

    fn read_on(
        &self,
        clock: &mut ZoneClock,
        date: NaiveDate,
    ) -> impl Iterator<Item = TimeRange> + use<> {
        let at = |day: NaiveDate, time: LocalTime| {
            day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(time.0.into())
        };
        let end_day = if self.crosses_midnight() {
            date.checked_add_days(Days::new(1)).unwrap_or(date)
        } else {
            date
        };
        clock.instants_reading(at(date, self.start), at(end_day, self.end))
    }
}

/// No zone's clock is more than 14 hours ahead of UTC (Pacific/Kiritimati) or
/// more than 12 behind (Etc/GMT+12), so an instant further than that from a
/// clock reading cannot show it.
const MOST_AHEAD: i64 = 14 * 3600;
const MOST_BEHIND: i64 = 12 * 3600;

/// One zone's wall clock, read backwards: which instants show a local span.
/// Windows are read day after day over spans that overlap, so it remembers a
/// stretch of known constant offset (most days then cost one offset lookup)
/// and the last offset change it found (bisected for once, not once a day).
struct ZoneClock {
    zone: Tz,
    known_offset: Option<KnownOffset>,
    known_change: Option<OffsetChange>,
}

/// The zone's offset is `offset` at every Unix second in `[from, to]`.
#[derive(Clone, Copy)]
struct KnownOffset {
    from: i64,
    to: i64,
    offset: i64,
}

/// The zone's offset (seconds east of UTC) is `before` until the Unix second
/// `at` and `after` from then on.
#[derive(Clone, Copy)]
struct OffsetChange {
    at: i64,
    before: i64,
    after: i64,
}

impl ZoneClock {
    fn new(zone: Tz) -> Self {
        Self {
            zone,
            known_offset: None,
            known_change: None,
        }
    }

    /// The instants at which the wall clock reads a time in `[from, to)`.
    ///
    /// While the offset stays the same, those instants are `[from, to)`
    /// shifted by the offset, so the answer is that shift within each stretch
    /// of constant offset. Only instants within `[from - 14 h, to + 12 h)` can
    /// qualify. For the windows asked about (at most a day) that span is under
    /// 51 hours, and in the tz database chrono-tz carries no two offset changes
    /// are closer than 6 days 23 hours (Brazil in 2000 and Gaza's predicted
    /// Ramadan changes; the rest are weeks apart), so the span holds at most
    /// one change: compare the offsets at its ends and, if they differ, find
    /// the change exactly.
    fn instants_reading(
        &mut self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> impl Iterator<Item = TimeRange> + use<> {
        let (from, to) = (from.and_utc().timestamp(), to.and_utc().timestamp());
        let (lo, hi) = (from - MOST_AHEAD, to + MOST_BEHIND);
        let (before, after) = (self.offset_at(lo), self.offset_at(hi));
        let change = if before == after {
            // No room for two changes, so none: the whole span is known.
            self.learn(lo, hi, before);
            hi
        } else {
            let change = self.change_within(lo, hi, before, after);
            self.learn(change, hi, after);
            change
        };
        // In a stretch with offset `offset`, the clock reads `from` at `from - offset`.
        let piece = |offset: i64, stretch_start: i64, stretch_end: i64| {
            let start = (from - offset).max(stretch_start);
            let end = (to - offset).min(stretch_end);
            (start < end).then(|| TimeRange::new(instant(start), instant(end)))
        };
        [piece(before, lo, change), piece(after, change, hi)]
            .into_iter()
            .flatten()
    }

    /// The one offset change in `(lo, hi]`, from `before` (the offset at `lo`)
    /// to `after` (the offset at `hi`): the one already known if it lies there
    /// (there is only one), else found by bisection on whole seconds, which is
    /// exact because changes happen on whole seconds.
    fn change_within(&mut self, mut lo: i64, mut hi: i64, before: i64, after: i64) -> i64 {
        if let Some(known) = self.known_change
            && lo < known.at
            && known.at <= hi
            && (known.before, known.after) == (before, after)
        {
            return known.at;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.offset_at(mid) == before {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.known_change = Some(OffsetChange {
            at: hi,
            before,
            after,
        });
        hi
    }

    /// Remembers that the offset is `offset` throughout `[from, to]`, joined
    /// to the stretch already known when they overlap with the same offset.
    fn learn(&mut self, from: i64, to: i64, offset: i64) {
        let joined = match self.known_offset {
            Some(k) if k.offset == offset && from <= k.to && k.from <= to => KnownOffset {
                from: from.min(k.from),
                to: to.max(k.to),
                offset,
            },
            _ => KnownOffset { from, to, offset },
        };
        self.known_offset = Some(joined);
    }

    /// The offset in seconds east of UTC at the Unix second `t`.
    fn offset_at(&self, t: i64) -> i64 {
        if let Some(k) = self.known_offset
            && k.from <= t
            && t <= k.to
        {
            return k.offset;
        }
        self.zone
            .offset_from_utc_datetime(&instant(t).naive_utc())
            .fix()
            .local_minus_utc()
            .into()
    }
}

fn instant(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// Absolute working intervals of `hours` in `zone` that intersect `within`,
/// clipped to it, sorted and merged (touching windows join).
pub fn working_intervals(zone: Tz, hours: &[WorkingHours], within: TimeRange) -> Vec<TimeRange> {
    if hours.is_empty() || within.is_empty() {
        return Vec::new();
    }
    // A window starting up to a day before `within` can still reach into it
    // (night shifts), and no offset moves a wall clock by more than a day.
    let first = within.start.with_timezone(&zone).date_naive() - Days::new(2);
    let last = within.end.with_timezone(&zone).date_naive() + Days::new(1);
    let mut clock = ZoneClock::new(zone);
    let mut intervals = Vec::new();
    for date in first.iter_days().take_while(|d| *d <= last) {
        for window in hours.iter().filter(|w| w.weekday == date.weekday()) {
            for piece in window.read_on(&mut clock, date) {
                let clipped =
                    TimeRange::new(piece.start.max(within.start), piece.end.min(within.end));
                if !clipped.is_empty() {
                    intervals.push(clipped);
                }
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

    /// The pieces of `w` on one local date.
    fn on(w: WorkingHours, zone: Tz, day: NaiveDate) -> Vec<TimeRange> {
        w.on_date(zone, day).collect()
    }

    #[test]
    fn window_across_spring_forward_gap_is_shorter() {
        // Europe/Berlin jumps 02:00 -> 03:00 on Sunday 2026-03-29 (01:00Z):
        // 01:00–02:00 CET is 00:00–01:00Z, 03:00–04:00 CEST is 01:00–02:00Z.
        let w = window(Weekday::Sun, "01:00", "04:00");
        let got = on(w, chrono_tz::Europe::Berlin, date(2026, 3, 29));
        let (before, after) = (
            range(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)),
            range(utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)),
        );
        assert_eq!(got, [before, after]);
        assert_eq!(
            merge(got),
            [range(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0))]
        );
    }

    #[test]
    fn clock_times_inside_the_gap_hold_no_instant() {
        // 02:30 never shows; the first reading inside the window is 03:00 CEST.
        let w = window(Weekday::Sun, "02:30", "05:00");
        let got = on(w, chrono_tz::Europe::Berlin, date(2026, 3, 29));
        assert_eq!(got, [range(utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 3, 0))]);
        let inside = window(Weekday::Sun, "02:15", "02:45");
        assert!(on(inside, chrono_tz::Europe::Berlin, date(2026, 3, 29)).is_empty());
    }

    #[test]
    fn window_spanning_fall_back_hour_is_longer() {
        // The clock reads 00:00–03:00 for four hours: 01:00–02:00 twice.
        let w = window(Weekday::Sun, "00:00", "03:00");
        let got = working_intervals(
            NEW_YORK,
            &[w],
            TimeRange::new(utc(2026, 10, 31, 0, 0), utc(2026, 11, 2, 0, 0)),
        );
        assert_eq!(got, [range(utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 8, 0))]);
    }

    #[test]
    fn half_and_three_quarter_hour_offsets() {
        let w = window(Weekday::Thu, "09:00", "17:00");
        let kolkata = on(w, chrono_tz::Asia::Kolkata, date(2026, 3, 5));
        assert_eq!(
            kolkata,
            [range(utc(2026, 3, 5, 3, 30), utc(2026, 3, 5, 11, 30))]
        );
        let kathmandu = on(w, chrono_tz::Asia::Kathmandu, date(2026, 3, 5));
        assert_eq!(
            kathmandu,
            [range(utc(2026, 3, 5, 3, 15), utc(2026, 3, 5, 11, 15))]
        );
    }

    #[test]
    fn night_shift_runs_past_midnight() {
        let w = window(Weekday::Mon, "22:00", "06:00");
        let got = on(w, chrono_tz::UTC, date(2026, 3, 2));
        assert_eq!(got, [range(utc(2026, 3, 2, 22, 0), utc(2026, 3, 3, 6, 0))]);
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

    /// The working intervals of one window over a whole day and more around it.
    fn pieces(zone: Tz, w: WorkingHours, around: DateTime<Utc>) -> Vec<TimeRange> {
        let within = TimeRange::new(around - Duration::days(2), around + Duration::days(2));
        working_intervals(zone, &[w], within)
    }

    fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> TimeRange {
        TimeRange::new(from, to)
    }

    // America/New_York on Sunday 2026-11-01: 01:00–02:00 happens twice, first
    // in EDT (05:00–06:00Z), then in EST (06:00–07:00Z).
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn window_ending_inside_the_repeated_hour_is_two_pieces() {
        let got = pieces(
            NEW_YORK,
            window(Weekday::Sun, "00:00", "01:30"),
            utc(2026, 11, 1, 0, 0),
        );
        // At 05:45Z the clock reads 01:45 EDT, past the window's end: not working.
        assert_eq!(
            got,
            [
                range(utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 30)),
                range(utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 30)),
            ]
        );
    }

    #[test]
    fn window_starting_inside_the_repeated_hour_is_two_pieces() {
        let got = pieces(
            NEW_YORK,
            window(Weekday::Sun, "01:30", "03:00"),
            utc(2026, 11, 1, 0, 0),
        );
        // 01:30–02:00 EDT, then 01:30 EST to 03:00 EST; 06:00–06:30Z reads 01:00–01:30 EST.
        assert_eq!(
            got,
            [
                range(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0)),
                range(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 8, 0)),
            ]
        );
    }

    #[test]
    fn window_inside_the_repeated_hour_happens_twice() {
        let got = pieces(
            NEW_YORK,
            window(Weekday::Sun, "01:30", "01:45"),
            utc(2026, 11, 1, 0, 0),
        );
        assert_eq!(
            got,
            [
                range(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 45)),
                range(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 45)),
            ]
        );
    }

    #[test]
    fn night_shift_ending_inside_the_repeated_hour_is_two_pieces() {
        // Saturday 22:00 EDT is Sunday 02:00Z.
        let got = pieces(
            NEW_YORK,
            window(Weekday::Sat, "22:00", "01:30"),
            utc(2026, 11, 1, 0, 0),
        );
        assert_eq!(
            got,
            [
                range(utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 5, 30)),
                range(utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 30)),
            ]
        );
    }

    #[test]
    fn window_ending_inside_london_repeated_hour_is_two_pieces() {
        // Europe/London repeats 01:00–02:00 on Sunday 2026-10-25 (BST, then GMT).
        let got = pieces(
            chrono_tz::Europe::London,
            window(Weekday::Sun, "00:30", "01:15"),
            utc(2026, 10, 25, 0, 0),
        );
        assert_eq!(
            got,
            [
                range(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 15)),
                range(utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 15)),
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_fall_back_repeats_half_an_hour() {
        // Australia/Lord_Howe goes from +11:00 to +10:30 at 02:00 local on
        // Sunday 2026-04-05 (15:00Z the day before): 01:30–02:00 happens twice.
        let got = pieces(
            chrono_tz::Australia::Lord_Howe,
            window(Weekday::Sun, "00:00", "01:45"),
            utc(2026, 4, 4, 12, 0),
        );
        assert_eq!(
            got,
            [
                range(utc(2026, 4, 4, 13, 0), utc(2026, 4, 4, 14, 45)),
                range(utc(2026, 4, 4, 15, 0), utc(2026, 4, 4, 15, 15)),
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_spring_forward_skips_half_an_hour() {
        // +10:30 to +11:00 at 02:00 local on Sunday 2026-10-04 (15:30Z the day
        // before): 01:00–03:00 on the clock is one and a half hours.
        let got = pieces(
            chrono_tz::Australia::Lord_Howe,
            window(Weekday::Sun, "01:00", "03:00"),
            utc(2026, 10, 3, 12, 0),
        );
        assert_eq!(
            got,
            [range(utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 16, 0))]
        );
    }

    #[test]
    fn remembered_offsets_change_nothing() {
        // working_intervals reuses what its clock learnt on earlier days; each
        // on_date call starts afresh. Over whole years of changes, including
        // Apia's skipped day and Lord Howe's half hours, they must agree.
        let hours = [
            window(Weekday::Sat, "22:00", "01:30"),
            window(Weekday::Sun, "00:30", "02:15"),
            window(Weekday::Sun, "02:45", "03:00"),
            window(Weekday::Mon, "09:00", "17:00"),
            window(Weekday::Thu, "01:45", "01:15"),
            window(Weekday::Fri, "12:00", "24:00"),
        ];
        let cases = [
            (chrono_tz::America::New_York, 2026),
            (chrono_tz::Europe::London, 2026),
            (chrono_tz::Australia::Lord_Howe, 2026),
            (chrono_tz::Asia::Kathmandu, 2026),
            (chrono_tz::Pacific::Apia, 2011),
        ];
        for (zone, year) in cases {
            let within = TimeRange::new(utc(year, 1, 1, 0, 0), utc(year + 1, 1, 1, 0, 0));
            let fresh: Vec<TimeRange> = date(year - 1, 12, 29)
                .iter_days()
                .take_while(|d| *d <= date(year + 1, 1, 2))
                .flat_map(|d| {
                    hours
                        .iter()
                        .filter(move |w| w.weekday == d.weekday())
                        .flat_map(move |w| w.on_date(zone, d))
                })
                .map(|r| TimeRange::new(r.start.max(within.start), r.end.min(within.end)))
                .filter(|r| !r.is_empty())
                .collect();
            assert_eq!(
                working_intervals(zone, &hours, within),
                merge(fresh),
                "{zone}"
            );
        }
    }

    #[test]
    fn skipped_day_yields_no_window() {
        // Pacific/Apia skipped Friday 2011-12-30 entirely.
        let w = window(Weekday::Fri, "09:00", "17:00");
        assert!(on(w, chrono_tz::Pacific::Apia, date(2011, 12, 30)).is_empty());
    }
}
