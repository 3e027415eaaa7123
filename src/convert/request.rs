//! `FindSlotsRequest` → `SlotProblem`, collecting every parse problem with its
//! field path; `problem` holds the reverse direction.
//!
//! Each conversion destructures the whole message, so a field added to the
//! proto breaks the build here until someone decides what it means.

use super::timestamp::from_timestamp;
use crate::pb;
use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;
use prost_types::Timestamp;
use quorum_domain::{
    BookedReview, BucketSize, BusyInterval, BusyStatus, Delegate, FieldViolation, FreezeKind,
    FreezeWindow, LocalTime, Person, PersonId, PreferenceWindow, RequiredRole, ReviewCapacity,
    RoleId, SlotProblem, TimeRange, WorkingHours,
};
use quorum_solver::Engine;

/// A field's path in the request, formatted only when a violation names it:
/// most fields are fine, and formatting every path cost more than the solve.
#[derive(Clone, Copy)]
pub(super) enum FieldPath<'a> {
    Root(&'static str),
    Item(&'static str, usize),
    Field(&'a FieldPath<'a>, &'static str),
    FieldItem(&'a FieldPath<'a>, &'static str, usize),
}

impl<'a> FieldPath<'a> {
    pub(super) fn field(&'a self, name: &'static str) -> FieldPath<'a> {
        FieldPath::Field(self, name)
    }

    pub(super) fn item(&'a self, name: &'static str, index: usize) -> FieldPath<'a> {
        FieldPath::FieldItem(self, name, index)
    }
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root(name) => f.write_str(name),
            Self::Item(name, i) => write!(f, "{name}[{i}]"),
            Self::Field(parent, name) => write!(f, "{parent}.{name}"),
            Self::FieldItem(parent, name, i) => write!(f, "{parent}.{name}[{i}]"),
        }
    }
}

/// Collects parse problems; placeholders stand in for the bad values so the
/// rest of the request can still be read and every problem reported at once.
#[derive(Default)]
pub(super) struct Parser {
    pub(super) violations: Vec<FieldViolation>,
}

impl Parser {
    pub(super) fn violation(&mut self, field: &FieldPath<'_>, description: impl Into<String>) {
        // A request of nothing but bad fields must not turn into a larger
        // list of sentences: past the cap the rest are only counted as "more".
        if self.violations.len() < quorum_domain::MAX_COLLECTED_VIOLATIONS {
            self.violations
                .push(FieldViolation::new(field.to_string(), description));
        }
    }

    pub(super) fn instant(
        &mut self,
        ts: Option<&Timestamp>,
        path: &FieldPath<'_>,
    ) -> DateTime<Utc> {
        match ts.map(|t| (t, from_timestamp(t))) {
            Some((_, Some(t))) => t,
            Some((raw, None)) => {
                self.violation(
                    path,
                    format!("timestamp {}s {}ns is out of range", raw.seconds, raw.nanos),
                );
                DateTime::UNIX_EPOCH
            }
            None => {
                self.violation(path, "a timestamp is required");
                DateTime::UNIX_EPOCH
            }
        }
    }

    pub(super) fn optional_instant(
        &mut self,
        ts: Option<&Timestamp>,
        path: &FieldPath<'_>,
    ) -> Option<DateTime<Utc>> {
        ts.map(|t| self.instant(Some(t), path))
    }

    pub(super) fn range(
        &mut self,
        start: Option<&Timestamp>,
        end: Option<&Timestamp>,
        path: &FieldPath<'_>,
    ) -> TimeRange {
        TimeRange::new(
            self.instant(start, &path.field("start")),
            self.instant(end, &path.field("end")),
        )
    }

    fn local_time(&mut self, text: &str, path: &FieldPath<'_>) -> LocalTime {
        LocalTime::parse(text).unwrap_or_else(|e| {
            // The parser's message quotes the text: not when it is huge.
            let shown = if text.len() > 16 {
                format!("{} bytes are not a time of day; write HH:MM", text.len())
            } else {
                e.to_string()
            };
            self.violation(path, shown);
            LocalTime::MIDNIGHT
        })
    }

