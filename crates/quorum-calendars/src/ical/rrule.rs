//! RRULE expansion, done by Quorum itself for the subset real calendars use
//! (FREQ=MINUTELY…YEARLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY,
//! BYMONTH, WKST); any other part makes the event a skipped item with the
//! part named, never a guess.
//!
//! Why not the `rrule` crate: it repeats or skips instances across DST. The
//! rules here: DAILY and longer steps move the *wall clock* in the event's
//! zone and each reading is resolved by RFC 5545 §3.3.5 afterwards (so a
//! daily 09:00 stays 09:00 local on both sides of a change); HOURLY and
//! MINUTELY step *elapsed* time from DTSTART, so every real hour gets exactly
//! one instance — none repeated in the spring-forward gap, none lost in the
//! repeated fall-back hour.

use super::time::{Moment, parse_moment};
use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use quorum_domain::TimeRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Minutely,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    freq: Freq,
    interval: u32,
    count: Option<u32>,
    until: Option<Moment>,
    /// (ordinal, weekday); ordinal 0 means every such weekday.
    by_day: Vec<(i32, Weekday)>,
    by_month_day: Vec<i32>,
    by_month: Vec<u32>,
    wkst: Weekday,
}

/// Periods (days, weeks, months…) walked without reaching the horizon's end
/// before expansion gives up and says so.
const MAX_PERIODS: u32 = 200_000;

/// One instance of a recurrence set: its exact start, and its wall-clock
/// reading (which nominal durations are added to).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub moment: Moment,
}

impl Occurrence {
    pub fn of(moment: Moment) -> Self {
        Self {
            start: moment.instant(),
            moment,
        }
    }
}

pub fn parse_rule(text: &str, floating: Tz) -> Result<Rule, String> {
    let mut rule = Rule {
        freq: Freq::Daily,
        interval: 1,
        count: None,
        until: None,
        by_day: Vec::new(),
        by_month_day: Vec::new(),
        by_month: Vec::new(),
        wkst: Weekday::Mon,
    };
    let mut freq = None;
    for part in text.trim().split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("RRULE part {part:?} has no value"))?;
        let bad = || format!("RRULE part {key}={value} cannot be read");
        match key.to_ascii_uppercase().as_str() {
            "FREQ" => freq = Some(parse_freq(value)?),
            "INTERVAL" => rule.interval = value.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?,
            "COUNT" => rule.count = Some(value.parse().map_err(|_| bad())?),
            "UNTIL" => rule.until = Some(parse_moment(value, None, floating)?),
            "BYDAY" => {
                rule.by_day = value
                    .split(',')
                    .map(parse_by_day)
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?
            }
            "BYMONTHDAY" => {
                rule.by_month_day = value
                    .split(',')
                    .map(|d| d.parse().ok().filter(|d: &i32| (1..=31).contains(&d.abs())))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?
            }
            "BYMONTH" => {
                rule.by_month = value
                    .split(',')
                    .map(|m| m.parse().ok().filter(|m| (1..=12).contains(m)))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?
            }
            "WKST" => rule.wkst = weekday(value).ok_or_else(bad)?,
            other => return Err(format!("RRULE part {other} is not supported")),
        }
    }
    rule.freq = freq.ok_or("RRULE has no FREQ")?;
    check_combination(&rule)?;
    Ok(rule)
}

fn parse_freq(value: &str) -> Result<Freq, String> {
    Ok(match value.to_ascii_uppercase().as_str() {
        "MINUTELY" => Freq::Minutely,
        "HOURLY" => Freq::Hourly,
        "DAILY" => Freq::Daily,
        "WEEKLY" => Freq::Weekly,
        "MONTHLY" => Freq::Monthly,
        "YEARLY" => Freq::Yearly,
        other => return Err(format!("RRULE FREQ={other} is not supported")),
    })
}

