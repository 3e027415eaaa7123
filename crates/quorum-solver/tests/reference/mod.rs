//! A generator of small release programmes and a brute-force planner that
//! shares nothing with the solver but the domain types: it tries every vector
//! of grid starts and every joint role assignment, checking each rule from
//! its definition, so the solver's shortcuts (presolve bitsets, propagation,
//! bounds, the chain program, coupled groups) are all tested against it.

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use quorum_domain::{
    BucketSize, BusyInterval, BusyStatus, Delegate, Dependency, FreezeKind, FreezeScope,
    FreezeWindow, LocalTime, Milestone, MilestoneKind, MilestoneRole, OnCallShift, Person,
    PersonId, PreferenceWindow, RelaxationKind, ReleaseProgramme, RequiredRole, Resource,
    RoleBasis, RoleId, ScopedFreeze, TimeRange, WorkingHours,
};
use rand::{Rng, SeedableRng, rngs::SmallRng};

const ZONES: [Tz; 4] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
];

/// Europe leaves winter time at 01:00 UTC on this night.
pub fn dst_night() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 28, 21, 0, 0).unwrap()
}

fn at(origin: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    origin + Duration::minutes(minutes)
}

fn range(origin: DateTime<Utc>, a: i64, b: i64) -> TimeRange {
    TimeRange::new(at(origin, a), at(origin, b))
}

/// A small programme from `seed`: 2–3 milestones on a grid of at most 16
/// starts, 3–4 people, on-call rotas with handovers, a scoped freeze, a
/// resource, gaps at and around their bounds.
pub fn programme(seed: u64) -> ReleaseProgramme {
    let mut rng = SmallRng::seed_from_u64(seed);
    let origin = if rng.random_bool(0.4) {
        dst_night()
    } else {
        Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap()
    };
    let bucket = if rng.random_bool(0.5) { 30 } else { 60 };
    let hours = rng.random_range(6..=8i64);
    let horizon = range(origin, 0, hours * 60);
    let people: Vec<Person> = (0..rng.random_range(3..=4usize))
        .map(|i| person(&mut rng, i))
        .collect();
    let mut on_call = Vec::new();
    for p in &people {
        let mut t = rng.random_range(-2..4i64) * 30;
        for _ in 0..rng.random_range(0..=3) {
            let length = rng.random_range(1..=6i64) * 30;
            on_call.push(OnCallShift {
                person: p.id.clone(),
                range: range(origin, t, t + length),
            });
            // Touching (a handover to oneself), overlapping or a gap.
            t += length + [0, 0, -30, 30, 60][rng.random_range(0..5)];
        }
    }
    let count = rng.random_range(2..=3usize);
    let milestones: Vec<Milestone> = (0..count)
        .map(|i| milestone(&mut rng, i, &people, origin, hours))
        .collect();
    let resources = (rng.random_bool(0.5))
        .then(|| Resource {
            id: "board".into(),
            name: "review board".into(),
            capacity: rng.random_range(1..=2),
            owner: "board-chair".into(),
            booked: (0..rng.random_range(0..=1))
                .map(|_| {
                    let a = rng.random_range(0..hours * 2) * 30;
                    range(origin, a, a + 60)
                })
                .collect(),
        })
        .into_iter()
        .collect::<Vec<_>>();
    let mut milestones = milestones;
    if !resources.is_empty() {
        for m in &mut milestones {
            if rng.random_bool(0.6) {
                m.resources.push("board".into());
            }
        }
    }
    ReleaseProgramme {
        change_ticket: format!("CHG-{seed}"),
        horizon,
        bucket: BucketSize::from_minutes(bucket).unwrap(),
        freeze_windows: freezes(&mut rng, origin, hours, &milestones),
        dependencies: dependencies(&mut rng, count),
        people,
        on_call,
        resources,
        milestones,
        top_k: rng.random_range(1..=6),
        tentative_is_free: rng.random_bool(0.3),
    }
}

