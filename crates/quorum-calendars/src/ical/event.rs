//! VEVENTs into busy intervals: STATUS and TRANSP decide whether and how an
//! event blocks; DTSTART/DTEND/DURATION, RRULE, RDATE, EXDATE and
//! RECURRENCE-ID overrides decide when. Events are grouped by UID so an
//! override replaces the instance it names.

use super::rrule::{Occurrence, expand, parse_rule};
use super::time::{
    IcalDuration, Moment, list_values, parse_duration, parse_moment, parse_period, prop_moment,
};
use super::{Comp, IcsOptions};
use crate::{CalendarImport, NoteAction};
use chrono::{DateTime, Utc};
use quorum_domain::{BusyInterval, BusyStatus, TimeRange};
use std::collections::HashMap;

/// One VEVENT with its position for notes.
struct Event<'a> {
    comp: &'a Comp,
    item: String,
}

pub fn import_events(components: &[Comp], options: &IcsOptions, out: &mut CalendarImport) {
    // Masters and overrides by UID; events without a UID stand alone.
    let mut by_uid: HashMap<String, (Vec<Event>, Vec<Event>)> = HashMap::new();
    let mut order = Vec::new();
    for (index, comp) in components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name == "VEVENT")
    {
        let event = Event {
            comp,
            item: format!("VEVENT #{}{}", index + 1, comp.uid_suffix()),
        };
        let uid = comp
            .props
            .get("UID")
            .map(|u| u.value.clone())
            .unwrap_or_else(|| format!("\u{0}{index}"));
        if !by_uid.contains_key(&uid) {
            order.push(uid.clone());
        }
        let entry = by_uid.entry(uid).or_default();
        match comp.props.get("RECURRENCE-ID") {
            Some(_) => entry.1.push(event),
            None => entry.0.push(event),
        }
    }
    for uid in order {
        let (masters, overrides) = &by_uid[&uid];
        import_series(masters, overrides, options, out);
    }
}

fn import_series(
    masters: &[Event],
    overrides: &[Event],
    options: &IcsOptions,
    out: &mut CalendarImport,
) {
    // Instants of the instances that overrides replace.
    let mut replaced = Vec::new();
    for o in overrides {
        match prop_moment(&o.comp.props, "RECURRENCE-ID", options.zone) {
            Some(Ok(id)) => {
                if let Some(range) = o
                    .comp
                    .props
                    .get("RECURRENCE-ID")
                    .and_then(|p| p.param("RANGE"))
                {
                    out.note(&o.item, NoteAction::Skipped, format!("RECURRENCE-ID;RANGE={range} is not supported; only the one instance it names is replaced"));
                }
                replaced.push(id.instant());
                import_event(o, &[], options, out);
            }
            _ => out.note(&o.item, NoteAction::Skipped, "RECURRENCE-ID cannot be read"),
        }
    }
    if masters.is_empty() && !overrides.is_empty() {
        // Overrides of a series this calendar does not hold are still busy time.
        return;
    }
    for master in masters {
        import_event(master, &replaced, options, out);
    }
}

fn import_event(
    event: &Event,
    replaced: &[DateTime<Utc>],
    options: &IcsOptions,
    out: &mut CalendarImport,
) {
    let Some(status) = blocking_status(event, out) else {
        return;
    };
    let props = &event.comp.props;
    let start = match prop_moment(props, "DTSTART", options.zone) {
        Some(Ok(start)) => start,
        Some(Err(why)) => {
            return out.note(&event.item, NoteAction::Skipped, format!("DTSTART: {why}"));
        }
        None => return out.note(&event.item, NoteAction::Skipped, "it has no DTSTART"),
    };
    let length = match event_length(event, start, options) {
        Ok(length) => length,
        Err(why) => return out.note(&event.item, NoteAction::Skipped, why),
    };
    let occurrences = match occurrences(event, start, options) {
        Ok(occurrences) => occurrences,
        Err(why) => return out.note(&event.item, NoteAction::Skipped, why),
    };
    let excluded = match excluded(event, start, options) {
        Ok(excluded) => excluded,
        Err(why) => return out.note(&event.item, NoteAction::Skipped, format!("EXDATE: {why}")),
    };
    for (occurrence, end) in occurrences {
        if replaced.contains(&occurrence.start) || excluded.contains(&occurrence.start) {
            continue;
        }
        let end = end.unwrap_or_else(|| length.end(occurrence));
        push_clipped(
            out,
            options.horizon,
            TimeRange::new(occurrence.start, end),
            status,
        );
    }
}