fn check_combination(rule: &Rule) -> Result<(), String> {
    let has_by =
        !(rule.by_day.is_empty() && rule.by_month_day.is_empty() && rule.by_month.is_empty());
    let ordinal = rule.by_day.iter().any(|(n, _)| *n != 0);
    match rule.freq {
        Freq::Minutely | Freq::Hourly if has_by => {
            Err("BY… parts with FREQ=HOURLY or MINUTELY are not supported".into())
        }
        Freq::Daily | Freq::Weekly if ordinal => {
            Err("numbered BYDAY with FREQ=DAILY or WEEKLY is not allowed".into())
        }
        Freq::Weekly if !rule.by_month_day.is_empty() => {
            Err("BYMONTHDAY with FREQ=WEEKLY is not allowed".into())
        }
        Freq::Yearly if !rule.by_day.is_empty() && rule.by_month.is_empty() => Err(
            "BYDAY with FREQ=YEARLY needs BYMONTH here (week-of-year rules are not supported)"
                .into(),
        ),
        _ => Ok(()),
    }
}

fn parse_by_day(text: &str) -> Option<(i32, Weekday)> {
    let text = text.trim();
    let split = text.len().checked_sub(2)?;
    let (number, day) = text.split_at(split);
    let ordinal = match number {
        "" => 0,
        n => n
            .parse()
            .ok()
            .filter(|n: &i32| (1..=53).contains(&n.abs()))?,
    };
    Some((ordinal, weekday(day)?))
}