fn person(rng: &mut SmallRng, i: usize) -> Person {
    let zone = ZONES[rng.random_range(0..ZONES.len())];
    let (start, end) = if rng.random_bool(0.4) {
        (LocalTime::MIDNIGHT, LocalTime::END_OF_DAY)
    } else {
        let s = rng.random_range(0..24u16);
        let e = (s + rng.random_range(3..12u16)) % 24;
        (
            LocalTime::from_hm(s, 0).unwrap(),
            LocalTime::from_hm(e, 30).unwrap(),
        )
    };
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    Person {
        id: PersonId(format!("p{i}")),
        display_name: String::new(),
        time_zone: zone,
        working_hours: days
            .iter()
            .map(|&weekday| WorkingHours {
                weekday,
                start,
                end,
            })
            .collect(),
        busy: Vec::new(),
    }
}

fn milestone(
    rng: &mut SmallRng,
    i: usize,
    people: &[Person],
    origin: DateTime<Utc>,
    hours: i64,
) -> Milestone {
    let pick = |rng: &mut SmallRng| people[rng.random_range(0..people.len())].id.clone();
    let roles = (0..rng.random_range(1..=2))
        .map(|r| {
            let mut pool = vec![pick(rng)];
            if rng.random_bool(0.5) {
                let other = pick(rng);
                if !pool.contains(&other) {
                    pool.push(other);
                }
            }
            let delegates = if rng.random_bool(0.2) {
                vec![Delegate {
                    person: pick(rng),
                    authority_confirmed: rng.random_bool(0.5),
                }]
            } else {
                Vec::new()
            };
            MilestoneRole {
                role: RequiredRole {
                    id: RoleId(format!("r{r}")),
                    name: String::new(),
                    pool,
                    delegates,
                },
                basis: if rng.random_bool(0.35) {
                    RoleBasis::OnCall
                } else {
                    RoleBasis::WorkingHours
                },
            }
        })
        .collect();
    let duration = [30, 45, 60, 90][rng.random_range(0..4)];
    Milestone {
        id: format!("m{i}"),
        name: String::new(),
        kind: if rng.random_bool(0.5) {
            MilestoneKind::ChangeWindow
        } else {
            MilestoneKind::Meeting
        },
        duration_minutes: duration,
        not_before: rng
            .random_bool(0.2)
            .then(|| at(origin, rng.random_range(0..4) * 30)),
        deadline: rng
            .random_bool(0.3)
            .then(|| at(origin, hours * 60 - rng.random_range(0..5) * 30)),
        roles,
        optional_attendees: if rng.random_bool(0.4) {
            vec![(
                pick(rng),
                rng.random_bool(0.5).then(|| rng.random_range(10..90)),
            )]
        } else {
            Vec::new()
        },
        resources: Vec::new(),
        soak_minutes: [0, 0, 30, 45, 60][rng.random_range(0..5)],
        preferences: if rng.random_bool(0.5) {
            let a = rng.random_range(0..hours * 2) * 30 + [0, 15][rng.random_range(0..2)];
            vec![PreferenceWindow {
                id: format!("pref{i}"),
                range: range(origin, a, a + rng.random_range(1..=4) * 30),
                weight_minutes: rng.random_range(30..240),
            }]
        } else {
            Vec::new()
        },
        optional_attendee_weight_minutes: rng.random_range(0..60),
        allow_multiple_roles_per_person: rng.random_bool(0.2),
        exceptions: Vec::new(),
    }
}

fn freezes(
    rng: &mut SmallRng,
    origin: DateTime<Utc>,
    hours: i64,
    milestones: &[Milestone],
) -> Vec<ScopedFreeze> {
    if !rng.random_bool(0.5) {
        return Vec::new();
    }
    let a = rng.random_range(0..hours * 2) * 30;
    let scope = match rng.random_range(0..3) {
        0 => FreezeScope::AllMilestones,
        1 => FreezeScope::ChangeWindowsOnly,
        _ => FreezeScope::Milestones(vec![
            milestones[rng.random_range(0..milestones.len())].id.clone(),
        ]),
    };
    vec![ScopedFreeze {
        window: FreezeWindow {
            id: "freeze".into(),
            range: range(origin, a, a + rng.random_range(1..=3) * 30),
            kind: FreezeKind::EvidenceFreeze,
            reason: String::new(),
            owner: String::new(),
        },
        scope,
    }]
}