/// How an event blocks, or `None` (with a note) when it does not.
fn blocking_status(event: &Event, out: &mut CalendarImport) -> Option<BusyStatus> {
    let props = &event.comp.props;
    if props.upper("TRANSP").as_deref() == Some("TRANSPARENT") {
        out.note(
            &event.item,
            NoteAction::Skipped,
            "TRANSP:TRANSPARENT does not block time",
        );
        return None;
    }
    match props.upper("STATUS").as_deref() {
        None | Some("CONFIRMED") => Some(BusyStatus::Busy),
        Some("TENTATIVE") => Some(BusyStatus::Tentative),
        Some("CANCELLED") => {
            out.note(
                &event.item,
                NoteAction::Skipped,
                "STATUS:CANCELLED does not block time",
            );
            None
        }
        Some(other) => {
            out.note(
                &event.item,
                NoteAction::ReadAsBusy,
                format!("STATUS:{other} is not an event status"),
            );
            Some(BusyStatus::Busy)
        }
    }
}

/// How long each instance lasts: DTEND gives an exact duration (RFC 5545
/// §3.8.5.3), DURATION a nominal one, an all-day event one day by default.
enum Length {
    Exact(chrono::Duration),
    Nominal(IcalDuration),
}

impl Length {
    fn end(&self, occurrence: Occurrence) -> DateTime<Utc> {
        match self {
            Length::Exact(d) => occurrence.start + *d,
            Length::Nominal(d) => d.end_after(occurrence.moment),
        }
    }
}

fn event_length(event: &Event, start: Moment, options: &IcsOptions) -> Result<Length, String> {
    let props = &event.comp.props;
    if let Some(end) = prop_moment(props, "DTEND", options.zone) {
        let end = end.map_err(|why| format!("DTEND: {why}"))?;
        if start.all_day && end.all_day {
            let days = (end.local - start.local).num_days();
            return Ok(Length::Nominal(IcalDuration { days, seconds: 0 }));
        }
        return Ok(Length::Exact(end.instant() - start.instant()));
    }
    if let Some(duration) = props.get("DURATION") {
        return parse_duration(&duration.value).map(Length::Nominal);
    }
    if start.all_day {
        return Ok(Length::Nominal(IcalDuration {
            days: 1,
            seconds: 0,
        }));
    }
    Err("it has no end (no DTEND or DURATION), so it takes no time".into())
}

/// An instance, with its own end when an RDATE period gives one.
type Instance = (Occurrence, Option<DateTime<Utc>>);

/// The instances, DTSTART first.
fn occurrences(
    event: &Event,
    start: Moment,
    options: &IcsOptions,
) -> Result<Vec<Instance>, String> {
    let props = &event.comp.props;
    let mut all: Vec<Instance> = match props.get("RRULE") {
        Some(rule) => {
            let rule = parse_rule(&rule.value, start.zone)?;
            expand(&rule, start, options.horizon)?
                .into_iter()
                .map(|o| (o, None))
                .collect()
        }
        None => vec![(Occurrence::of(start), None)],
    };
    for (value, tzid) in list_values(props, "RDATE") {
        if value.contains('/') {
            let (from, to) =
                parse_period(value, tzid, options.zone).map_err(|why| format!("RDATE: {why}"))?;
            let moment = Moment {
                local: from.naive_utc(),
                zone: chrono_tz::UTC,
                all_day: false,
            };
            all.push((
                Occurrence {
                    start: from,
                    moment,
                },
                Some(to),
            ));
        } else {
            let moment = parse_moment(value, tzid.or(tz_of(start)), start.zone)
                .map_err(|why| format!("RDATE: {why}"))?;
            all.push((Occurrence::of(moment), None));
        }
    }
    Ok(all)
}

/// RDATE/EXDATE values without a TZID are read in DTSTART's zone.
fn tz_of(start: Moment) -> Option<&'static str> {
    Some(start.zone.name())
}

fn excluded(
    event: &Event,
    start: Moment,
    options: &IcsOptions,
) -> Result<Vec<DateTime<Utc>>, String> {
    list_values(&event.comp.props, "EXDATE")
        .map(|(value, tzid)| {
            parse_moment(value, tzid.or(tz_of(start)), options.zone).map(|m| m.instant())
        })
        .collect()
}

pub fn push_clipped(
    out: &mut CalendarImport,
    horizon: TimeRange,
    range: TimeRange,
    status: BusyStatus,
) {
    let clipped = TimeRange::new(range.start.max(horizon.start), range.end.min(horizon.end));
    if !clipped.is_empty() {
        out.busy.push(BusyInterval {
            range: clipped,
            status,
        });
    }
}