fn weekday(text: &str) -> Option<Weekday> {
    Some(match text.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// The instances of `rule` from `start` that start before the horizon ends
/// (all of them from DTSTART on, so COUNT counts right; the caller drops the
/// ones that end before the horizon starts). DTSTART is always the first.
pub fn expand(rule: &Rule, start: Moment, horizon: TimeRange) -> Result<Vec<Occurrence>, String> {
    let step = match rule.freq {
        Freq::Minutely => Some(60),
        Freq::Hourly => Some(3600),
        _ => None,
    };
    match step {
        Some(seconds) => Ok(expand_elapsed(
            rule,
            start,
            horizon,
            seconds * i64::from(rule.interval),
        )),
        None => expand_wall_clock(rule, start, horizon),
    }
}

fn until_instant(rule: &Rule, zone: Tz) -> Option<DateTime<Utc>> {
    rule.until.map(|until| {
        if until.all_day {
            // A DATE UNTIL includes that whole local day.
            let next = until.local + Duration::days(1);
            super::time::resolve_rfc5545(zone, next) - Duration::nanoseconds(1)
        } else if until.zone == chrono_tz::UTC {
            until.instant()
        } else {
            // A floating UNTIL is read in the event's zone.
            super::time::resolve_rfc5545(zone, until.local)
        }
    })
}

fn expand_elapsed(rule: &Rule, start: Moment, horizon: TimeRange, step: i64) -> Vec<Occurrence> {
    let first = start.instant();
    let until = until_instant(rule, start.zone);
    // Without COUNT the instances long before the horizon need not be walked:
    // jump to a week before it (no hourly instance plausibly lasts longer).
    let skip = match rule.count {
        None => ((horizon.start - Duration::days(7) - first).num_seconds() / step).max(0),
        Some(_) => 0,
    };
    let mut out = Vec::new();
    for k in skip.. {
        if rule.count.is_some_and(|c| k >= i64::from(c)) {
            break;
        }
        let at = first + Duration::seconds(k * step);
        if at >= horizon.end || until.is_some_and(|u| at > u) {
            break;
        }
        let moment = Moment {
            local: at.naive_utc(),
            zone: chrono_tz::UTC,
            all_day: false,
        };
        out.push(Occurrence { start: at, moment });
    }
    out
}

fn expand_wall_clock(
    rule: &Rule,
    start: Moment,
    horizon: TimeRange,
) -> Result<Vec<Occurrence>, String> {
    let until = until_instant(rule, start.zone);
    let mut out = vec![Occurrence::of(start)];
    if out[0].start >= horizon.end {
        return Ok(Vec::new());
    }
    let time = start.local.time();
    for period in 0..MAX_PERIODS {
        for date in dates_in_period(rule, start.local.date(), period) {
            let local = date.and_time(time);
            if local <= start.local {
                continue;
            }
            let occurrence = Occurrence::of(start.with_local(local));
            let counted_out = rule.count.is_some_and(|c| out.len() >= c as usize);
            if counted_out
                || occurrence.start >= horizon.end
                || until.is_some_and(|u| occurrence.start > u)
            {
                return Ok(out);
            }
            out.push(occurrence);
        }
    }
    Err(format!(
        "the recurrence did not reach the horizon's end within {MAX_PERIODS} periods"
    ))
}

/// The dates of one period (the `period`-th day, week, month or year from
/// DTSTART's, times INTERVAL), sorted, with the rule's filters applied.
fn dates_in_period(rule: &Rule, first: NaiveDate, period: u32) -> Vec<NaiveDate> {
    let n = period.saturating_mul(rule.interval);
    let mut dates = match rule.freq {
        Freq::Daily => first
            .checked_add_days(Days::new(n.into()))
            .into_iter()
            .collect(),
        Freq::Weekly => week_dates(rule, first, n),
        Freq::Monthly => first
            .with_day(1)
            .and_then(|d| d.checked_add_months(Months::new(n)))
            .map(|month| month_dates(rule, month, first))
            .unwrap_or_default(),
        Freq::Yearly => year_dates(rule, first, n),
        Freq::Hourly | Freq::Minutely => Vec::new(),
    };
    dates.retain(|d| {
        (rule.by_month.is_empty() || rule.by_month.contains(&d.month()))
            && (rule.freq != Freq::Daily
                || rule.by_day.is_empty()
                || rule.by_day.iter().any(|(_, w)| *w == d.weekday()))
            && (rule.freq != Freq::Daily
                || rule.by_month_day.is_empty()
                || month_day_matches(&rule.by_month_day, *d))
    });
    dates.sort();
    dates.dedup();
    dates
}

fn week_dates(rule: &Rule, first: NaiveDate, weeks: u32) -> Vec<NaiveDate> {
    let back = (7 + first.weekday().num_days_from_monday() - rule.wkst.num_days_from_monday()) % 7;
    let Some(week) = first
        .checked_sub_days(Days::new(back.into()))
        .and_then(|w| w.checked_add_days(Days::new(u64::from(weeks) * 7)))
    else {
        return Vec::new();
    };
    let days: Vec<Weekday> = match rule.by_day.is_empty() {
        true => vec![first.weekday()],
        false => rule.by_day.iter().map(|(_, w)| *w).collect(),
    };
    days.iter()
        .filter_map(|w| {
            let offset = (7 + w.num_days_from_monday() - rule.wkst.num_days_from_monday()) % 7;
            week.checked_add_days(Days::new(offset.into()))
        })
        .collect()
}

fn year_dates(rule: &Rule, first: NaiveDate, years: u32) -> Vec<NaiveDate> {
    let months: Vec<u32> = match rule.by_month.is_empty() {
        true => vec![first.month()],
        false => rule.by_month.clone(),
    };
    let year = first.year() + years as i32;
    months
        .iter()
        .filter_map(|m| NaiveDate::from_ymd_opt(year, *m, 1))
        .flat_map(|month| month_dates(rule, month, first))
        .collect()
}

/// The days of the month starting at `month` that BYMONTHDAY and BYDAY pick
/// (both: their intersection; neither: DTSTART's day, if the month has it).
fn month_dates(rule: &Rule, month: NaiveDate, first: NaiveDate) -> Vec<NaiveDate> {
    let days: Vec<NaiveDate> = month
        .iter_days()
        .take_while(|d| d.month() == month.month())
        .collect();
    days.iter()
        .copied()
        .filter(
            |d| match (rule.by_month_day.is_empty(), rule.by_day.is_empty()) {
                (true, true) => d.day() == first.day(),
                (false, true) => month_day_matches(&rule.by_month_day, *d),
                (true, false) => by_day_matches(&rule.by_day, *d, days.len()),
                (false, false) => {
                    month_day_matches(&rule.by_month_day, *d)
                        && by_day_matches(&rule.by_day, *d, days.len())
                }
            },
        )
        .collect()
}

fn month_day_matches(by_month_day: &[i32], date: NaiveDate) -> bool {
    let length = date
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .map(|next| (next - Duration::days(1)).day() as i32)
        .unwrap_or(31);
    let day = date.day() as i32;
    by_month_day
        .iter()
        .any(|md| *md == day || (*md < 0 && length + 1 + md == day))
}

fn by_day_matches(by_day: &[(i32, Weekday)], date: NaiveDate, month_length: usize) -> bool {
    let day = date.day() as i32;
    let nth = (day - 1) / 7 + 1;
    let nth_from_end = -((month_length as i32 - day) / 7 + 1);
    by_day
        .iter()
        .any(|(n, w)| *w == date.weekday() && (*n == 0 || *n == nth || *n == nth_from_end))
}

#[cfg(test)]
mod tests;