/// Mostly chains in request order (the fast path), sometimes parallel
/// branches, a diamond, or a dependency against request order.
fn dependencies(rng: &mut SmallRng, count: usize) -> Vec<Dependency> {
    let gap = |rng: &mut SmallRng, before: usize, after: usize| {
        let min = [0, 29, 30, 31, 60, 61][rng.random_range(0..6)];
        Dependency {
            before: format!("m{before}"),
            after: format!("m{after}"),
            min_gap_minutes: min,
            max_gap_minutes: rng
                .random_bool(0.4)
                .then(|| min + [0, 29, 30, 59, 90][rng.random_range(0..5)]),
        }
    };
    match (count, rng.random_range(0..4)) {
        (_, 0 | 1) => (1..count).map(|i| gap(rng, i - 1, i)).collect(),
        (3, 2) => vec![gap(rng, 0, 1), gap(rng, 0, 2)],
        (3, _) => vec![gap(rng, 2, 0), gap(rng, 1, 0)],
        (_, 2) => Vec::new(),
        _ => vec![gap(rng, 1, 0)],
    }
}

/// A plan as the reference finds it: cost, starts, and per milestone the
/// people in its roles (request order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencePlan {
    pub cost: i64,
    pub starts: Vec<DateTime<Utc>>,
    pub people: Vec<Vec<PersonId>>,
}

/// The solver's plan in the reference's terms, for comparing the two.
pub fn as_reference(plan: &quorum_domain::Plan) -> ReferencePlan {
    ReferencePlan {
        cost: plan.cost,
        starts: plan.milestones.iter().map(|m| m.slot.range.start).collect(),
        people: plan
            .milestones
            .iter()
            .map(|m| {
                m.slot
                    .assignments
                    .iter()
                    .map(|a| a.person.clone())
                    .collect()
            })
            .collect(),
    }
}

/// Each role's candidates able to serve at one start: (person, via delegate).
type Options = Vec<Vec<(PersonId, bool)>>;

pub struct Reference<'a> {
    p: &'a ReleaseProgramme,
    /// Per milestone, per grid start (or `None` when its window leaves the
    /// horizon): each role's candidates able to serve, in preference order.
    options: Vec<Vec<Option<Options>>>,
}

impl<'a> Reference<'a> {
    pub fn new(p: &'a ReleaseProgramme) -> Self {
        let step = i64::from(p.bucket.minutes());
        let starts = p.horizon.duration().num_minutes() / step + 1;
        let options = p
            .milestones
            .iter()
            .map(|m| {
                (0..starts)
                    .map(|k| {
                        let start = at(p.horizon.start, k * step);
                        let window = TimeRange::new(start, start + m.duration());
                        (window.end <= p.horizon.end).then(|| self_options(p, m, window))
                    })
                    .collect()
            })
            .collect();
        Self { p, options }
    }

    pub fn plans(&self) -> Vec<ReferencePlan> {
        let mut all = Vec::new();
        let mut vector = Vec::new();
        self.walk(&mut vector, &mut all);
        all.sort_by(|a, b| (a.cost, &a.starts).cmp(&(b.cost, &b.starts)));
        all.truncate(self.p.top_k);
        all
    }

    fn walk(&self, vector: &mut Vec<usize>, out: &mut Vec<ReferencePlan>) {
        let m = vector.len();
        if m == self.p.milestones.len() {
            if let Some(plan) = self.check(vector) {
                out.push(plan);
            }
            return;
        }
        for k in 0..self.options[m].len() {
            if self.options[m][k].is_some() {
                vector.push(k);
                self.walk(vector, out);
                vector.pop();
            }
        }
    }

    fn window(&self, m: usize, k: usize) -> TimeRange {
        let start = at(
            self.p.horizon.start,
            k as i64 * i64::from(self.p.bucket.minutes()),
        );
        TimeRange::new(start, start + self.p.milestones[m].duration())
    }