    pub(super) fn person(&mut self, person: pb::Person, path: &FieldPath<'_>) -> Person {
        let pb::Person {
            id,
            display_name,
            time_zone,
            working_hours,
            busy,
            // Read by `calendar_plan`; fetched busy time is added after validation.
            calendars: _,
        } = person;
        let zone = time_zone.parse::<Tz>().unwrap_or_else(|_| {
            self.violation(
                &path.field("time_zone"),
                format!(
                    "{:?} is not an IANA time zone name such as \"Europe/Berlin\"",
                    time_zone.chars().take(64).collect::<String>()
                ),
            );
            chrono_tz::UTC
        });
        let working_hours = working_hours
            .into_iter()
            .enumerate()
            .map(|(j, w)| self.working_hours(w, &path.item("working_hours", j)))
            .collect();
        let busy = busy
            .into_iter()
            .enumerate()
            .map(|(j, b)| {
                let pb::BusyInterval { start, end, status } = b;
                BusyInterval {
                    range: self.range(start.as_ref(), end.as_ref(), &path.item("busy", j)),
                    status: busy_status(status),
                }
            })
            .collect();
        Person {
            id: PersonId(id),
            display_name,
            time_zone: zone,
            working_hours,
            busy,
        }
    }

    fn working_hours(&mut self, hours: pb::WorkingHours, path: &FieldPath<'_>) -> WorkingHours {
        let pb::WorkingHours {
            weekday,
            start,
            end,
        } = hours;
        let weekday = weekday_from_proto(weekday).unwrap_or_else(|| {
            self.violation(
                &path.field("weekday"),
                "a weekday from MONDAY to SUNDAY is required",
            );
            Weekday::Mon
        });
        WorkingHours {
            weekday,
            start: self.local_time(&start, &path.field("start")),
            end: self.local_time(&end, &path.field("end")),
        }
    }

    fn capacity(&mut self, capacity: pb::ReviewCapacity) -> ReviewCapacity {
        let pb::ReviewCapacity {
            max_concurrent,
            booked,
        } = capacity;
        let booked = booked
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                let pb::BookedReview {
                    change_ticket,
                    start,
                    end,
                } = b;
                BookedReview {
                    change_ticket,
                    range: self.range(
                        start.as_ref(),
                        end.as_ref(),
                        &FieldPath::Root("review_capacity").item("booked", i),
                    ),
                }
            })
            .collect();
        ReviewCapacity {
            max_concurrent,
            booked,
        }
    }
}

pub(super) fn role(role: pb::RequiredRole) -> RequiredRole {
    let pb::RequiredRole {
        id,
        name,
        pool,
        delegates,
    } = role;
    RequiredRole {
        id: RoleId(id),
        name,
        pool: pool.into_iter().map(PersonId).collect(),
        delegates: delegates
            .into_iter()
            .map(|d| {
                let pb::Delegate {
                    person_id,
                    authority_confirmed,
                } = d;
                Delegate {
                    person: PersonId(person_id),
                    authority_confirmed,
                }
            })
            .collect(),
    }
}

/// The zone the response's words are written in: empty is UTC, anything
/// else must be an IANA zone name.
pub fn display_zone(request: &pb::FindSlotsRequest) -> Result<chrono_tz::Tz, FieldViolation> {
    display_zone_named(&request.display_time_zone)
}

/// [`display_zone`] for any request's `display_time_zone` (the release
/// planner's too), so both refuse a bad zone in the same words.
pub(super) fn display_zone_named(zone: &str) -> Result<chrono_tz::Tz, FieldViolation> {
    if zone.is_empty() {
        return Ok(chrono_tz::Tz::UTC);
    }
    zone.parse().map_err(|_| {
        FieldViolation::new(
            "display_time_zone",
            format!(
                "{zone:?} is not an IANA time zone; write a name such as Europe/Berlin, America/New_York or UTC"
            ),
        )
    })
}

