//! Small random slot problems that stress the edges: horizons across DST
//! changes, zones with 30- and 45-minute offsets, night shifts and "24:00",
//! meeting lengths off the grid, sub-second busy edges, shared pools,
//! delegates, freezes, capacity and preferences.

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use quorum_domain::{
    BookedReview, BucketSize, BusyInterval, BusyStatus, Delegate, FreezeKind, FreezeWindow,
    LocalTime, Person, PersonId, PreferenceWindow, RequiredRole, ReviewCapacity, RoleId,
    SlotProblem, TimeRange, WorkingHours,
};
use rand::{Rng, SeedableRng, rngs::SmallRng};

const ZONES: [Tz; 8] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::St_Johns,
    chrono_tz::Pacific::Auckland,
];

/// Days around which clocks change somewhere in `ZONES`.
fn interesting_start(rng: &mut SmallRng) -> DateTime<Utc> {
    let days = [
        (2026, 3, 7),
        (2026, 3, 28),
        (2026, 4, 4),
        (2026, 9, 26),
        (2026, 10, 24),
        (2026, 10, 31),
        (2026, 6, 15),
    ];
    let (y, m, d) = days[rng.random_range(0..days.len())];
    let base = Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
    base + Duration::minutes(rng.random_range(0..24 * 4) * 15)
        + Duration::seconds(if rng.random_bool(0.2) {
            rng.random_range(1..60)
        } else {
            0
        })
}

/// Half the time an hour when clocks change somewhere (01:00–03:59 local).
fn local(rng: &mut SmallRng) -> LocalTime {
    let hour = if rng.random_bool(0.5) {
        rng.random_range(1..4)
    } else {
        rng.random_range(0..24)
    };
    LocalTime::from_hm(hour, [0, 15, 30, 45][rng.random_range(0..4)]).unwrap()
}

fn person(id: String, rng: &mut SmallRng) -> Person {
    let mut working_hours = Vec::new();
    for weekday in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ] {
        match rng.random_range(0..6) {
            0 => {}
            1 => working_hours.push(WorkingHours {
                weekday,
                start: local(rng),
                end: local(rng),
            }),
            2 => working_hours.push(WorkingHours {
                weekday,
                start: LocalTime::MIDNIGHT,
                end: LocalTime::END_OF_DAY,
            }),
            _ => {
                let start = LocalTime::from_hm(rng.random_range(0..12), 0).unwrap();
                let end = LocalTime::from_hm(rng.random_range(12..24), 30).unwrap();
                working_hours.push(WorkingHours {
                    weekday,
                    start,
                    end,
                });
            }
        }
    }
    working_hours.retain(|w| w.start != w.end);
    Person {
        id: PersonId(id),
        display_name: String::new(),
        time_zone: ZONES[rng.random_range(0..ZONES.len())],
        working_hours,
        busy: Vec::new(),
    }
}

/// Where meetings can start and how long they last, so ranges can be made to
/// touch meeting edges exactly, where off-by-one mistakes live.
#[derive(Clone, Copy)]
struct Edges {
    step: i64,
    meeting: i64,
}

fn range_in(rng: &mut SmallRng, horizon: TimeRange, max_minutes: i64, edges: Edges) -> TimeRange {
    let span = horizon.duration().num_seconds();
    if rng.random_bool(0.4) {
        let k = rng.random_range(0..span / edges.step);
        let edge = horizon.start
            + Duration::seconds(
                k * edges.step
                    + if rng.random_bool(0.5) {
                        edges.meeting
                    } else {
                        0
                    },
            );
        let length = Duration::seconds(rng.random_range(1..max_minutes) * 60);
        return if rng.random_bool(0.5) {
            TimeRange::new(edge, edge + length)
        } else {
            TimeRange::new(edge - length, edge)
        };
    }
    let start = horizon.start + Duration::seconds(rng.random_range(-3600..span));
    let start = if rng.random_bool(0.7) {
        start - Duration::seconds(start.timestamp() % 300)
    } else {
        start
    };
    TimeRange::new(
        start,
        start + Duration::seconds(rng.random_range(60..max_minutes * 60)),
    )
}

