//! `quorum calendars import FILE` and `quorum calendars fetch`: calendar
//! data turned into the request's `people` entries (proto3 JSON on stdout),
//! so a pipeline can build request files without glue. What an importer
//! skipped goes to stderr, one line each; it is never silently dropped.

use crate::{convert, json, pb};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use quorum_calendars::{
    AvailabilityView, CalendarImport, CalendarRef, FetchRequest, IcsOptions, Note, PersonImport,
    Sources, import_google_freebusy, import_graph_schedule, import_ics, import_pagerduty_oncalls,
};
use quorum_domain::{Person, PersonId, TimeRange};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CalendarsArgs {
    #[command(subcommand)]
    pub command: CalendarsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CalendarsCommand {
    /// Convert a file (.ics, Graph getSchedule, Google freebusy or PagerDuty
    /// oncalls JSON) into `people` entries.
    Import(ImportArgs),
    /// Read people's busy time from a configured source and print it as
    /// `people` entries.
    Fetch(FetchArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to convert: .ics, or Graph / Google / PagerDuty JSON (the kind
    /// is read from the content).
    pub file: PathBuf,
    /// Start of the horizon (RFC 3339): recurrences expand from here…
    #[arg(long)]
    pub from: DateTime<Utc>,
    /// …to here; busy time is clipped to [from, to).
    #[arg(long)]
    pub to: DateTime<Utc>,
    /// The person's zone: floating times and all-day events are read in it.
    #[arg(long, default_value = "UTC")]
    pub zone: Tz,
    /// The person's id for an .ics file (default: the file's stem).
    #[arg(long)]
    pub person: Option<String>,
    /// PagerDuty: only shifts at this escalation level.
    #[arg(long)]
    pub level: Option<u32>,
    /// Graph: where an availabilityView without scheduleItems starts.
    #[arg(long)]
    pub view_start: Option<DateTime<Utc>>,
    /// Graph: minutes per availabilityView digit.
    #[arg(long, default_value_t = 30)]
    pub view_interval: u32,
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// The operator's calendar sources file (as for `serve --calendar-sources`).
    #[arg(long)]
    pub sources: PathBuf,
    /// The configured source to read from.
    #[arg(long)]
    pub source: String,
    /// A person and their calendar id in the source: ID=CALENDAR (repeatable).
    #[arg(long = "person", value_parser = parse_person, required = true)]
    pub people: Vec<(String, String)>,
    /// Start of the horizon (RFC 3339).
    #[arg(long)]
    pub from: DateTime<Utc>,
    /// End of the horizon (RFC 3339); busy time is clipped to [from, to).
    #[arg(long)]
    pub to: DateTime<Utc>,
    /// The people's zone for floating times and all-day events.
    #[arg(long, default_value = "UTC")]
    pub zone: Tz,
}

fn parse_person(text: &str) -> Result<(String, String), String> {
    let (id, calendar) = text.split_once('=').ok_or("expected ID=CALENDAR")?;
    Ok((id.to_owned(), calendar.to_owned()))
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarsCliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Calendar(#[from] quorum_calendars::CalendarError),
    #[error("--to must be after --from")]
    EmptyRange,
    #[error("{path} is neither .ics nor a Graph, Google or PagerDuty JSON response")]
    UnknownShape { path: PathBuf },
    #[error("no busy time could be read for {0}; refusing to print them as free")]
    Unavailable(String),
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

/// Runs the subcommand; returns stdout, having written notes to stderr.
pub fn run(args: &CalendarsArgs) -> Result<String, CalendarsCliError> {
    match &args.command {
        CalendarsCommand::Import(args) => import(args),
        CalendarsCommand::Fetch(args) => fetch(args, Utc::now()),
    }
}

fn horizon(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<TimeRange, CalendarsCliError> {
    let range = TimeRange::new(from, to);
    if range.is_empty() {
        Err(CalendarsCliError::EmptyRange)
    } else {
        Ok(range)
    }
}

fn import(args: &ImportArgs) -> Result<String, CalendarsCliError> {
    let horizon = horizon(args.from, args.to)?;
    let text = std::fs::read_to_string(&args.file).map_err(|source| CalendarsCliError::Read {
        path: args.file.clone(),
        source,
    })?;
    let is_ics = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ics"))
        || text.trim_start().starts_with("BEGIN:");
    if is_ics {
        let id = args.person.clone().unwrap_or_else(|| {
            args.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let import = import_ics(&text, &IcsOptions::new(args.zone, horizon))?;
        return render(
            vec![PersonImport {
                id,
                import: Ok(import),
            }],
            args.zone,
        );
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| CalendarsCliError::UnknownShape {
            path: args.file.clone(),
        })?;
    if value.get("oncalls").is_some() {
        return on_calls(&text, args.level);
    }
    let people = if value.get("value").is_some() {
        let view = args.view_start.map(|start| AvailabilityView {
            start,
            interval_minutes: args.view_interval,
        });
        import_graph_schedule(&text, horizon, view)?
    } else if value.get("calendars").is_some() {
        import_google_freebusy(&text, horizon)?
    } else {
        return Err(CalendarsCliError::UnknownShape {
            path: args.file.clone(),
        });
    };
    render(people, args.zone)
}

fn fetch(args: &FetchArgs, now: DateTime<Utc>) -> Result<String, CalendarsCliError> {
    let horizon = horizon(args.from, args.to)?;
    let sources = Sources::load(&args.sources)?;
    let requests = args
        .people
        .iter()
        .map(|(person, calendar)| FetchRequest {
            person: person.clone(),
            zone: args.zone,
            calendar: CalendarRef {
                source: args.source.clone(),
                calendar: calendar.clone(),
            },
        })
        .collect();
    let people = sources
        .fetch_all(requests, horizon, now)
        .into_iter()
        .map(|o| PersonImport {
            id: o.request.person,
            import: o.result.map(|f| f.import).map_err(|e| e.to_string()),
        })
        .collect();
    render(people, args.zone)
}

/// People entries as proto3 JSON; fails (naming everyone affected) when any
/// person's calendar could not be read, since printing them without busy
/// time would claim they are free.
fn render(people: Vec<PersonImport>, zone: Tz) -> Result<String, CalendarsCliError> {
    let mut unavailable = Vec::new();
    let mut entries = Vec::new();
    for person in people {
        match person.import {
            Ok(import) => {
                report_notes(&person.id, &import.notes);
                entries.push(person_entry(&person.id, import, zone));
            }
            Err(why) => unavailable.push(format!("{} ({why})", person.id)),
        }
    }
    if !unavailable.is_empty() {
        return Err(CalendarsCliError::Unavailable(unavailable.join("; ")));
    }
    // A request holding only `people`: canonical proto3 JSON in field
    // order, ready to merge into a request file.
    let request = pb::FindSlotsRequest {
        people: entries,
        ..Default::default()
    };
    Ok(json::request_to_json(&request)?)
}

fn report_notes(person: &str, notes: &[Note]) {
    for note in notes {
        eprintln!("{person}: {note}");
    }
}

fn person_entry(id: &str, import: CalendarImport, zone: Tz) -> pb::Person {
    let person = Person {
        id: PersonId(id.to_owned()),
        display_name: String::new(),
        time_zone: import.time_zone.unwrap_or(zone),
        working_hours: import.working_hours,
        busy: import.busy,
    };
    convert::person_to_proto(&person)
}

fn on_calls(text: &str, level: Option<u32>) -> Result<String, CalendarsCliError> {
    let (shifts, notes) = import_pagerduty_oncalls(text, level)?;
    report_notes("oncalls", &notes);
    let mut ids: Vec<&str> = shifts.iter().map(|s| s.person.as_str()).collect();
    ids.dedup();
    let people = ids
        .into_iter()
        .map(|id| {
            let name = shifts
                .iter()
                .find(|s| s.person == id)
                .map(|s| s.display_name.clone())
                .unwrap_or_default();
            serde_json::json!({ "id": id, "displayName": name, "timeZone": "UTC" })
        })
        .collect::<Vec<_>>();
    let shifts: Vec<serde_json::Value> = shifts
        .iter()
        .map(|s| {
            serde_json::json!({
                "personId": s.person,
                "escalationLevel": s.escalation_level,
                "start": s.range.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "end": s.range.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    let out = serde_json::json!({ "people": people, "onCallShifts": shifts });
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&out).unwrap_or_default()
    ))
}
