//! VFREEBUSY components: FREEBUSY periods by FBTYPE (RFC 5545 §3.2.9), and
//! the shape some CalDAV servers answer with instead (one VFREEBUSY per busy
//! interval, spanned by DTSTART/DTEND).

use super::time::{parse_period, prop_moment};
use super::{Comp, IcsOptions};
use crate::{CalendarImport, NoteAction};
use quorum_domain::{BusyStatus, TimeRange};

pub fn import_freebusy(comp: &Comp, item: &str, options: &IcsOptions, out: &mut CalendarImport) {
    let mut periods = 0;
    for (n, prop) in comp.props.all("FREEBUSY").enumerate() {
        let what = format!("{item} FREEBUSY #{}", n + 1);
        let fbtype = prop.param("FBTYPE").unwrap_or("BUSY").to_ascii_uppercase();
        let status = match fbtype.as_str() {
            "FREE" => {
                periods += 1;
                continue;
            }
            "BUSY" => BusyStatus::Busy,
            "BUSY-TENTATIVE" => BusyStatus::Tentative,
            "BUSY-UNAVAILABLE" => BusyStatus::OutOfOffice,
            other => {
                // RFC 5545 §3.2.9: unknown FBTYPEs MUST be treated as BUSY.
                out.note(
                    &what,
                    NoteAction::ReadAsBusy,
                    format!("FBTYPE={other} is unknown"),
                );
                BusyStatus::Busy
            }
        };
        for value in prop.value.split(',') {
            match parse_period(value, prop.param("TZID"), options.zone) {
                Ok((start, end)) => {
                    periods += 1;
                    super::event::push_clipped(
                        out,
                        options.horizon,
                        TimeRange::new(start, end),
                        status,
                    );
                }
                Err(why) => out.note(&what, NoteAction::Skipped, why),
            }
        }
    }
    if periods == 0 && options.vfreebusy_span_is_busy {
        span_as_busy(comp, item, options, out);
    }
}

fn span_as_busy(comp: &Comp, item: &str, options: &IcsOptions, out: &mut CalendarImport) {
    let start = prop_moment(&comp.props, "DTSTART", options.zone);
    let end = prop_moment(&comp.props, "DTEND", options.zone);
    match (start, end) {
        (Some(Ok(start)), Some(Ok(end))) => {
            let status = match comp.props.upper("BUSYTYPE").as_deref() {
                Some("BUSY-TENTATIVE") => BusyStatus::Tentative,
                Some("BUSY-UNAVAILABLE") => BusyStatus::OutOfOffice,
                _ => BusyStatus::Busy,
            };
            let range = TimeRange::new(start.instant(), end.instant());
            super::event::push_clipped(out, options.horizon, range, status);
        }
        _ => out.note(
            item,
            NoteAction::Skipped,
            "a VFREEBUSY with no FREEBUSY needs DTSTART and DTEND",
        ),
    }
}