pub fn random_problem(seed: u64) -> SlotProblem {
    let mut rng = SmallRng::seed_from_u64(seed);
    let rng = &mut rng;
    let bucket = [5, 15, 30, 60][rng.random_range(0..4)];
    let days = if bucket == 5 {
        1
    } else {
        rng.random_range(1..=3)
    };
    let start = interesting_start(rng);
    let horizon = TimeRange::new(start, start + Duration::days(days));
    let meeting_minutes = rng.random_range(5..=150);
    let edges = Edges {
        step: i64::from(bucket) * 60,
        meeting: i64::from(meeting_minutes) * 60,
    };
    let mut people: Vec<Person> = (0..rng.random_range(2..=6))
        .map(|i| person(format!("p{i}"), rng))
        .collect();
    for p in &mut people {
        for _ in 0..rng.random_range(0..=5) {
            let status = [
                BusyStatus::Busy,
                BusyStatus::Tentative,
                BusyStatus::OutOfOffice,
            ][rng.random_range(0..3)];
            p.busy.push(BusyInterval {
                range: range_in(rng, horizon, 240, edges),
                status,
            });
        }
    }
    let ids: Vec<PersonId> = people.iter().map(|p| p.id.clone()).collect();
    let roles = (0..rng.random_range(1..=3))
        .map(|r| {
            let mut pool: Vec<PersonId> = ids
                .iter()
                .filter(|_| rng.random_bool(0.5))
                .cloned()
                .collect();
            if pool.is_empty() {
                pool.push(ids[rng.random_range(0..ids.len())].clone());
            }
            let delegates = if rng.random_bool(0.3) {
                vec![Delegate {
                    person: ids[rng.random_range(0..ids.len())].clone(),
                    authority_confirmed: rng.random_bool(0.5),
                }]
            } else {
                Vec::new()
            };
            RequiredRole {
                id: RoleId(format!("role-{r}")),
                name: String::new(),
                pool,
                delegates,
            }
        })
        .collect();
    let mut optional_attendees = Vec::new();
    for id in &ids {
        if rng.random_bool(0.3) {
            let weight = rng.random_bool(0.5).then(|| rng.random_range(-30..90));
            optional_attendees.push((id.clone(), weight));
        }
    }
    let freeze_windows = (0..rng.random_range(0..=2))
        .map(|i| FreezeWindow {
            id: format!("FW-{i}"),
            range: range_in(rng, horizon, 300, edges),
            kind: FreezeKind::LaunchBlackout,
            reason: String::new(),
            owner: String::new(),
        })
        .collect();
    let review_capacity = rng.random_bool(0.4).then(|| ReviewCapacity {
        max_concurrent: rng.random_range(1..=2),
        booked: (0..rng.random_range(0..=4))
            .map(|i| BookedReview {
                change_ticket: format!("CHG-{i}"),
                range: range_in(rng, horizon, 180, edges),
            })
            .collect(),
    });
    let preferences = (0..rng.random_range(0..=2))
        .map(|i| PreferenceWindow {
            id: format!("pref-{i}"),
            range: range_in(rng, horizon, 600, edges),
            weight_minutes: rng.random_range(-60..400),
        })
        .collect();
    let instant = |rng: &mut SmallRng| {
        let range = range_in(rng, horizon, 60, edges);
        if rng.random_bool(0.5) {
            range.start
        } else {
            range.end
        }
    };
    SlotProblem {
        change_ticket: format!("CHG-PROP-{seed}"),
        horizon,
        bucket: BucketSize::from_minutes(bucket).unwrap(),
        meeting_minutes,
        not_before: rng.random_bool(0.3).then(|| instant(rng)),
        evidence_deadline: rng.random_bool(0.3).then(|| instant(rng)),
        roles,
        people,
        optional_attendees,
        freeze_windows,
        review_capacity,
        preferences,
        optional_attendee_weight_minutes: rng.random_range(0..40),
        top_k: rng.random_range(1..=8),
        allow_multiple_roles_per_person: rng.random_bool(0.2),
        tentative_is_free: rng.random_bool(0.3),
        explain: rng.random_bool(0.5),
    }
}

/// A random problem tightened so that most have no slot, spread over the
/// stages of the diagnosis: longer meetings, narrower windows, shared pools
/// and wider freezes, each in some of the problems.
pub fn infeasible_leaning_problem(seed: u64) -> SlotProblem {
    let mut problem = random_problem(seed);
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed_1dea);
    let rng = &mut rng;
    if rng.random_bool(0.5) {
        problem.meeting_minutes = problem.meeting_minutes.saturating_mul(2).min(600);
    }
    let horizon = problem.horizon;
    let stretch = |rng: &mut SmallRng| {
        let span = horizon.duration().num_minutes();
        let from = rng.random_range(0..span / 3);
        let to = rng.random_range(span * 2 / 3..=span);
        TimeRange::new(
            horizon.start + Duration::minutes(from),
            horizon.start + Duration::minutes(to),
        )
    };
    // Booked reviews filling much of the horizon: stage 5 by capacity.
    if rng.random_bool(0.3) {
        let booked = (0..rng.random_range(1..=3))
            .map(|i| BookedReview {
                change_ticket: format!("CHG-FULL-{i}"),
                range: stretch(rng),
            })
            .collect();
        problem.review_capacity = Some(ReviewCapacity {
            max_concurrent: 1,
            booked,
        });
    }
    if rng.random_bool(0.25) {
        problem.freeze_windows.push(FreezeWindow {
            id: "FW-WIDE".to_owned(),
            range: stretch(rng),
            kind: FreezeKind::ChangeFreeze,
            reason: String::new(),
            owner: String::new(),
        });
    }
    problem
}

