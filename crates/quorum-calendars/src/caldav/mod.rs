//! A small blocking CalDAV client: the RFC 4791 §7.10 `free-busy-query`
//! REPORT that Quorum reads one calendar's busy time with, the RFC 6638
//! scheduling-outbox POST ([`outbox`]) that reads a person's, and the
//! MKCALENDAR and PUT that tests (and operators seeding a server) need.
//!
//! `ureq` because it is blocking (this crate has no async runtime; the
//! server runs fetches on blocking threads), small, supports WebDAV's
//! non-standard methods, and brings rustls rather than OpenSSL. Calendar ids
//! come from requests, so they are checked to stay under the configured base
//! URL: a request can never make Quorum call another host or path.

use crate::ical::{IcsOptions, import_ics};
use crate::{CalendarError, CalendarImport};
use chrono_tz::Tz;
use quorum_domain::TimeRange;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ureq::Agent;

pub mod outbox;
pub use outbox::Outbox;
use ureq::http::Request;

/// HTTP Basic credentials for one source.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password, even in debug logs.
        write!(
            f,
            "Credentials {{ user: {:?}, password: <hidden> }}",
            self.user
        )
    }
}

impl Credentials {
    /// Reads `user:password` from the first line of a credentials file.
    pub fn parse(text: &str) -> Option<Self> {
        let (user, password) = text.lines().next()?.split_once(':')?;
        Some(Self {
            user: user.trim().to_owned(),
            password: password.trim_end().to_owned(),
        })
    }
}

/// One CalDAV server, below one base URL.
#[derive(Debug, Clone)]
pub struct CaldavClient {
    agent: Agent,
    base: String,
    credentials: Option<Credentials>,
    /// What the server said about its scheduling outbox, once asked (shared
    /// by clones, so one discovery serves every fetch of a source).
    outbox: Arc<Mutex<Option<Option<Outbox>>>>,
}

/// The largest answer read from a server (a month of busy time is a few KiB).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

impl CaldavClient {
    pub fn new(base_url: &str, credentials: Option<Credentials>, timeout: Duration) -> Self {
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .allow_non_standard_methods(true)
            .http_status_as_error(false)
            .build()
            .into();
        let base = format!("{}/", base_url.trim_end_matches('/'));
        Self {
            agent,
            base,
            credentials,
            outbox: Arc::default(),
        }
    }

    /// The URL of a calendar below the base URL. Ids are relative paths of
    /// plain characters: no scheme, no `..`, no query, no leading slash.
    pub fn calendar_url(&self, calendar: &str) -> Result<String, &'static str> {
        let plain = |c: char| c.is_ascii_alphanumeric() || "-._~@+/%".contains(c);
        if calendar.is_empty() || calendar.starts_with('/') {
            return Err("a calendar id is a relative path below the source's base URL");
        }
        if !calendar.chars().all(plain) || calendar.split('/').any(|s| s == ".." || s == ".") {
            return Err(
                "a calendar id may hold only letters, digits and -._~@+/% and no . or .. segments",
            );
        }
        Ok(format!("{}{}/", self.base, calendar.trim_end_matches('/')))
    }

    /// The free-busy-query REPORT over `range`, as the server's iCalendar text.
    pub fn free_busy_text(&self, calendar: &str, range: TimeRange) -> Result<String, String> {
        let url = self.calendar_url(calendar).map_err(str::to_owned)?;
        let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n\
             <C:time-range start=\"{}\" end=\"{}\"/>\n</C:free-busy-query>\n",
            fmt(range.start),
            fmt(range.end)
        );
        let request = self
            .request("REPORT", &url)
            .header("Depth", "1")
            .header("Content-Type", "application/xml; charset=utf-8");
        self.send(request, body, &[200])
    }

    /// Busy time of one calendar over `horizon`, read in `zone`.
    pub fn free_busy(
        &self,
        calendar: &str,
        zone: Tz,
        horizon: TimeRange,
    ) -> Result<CalendarImport, String> {
        let text = self.free_busy_text(calendar, horizon)?;
        let options = IcsOptions {
            vfreebusy_span_is_busy: true,
            ..IcsOptions::new(zone, horizon)
        };
        import_ics(&text, &options).map_err(|e: CalendarError| e.to_string())
    }

    /// Creates a calendar collection (MKCALENDAR).
    pub fn make_calendar(&self, calendar: &str) -> Result<(), String> {
        let url = self.calendar_url(calendar).map_err(str::to_owned)?;
        self.send(self.request("MKCALENDAR", &url), String::new(), &[200, 201])
            .map(drop)
    }

    /// Stores one iCalendar object as `name` in a calendar (PUT).
    pub fn put(&self, calendar: &str, name: &str, ics: &str) -> Result<(), String> {
        let url = self.calendar_url(calendar).map_err(str::to_owned)?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            return Err(format!("{name:?} is not a plain resource name"));
        }
        let request = self
            .request("PUT", &format!("{url}{name}"))
            .header("Content-Type", "text/calendar; charset=utf-8");
        self.send(request, ics.to_owned(), &[200, 201, 204])
            .map(drop)
    }

    fn request(&self, method: &str, url: &str) -> ureq::http::request::Builder {
        let builder = Request::builder().method(method).uri(url);
        match &self.credentials {
            Some(c) => {
                use base64::Engine;
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", c.user, c.password));
                builder.header("Authorization", format!("Basic {token}"))
            }
            None => builder,
        }
    }

    fn send(
        &self,
        request: ureq::http::request::Builder,
        body: String,
        ok: &[u16],
    ) -> Result<String, String> {
        let request = request
            .body(body)
            .map_err(|e| format!("bad request: {e}"))?;
        let method = request.method().to_string();
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| format!("{method} failed: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| format!("{method} answer cannot be read: {e}"))?;
        if ok.contains(&status) {
            Ok(text)
        } else {
            Err(format!("{method} answered HTTP {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_ids_stay_below_the_base_url() {
        let client = CaldavClient::new("http://127.0.0.1:5232/dav", None, Duration::from_secs(1));
        assert_eq!(
            client.calendar_url("ana/work").unwrap(),
            "http://127.0.0.1:5232/dav/ana/work/"
        );
        for bad in [
            "",
            "/etc",
            "../admin",
            "ana/../../x",
            "http://evil.example/",
            "a?b",
            "a#b",
            "a b",
            "a\\b",
            "./x",
        ] {
            assert!(client.calendar_url(bad).is_err(), "{bad:?} was allowed");
        }
    }

    #[test]
    fn credentials_come_from_one_line_and_hide_the_password() {
        let c = Credentials::parse("quorum:s3cr:et\nignored").unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("quorum", "s3cr:et")
        );
        assert!(!format!("{c:?}").contains("s3cr"));
        assert!(Credentials::parse("no-colon").is_none());
    }
}