    fn check(&self, vector: &[usize]) -> Option<ReferencePlan> {
        let p = self.p;
        let windows: Vec<TimeRange> = vector
            .iter()
            .enumerate()
            .map(|(m, &k)| self.window(m, k))
            .collect();
        for (m, milestone) in p.milestones.iter().enumerate() {
            let w = windows[m];
            if milestone.not_before.is_some_and(|t| w.start < t)
                || milestone.deadline.is_some_and(|t| w.end > t)
            {
                return None;
            }
            if p.freeze_windows.iter().any(|f| {
                f.applies_to(milestone)
                    && f.window.range.overlaps(&w)
                    && !milestone
                        .exceptions
                        .contains(&RelaxationKind::OverrideFreezeWindow {
                            id: f.window.id.clone(),
                        })
            }) {
                return None;
            }
        }
        for d in &p.dependencies {
            let b = p.milestone_index(&d.before)?;
            let a = p.milestone_index(&d.after)?;
            let gap = windows[a].start - windows[b].end;
            if gap < Duration::minutes(d.min_gap_minutes.into())
                || d.max_gap_minutes
                    .is_some_and(|g| gap > Duration::minutes(g.into()))
            {
                return None;
            }
        }
        for resource in &p.resources {
            if !capacity_holds(resource, p, &windows) {
                return None;
            }
        }
        let people = self.assignment(vector, &windows)?;
        let cost = (0..vector.len()).map(|m| self.cost(m, windows[m])).sum();
        Some(ReferencePlan {
            cost,
            starts: windows.iter().map(|w| w.start).collect(),
            people,
        })
    }

    /// The first joint assignment in lexicographic order of (milestone,
    /// role, candidate), trying every combination.
    fn assignment(&self, vector: &[usize], windows: &[TimeRange]) -> Option<Vec<Vec<PersonId>>> {
        let mut seats = Vec::new();
        for (m, &k) in vector.iter().enumerate() {
            let options = self.options[m][k].as_ref()?;
            for (r, o) in options.iter().enumerate() {
                seats.push((m, self.p.milestones[m].roles[r].basis, o.clone()));
            }
        }
        let total: usize = seats.iter().map(|s| s.2.len()).product();
        if total == 0 {
            return None;
        }
        'combination: for mut index in 0..total {
            let mut chosen = vec![0; seats.len()];
            for i in (0..seats.len()).rev() {
                chosen[i] = index % seats[i].2.len();
                index /= seats[i].2.len();
            }
            for i in 0..seats.len() {
                for j in 0..i {
                    let (mi, bi, ref oi) = seats[i];
                    let (mj, bj, ref oj) = seats[j];
                    if oi[chosen[i]].0 != oj[chosen[j]].0 {
                        continue;
                    }
                    let clash = if mi == mj {
                        !self.p.milestones[mi].allow_multiple_roles_per_person
                    } else {
                        bi == RoleBasis::WorkingHours
                            && bj == RoleBasis::WorkingHours
                            && windows[mi].overlaps(&windows[mj])
                    };
                    if clash {
                        continue 'combination;
                    }
                }
            }
            let mut out = vec![Vec::new(); vector.len()];
            for (i, seat) in seats.iter().enumerate() {
                out[seat.0].push(seat.2[chosen[i]].0.clone());
            }
            return Some(out);
        }
        None
    }

    fn cost(&self, m: usize, w: TimeRange) -> i64 {
        let milestone = &self.p.milestones[m];
        let offset = (w.start - self.p.horizon.start).num_minutes();
        let preferences: i64 = milestone
            .preferences
            .iter()
            .filter(|x| x.range.contains(w.start))
            .map(|x| x.weight_minutes)
            .sum();
        let attendees: i64 = milestone
            .optional_attendees
            .iter()
            .filter(|(id, _)| attends_milestone(self.p, milestone, id, w))
            .map(|(_, own)| own.unwrap_or(milestone.optional_attendee_weight_minutes))
            .sum();
        offset - preferences - attendees
    }
}

fn find_person<'p>(p: &'p ReleaseProgramme, id: &PersonId) -> &'p Person {
    p.people.iter().find(|x| &x.id == id).expect("validated")
}

/// In working hours for the whole window and free of blocking busy time.
fn attends(p: &ReleaseProgramme, id: &PersonId, w: TimeRange) -> bool {
    let who = find_person(p, id);
    let working = who
        .working_intervals(p.horizon)
        .iter()
        .any(|r| r.contains_range(&w));
    let busy = who.busy.iter().any(|b| {
        b.range.overlaps(&w) && !(p.tentative_is_free && b.status == BusyStatus::Tentative)
    });
    working && !busy
}

