//! Operator-configured calendar sources: the only places Quorum ever reads
//! free/busy from. A request names a source and a calendar id; it never
//! supplies a URL or a path, so no caller can make the server call an
//! arbitrary host or read an arbitrary file.
//!
//! Fetches for many people run concurrently on scoped threads (no async
//! runtime here), each bounded by its source's timeout, and answers are kept
//! in a short cache whose age is judged against the caller's `now` (no hidden
//! clock), so tests can step time.

use crate::caldav::{CaldavClient, Credentials, outbox};
use crate::ical::{IcsOptions, import_ics};
use crate::{CalendarError, CalendarImport};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use quorum_domain::TimeRange;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The sources file (JSON), as the operator writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// How long a fetched answer is reused (0: never).
    #[serde(default = "default_ttl")]
    pub cache_ttl_seconds: u64,
    pub sources: Vec<SourceConfig>,
}

fn default_ttl() -> u64 {
    60
}

fn default_timeout() -> u64 {
    10_000
}

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceConfig {
    pub name: String,
    #[serde(flatten)]
    pub kind: SourceKind,
    /// Per-fetch timeout for this source.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    /// A CalDAV server; calendar ids are paths below `base_url`.
    Caldav {
        base_url: String,
        /// A file holding `user:password` (relative to the sources file).
        #[serde(default)]
        credentials_file: Option<PathBuf>,
        /// How busy time is asked for (default `auto`).
        #[serde(default)]
        free_busy: FreeBusyMethod,
    },
    /// A directory of `.ics` files; calendar ids are file names in it.
    IcsDirectory { path: PathBuf },
}

/// How a CalDAV source is asked for busy time. The two ways name people
/// differently — the REPORT reads one calendar by its path, the outbox a
/// person by their calendar user address — so the method follows from the
/// id a request gives, and the operator may restrict a source to one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeBusyMethod {
    /// Ids are calendar paths, each read with the RFC 4791 free-busy REPORT.
    Report,
    /// Ids are calendar user addresses (`mailto:…`), asked through the
    /// RFC 6638 scheduling outbox; the server must advertise one.
    Outbox,
    /// Either: paths with the REPORT, addresses through the outbox when the
    /// server's principal advertises a `schedule-outbox-URL` (discovered
    /// with PROPFIND on first use). A server without one still serves
    /// paths; an address there fails saying so, never reads as free.
    #[default]
    Auto,
}

impl FreeBusyMethod {
    /// Whether `id` names what this method reads, before any I/O.
    fn allows(self, client: &CaldavClient, id: &str) -> Result<(), &'static str> {
        match (self, outbox::is_address(id)) {
            (Self::Report, true) => Err(
                "this source reads calendars by path with the free-busy REPORT (free_busy: report); a mailto: address needs free_busy outbox or auto",
            ),
            (Self::Outbox, false) => Err(
                "this source asks the scheduling outbox (free_busy: outbox): name the person's calendar user address, mailto:user@host",
            ),
            (_, true) => outbox::attendee_address(id).map(drop),
            (_, false) => client.calendar_url(id).map(drop),
        }
    }
}

/// A person's calendar as a request names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CalendarRef {
    pub source: String,
    pub calendar: String,
}

/// One calendar to read for one person.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRequest {
    pub person: String,
    /// The person's zone: floating times and all-day events are read in it.
    pub zone: Tz,
    pub calendar: CalendarRef,
}

/// A calendar as read, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub import: CalendarImport,
    pub fetched_at: DateTime<Utc>,
    /// True when the answer came from the cache, not the source.
    pub from_cache: bool,
}

#[derive(Debug)]
pub struct FetchOutcome {
    pub request: FetchRequest,
    pub result: Result<Fetched, CalendarError>,
}

enum Backend {
    Caldav(CaldavClient, FreeBusyMethod),
    Directory(PathBuf),
}