/// A problem with two disjoint conflicts by construction, so no single
/// change opens a slot and combinations are tested in numbers: the
/// release manager `a` is committed (tentative, busy or out of office)
/// through all of their working hours, and the reviewer `b` works only in a
/// window that a freeze, the full review capacity or the evidence deadline
/// rules out. Window, commitments, zones and the blocker vary with `seed`.
pub fn two_conflict_problem(seed: u64) -> SlotProblem {
    let mut rng = SmallRng::seed_from_u64(seed);
    let rng = &mut rng;
    let day = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let horizon = TimeRange::new(day, day + Duration::days(2));
    let hours = |start: u16, end: u16| -> Vec<WorkingHours> {
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu]
            .into_iter()
            .map(|weekday| WorkingHours {
                weekday,
                start: LocalTime::from_hm(start / 60, start % 60).expect("time"),
                end: LocalTime::from_hm(end / 60, end % 60).expect("time"),
            })
            .collect()
    };
    // `a` works 08:00-18:00 UTC; `b` a 2-4 hour window inside it.
    let b_start: u16 = 60 * rng.random_range(9..=13);
    let b_end: u16 = b_start + 60 * rng.random_range(2..=4);
    let mut a = Person {
        id: PersonId("a".to_owned()),
        display_name: String::new(),
        time_zone: chrono_tz::UTC,
        working_hours: hours(8 * 60, 18 * 60),
        busy: Vec::new(),
    };
    for d in 0..2 {
        let mut t = day + Duration::days(d) + Duration::hours(8);
        let end = day + Duration::days(d) + Duration::hours(18);
        while t < end {
            let next = (t + Duration::minutes(30 * rng.random_range(1..=6))).min(end);
            let status = [
                BusyStatus::Busy,
                BusyStatus::Tentative,
                BusyStatus::OutOfOffice,
            ][rng.random_range(0..3)];
            a.busy.push(BusyInterval {
                range: TimeRange::new(t, next),
                status,
            });
            t = next;
        }
    }
    let b_zone = [chrono_tz::UTC, chrono_tz::Europe::London][rng.random_range(0..2)];
    let b = Person {
        id: PersonId("b".to_owned()),
        display_name: String::new(),
        time_zone: b_zone,
        working_hours: hours(b_start, b_end),
        busy: Vec::new(),
    };
    let window = |d: i64| {
        TimeRange::new(
            day + Duration::days(d) + Duration::minutes(b_start.into()),
            day + Duration::days(d) + Duration::minutes(b_end.into()),
        )
    };
    let mut freeze_windows = Vec::new();
    let mut review_capacity = None;
    let mut evidence_deadline = None;
    match rng.random_range(0..3) {
        0 => freeze_windows.push(FreezeWindow {
            id: "FW-0".to_owned(),
            range: TimeRange::new(window(0).start, window(1).end),
            kind: FreezeKind::ChangeFreeze,
            reason: String::new(),
            owner: "cab".to_owned(),
        }),
        1 => {
            review_capacity = Some(ReviewCapacity {
                max_concurrent: 1,
                booked: (0..2)
                    .map(|d| BookedReview {
                        change_ticket: format!("CHG-{d}"),
                        range: window(d),
                    })
                    .collect(),
            });
        }
        _ => evidence_deadline = Some(window(0).start - Duration::minutes(30)),
    }
    let role = |id: &str, person: &Person| RequiredRole {
        id: RoleId(id.to_owned()),
        name: String::new(),
        pool: vec![person.id.clone()],
        delegates: Vec::new(),
    };
    SlotProblem {
        change_ticket: format!("CHG-TWO-{seed}"),
        horizon,
        bucket: BucketSize::from_minutes(15).unwrap(),
        meeting_minutes: 60,
        not_before: None,
        evidence_deadline,
        roles: vec![role("release-manager", &a), role("reviewer", &b)],
        people: vec![a, b],
        optional_attendees: Vec::new(),
        freeze_windows,
        review_capacity,
        preferences: Vec::new(),
        optional_attendee_weight_minutes: 0,
        top_k: 3,
        allow_multiple_roles_per_person: false,
        tentative_is_free: false,
        explain: false,
    }
}
