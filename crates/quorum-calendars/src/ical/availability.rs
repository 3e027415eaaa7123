//! RFC 7953 VAVAILABILITY into weekly working hours: each AVAILABLE that
//! repeats weekly (RRULE FREQ=WEEKLY with BYDAY, or none: its own weekday)
//! becomes one window per weekday, read in its DTSTART's zone. Anything that
//! is not a weekly pattern is a note, not a guess.

use super::Comp;
use super::time::{parse_duration, prop_moment};
use crate::{CalendarImport, NoteAction};
use chrono::{Datelike, Timelike, Weekday};
use quorum_domain::{LocalTime, WorkingHours};

pub fn import_availability(comp: &Comp, item: &str, out: &mut CalendarImport) {
    let available: Vec<&Comp> = comp
        .children
        .iter()
        .filter(|c| c.name == "AVAILABLE")
        .collect();
    if available.is_empty() {
        out.note(item, NoteAction::Skipped, "it has no AVAILABLE components");
    }
    for (n, slot) in available.into_iter().enumerate() {
        let what = format!("{item} AVAILABLE #{}{}", n + 1, slot.uid_suffix());
        if let Err(why) = import_available(slot, out) {
            out.note(what, NoteAction::Skipped, why);
        }
    }
}

fn import_available(slot: &Comp, out: &mut CalendarImport) -> Result<(), String> {
    // The zone is the one DTSTART names; a floating AVAILABLE has none to give.
    let start = prop_moment(&slot.props, "DTSTART", chrono_tz::UTC)
        .ok_or("it has no DTSTART")?
        .map_err(|why| format!("DTSTART: {why}"))?;
    if start.all_day
        || slot
            .props
            .get("DTSTART")
            .and_then(|p| p.param("TZID"))
            .is_none()
    {
        return Err("DTSTART needs a TZID to give working hours a zone".into());
    }
    let end_local = match prop_moment(&slot.props, "DTEND", start.zone) {
        Some(end) => end.map_err(|why| format!("DTEND: {why}"))?.local,
        None => {
            let d = parse_duration(
                &slot
                    .props
                    .get("DURATION")
                    .ok_or("it has no DTEND or DURATION")?
                    .value,
            )?;
            start.local + chrono::Duration::days(d.days) + chrono::Duration::seconds(d.seconds)
        }
    };
    let length = end_local - start.local;
    if length <= chrono::Duration::zero() || length > chrono::Duration::days(1) {
        return Err("a working window must last more than nothing and at most a day".into());
    }
    let days = weekly_days(slot, start.local.weekday())?;
    if out.time_zone.is_some_and(|z| z != start.zone) {
        return Err(format!(
            "its zone {} differs from the zone of earlier working hours",
            start.zone.name()
        ));
    }
    out.time_zone = Some(start.zone);
    let at = |t: chrono::NaiveDateTime, day_end: bool| {
        let minutes = (t.hour() * 60 + t.minute()) as u16;
        let minutes = if day_end && minutes == 0 {
            1440
        } else {
            minutes
        };
        LocalTime::from_hm(minutes / 60, minutes % 60).unwrap_or(LocalTime::MIDNIGHT)
    };
    for weekday in days {
        out.working_hours.push(WorkingHours {
            weekday,
            start: at(start.local, false),
            end: at(end_local, true),
        });
    }
    Ok(())
}

/// The weekdays an AVAILABLE repeats on, when it repeats weekly.
fn weekly_days(slot: &Comp, own: Weekday) -> Result<Vec<Weekday>, String> {
    let Some(rule) = slot.props.get("RRULE") else {
        return Ok(vec![own]);
    };
    let mut days = Vec::new();
    let mut weekly = false;
    for part in rule.value.to_ascii_uppercase().split(';') {
        match part.split_once('=') {
            Some(("FREQ", "WEEKLY")) | Some(("INTERVAL", "1")) | Some(("WKST", _)) => {
                weekly |= part.starts_with("FREQ")
            }
            Some(("BYDAY", list)) => {
                for day in list.split(',') {
                    days.push(
                        two_letter(day).ok_or_else(|| format!("BYDAY {day} cannot be read"))?,
                    );
                }
            }
            _ => {
                return Err(format!(
                    "RRULE {} is not a plain weekly pattern",
                    rule.value
                ));
            }
        }
    }
    if !weekly {
        return Err(format!(
            "RRULE {} is not a plain weekly pattern",
            rule.value
        ));
    }
    Ok(if days.is_empty() { vec![own] } else { days })
}

fn two_letter(day: &str) -> Option<Weekday> {
    Some(match day {
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
