//! iCalendar DATE, DATE-TIME, DURATION and PERIOD values, and the one rule
//! that turns a local time into an instant (RFC 5545 §3.3.5).
//!
//! Every value is kept as a wall-clock reading plus the zone it is read in:
//! UTC for `Z` times, the TZID's zone, or the person's zone for floating
//! times and all-day dates. Recurrences step the wall clock and resolve each
//! reading afterwards, which is what keeps instances right across DST.

use super::Props;
use crate::zone_by_name;
use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The instant a wall-clock reading in `zone` names, by RFC 5545 §3.3.5: in a
/// spring-forward gap the reading is taken with the offset in force before
/// the gap (so 02:30 on a New York spring-forward day is 07:30Z, the moment
/// the clock shows 03:30); when the reading occurs twice it is the first.
pub fn resolve_rfc5545(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Before the gap is "a day earlier" for every real zone: no zone
            // has two transitions within a day, and gaps last at most hours.
            let before = zone
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix()
                .local_minus_utc();
            (local - Duration::seconds(before.into())).and_utc()
        }
    }
}

/// A DATE or DATE-TIME value with the zone its wall clock is read in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    pub local: NaiveDateTime,
    pub zone: Tz,
    /// A DATE value (an all-day event), read from local midnight.
    pub all_day: bool,
}

impl Moment {
    pub fn instant(&self) -> DateTime<Utc> {
        resolve_rfc5545(self.zone, self.local)
    }

    pub fn with_local(self, local: NaiveDateTime) -> Self {
        Self { local, ..self }
    }
}

/// Reads one DATE or DATE-TIME text with the property's TZID (if any).
/// Floating times and dates are read in `floating` (the person's zone).
pub fn parse_moment(text: &str, tzid: Option<&str>, floating: Tz) -> Result<Moment, String> {
    let text = text.trim();
    if text.len() == 8 {
        let date = NaiveDate::parse_from_str(text, "%Y%m%d")
            .map_err(|_| format!("{text:?} is not a DATE"))?;
        return Ok(Moment {
            local: date.and_time(NaiveTime::MIN),
            zone: floating,
            all_day: true,
        });
    }
    let (body, utc) = match text.strip_suffix('Z') {
        Some(body) => (body, true),
        None => (text, false),
    };
    let local = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
        .map_err(|_| format!("{text:?} is not a DATE-TIME"))?;
    let zone = match (utc, tzid) {
        (true, _) => chrono_tz::UTC,
        (false, Some(tzid)) => zone_by_name(tzid)
            .ok_or_else(|| format!("time zone {tzid:?} cannot be mapped to an IANA zone"))?,
        (false, None) => floating,
    };
    Ok(Moment {
        local,
        zone,
        all_day: false,
    })
}

/// The value of a date/time property (DTSTART, DTEND, RECURRENCE-ID).
pub fn prop_moment(props: &Props, name: &str, floating: Tz) -> Option<Result<Moment, String>> {
    let prop = props.get(name)?;
    Some(parse_moment(&prop.value, prop.param("TZID"), floating))
}

/// Every value of a list property (EXDATE, RDATE), comma-separated, across
/// all its occurrences.
pub fn list_values<'a>(
    props: &'a Props,
    name: &'a str,
) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
    props
        .all(name)
        .flat_map(|p| p.value.split(',').map(move |v| (v, p.param("TZID"))))
}

/// An RFC 5545 DURATION: a nominal part (days, weeks: wall-clock days) and an
/// exact part (hours, minutes, seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IcalDuration {
    pub days: i64,
    pub seconds: i64,
}

impl IcalDuration {
    /// The end of an instance starting at `start` (local reading in its zone).
    pub fn end_after(&self, start: Moment) -> DateTime<Utc> {
        let nominal = start.with_local(start.local + Duration::days(self.days));
        nominal.instant() + Duration::seconds(self.seconds)
    }
}

pub fn parse_duration(text: &str) -> Result<IcalDuration, String> {
    let bad = || format!("{text:?} is not a DURATION");
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (mut days, mut seconds, mut number, mut in_time) = (0i64, 0i64, String::new(), false);
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if number.is_empty() => in_time = true,
            _ => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                match (c, in_time) {
                    ('W', false) => days += 7 * n,
                    ('D', false) => days += n,
                    ('H', true) => seconds += 3600 * n,
                    ('M', true) => seconds += 60 * n,
                    ('S', true) => seconds += n,
                    _ => return Err(bad()),
                }
            }
        }
    }
    if !number.is_empty() || rest.is_empty() {
        return Err(bad());
    }
    Ok(IcalDuration {
        days: sign * days,
        seconds: sign * seconds,
    })
}

