//! The RFC 6638 scheduling outbox: one POST of a `VFREEBUSY` request asks
//! the server for a person's busy time across all their calendars, by their
//! calendar user address (`mailto:…`), without Quorum's account needing read
//! access to those calendars.
//!
//! Support is discovered, not assumed: the signed-in account's principal
//! (RFC 5397 `current-user-principal`) must advertise a `schedule-outbox-URL`
//! (RFC 6638 §2.1), and its first `calendar-user-address-set` entry is the
//! ORGANIZER the server requires (§3.2.1). Every URL the server names is
//! resolved against the source's base URL and must stay on its origin, so a
//! server's answer can never send Quorum to another host either.

use super::CaldavClient;
use crate::ical::{IcsOptions, import_ics};
use crate::{CalendarError, CalendarImport};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_domain::TimeRange;

const DAV: &str = "DAV:";
const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";

/// Where and as whom a server takes free/busy requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbox {
    /// The absolute URL of the signed-in account's scheduling outbox.
    pub url: String,
    /// The account's own calendar user address: the request's ORGANIZER.
    pub organizer: String,
}

/// Checks that a request's id is a plain calendar user address. It is
/// written into the iCalendar body, so anything that could end a line or
/// start a parameter is refused rather than escaped.
pub fn attendee_address(id: &str) -> Result<&str, &'static str> {
    let rest = id
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
        .map(|_| &id[7..])
        .ok_or("a calendar user address starts with mailto:")?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._+%@".contains(c);
    match rest.split_once('@') {
        Some((user, host))
            if !user.is_empty()
                && !host.is_empty()
                && !host.contains('@')
                && rest.chars().all(plain) =>
        {
            Ok(id)
        }
        _ => Err("a calendar user address is mailto:user@host, of letters, digits and -._+%"),
    }
}

/// Whether a request's id is meant as a calendar user address at all.
pub fn is_address(id: &str) -> bool {
    id.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
}

impl CaldavClient {
    /// Asks the server whether the signed-in account has a scheduling
    /// outbox. `Ok(None)` when it answers without one (Radicale, for one);
    /// `Err` when it cannot be asked at all. Answers are kept for the
    /// client's life: a server does not grow or lose scheduling per request.
    pub fn outbox(&self) -> Result<Option<Outbox>, String> {
        let mut known = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(answer) = known.as_ref() {
            return Ok(answer.clone());
        }
        let answer = self.discover_outbox()?;
        *known = Some(answer.clone());
        Ok(answer)
    }

    fn discover_outbox(&self) -> Result<Option<Outbox>, String> {
        let base = self.base.clone();
        let root = self.propfind(&base, "<D:current-user-principal/>")?;
        let Some(principal) = first_href(&root, DAV, "current-user-principal")? else {
            return Ok(None);
        };
        let principal = self.same_origin(&principal)?;
        let props = self.propfind(
            &principal,
            "<C:schedule-outbox-URL/><C:calendar-user-address-set/>",
        )?;
        let Some(url) = first_href(&props, CALDAV, "schedule-outbox-URL")? else {
            return Ok(None);
        };
        let addresses = hrefs(&props, CALDAV, "calendar-user-address-set")?;
        let organizer = addresses
            .iter()
            .find(|a| is_address(a))
            .ok_or_else(|| {
                format!(
                    "the principal {principal} has a scheduling outbox but no mailto: address in its calendar-user-address-set to send requests from"
                )
            })?
            .clone();
        Ok(Some(Outbox {
            url: self.same_origin(&url)?,
            organizer,
        }))
    }

    /// A person's busy time over `horizon`, asked through the outbox.
    pub fn outbox_free_busy(
        &self,
        attendee: &str,
        zone: Tz,
        horizon: TimeRange,
    ) -> Result<CalendarImport, String> {
        let attendee = attendee_address(attendee).map_err(str::to_owned)?;
        let outbox = self.outbox()?.ok_or(
            "the server advertises no scheduling outbox (no schedule-outbox-URL on the signed-in principal), so it cannot answer for a calendar user address; name a calendar path to read it with the free-busy REPORT",
        )?;
        let body = free_busy_request(&outbox.organizer, attendee, horizon, Utc::now());
        let request = self
            .request("POST", &outbox.url)
            .header("Content-Type", "text/calendar; charset=utf-8");
        let answer = self.send(request, body, &[200])?;
        let text = reply_for(&answer, attendee)?;
        // The reply is FREEBUSY periods inside one VFREEBUSY spanning the
        // whole query: its span means "asked about", never "busy".
        import_ics(&text, &IcsOptions::new(zone, horizon)).map_err(|e: CalendarError| e.to_string())
    }

