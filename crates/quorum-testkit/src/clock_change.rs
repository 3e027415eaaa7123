//! Random problems around one clock change: windows that end inside, start
//! inside or span a repeated (fall-back) hour, or touch a skipped
//! (spring-forward) one, in New York, London, Berlin, Lord Howe (half-hour
//! DST), Auckland and St John's, mixed with Kolkata and Kathmandu people; and
//! the classifier the meta-test uses to check those cases really occur.

use chrono::{
    Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use quorum_domain::{
    BucketSize, LocalTime, Person, PersonId, RequiredRole, RoleId, SlotProblem, TimeRange,
    WorkingHours,
};
use rand::{Rng, SeedableRng, rngs::SmallRng};

/// One clock change the DST generator builds a problem around.
#[derive(Debug, Clone, Copy)]
pub struct ClockChange {
    pub zone: Tz,
    /// The local date (a Sunday) of the change.
    pub date: NaiveDate,
}

/// Clock changes with a repeated (fall-back) or skipped (spring-forward)
/// local hour, including Lord Howe's half-hour shifts both ways.
const CLOCK_CHANGES: [(Tz, (i32, u32, u32)); 10] = [
    (chrono_tz::America::New_York, (2026, 3, 8)),
    (chrono_tz::America::New_York, (2026, 11, 1)),
    (chrono_tz::Europe::London, (2026, 3, 29)),
    (chrono_tz::Europe::London, (2026, 10, 25)),
    (chrono_tz::Australia::Lord_Howe, (2026, 4, 5)),
    (chrono_tz::Australia::Lord_Howe, (2026, 10, 4)),
    (chrono_tz::Europe::Berlin, (2026, 3, 29)),
    (chrono_tz::Europe::Berlin, (2026, 10, 25)),
    (chrono_tz::Pacific::Auckland, (2026, 4, 5)),
    (chrono_tz::America::St_Johns, (2026, 11, 1)),
];

/// Zones without DST whose half- and three-quarter-hour offsets put their
/// window edges off the change zone's hour grid.
const OFF_GRID_ZONES: [Tz; 2] = [chrono_tz::Asia::Kolkata, chrono_tz::Asia::Kathmandu];

/// A local time between midnight and 04:55, on 5-minute steps half the time:
/// every clock change above repeats or skips some part of that range.
fn near_change(rng: &mut SmallRng) -> NaiveTime {
    let minute = if rng.random_bool(0.5) {
        rng.random_range(0..12) * 5
    } else {
        [0, 15, 30, 45][rng.random_range(0..4)]
    };
    NaiveTime::from_hms_opt(rng.random_range(0..5), minute, 0).unwrap()
}

fn local_time(time: NaiveTime) -> LocalTime {
    LocalTime::from_hm(time.hour() as u16, time.minute() as u16).unwrap()
}

/// The stretch of the change day's clock that is repeated or skipped, as
/// local times `[from, to)`, found by asking the zone about each minute of the
/// small hours.
fn changed_stretch(change: ClockChange) -> (NaiveDateTime, NaiveDateTime) {
    let midnight = change.date.and_hms_opt(0, 0, 0).unwrap();
    let changed: Vec<NaiveDateTime> = (0..6 * 60)
        .map(|m| midnight + Duration::minutes(m))
        .filter(|t| {
            !matches!(
                change.zone.from_local_datetime(t),
                chrono::LocalResult::Single(_)
            )
        })
        .collect();
    let (first, last) = (changed.first().unwrap(), changed.last().unwrap());
    (*first, *last + Duration::minutes(1))
}

/// A local time before, inside or after the changed stretch, on 5-minute
/// steps, so windows end inside, start inside or span it often.
fn around_stretch(rng: &mut SmallRng, (from, to): (NaiveDateTime, NaiveDateTime)) -> NaiveTime {
    let steps = (to - from).num_minutes() / 5;
    let t = match rng.random_range(0..3) {
        0 => from - Duration::minutes(5 * rng.random_range(1..=12)),
        1 => from + Duration::minutes(5 * rng.random_range(0..steps)),
        _ => to + Duration::minutes(5 * rng.random_range(0..=12)),
    };
    t.time()
}

/// Windows of a person in the changing zone: on the Saturday, Sunday and
/// Monday around the change, in the small hours; on the change day mostly
/// aimed at the repeated or skipped stretch (ending inside it, starting
/// inside it, spanning it), and sometimes a Saturday night shift running into
/// the change.
fn windows_near_change(rng: &mut SmallRng, change: ClockChange) -> Vec<WorkingHours> {
    let stretch = changed_stretch(change);
    let time = |rng: &mut SmallRng, weekday| {
        if weekday == change.date.weekday() && rng.random_bool(0.8) {
            around_stretch(rng, stretch)
        } else {
            near_change(rng)
        }
    };
    let mut windows = Vec::new();
    for weekday in [Weekday::Sat, Weekday::Sun, Weekday::Mon] {
        let (a, b) = (time(rng, weekday), time(rng, weekday));
        if a != b {
            windows.push(WorkingHours {
                weekday,
                start: local_time(a.min(b)),
                end: local_time(a.max(b)),
            });
        }
    }
    if rng.random_bool(0.3) {
        // Replaces the Saturday window, to keep the windows apart.
        windows.retain(|w| w.weekday != Weekday::Sat);
        windows.push(WorkingHours {
            weekday: Weekday::Sat,
            start: LocalTime::from_hm(rng.random_range(20..24), 15 * rng.random_range(0..4))
                .unwrap(),
            end: local_time(time(rng, Weekday::Sun)),
        });
    }
    windows
}

/// A window in a Kolkata or Kathmandu person's own clock over some stretch of
/// the change night, so their edges meet the changing zone's pieces.
fn off_grid_window(rng: &mut SmallRng, change: ClockChange, zone: Tz) -> WorkingHours {
    let midnight = change
        .zone
        .from_local_datetime(&change.date.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let at = |rng: &mut SmallRng| {
        let t = midnight + Duration::minutes(rng.random_range(0..6 * 12) * 5);
        t.with_timezone(&zone).naive_local()
    };
    let (a, b) = (at(rng), at(rng));
    let (a, b) = (a.min(b), a.max(b).max(a + Duration::minutes(5)));
    WorkingHours {
        weekday: a.weekday(),
        start: local_time(a.time()),
        end: local_time(b.time()),
    }
}

/// A clock change and a problem around it: most people work in the changing
/// zone with windows near the change (see `windows_near_change`), some in
/// Kolkata or Kathmandu over the same night; the horizon covers the change
/// day, and every start on a 5- or 15-minute grid is compared.
pub fn dst_case(seed: u64) -> (ClockChange, SlotProblem) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let rng = &mut rng;
    let (zone, (y, m, d)) = CLOCK_CHANGES[rng.random_range(0..CLOCK_CHANGES.len())];
    let change = ClockChange {
        zone,
        date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
    };
    let day = change.date.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(14);
    let horizon = TimeRange::new(day, day + Duration::hours(48));
    let people: Vec<Person> = (0..rng.random_range(1..=3))
        .map(|i| {
            let (time_zone, working_hours) = if i > 0 && rng.random_bool(0.3) {
                let zone = OFF_GRID_ZONES[rng.random_range(0..OFF_GRID_ZONES.len())];
                (zone, vec![off_grid_window(rng, change, zone)])
            } else {
                (zone, windows_near_change(rng, change))
            };
            Person {
                id: PersonId(format!("p{i}")),
                display_name: String::new(),
                time_zone,
                working_hours,
                busy: Vec::new(),
            }
        })
        .collect();
    let roles = people
        .iter()
        .filter(|_| rng.random_bool(0.7))
        .enumerate()
        .map(|(r, p)| RequiredRole {
            id: RoleId(format!("role-{r}")),
            name: String::new(),
            pool: vec![p.id.clone()],
            delegates: Vec::new(),
        })
        .collect::<Vec<_>>();
    let roles = if roles.is_empty() {
        vec![RequiredRole {
            id: RoleId("role-0".into()),
            name: String::new(),
            pool: vec![people[0].id.clone()],
            delegates: Vec::new(),
        }]
    } else {
        roles
    };
    let problem = SlotProblem {
        change_ticket: format!("CHG-DST-{seed}"),
        horizon,
        bucket: BucketSize::from_minutes([5, 15][rng.random_range(0..2)]).unwrap(),
        meeting_minutes: rng.random_range(5..=90),
        not_before: None,
        evidence_deadline: None,
        roles,
        people,
        optional_attendees: Vec::new(),
        freeze_windows: Vec::new(),
        review_capacity: None,
        preferences: Vec::new(),
        optional_attendee_weight_minutes: 0,
        top_k: 100,
        allow_multiple_roles_per_person: false,
        tentative_is_free: false,
        explain: false,
    };
    (change, problem)
}

/// How a window on the change day meets the clock change, for the meta-test
/// that checks the generator produces each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeCase {
    /// Ends strictly inside the repeated hour, having started before it.
    EndsInsideRepeatedHour,
    /// Starts inside the repeated hour.
    StartsInsideRepeatedHour,
    /// Starts before the repeated hour and ends after it.
    SpansRepeatedHour,
    /// Has an edge in, or runs across, the skipped hour.
    TouchesSkippedHour,
    /// A Kolkata or Kathmandu window in a problem around a change.
    OffGridZone,
}

