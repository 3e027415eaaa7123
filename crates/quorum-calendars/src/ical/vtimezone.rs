//! VTIMEZONE definitions whose TZID names no zone Quorum knows (Outlook's
//! "Customized Time Zone", a vendor's private id). Their STANDARD/DAYLIGHT
//! rules are expanded (with this crate's own RRULE expander) into offset
//! changes, and the IANA zone with exactly those offsets over the horizon
//! (checked at every change and weekly between) takes its place: the TZID
//! parameters that name it are rewritten, so the rest of the importer reads
//! ordinary IANA zones. A definition no IANA zone matches stays unmapped, and
//! its events are skipped with a note, as before.

use super::Comp;
use super::rrule::{expand, parse_rule};
use super::time::Moment;
use crate::zone_by_name;
use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use quorum_domain::TimeRange;
use std::collections::HashMap;

/// Rewrites TZID parameters naming an unknown zone defined by a VTIMEZONE
/// to the IANA zone that behaves the same over `horizon`.
pub fn map_custom_zones(components: &mut [Comp], horizon: TimeRange) {
    let mut mapped = HashMap::new();
    for comp in components.iter().filter(|c| c.name == "VTIMEZONE") {
        let Some(tzid) = comp.props.get("TZID").map(|p| p.value.clone()) else {
            continue;
        };
        if zone_by_name(&tzid).is_some() {
            continue;
        }
        if let Some(zone) = offsets(comp, horizon).and_then(|o| matching_zone(&o, horizon)) {
            mapped.insert(tzid, zone);
        }
    }
    if !mapped.is_empty() {
        rewrite(components, &mapped);
    }
}

fn rewrite(components: &mut [Comp], mapped: &HashMap<String, Tz>) {
    for comp in components {
        for prop in comp.props.0.iter_mut() {
            for (key, value) in prop.params.iter_mut() {
                if key == "TZID"
                    && let Some(zone) = mapped.get(value.as_str())
                {
                    *value = zone.name().to_owned();
                }
            }
        }
        rewrite(&mut comp.children, mapped);
    }
}

/// The definition's offset changes as (instant, offset after, offset
/// before), sorted, up to the horizon's end.
fn offsets(comp: &Comp, horizon: TimeRange) -> Option<Vec<(DateTime<Utc>, i32, i32)>> {
    let mut changes = Vec::new();
    let until = TimeRange::new(horizon.start, horizon.end + Duration::days(1));
    for observance in comp
        .children
        .iter()
        .filter(|c| c.name == "STANDARD" || c.name == "DAYLIGHT")
    {
        let from = parse_offset(&observance.props.get("TZOFFSETFROM")?.value)?;
        let to = parse_offset(&observance.props.get("TZOFFSETTO")?.value)?;
        let start = NaiveDateTime::parse_from_str(
            observance.props.get("DTSTART")?.value.trim(),
            "%Y%m%dT%H%M%S",
        )
        .ok()?;
        // Wall-clock readings in the offset before each change.
        let local = Moment {
            local: start,
            zone: chrono_tz::UTC,
            all_day: false,
        };
        let readings = match observance.props.get("RRULE") {
            Some(rule) => {
                expand(&parse_rule(&rule.value, chrono_tz::UTC).ok()?, local, until).ok()?
            }
            None => vec![super::rrule::Occurrence::of(local)],
        };
        for reading in readings {
            changes.push((reading.start - Duration::seconds(from.into()), to, from));
        }
    }
    changes.sort();
    (!changes.is_empty()).then_some(changes)
}

fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &text[1..];
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| {
        digits
            .get(r)
            .and_then(|d| d.parse::<i32>().ok())
            .unwrap_or(0)
    };
    Some(sign * (n(0..2) * 3600 + n(2..4) * 60 + n(4..6)))
}

/// The first IANA zone whose offset equals the definition's at every change
/// inside the horizon (just before and after it) and weekly in between.
fn matching_zone(changes: &[(DateTime<Utc>, i32, i32)], horizon: TimeRange) -> Option<Tz> {
    let offset_at = |t: DateTime<Utc>| {
        let last = changes.iter().rev().find(|(at, _, _)| *at <= t);
        last.map_or(changes[0].2, |(_, to, _)| *to)
    };
    let mut samples: Vec<DateTime<Utc>> = changes
        .iter()
        .filter(|(at, _, _)| horizon.start <= *at && *at <= horizon.end)
        .flat_map(|(at, _, _)| [*at - Duration::minutes(1), *at])
        .collect();
    let mut t = horizon.start;
    while t <= horizon.end {
        samples.push(t);
        t += Duration::days(7);
    }
    samples.push(horizon.end);
    chrono_tz::TZ_VARIANTS.iter().copied().find(|zone| {
        samples.iter().all(|t| {
            zone.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
                == offset_at(*t)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IcsOptions, import_ics};

    #[test]
    fn a_custom_vtimezone_is_read_by_its_rules() {
        // Outlook's way of writing US Eastern time under a private name.
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n\
            BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n\
            RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n\
            BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n\
            RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
            BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Customized Time Zone:20260306T090000\r\nDURATION:PT1H\r\n\
            RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let horizon = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        );
        let got = import_ics(ics, &IcsOptions::new(chrono_tz::Europe::London, horizon)).unwrap();
        let starts: Vec<String> = got
            .busy
            .iter()
            .map(|b| b.range.start.format("%d %H:%MZ").to_string())
            .collect();
        // 09:00 EST (-5) on the 6th and 7th, 09:00 EDT (-4) from the 8th.
        assert_eq!(starts, ["06 14:00Z", "07 14:00Z", "08 13:00Z"]);
        assert!(got.notes.is_empty(), "{:?}", got.notes);
    }

    #[test]
    fn a_definition_no_zone_matches_stays_unmapped() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Odd\r\n\
            BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0117\r\nTZOFFSETTO:+0117\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
            BEGIN:VEVENT\r\nUID:o\r\nDTSTART;TZID=Odd:20260306T090000\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let horizon = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        );
        let got = import_ics(ics, &IcsOptions::new(chrono_tz::Europe::London, horizon)).unwrap();
        assert!(got.busy.is_empty());
        assert!(got.notes[0].reason.contains("\"Odd\""), "{:?}", got.notes);
    }

    #[test]
    fn offsets_read_hours_minutes_and_seconds() {
        assert_eq!(parse_offset("+0545"), Some(20_700));
        assert_eq!(parse_offset("-0330"), Some(-12_600));
        assert_eq!(parse_offset("+013045"), Some(5_445));
        assert_eq!(parse_offset("0100"), None);
    }
}