/// A PERIOD (`start/end` or `start/duration`), as used by FREEBUSY and RDATE.
pub fn parse_period(
    text: &str,
    tzid: Option<&str>,
    floating: Tz,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (start, end) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?} is not a PERIOD"))?;
    let start = parse_moment(start, tzid, floating)?;
    let end = if end.trim_start().starts_with(['P', '+', '-']) {
        parse_duration(end)?.end_after(start)
    } else {
        parse_moment(end, tzid, floating)?.instant()
    };
    Ok((start.instant(), end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Kathmandu, Australia::Lord_Howe, Europe::London};

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        local(text).and_utc()
    }

    #[test]
    fn a_time_in_a_spring_forward_gap_takes_the_offset_before_the_gap() {
        // New York jumps 02:00 EST -> 03:00 EDT on 2026-03-08: 02:30 read at -05:00.
        assert_eq!(
            resolve_rfc5545(New_York, local("2026-03-08 02:30")),
            utc("2026-03-08 07:30")
        );
        // London jumps 01:00 GMT -> 02:00 BST on 2026-03-29: 01:30 read at +00:00.
        assert_eq!(
            resolve_rfc5545(London, local("2026-03-29 01:30")),
            utc("2026-03-29 01:30")
        );
        // Lord Howe jumps 02:00 +10:30 -> 02:30 +11:00 on 2026-10-04: 02:15 read at +10:30.
        assert_eq!(
            resolve_rfc5545(Lord_Howe, local("2026-10-04 02:15")),
            utc("2026-10-03 15:45")
        );
        // Kathmandu moved from +05:30 to +05:45 at 1986-01-01 00:00: 00:10 read at +05:30.
        assert_eq!(
            resolve_rfc5545(Kathmandu, local("1986-01-01 00:10")),
            utc("1985-12-31 18:40")
        );
    }

    #[test]
    fn an_ambiguous_time_is_its_first_occurrence() {
        // New York falls back 02:00 EDT -> 01:00 EST on 2026-11-01: 01:30 is first at -04:00.
        assert_eq!(
            resolve_rfc5545(New_York, local("2026-11-01 01:30")),
            utc("2026-11-01 05:30")
        );
        // London falls back 02:00 BST -> 01:00 GMT on 2026-10-25: 01:30 first at +01:00.
        assert_eq!(
            resolve_rfc5545(London, local("2026-10-25 01:30")),
            utc("2026-10-25 00:30")
        );
        // Lord Howe falls back 02:00 +11:00 -> 01:30 +10:30 on 2026-04-05: 01:45 first at +11:00.
        assert_eq!(
            resolve_rfc5545(Lord_Howe, local("2026-04-05 01:45")),
            utc("2026-04-04 14:45")
        );
    }

    #[test]
    fn durations_split_into_nominal_days_and_exact_seconds() {
        assert_eq!(
            parse_duration("PT1H30M"),
            Ok(IcalDuration {
                days: 0,
                seconds: 5400
            })
        );
        assert_eq!(
            parse_duration("P1W"),
            Ok(IcalDuration {
                days: 7,
                seconds: 0
            })
        );
        assert_eq!(
            parse_duration("-P1DT2S"),
            Ok(IcalDuration {
                days: -1,
                seconds: -2
            })
        );
        assert!(parse_duration("P").is_err());
        assert!(parse_duration("PT5").is_err());
        assert!(parse_duration("P1H").is_err());
    }

    #[test]
    fn a_nominal_day_across_spring_forward_is_23_hours() {
        let start = parse_moment("20260307T120000", Some("America/New_York"), London).unwrap();
        let end = parse_duration("P1D").unwrap().end_after(start);
        assert_eq!(end - start.instant(), Duration::hours(23));
        let exact = parse_duration("PT24H").unwrap().end_after(start);
        assert_eq!(exact - start.instant(), Duration::hours(24));
    }

    #[test]
    fn values_read_in_their_zone_utc_or_the_persons_zone() {
        let z = parse_moment("20260310T090000Z", Some("Europe/London"), New_York).unwrap();
        assert_eq!(z.instant(), utc("2026-03-10 09:00"));
        let tz = parse_moment("20260310T090000", Some("Pacific Standard Time"), London).unwrap();
        assert_eq!(tz.instant(), utc("2026-03-10 16:00"));
        let floating = parse_moment("20260310T090000", None, New_York).unwrap();
        assert_eq!(floating.instant(), utc("2026-03-10 13:00"));
        let date = parse_moment("20260310", None, New_York).unwrap();
        assert!(date.all_day);
        assert_eq!(date.instant(), utc("2026-03-10 04:00"));
        let err = parse_moment("20260310T090000", Some("Custom Zone"), London).unwrap_err();
        assert!(err.contains("cannot be mapped"), "{err}");
    }

    #[test]
    fn periods_take_an_end_or_a_duration() {
        assert_eq!(
            parse_period("20260310T090000Z/20260310T100000Z", None, London),
            Ok((utc("2026-03-10 09:00"), utc("2026-03-10 10:00")))
        );
        assert_eq!(
            parse_period("20260310T090000Z/PT45M", None, London),
            Ok((utc("2026-03-10 09:00"), utc("2026-03-10 09:45")))
        );
    }
}