/// As [`attends`], with the milestone's exceptions for this person: an
/// after-hours allowance (the window touches a working window and lies at
/// most that many minutes outside them) and busy intervals moved away.
fn attends_milestone(p: &ReleaseProgramme, m: &Milestone, id: &PersonId, w: TimeRange) -> bool {
    if m.exceptions.is_empty() {
        return attends(p, id, w);
    }
    let who = find_person(p, id);
    let around = TimeRange::new(w.start - Duration::days(2), w.end + Duration::days(2));
    let hours = who.working_intervals(around);
    let mut working = hours.iter().any(|r| r.contains_range(&w));
    let mut moved = Vec::new();
    for e in &m.exceptions {
        match e {
            RelaxationKind::AfterHours { person, minutes } if person == id => {
                let touches = hours.iter().any(|r| w.start <= r.end && r.start <= w.end);
                let inside: i64 = hours
                    .iter()
                    .map(|r| {
                        (w.end.min(r.end) - w.start.max(r.start))
                            .num_seconds()
                            .max(0)
                    })
                    .sum();
                let outside = (w.duration().num_seconds() - inside + 59).div_euclid(60);
                working |= touches && outside <= *minutes;
            }
            RelaxationKind::MoveCommitments {
                person, intervals, ..
            } if person == id => moved.extend(intervals.iter().copied()),
            _ => {}
        }
    }
    let busy = who.busy.iter().any(|b| {
        b.range.overlaps(&w)
            && !(p.tentative_is_free && b.status == BusyStatus::Tentative)
            && !moved.contains(b)
    });
    working && !busy
}

/// On call for the window and the soak, one person's shifts joined.
fn covers(p: &ReleaseProgramme, id: &PersonId, need: TimeRange) -> bool {
    let mut shifts: Vec<TimeRange> = p
        .on_call
        .iter()
        .filter(|s| &s.person == id)
        .map(|s| s.range)
        .collect();
    shifts.sort();
    let mut reach = need.start;
    for s in shifts {
        if s.start <= reach && s.end > reach {
            reach = s.end;
        }
    }
    reach >= need.end
}

fn self_options(p: &ReleaseProgramme, m: &Milestone, w: TimeRange) -> Options {
    let soak = TimeRange::new(w.start, w.end + Duration::minutes(m.soak_minutes.into()));
    m.roles
        .iter()
        .map(|role| {
            let mut candidates: Vec<(PersonId, bool)> =
                role.role.pool.iter().map(|x| (x.clone(), false)).collect();
            for d in &role.role.delegates {
                let confirmed = d.authority_confirmed
                    || m.exceptions.contains(&RelaxationKind::ConfirmDelegate {
                        role: role.role.id.clone(),
                        person: d.person.clone(),
                    });
                if confirmed && !role.role.pool.contains(&d.person) {
                    candidates.push((d.person.clone(), true));
                }
            }
            candidates
                .into_iter()
                .filter(|(id, _)| match role.basis {
                    RoleBasis::WorkingHours => attends_milestone(p, m, id, w),
                    RoleBasis::OnCall => covers(p, id, soak),
                })
                .collect()
        })
        .collect()
}

/// At every instant inside a milestone of the plan using `resource`, its
/// bookings and the plan's own milestones using it are within capacity.
fn capacity_holds(resource: &Resource, p: &ReleaseProgramme, windows: &[TimeRange]) -> bool {
    let users: Vec<TimeRange> = p
        .milestones
        .iter()
        .zip(windows)
        .filter(|(m, _)| m.resources.contains(&resource.id))
        .map(|(_, w)| *w)
        .collect();
    let mut instants: Vec<DateTime<Utc>> = users.iter().map(|w| w.start).collect();
    instants.extend(resource.booked.iter().map(|b| b.start));
    instants.extend(users.iter().map(|w| w.start));
    instants.into_iter().all(|t| {
        if !users.iter().any(|w| w.contains(t)) {
            return true;
        }
        let load = users.iter().filter(|w| w.contains(t)).count()
            + resource.booked.iter().filter(|b| b.contains(t)).count();
        load <= resource.capacity as usize
    })
}

/// Busy time for some people, for programmes that need it.
pub fn add_busy(p: &mut ReleaseProgramme, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
    let origin = p.horizon.start;
    for person in &mut p.people {
        for _ in 0..rng.random_range(0..=2) {
            let a = rng.random_range(0..16i64) * 30 + [0, 10][rng.random_range(0..2)];
            person.busy.push(BusyInterval {
                range: range(origin, a, a + rng.random_range(1..=3) * 30),
                status: if rng.random_bool(0.3) {
                    BusyStatus::Tentative
                } else {
                    BusyStatus::Busy
                },
            });
        }
    }
}
