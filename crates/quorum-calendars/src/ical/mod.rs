//! iCalendar (RFC 5545) import: VFREEBUSY, VEVENT and RFC 7953 VAVAILABILITY
//! turned into busy intervals and weekly working hours.
//!
//! The `icalendar` crate's parser reads the text into components (it unfolds
//! lines and splits parameters); everything about time — zones, DST rules,
//! recurrence — is done here, because the popular expanders get DST wrong.
//! Only DTSTART/DTEND/DURATION/RRULE/RDATE/EXDATE/RECURRENCE-ID/STATUS/TRANSP/
//! FBTYPE/UID are read: titles, locations and attendees never leave the parser.

mod availability;
mod event;
mod freebusy;
mod rrule;
mod time;
mod vtimezone;

use crate::{CalendarError, CalendarImport};
use chrono_tz::Tz;
use quorum_domain::TimeRange;

pub(crate) use event::push_clipped;
pub use time::resolve_rfc5545;

/// How to read one iCalendar document for one person.
#[derive(Debug, Clone, Copy)]
pub struct IcsOptions {
    /// The person's zone: floating times and all-day dates are read in it.
    pub zone: Tz,
    /// Only busy time overlapping this range is kept (clipped to it), and
    /// recurrences are expanded no further than its end.
    pub horizon: TimeRange,
    /// Read a VFREEBUSY without FREEBUSY properties as one busy interval
    /// from its DTSTART to DTEND. Some CalDAV servers (Radicale before 3.5)
    /// answer a free-busy query that way; in a file such a component means
    /// "free in this range", so this is only set for CalDAV answers.
    pub vfreebusy_span_is_busy: bool,
}

impl IcsOptions {
    pub fn new(zone: Tz, horizon: TimeRange) -> Self {
        Self {
            zone,
            horizon,
            vfreebusy_span_is_busy: false,
        }
    }
}

/// Reads an iCalendar document: every VFREEBUSY, VEVENT and VAVAILABILITY
/// in it (inside any number of VCALENDARs).
pub fn import_ics(text: &str, options: &IcsOptions) -> Result<CalendarImport, CalendarError> {
    let unfolded = icalendar::parser::unfold(text);
    let parsed =
        icalendar::parser::read_calendar_simple(&unfolded).map_err(|e| CalendarError::BadIcs {
            detail: format!(
                "{:?} near {:?}",
                e.code,
                e.input.chars().take(40).collect::<String>()
            ),
        })?;
    let mut components = Vec::new();
    for root in parsed.iter().map(Comp::from_parsed) {
        if root.name == "VCALENDAR" {
            components.extend(root.children);
        } else {
            components.push(root);
        }
    }
    vtimezone::map_custom_zones(&mut components, options.horizon);
    let mut out = CalendarImport::default();
    event::import_events(&components, options, &mut out);
    for (index, comp) in components.iter().enumerate() {
        let item = || format!("{} #{}{}", comp.name, index + 1, comp.uid_suffix());
        match comp.name.as_str() {
            "VFREEBUSY" => freebusy::import_freebusy(comp, &item(), options, &mut out),
            "VAVAILABILITY" => availability::import_availability(comp, &item(), &mut out),
            // VEVENTs were read above (grouped by UID); zones are read by name.
            "VEVENT" | "VTIMEZONE" => {}
            _ => out.note(
                item(),
                crate::NoteAction::Skipped,
                "not a free/busy component",
            ),
        }
    }
    Ok(out.finish())
}

/// One component, owned, with upper-cased names.
#[derive(Debug, Clone)]
pub(crate) struct Comp {
    pub name: String,
    pub props: Props,
    pub children: Vec<Comp>,
}

impl Comp {
    fn from_parsed(parsed: &icalendar::parser::Component<'_>) -> Self {
        Self {
            name: parsed.name.as_str().to_ascii_uppercase(),
            props: Props(
                parsed
                    .properties
                    .iter()
                    .filter(|p| WANTED.contains(&p.name.as_str().to_ascii_uppercase().as_str()))
                    .map(|p| Prop {
                        name: p.name.as_str().to_ascii_uppercase(),
                        value: p.val.as_str().to_owned(),
                        params: p
                            .params
                            .iter()
                            .map(|q| {
                                let value = q.val.as_ref().map(|v| v.as_str()).unwrap_or_default();
                                (
                                    q.key.as_str().to_ascii_uppercase(),
                                    value.trim_matches('"').to_owned(),
                                )
                            })
                            .collect(),
                    })
                    .collect(),
            ),
            children: parsed.components.iter().map(Comp::from_parsed).collect(),
        }
    }

    pub fn uid_suffix(&self) -> String {
        self.props
            .get("UID")
            .map(|u| format!(" (UID {})", u.value))
            .unwrap_or_default()
    }
}

/// The only properties Quorum copies out of a calendar. SUMMARY, LOCATION,
/// DESCRIPTION and ATTENDEE are left behind in the parser on purpose.
const WANTED: &[&str] = &[
    "UID",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
    "STATUS",
    "TRANSP",
    "FREEBUSY",
    "BUSYTYPE",
    "TZID",
    "TZOFFSETFROM",
    "TZOFFSETTO",
];

#[derive(Debug, Clone)]
pub(crate) struct Prop {
    pub name: String,
    pub value: String,
    pub params: Vec<(String, String)>,
}

impl Prop {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Props(Vec<Prop>);

impl Props {
    pub fn get(&self, name: &str) -> Option<&Prop> {
        self.0.iter().find(|p| p.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Prop> + 'a {
        self.0.iter().filter(move |p| p.name == name)
    }

    pub fn upper(&self, name: &str) -> Option<String> {
        self.get(name).map(|p| p.value.trim().to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests;