    fn propfind(&self, url: &str, props: &str) -> Result<String, String> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <D:propfind xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop>{props}</D:prop></D:propfind>\n"
        );
        let request = self
            .request("PROPFIND", url)
            .header("Depth", "0")
            .header("Content-Type", "application/xml; charset=utf-8");
        self.send(request, body, &[207])
    }

    /// Resolves an href the server sent against the base URL, refusing one
    /// on another scheme, host or port.
    fn same_origin(&self, href: &str) -> Result<String, String> {
        let origin = origin_of(&self.base).ok_or("the source's base URL has no origin")?;
        if href.starts_with('/') && !href.starts_with("//") {
            return Ok(format!("{origin}{href}"));
        }
        match origin_of(href) {
            Some(theirs) if theirs.eq_ignore_ascii_case(origin) => Ok(href.to_owned()),
            _ => Err(format!(
                "the server pointed at {href}, outside the source's base URL {origin}; Quorum only calls the configured server"
            )),
        }
    }
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

/// The iTIP request (RFC 6638 §5.1, RFC 5546 §3.3.2): one VFREEBUSY asking
/// about one attendee over the horizon.
fn free_busy_request(
    organizer: &str,
    attendee: &str,
    horizon: TimeRange,
    now: DateTime<Utc>,
) -> String {
    let fmt = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let uid = format!(
        "quorum-{}-{}",
        now.timestamp_nanos_opt().unwrap_or_default(),
        std::process::id()
    );
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Quorum//free-busy//EN",
        "METHOD:REQUEST",
        "BEGIN:VFREEBUSY",
        &format!("UID:{uid}"),
        &format!("DTSTAMP:{}", fmt(now)),
        &format!("DTSTART:{}", fmt(horizon.start)),
        &format!("DTEND:{}", fmt(horizon.end)),
        &format!("ORGANIZER:{organizer}"),
        &format!("ATTENDEE:{attendee}"),
        "END:VFREEBUSY",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n")
}

/// The calendar data the schedule-response (RFC 6638 §10.1) holds for one
/// recipient, or why there is none (its request-status, e.g. "3.7;Invalid
/// calendar user" or "3.8;No authority").
fn reply_for(xml: &str, attendee: &str) -> Result<String, String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("the outbox answer is not XML: {e}"))?;
    let responses = doc
        .descendants()
        .filter(|n| n.has_tag_name((CALDAV, "response")));
    for response in responses {
        let recipient = child_text(response, CALDAV, "recipient")
            .or_else(|| child(response, CALDAV, "recipient").and_then(|r| href_text(r)));
        let Some(recipient) = recipient else { continue };
        if !same_address(recipient.trim(), attendee) {
            continue;
        }
        let status = child_text(response, CALDAV, "request-status").unwrap_or_default();
        if !status.trim_start().starts_with("2.") {
            return Err(format!(
                "the outbox could not answer for {attendee}: request-status {:?}",
                status.trim()
            ));
        }
        return child_text(response, CALDAV, "calendar-data")
            .ok_or_else(|| format!("the outbox answered for {attendee} without calendar data"));
    }
    Err(format!(
        "the outbox answer names no response for {attendee}"
    ))
}

/// Calendar user addresses compare with the scheme case-insensitive, and
/// the mail address too (servers differ in what they echo back).
fn same_address(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name((ns, name)))
}

/// All text inside a child element (calendar data may come in several text
/// and CDATA nodes).
fn child_text(node: roxmltree::Node<'_, '_>, ns: &str, name: &str) -> Option<String> {
    let element = child(node, ns, name)?;
    let text: String = element
        .descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect();
    (!text.trim().is_empty()).then_some(text)
}

fn href_text(node: roxmltree::Node<'_, '_>) -> Option<String> {
    child_text(node, DAV, "href")
}

/// The hrefs inside property `name` of a PROPFIND answer's 200 propstat.
fn hrefs(xml: &str, ns: &str, name: &str) -> Result<Vec<String>, String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("the PROPFIND answer is not XML: {e}"))?;
    let found = doc
        .descendants()
        .filter(|n| n.has_tag_name((ns, name)))
        .filter(|prop| propstat_ok(*prop))
        .flat_map(|prop| prop.children().filter(|c| c.has_tag_name((DAV, "href"))))
        .filter_map(|href| href.text().map(|t| t.trim().to_owned()))
        .filter(|t| !t.is_empty())
        .collect();
    Ok(found)
}

fn first_href(xml: &str, ns: &str, name: &str) -> Result<Option<String>, String> {
    Ok(hrefs(xml, ns, name)?.into_iter().next())
}

/// Whether a property sits in a propstat whose status is 200 (a server lists
/// the properties it lacks under 404, as Radicale does for the outbox).
fn propstat_ok(prop: roxmltree::Node<'_, '_>) -> bool {
    prop.ancestors()
        .find(|a| a.has_tag_name((DAV, "propstat")))
        .and_then(|propstat| child_text(propstat, DAV, "status"))
        .is_some_and(|status| status.split_whitespace().nth(1) == Some("200"))
}

#[cfg(test)]
mod tests;