type CacheKey = (CalendarRef, &'static str, TimeRange);

/// The configured sources and their cache.
pub struct Sources {
    backends: HashMap<String, Backend>,
    ttl: Duration,
    cache: Mutex<HashMap<CacheKey, (DateTime<Utc>, CalendarImport)>>,
}

/// At most this many fetches run at once, whatever the number of people.
const MAX_PARALLEL: usize = 16;

impl Sources {
    /// Reads a sources file; relative paths in it are read from its folder.
    pub fn load(path: &Path) -> Result<Self, CalendarError> {
        let bad = |detail: String| CalendarError::BadConfig {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let config: SourcesConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        Self::from_config(config, path.parent().unwrap_or(Path::new("."))).map_err(bad)
    }

    pub fn from_config(config: SourcesConfig, base_dir: &Path) -> Result<Self, String> {
        let mut backends = HashMap::new();
        for source in config.sources {
            let timeout = std::time::Duration::from_millis(source.timeout_ms);
            let backend = match source.kind {
                SourceKind::Caldav {
                    base_url,
                    credentials_file,
                    free_busy,
                } => {
                    let credentials = match credentials_file {
                        Some(file) => {
                            let file = base_dir.join(file);
                            let text = std::fs::read_to_string(&file).map_err(|e| {
                                format!("source {:?}: {}: {e}", source.name, file.display())
                            })?;
                            Some(Credentials::parse(&text).ok_or_else(|| {
                                format!(
                                    "source {:?}: {} must hold user:password",
                                    source.name,
                                    file.display()
                                )
                            })?)
                        }
                        None => None,
                    };
                    let client = CaldavClient::new(&base_url, credentials, timeout);
                    Backend::Caldav(client, free_busy)
                }
                SourceKind::IcsDirectory { path } => Backend::Directory(base_dir.join(path)),
            };
            if backends.insert(source.name.clone(), backend).is_some() {
                return Err(format!("source {:?} is configured twice", source.name));
            }
        }
        Ok(Self {
            backends,
            ttl: Duration::seconds(config.cache_ttl_seconds.min(86_400) as i64),
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn is_configured(&self, source: &str) -> bool {
        self.backends.contains_key(source)
    }

    /// One calendar over `horizon`, from the cache while it is fresh.
    pub fn fetch(
        &self,
        request: &FetchRequest,
        horizon: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Fetched, CalendarError> {
        let key = (request.calendar.clone(), request.zone.name(), horizon);
        if let Some((at, import)) = self.cache_lock().get(&key)
            && now - *at < self.ttl
        {
            return Ok(Fetched {
                import: import.clone(),
                fetched_at: *at,
                from_cache: true,
            });
        }
        let import = self.read(request, horizon)?;
        self.cache_lock().insert(key, (now, import.clone()));
        Ok(Fetched {
            import,
            fetched_at: now,
            from_cache: false,
        })
    }

    /// Every request, concurrently; outcomes in request order.
    pub fn fetch_all(
        &self,
        requests: Vec<FetchRequest>,
        horizon: TimeRange,
        now: DateTime<Utc>,
    ) -> Vec<FetchOutcome> {
        let mut outcomes = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(MAX_PARALLEL) {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|request| scope.spawn(move || self.fetch(request, horizon, now)))
                    .collect();
                for (request, handle) in chunk.iter().zip(handles) {
                    let result = handle.join().unwrap_or_else(|_| {
                        Err(CalendarError::SourceFailed {
                            source_name: request.calendar.source.clone(),
                            calendar: request.calendar.calendar.clone(),
                            detail: "the fetch stopped unexpectedly".into(),
                        })
                    });
                    outcomes.push(FetchOutcome {
                        request: request.clone(),
                        result,
                    });
                }
            });
        }
        outcomes
    }

    fn cache_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<CacheKey, (DateTime<Utc>, CalendarImport)>> {
        // A poisoned cache only means another fetch panicked; its data is whole.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a request may name this calendar: the source is configured
    /// and the id stays inside it. No I/O, so callers can refuse a request
    /// before contacting anything.
    pub fn check(&self, calendar: &CalendarRef) -> Result<(), CalendarError> {
        self.backend(calendar).map(drop)
    }

    fn backend(&self, calendar: &CalendarRef) -> Result<&Backend, CalendarError> {
        let CalendarRef {
            source,
            calendar: id,
        } = calendar;
        let backend = self
            .backends
            .get(source)
            .ok_or_else(|| CalendarError::UnknownSource {
                source_name: source.clone(),
            })?;
        let allowed = match backend {
            Backend::Caldav(client, method) => method.allows(client, id),
            Backend::Directory(dir) => directory_file(dir, id).map(drop),
        };
        allowed.map_err(|why| CalendarError::BadCalendarId {
            source_name: source.clone(),
            calendar: id.clone(),
            why,
        })?;
        Ok(backend)
    }

    fn read(
        &self,
        request: &FetchRequest,
        horizon: TimeRange,
    ) -> Result<CalendarImport, CalendarError> {
        let backend = self.backend(&request.calendar)?;
        let CalendarRef { source, calendar } = &request.calendar;
        let failed = |detail: String| CalendarError::SourceFailed {
            source_name: source.clone(),
            calendar: calendar.clone(),
            detail,
        };
        match backend {
            Backend::Caldav(client, _) if outbox::is_address(calendar) => client
                .outbox_free_busy(calendar, request.zone, horizon)
                .map_err(failed),
            Backend::Caldav(client, _) => client
                .free_busy(calendar, request.zone, horizon)
                .map_err(failed),
            Backend::Directory(dir) => {
                let text = std::fs::read_to_string(dir.join(calendar))
                    .map_err(|e| failed(e.to_string()))?;
                import_ics(&text, &IcsOptions::new(request.zone, horizon))
                    .map_err(|e| failed(e.to_string()))
            }
        }
    }
}

/// A file directly inside `dir`: ids are plain file names.
fn directory_file(dir: &Path, calendar: &str) -> Result<PathBuf, &'static str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._@+".contains(c);
    if calendar.is_empty() || calendar.starts_with('.') || !calendar.chars().all(plain) {
        return Err("a calendar id of a directory source is a plain file name in it");
    }
    Ok(dir.join(calendar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn horizon() -> TimeRange {
        TimeRange::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap(),
        )
    }

    fn directory_sources(dir: &Path, ttl: u64) -> Sources {
        let config: SourcesConfig = serde_json::from_value(serde_json::json!({
            "cache_ttl_seconds": ttl,
            "sources": [{"name": "files", "kind": "ics_directory", "path": "."}]
        }))
        .unwrap();
        Sources::from_config(config, dir).unwrap()
    }

    fn write_busy(dir: &Path, name: &str, hour: u32) {
        let ics = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260302T{hour:02}0000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        std::fs::write(dir.join(name), ics).unwrap();
    }

    fn request(source: &str, calendar: &str) -> FetchRequest {
        FetchRequest {
            person: "ana".into(),
            zone: chrono_tz::Europe::London,
            calendar: CalendarRef {
                source: source.into(),
                calendar: calendar.into(),
            },
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("quorum-calendars-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn answers_are_cached_for_the_ttl_then_fetched_again() {
        let dir = scratch("ttl");
        write_busy(&dir, "ana.ics", 9);
        let sources = directory_sources(&dir, 60);
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let first = sources
            .fetch(&request("files", "ana.ics"), horizon(), now)
            .unwrap();
        assert!(!first.from_cache);
        write_busy(&dir, "ana.ics", 15);
        let cached = sources
            .fetch(
                &request("files", "ana.ics"),
                horizon(),
                now + Duration::seconds(59),
            )
            .unwrap();
        assert!(cached.from_cache);
        assert_eq!(cached.fetched_at, now);
        assert_eq!(cached.import.busy, first.import.busy);
        let fresh = sources
            .fetch(
                &request("files", "ana.ics"),
                horizon(),
                now + Duration::seconds(60),
            )
            .unwrap();
        assert!(!fresh.from_cache);
        assert_ne!(fresh.import.busy, first.import.busy);
    }

    #[test]
    fn only_configured_sources_and_plain_ids_are_read() {
        let dir = scratch("refs");
        let sources = directory_sources(&dir, 0);
        let now = Utc::now();
        assert!(matches!(
            sources.fetch(&request("elsewhere", "ana.ics"), horizon(), now),
            Err(CalendarError::UnknownSource { .. })
        ));
        for bad in ["../etc/passwd", "/etc/passwd", ".hidden", "a/b.ics"] {
            assert!(
                matches!(
                    sources.fetch(&request("files", bad), horizon(), now),
                    Err(CalendarError::BadCalendarId { .. })
                ),
                "{bad}"
            );
        }
        let missing = sources
            .fetch(&request("files", "nobody.ics"), horizon(), now)
            .unwrap_err();
        assert!(missing.to_string().contains("\"files\""), "{missing}");
    }

    #[test]
    fn fetch_all_keeps_request_order_and_reports_each_failure() {
        let dir = scratch("all");
        write_busy(&dir, "a.ics", 9);
        write_busy(&dir, "b.ics", 10);
        let sources = directory_sources(&dir, 0);
        let requests = vec![
            request("files", "a.ics"),
            request("files", "missing.ics"),
            request("files", "b.ics"),
        ];
        let outcomes = sources.fetch_all(requests, horizon(), Utc::now());
        let hours: Vec<Option<String>> = outcomes
            .iter()
            .map(|o| {
                o.result
                    .as_ref()
                    .ok()
                    .map(|f| f.import.busy[0].range.start.format("%H").to_string())
            })
            .collect();
        assert_eq!(hours, [Some("09".into()), None, Some("10".into())]);
    }

    #[test]
    fn a_source_that_never_answers_fails_at_its_timeout() {
        // A listener that accepts connections and never replies.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = silent.local_addr().unwrap();
        let config: SourcesConfig = serde_json::from_value(serde_json::json!({
            "sources": [{"name": "slow", "kind": "caldav", "base_url": format!("http://{address}/dav"), "timeout_ms": 200}]
        }))
        .unwrap();
        let sources = Sources::from_config(config, Path::new(".")).unwrap();
        let err = sources
            .fetch(&request("slow", "ana/work"), horizon(), Utc::now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"slow\"") && err.contains("ana/work"),
            "{err}"
        );
        assert!(
            err.to_lowercase().contains("timeout") || err.to_lowercase().contains("timed out"),
            "{err}"
        );
        drop(silent);
    }

    #[test]
    fn the_free_busy_method_decides_which_ids_a_caldav_source_takes() {
        let sources = |method: &str| {
            let config: SourcesConfig = serde_json::from_value(serde_json::json!({
                "sources": [{"name": "team", "kind": "caldav", "base_url": "http://127.0.0.1:1/dav", "free_busy": method}]
            }))
            .unwrap();
            Sources::from_config(config, Path::new(".")).unwrap()
        };
        let refused = |sources: &Sources, id: &str| {
            matches!(
                sources.check(&request("team", id).calendar),
                Err(CalendarError::BadCalendarId { .. })
            )
        };
        let address = "mailto:ana@example.test";
        let (report, outbox, auto) = (sources("report"), sources("outbox"), sources("auto"));
        assert!(!refused(&report, "ana/work") && refused(&report, address));
        assert!(refused(&outbox, "ana/work") && !refused(&outbox, address));
        assert!(!refused(&auto, "ana/work") && !refused(&auto, address));
        assert!(refused(
            &auto,
            "mailto:ana@example.test\r\nATTENDEE:mailto:bo@x"
        ));
        let unknown: Result<SourcesConfig, _> = serde_json::from_value(serde_json::json!({
            "sources": [{"name": "team", "kind": "caldav", "base_url": "http://h", "free_busy": "imip"}]
        }));
        assert!(unknown.is_err());
    }

    #[test]
    fn a_bad_sources_file_says_what_is_wrong() {
        let dir = scratch("config");
        let path = dir.join("sources.json");
        std::fs::write(&path, r#"{"sources":[{"name":"x","kind":"ftp"}]}"#).unwrap();
        let err = Sources::load(&path).err().unwrap().to_string();
        assert!(err.contains("sources.json") && err.contains("ftp"), "{err}");
        std::fs::write(&path, r#"{"sources":[{"name":"x","kind":"caldav","base_url":"http://h","credentials_file":"nope"}]}"#).unwrap();
        assert!(Sources::load(&path).is_err());
    }
}
