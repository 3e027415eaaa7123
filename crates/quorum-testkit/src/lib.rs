//! Deterministic generators of slot problems: the same shape and seed always
//! give the same problem, so tests, benches and the request files in
//! `fixtures/bench/` all describe identical workloads.
//!
//! Also the brute-force reference (`reference`) and the small random problems
//! that stress its edges (`random`), so the solver's property tests and
//! over-the-wire tests check against the same slow, independent answers;
//! the generator of problems around clock changes (`clock_change`); and the
//! checks that a relaxation really opens its slot (`changes`).

pub mod changes;
pub mod clock_change;
pub mod random;
pub mod reference;

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use quorum_domain::{
    BookedReview, BucketSize, BusyInterval, BusyStatus, Delegate, FreezeKind, FreezeWindow,
    LocalTime, Person, PersonId, PreferenceWindow, RequiredRole, ReviewCapacity, RoleId,
    SlotProblem, TimeRange, WorkingHours,
};
use rand::{Rng, SeedableRng, rngs::SmallRng};

/// The size and mix of a generated problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemShape {
    pub roles: usize,
    pub candidates_per_role: usize,
    /// Candidates shared between neighbouring roles' pools, to exercise the
    /// one-person-one-role rule.
    pub shared_candidates: usize,
    pub days: i64,
    pub bucket_minutes: u32,
    pub meeting_minutes: u32,
    pub busy_intervals: usize,
    pub optional_attendees: usize,
    pub freeze_windows: usize,
    pub booked_reviews: usize,
    pub review_capacity: u32,
    pub preferences: usize,
    pub zones: Vec<Tz>,
    pub horizon_start: DateTime<Utc>,
    /// Busy intervals start at odd seconds rather than on the minute.
    pub ragged_edges: bool,
    pub top_k: usize,
}

/// Monday 2026-10-19: Europe leaves DST on the 25th, the US on 1 November.
pub fn dst_fortnight_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 19, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

impl ProblemShape {
    /// 5 roles × 3 candidates, 5 working days, 15-minute buckets, 40 busy intervals.
    pub fn small() -> Self {
        Self {
            roles: 5,
            candidates_per_role: 3,
            shared_candidates: 0,
            days: 5,
            bucket_minutes: 15,
            meeting_minutes: 60,
            busy_intervals: 40,
            optional_attendees: 0,
            freeze_windows: 0,
            booked_reviews: 0,
            review_capacity: 1,
            preferences: 0,
            zones: vec![chrono_tz::Europe::Berlin, chrono_tz::America::New_York],
            horizon_start: dst_fortnight_start(),
            ragged_edges: false,
            top_k: 10,
        }
    }

    /// 5 roles × 5, 14 days, 30 optional attendees, 300 busy intervals, 3
    /// freezes, 6 booked reviews at capacity 2, 4 zones with DST changes inside.
    pub fn medium() -> Self {
        Self {
            roles: 5,
            candidates_per_role: 5,
            days: 14,
            busy_intervals: 300,
            optional_attendees: 30,
            freeze_windows: 3,
            booked_reviews: 6,
            review_capacity: 2,
            preferences: 2,
            zones: vec![
                chrono_tz::Europe::Berlin,
                chrono_tz::America::New_York,
                chrono_tz::Asia::Kolkata,
                chrono_tz::Europe::London,
            ],
            ..Self::small()
        }
    }