/// Converts a request into a problem and the engine asked for, or every parse
/// problem found. Domain rules are checked afterwards by `SlotProblem::validate`.
pub fn slot_problem(
    request: pb::FindSlotsRequest,
) -> Result<(SlotProblem, Engine), Vec<FieldViolation>> {
    let pb::FindSlotsRequest {
        change_ticket,
        horizon,
        bucket_minutes,
        meeting_minutes,
        not_before,
        evidence_deadline,
        roles,
        people,
        optional_attendees,
        freeze_windows,
        review_capacity,
        preferences,
        optional_attendee_weight_minutes,
        top_k,
        allow_multiple_roles_per_person,
        tentative_is_free,
        engine,
        explain,
        // Read by `calendar_plan`.
        proceed_without_unreadable_calendars: _,
        // Read by `display_zone`: how the answer is worded, not the problem.
        display_time_zone: _,
    } = request;
    let mut parser = Parser::default();
    let horizon = match horizon {
        Some(pb::TimeRange { start, end }) => {
            parser.range(start.as_ref(), end.as_ref(), &FieldPath::Root("horizon"))
        }
        None => {
            parser.violation(
                &FieldPath::Root("horizon"),
                "a planning horizon is required",
            );
            TimeRange::new(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH)
        }
    };
    let bucket = BucketSize::from_minutes(bucket_minutes).unwrap_or_else(|| {
        parser.violation(
            &FieldPath::Root("bucket_minutes"),
            format!("bucket size {bucket_minutes} is not one of 5, 10, 15, 30 or 60 minutes"),
        );
        BucketSize::default()
    });
    let not_before = parser.optional_instant(not_before.as_ref(), &FieldPath::Root("not_before"));
    let evidence_deadline = parser.optional_instant(
        evidence_deadline.as_ref(),
        &FieldPath::Root("evidence_deadline"),
    );
    let people = people
        .into_iter()
        .enumerate()
        .map(|(i, p)| parser.person(p, &FieldPath::Item("people", i)))
        .collect();
    let freeze_windows = freeze_windows
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let pb::FreezeWindow {
                id,
                start,
                end,
                kind,
                reason,
                owner,
            } = f;
            FreezeWindow {
                id,
                range: parser.range(
                    start.as_ref(),
                    end.as_ref(),
                    &FieldPath::Item("freeze_windows", i),
                ),
                kind: freeze_kind(kind),
                reason,
                owner,
            }
        })
        .collect();
    let preferences = preferences
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let pb::PreferenceWindow {
                id,
                start,
                end,
                weight_minutes,
            } = p;
            PreferenceWindow {
                id,
                range: parser.range(
                    start.as_ref(),
                    end.as_ref(),
                    &FieldPath::Item("preferences", i),
                ),
                weight_minutes,
            }
        })
        .collect();
    let review_capacity = review_capacity.map(|c| parser.capacity(c));
    let engine = engine_from_proto(engine).unwrap_or_else(|| {
        parser.violation(
            &FieldPath::Root("engine"),
            format!("unknown solver engine {engine}"),
        );
        Engine::default()
    });
    if !parser.violations.is_empty() {
        return Err(parser.violations);
    }
    let problem = SlotProblem {
        change_ticket,
        horizon,
        bucket,
        meeting_minutes,
        not_before,
        evidence_deadline,
        roles: roles.into_iter().map(role).collect(),
        people,
        optional_attendees: optional_attendees
            .into_iter()
            .map(|a| {
                let pb::OptionalAttendee {
                    person_id,
                    weight_minutes,
                } = a;
                (PersonId(person_id), weight_minutes)
            })
            .collect(),
        freeze_windows,
        review_capacity,
        preferences,
        optional_attendee_weight_minutes,
        top_k: if top_k == 0 {
            SlotProblem::DEFAULT_TOP_K
        } else {
            top_k as usize
        },
        allow_multiple_roles_per_person,
        tentative_is_free,
        explain,
    };
    Ok((problem, engine))
}

pub fn engine_from_proto(engine: i32) -> Option<Engine> {
    match pb::SolverEngine::try_from(engine).ok()? {
        pb::SolverEngine::Unspecified | pb::SolverEngine::Enumerate => Some(Engine::Enumerate),
        pb::SolverEngine::IntegerProgram => Some(Engine::IntegerProgram),
    }
}

fn weekday_from_proto(weekday: i32) -> Option<Weekday> {
    Some(match pb::Weekday::try_from(weekday).ok()? {
        pb::Weekday::Unspecified => return None,
        pb::Weekday::Monday => Weekday::Mon,
        pb::Weekday::Tuesday => Weekday::Tue,
        pb::Weekday::Wednesday => Weekday::Wed,
        pb::Weekday::Thursday => Weekday::Thu,
        pb::Weekday::Friday => Weekday::Fri,
        pb::Weekday::Saturday => Weekday::Sat,
        pb::Weekday::Sunday => Weekday::Sun,
    })
}

/// Unknown numbers read as BUSY: a status we cannot read must still block.
fn busy_status(status: i32) -> BusyStatus {
    match pb::BusyStatus::try_from(status) {
        Ok(pb::BusyStatus::Tentative) => BusyStatus::Tentative,
        Ok(pb::BusyStatus::OutOfOffice) => BusyStatus::OutOfOffice,
        Ok(pb::BusyStatus::Busy | pb::BusyStatus::Unspecified) | Err(_) => BusyStatus::Busy,
    }
}

pub(super) fn freeze_kind(kind: i32) -> FreezeKind {
    match pb::FreezeKind::try_from(kind) {
        Ok(pb::FreezeKind::LaunchBlackout) => FreezeKind::LaunchBlackout,
        Ok(pb::FreezeKind::EvidenceFreeze) => FreezeKind::EvidenceFreeze,
        Ok(pb::FreezeKind::ChangeFreeze | pb::FreezeKind::Unspecified) | Err(_) => {
            FreezeKind::ChangeFreeze
        }
    }
}