/// The cases the windows of `problem` (made by `dst_case`) exercise.
pub fn change_cases(change: ClockChange, problem: &SlotProblem) -> Vec<ChangeCase> {
    #[derive(PartialEq)]
    enum Clock {
        Normal,
        Repeated,
        Skipped,
    }
    let zone = change.zone;
    let clock = |t: NaiveDateTime| match zone.from_local_datetime(&t) {
        chrono::LocalResult::Single(_) => Clock::Normal,
        chrono::LocalResult::Ambiguous(..) => Clock::Repeated,
        chrono::LocalResult::None => Clock::Skipped,
    };
    let minute = Duration::minutes(1);
    let mut cases = Vec::new();
    for person in &problem.people {
        if person.time_zone != zone {
            cases.push(ChangeCase::OffGridZone);
            continue;
        }
        for w in &person.working_hours {
            let day = change.date - Duration::days(i64::from(w.crosses_midnight()));
            if day.weekday() != w.weekday {
                continue;
            }
            let midnight = day.and_hms_opt(0, 0, 0).unwrap();
            let start = midnight + Duration::minutes(w.start.minutes().into());
            let end = midnight
                + Duration::days(i64::from(w.crosses_midnight()))
                + Duration::minutes(w.end.minutes().into());
            let minutes: Vec<Clock> = std::iter::successors(Some(start), |t| Some(*t + minute))
                .take_while(|t| *t < end)
                .map(clock)
                .collect();
            let (first, last) = (clock(start), clock(end - minute));
            if minutes.contains(&Clock::Skipped) || clock(end) == Clock::Skipped {
                cases.push(ChangeCase::TouchesSkippedHour);
            }
            if first == Clock::Repeated {
                cases.push(ChangeCase::StartsInsideRepeatedHour);
            } else if last == Clock::Repeated && clock(end) == Clock::Repeated {
                cases.push(ChangeCase::EndsInsideRepeatedHour);
            } else if clock(end) == Clock::Normal && minutes.contains(&Clock::Repeated) {
                cases.push(ChangeCase::SpansRepeatedHour);
            }
        }
    }
    cases
}