    /// 20 roles × 10, 28 days, 5-minute buckets, 5,000 busy intervals.
    pub fn large() -> Self {
        Self {
            roles: 20,
            candidates_per_role: 10,
            days: 28,
            bucket_minutes: 5,
            busy_intervals: 5_000,
            ..Self::medium()
        }
    }
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// A problem of the given shape; the same shape and seed give the same problem.
pub fn generate(shape: &ProblemShape, seed: u64) -> SlotProblem {
    let mut rng = SmallRng::seed_from_u64(seed);
    let horizon = TimeRange::new(
        shape.horizon_start,
        shape.horizon_start + Duration::days(shape.days),
    );
    let mut people = Vec::new();
    let mut roles = Vec::new();
    for r in 0..shape.roles {
        let mut pool = Vec::new();
        for c in 0..shape.candidates_per_role {
            let id = format!("r{r}-c{c}");
            people.push(person(&id, shape, &mut rng));
            pool.push(PersonId(id));
        }
        // Borrow the first candidates of the previous role, so pools overlap.
        if r > 0 {
            for c in 0..shape.shared_candidates.min(shape.candidates_per_role) {
                pool.push(PersonId(format!("r{}-c{c}", r - 1)));
            }
        }
        roles.push(RequiredRole {
            id: RoleId(format!("role-{r}")),
            name: format!("role {r}"),
            pool,
            delegates: Vec::new(),
        });
    }
    let mut optional_attendees = Vec::new();
    for a in 0..shape.optional_attendees {
        let id = format!("opt-{a}");
        people.push(person(&id, shape, &mut rng));
        let weight = rng.random_bool(0.3).then(|| rng.random_range(5..60));
        optional_attendees.push((PersonId(id), weight));
    }
    for _ in 0..shape.busy_intervals {
        let who = rng.random_range(0..people.len());
        let range = random_range(&mut rng, horizon, 15, 180, shape.ragged_edges);
        let status = match rng.random_range(0..10) {
            0 => BusyStatus::Tentative,
            1 => BusyStatus::OutOfOffice,
            _ => BusyStatus::Busy,
        };
        people[who].busy.push(BusyInterval { range, status });
    }
    let freeze_windows = (0..shape.freeze_windows)
        .map(|i| FreezeWindow {
            id: format!("FW-{i}"),
            range: random_range(&mut rng, horizon, 60, 720, false),
            kind: FreezeKind::ChangeFreeze,
            reason: "generated freeze".into(),
            owner: String::new(),
        })
        .collect();
    let booked = (0..shape.booked_reviews)
        .map(|i| BookedReview {
            change_ticket: format!("CHG-{i}"),
            range: random_range(&mut rng, horizon, 30, 120, false),
        })
        .collect();
    let preferences = (0..shape.preferences)
        .map(|i| PreferenceWindow {
            id: format!("pref-{i}"),
            range: random_range(&mut rng, horizon, 60, 600, false),
            weight_minutes: rng.random_range(-120..600),
        })
        .collect();
    SlotProblem {
        change_ticket: format!("CHG-GEN-{seed}"),
        horizon,
        bucket: BucketSize::from_minutes(shape.bucket_minutes).unwrap_or_default(),
        meeting_minutes: shape.meeting_minutes,
        not_before: None,
        evidence_deadline: None,
        roles,
        people,
        optional_attendees,
        freeze_windows,
        review_capacity: (shape.booked_reviews > 0).then_some(ReviewCapacity {
            max_concurrent: shape.review_capacity,
            booked,
        }),
        preferences,
        optional_attendee_weight_minutes: 15,
        top_k: shape.top_k,
        allow_multiple_roles_per_person: false,
        tentative_is_free: false,
        explain: false,
    }
}

/// Makes every candidate of `role` busy from the horizon start to `until`, the
/// "whole pool busy before the deadline" case.
pub fn occupy_role_until(problem: &mut SlotProblem, role: usize, until: DateTime<Utc>) {
    let Some(pool) = problem.roles.get(role).map(|r| r.pool.clone()) else {
        return;
    };
    let range = TimeRange::new(problem.horizon.start, until);
    for person in problem.people.iter_mut().filter(|p| pool.contains(&p.id)) {
        person.busy.push(BusyInterval {
            range,
            status: BusyStatus::Busy,
        });
    }
}

/// Adds a delegate to a role.
pub fn add_delegate(problem: &mut SlotProblem, role: usize, person: &str, confirmed: bool) {
    if let Some(role) = problem.roles.get_mut(role) {
        role.delegates.push(Delegate {
            person: PersonId(person.to_owned()),
            authority_confirmed: confirmed,
        });
    }
}

fn person(id: &str, shape: &ProblemShape, rng: &mut SmallRng) -> Person {
    let zone =
        shape.zones[rng.random_range(0..shape.zones.len().max(1)) % shape.zones.len().max(1)];
    let (start, end) = [(9, 17), (8, 16), (10, 18), (7, 15)][rng.random_range(0..4)];
    let hm = |h: u16| LocalTime::from_hm(h, 0).unwrap_or(LocalTime::MIDNIGHT);
    let working_hours = WEEKDAYS
        .iter()
        .map(|&weekday| WorkingHours {
            weekday,
            start: hm(start),
            end: hm(end),
        })
        .collect();
    Person {
        id: PersonId(id.to_owned()),
        display_name: id.to_uppercase(),
        time_zone: zone,
        working_hours,
        busy: Vec::new(),
    }
}

fn random_range(
    rng: &mut SmallRng,
    horizon: TimeRange,
    min_minutes: i64,
    max_minutes: i64,
    ragged: bool,
) -> TimeRange {
    let span = horizon.duration().num_minutes().max(1);
    let start = horizon.start + Duration::minutes(rng.random_range(0..span) / 5 * 5);
    let start = if ragged {
        start + Duration::seconds(rng.random_range(0..3600))
    } else {
        start
    };
    TimeRange::new(
        start,
        start + Duration::minutes(rng.random_range(min_minutes..=max_minutes)),
    )
}

/// The seed every bench workload is generated from.
pub const BENCH_SEED: u64 = 20_261_122;

/// The named bench workloads: `small`, `medium`, `large` and
/// `infeasible-medium` (medium with one role's whole pool busy until the
/// evidence deadline).
pub fn bench_problem(name: &str) -> Option<SlotProblem> {
    let shape = match name {
        "small" => ProblemShape::small(),
        "medium" | "infeasible-medium" => ProblemShape::medium(),
        "large" => ProblemShape::large(),
        _ => return None,
    };
    let mut problem = generate(&shape, BENCH_SEED);
    problem.change_ticket = format!("CHG-BENCH-{}", name.to_uppercase());
    if name == "infeasible-medium" {
        let deadline = problem.horizon.start + Duration::days(10);
        problem.evidence_deadline = Some(deadline);
        occupy_role_until(&mut problem, 2, deadline);
    }
    Some(problem)
}
