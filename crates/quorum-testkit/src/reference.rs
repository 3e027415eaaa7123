//! A deliberately simple brute-force reference for the solver: every grid
//! start, every role assignment, every rule checked on absolute instants with
//! no bitsets, no rounding and no shared code beyond the domain types. Working
//! hours are decided by the definition itself: a person works at instant `t`
//! iff their wall clock at `t` reads a time inside one of that weekday's
//! windows. The reference converts each minute of a meeting to the person's
//! clock and looks; it never resolves a window to absolute instants, so it
//! shares no DST rule with the domain's `working_intervals`.

use chrono::{DateTime, Datelike, Duration, Offset, Utc};
use chrono_tz::Tz;
use quorum_domain::{PersonId, Slot, SlotProblem, TimeRange};

/// The ranked slots a correct solver must return, computed the slow way.
pub fn reference_slots(problem: &SlotProblem) -> Vec<Slot> {
    let mut found = Vec::new();
    for start in grid_starts(problem) {
        let meeting = TimeRange::new(start, start + problem.meeting_duration());
        if !rules_allow(problem, &meeting) {
            continue;
        }
        if let Some(assignments) = first_assignment(problem, &meeting) {
            found.push(slot(problem, meeting, assignments));
        }
    }
    found.sort_by_key(|s| (s.score.cost, s.range.start));
    found.truncate(problem.top_k);
    found
}

/// Every grid start whose meeting fits the horizon.
pub fn grid_starts(problem: &SlotProblem) -> Vec<DateTime<Utc>> {
    let step = Duration::minutes(problem.bucket.minutes().into());
    let mut starts = Vec::new();
    let mut t = problem.horizon.start;
    while t + problem.meeting_duration() <= problem.horizon.end {
        starts.push(t);
        t += step;
    }
    starts
}

pub fn rules_allow(problem: &SlotProblem, meeting: &TimeRange) -> bool {
    if problem.not_before.is_some_and(|nb| meeting.start < nb)
        || problem.evidence_deadline.is_some_and(|d| meeting.end > d)
    {
        return false;
    }
    if problem
        .freeze_windows
        .iter()
        .any(|f| f.range.overlaps(meeting))
    {
        return false;
    }
    capacity_allows(problem, meeting)
}

fn capacity_allows(problem: &SlotProblem, meeting: &TimeRange) -> bool {
    let Some(capacity) = &problem.review_capacity else {
        return true;
    };
    // The busiest instant of the meeting is its start or a booked review's start.
    let mut instants = vec![meeting.start];
    instants.extend(
        capacity
            .booked
            .iter()
            .map(|b| b.range.start)
            .filter(|t| meeting.contains(*t)),
    );
    instants.iter().all(|t| {
        let booked = capacity
            .booked
            .iter()
            .filter(|b| b.range.contains(*t))
            .count();
        booked < capacity.max_concurrent as usize
    })
}

pub fn person_can_attend(problem: &SlotProblem, id: &PersonId, meeting: &TimeRange) -> bool {
    let Some(person) = problem.person(id) else {
        return false;
    };
    let busy = person
        .busy
        .iter()
        .filter(|b| b.blocks(problem.tentative_is_free))
        .any(|b| b.range.overlaps(meeting));
    !busy && covered_by_working_hours(person.time_zone, &person.working_hours, meeting)
}

fn covered_by_working_hours(
    zone: Tz,
    hours: &[quorum_domain::WorkingHours],
    meeting: &TimeRange,
) -> bool {
    minute_cells(meeting).all(|cell| works_at(zone, hours, cell))
}

/// The whole UTC minutes `m` whose cell `[m, m + 1 min)` meets `range`.
///
/// Why checking one instant per cell is exact: every window edge is a whole
/// local minute, and every offset of the zones the generators use is a whole
/// number of minutes (`works_at` asserts it), so each edge of the working set
/// falls on a whole UTC minute and whether someone works is the same at every
/// instant of a cell. A range (whatever its sub-minute edges) is then covered
/// iff every cell it meets is a working cell.
fn minute_cells(range: &TimeRange) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    let first = range.start.timestamp().div_euclid(60) * 60;
    let first = DateTime::from_timestamp(first, 0).expect("instant in range");
    std::iter::successors(Some(first), |t| Some(*t + Duration::minutes(1)))
        .take_while(|t| *t < range.end)
}

/// Whether the person's wall clock at `t` reads a time inside one of their
/// windows: a window of that local weekday, or the part after midnight of a
/// night window begun on the local day before. Deliberately the literal
/// definition, with no transition arithmetic: convert `t` to the zone and
/// compare the clock reading.
pub fn works_at(zone: Tz, hours: &[quorum_domain::WorkingHours], t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&zone);
    assert_eq!(
        local.offset().fix().local_minus_utc() % 60,
        0,
        "the minute-cell argument needs whole-minute offsets"
    );
    let clock = local.naive_local();
    let today = clock.date();
    let since_midnight = clock - today.and_hms_opt(0, 0, 0).expect("midnight");
    let yesterday = today.pred_opt().expect("a day before").weekday();
    let at = |minutes: u16| Duration::minutes(minutes.into());
    hours.iter().any(|w| {
        let night = w.end <= w.start;
        let today_part = w.weekday == today.weekday()
            && at(w.start.minutes()) <= since_midnight
            && (night || since_midnight < at(w.end.minutes()));
        let tail_of_yesterdays_night =
            night && w.weekday == yesterday && since_midnight < at(w.end.minutes());
        today_part || tail_of_yesterdays_night
    })
}

/// The lexicographically first valid assignment (candidate indices per role).
fn first_assignment(problem: &SlotProblem, meeting: &TimeRange) -> Option<Vec<(PersonId, bool)>> {
    let options: Vec<Vec<(PersonId, bool)>> = problem
        .roles
        .iter()
        .map(|r| {
            r.candidates()
                .filter(|(p, _)| person_can_attend(problem, p, meeting))
                .map(|(p, d)| (p.clone(), d))
                .collect()
        })
        .collect();
    let mut chosen = Vec::new();
    search(problem, &options, &mut chosen).then_some(chosen)
}

fn search(
    problem: &SlotProblem,
    options: &[Vec<(PersonId, bool)>],
    chosen: &mut Vec<(PersonId, bool)>,
) -> bool {
    let Some(here) = options.get(chosen.len()) else {
        return true;
    };
    for option in here {
        if !problem.allow_multiple_roles_per_person && chosen.iter().any(|(p, _)| *p == option.0) {
            continue;
        }
        chosen.push(option.clone());
        if search(problem, options, chosen) {
            return true;
        }
        chosen.pop();
    }
    false
}

fn slot(problem: &SlotProblem, meeting: TimeRange, assignments: Vec<(PersonId, bool)>) -> Slot {
    let offset = (meeting.start - problem.horizon.start).num_minutes();
    let preferences: Vec<_> = problem
        .preferences
        .iter()
        .filter(|p| p.range.contains(meeting.start))
        .collect();
    let attendees: Vec<_> = problem
        .optional_attendees
        .iter()
        .filter(|(p, _)| person_can_attend(problem, p, &meeting))
        .collect();
    let preference_credit: i64 = preferences.iter().map(|p| p.weight_minutes).sum();
    let attendee_credit: i64 = attendees
        .iter()
        .map(|(_, w)| problem.attendee_weight(*w))
        .sum();
    Slot {
        range: meeting,
        assignments: problem
            .roles
            .iter()
            .zip(assignments)
            .map(
                |(role, (person, via_delegate))| quorum_domain::RoleAssignment {
                    role: role.id.clone(),
                    person,
                    via_delegate,
                },
            )
            .collect(),
        optional_attendees: attendees.iter().map(|(p, _)| p.clone()).collect(),
        score: quorum_domain::ScoreBreakdown {
            cost: offset - preference_credit - attendee_credit,
            start_offset_minutes: offset,
            preference_credit_minutes: preference_credit,
            preference_ids: preferences.iter().map(|p| p.id.clone()).collect(),
            optional_attendee_credit_minutes: attendee_credit,
        },
    }
}

/// A subset of the problem's named constraints, as the explanation names them
/// (kind and id), for checking conflicts the slow way.
#[derive(Debug, Clone, Default)]
pub struct Enabled {
    pub members: Vec<(quorum_domain::ConstraintKind, String)>,
}

impl Enabled {
    pub fn has(&self, kind: quorum_domain::ConstraintKind, id: &str) -> bool {
        self.members.iter().any(|(k, i)| *k == kind && i == id)
    }
}

/// Whether some grid start admits a slot with only `enabled` in force (the
/// horizon, grid and meeting length always hold).
pub fn admits_slot_with_only(problem: &SlotProblem, enabled: &Enabled) -> bool {
    use quorum_domain::ConstraintKind as K;
    grid_starts(problem).into_iter().any(|start| {
        let meeting = TimeRange::new(start, start + problem.meeting_duration());
        if enabled.has(K::NotBefore, "") && problem.not_before.is_some_and(|nb| meeting.start < nb)
        {
            return false;
        }
        if enabled.has(K::EvidenceDeadline, "")
            && problem.evidence_deadline.is_some_and(|d| meeting.end > d)
        {
            return false;
        }
        if problem
            .freeze_windows
            .iter()
            .any(|f| enabled.has(K::FreezeWindow, &f.id) && f.range.overlaps(&meeting))
        {
            return false;
        }
        if enabled.has(K::ReviewCapacity, "") && !capacity_allows(problem, &meeting) {
            return false;
        }
        let attends = |id: &PersonId| {
            let Some(person) = problem.person(id) else {
                return false;
            };
            let busy_ok = !enabled.has(K::BusyTime, &id.0)
                || !person
                    .busy
                    .iter()
                    .filter(|b| b.blocks(problem.tentative_is_free))
                    .any(|b| b.range.overlaps(&meeting));
            let hours_ok = !enabled.has(K::WorkingHours, &id.0)
                || covered_by_working_hours(person.time_zone, &person.working_hours, &meeting);
            busy_ok && hours_ok
        };
        let options: Vec<Vec<(PersonId, bool)>> = problem
            .roles
            .iter()
            .filter(|r| enabled.has(K::RoleRequirement, &r.id.0))
            .map(|r| {
                r.candidates()
                    .filter(|(p, _)| attends(p))
                    .map(|(p, d)| (p.clone(), d))
                    .collect()
            })
            .collect();
        let mut relaxed = problem.clone();
        relaxed.allow_multiple_roles_per_person = !enabled.has(K::OnePersonOneRole, "");
        search(&relaxed, &options, &mut Vec::new())
    })
}

/// Every named constraint of the problem, as the explanation would name it.
pub fn all_constraints(problem: &SlotProblem) -> Enabled {
    use quorum_domain::ConstraintKind as K;
    let mut members = Vec::new();
    for role in &problem.roles {
        members.push((K::RoleRequirement, role.id.0.clone()));
    }
    for person in &problem.people {
        members.push((K::WorkingHours, person.id.0.clone()));
        members.push((K::BusyTime, person.id.0.clone()));
    }
    for freeze in &problem.freeze_windows {
        members.push((K::FreezeWindow, freeze.id.clone()));
    }
    for kind in [K::ReviewCapacity, K::NotBefore, K::EvidenceDeadline] {
        members.push((kind, String::new()));
    }
    if !problem.allow_multiple_roles_per_person {
        members.push((K::OnePersonOneRole, String::new()));
    }
    Enabled { members }
}

/// Minutes of the meeting outside `id`'s working hours, rounded up: the
/// seconds of each minute cell (see `minute_cells`) where the clock is outside
/// every window, summed.
pub fn minutes_outside_hours(problem: &SlotProblem, id: &PersonId, meeting: &TimeRange) -> i64 {
    let person = problem.person(id).expect("person");
    let outside: i64 = minute_cells(meeting)
        .filter(|cell| !works_at(person.time_zone, &person.working_hours, *cell))
        .map(|cell| {
            let end = (cell + Duration::minutes(1)).min(meeting.end);
            (end - cell.max(meeting.start)).num_seconds()
        })
        .sum();
    (outside + 59) / 60
}

/// The root cause staged as the issue defines it, the slow way: every start of
/// the window, every role's candidates on absolute instants, every assignment.
pub fn reference_diagnosis(
    problem: &SlotProblem,
) -> (
    quorum_domain::EscalationReason,
    Vec<quorum_domain::EscalationReason>,
) {
    use quorum_domain::EscalationReason as R;
    let (primary, mut secondary) = reference_stage(problem);
    if primary != R::DeadlineTooEarly {
        let mut unbounded = problem.clone();
        unbounded.not_before = None;
        unbounded.evidence_deadline = None;
        if !reference_slots(&unbounded).is_empty() {
            secondary.push(R::DeadlineTooEarly);
        }
    }
    // A slot that only after-hours opens, extending someone's day.
    let opens_after_hours = problem.people.iter().any(|p| {
        let mut waived = problem.clone();
        waived.top_k = usize::MAX;
        let who = waived
            .people
            .iter_mut()
            .find(|w| w.id == p.id)
            .expect("person");
        who.working_hours = all_week_hours();
        reference_slots(&waived)
            .iter()
            .any(|s| touches_working_window(problem, &p.id, &s.range))
    });
    if opens_after_hours {
        secondary.push(R::AfterHoursOnly);
    }
    (primary, secondary)
}

fn reference_stage(
    problem: &SlotProblem,
) -> (
    quorum_domain::EscalationReason,
    Vec<quorum_domain::EscalationReason>,
) {
    use quorum_domain::EscalationReason as R;
    let meetings: Vec<TimeRange> = grid_starts(problem)
        .into_iter()
        .map(|s| TimeRange::new(s, s + problem.meeting_duration()))
        .filter(|m| problem.not_before.is_none_or(|nb| m.start >= nb))
        .filter(|m| problem.evidence_deadline.is_none_or(|d| m.end <= d))
        .collect();
    if meetings.is_empty() {
        return (R::DeadlineTooEarly, Vec::new());
    }
    let someone = |role: &quorum_domain::RequiredRole, m: &TimeRange| {
        role.candidates()
            .any(|(p, _)| person_can_attend(problem, p, m))
    };
    if problem
        .roles
        .iter()
        .any(|role| !meetings.iter().any(|m| someone(role, m)))
    {
        return (R::RolePoolUnavailable, Vec::new());
    }
    let covered: Vec<&TimeRange> = meetings
        .iter()
        .filter(|m| problem.roles.iter().all(|role| someone(role, m)))
        .collect();
    if covered.is_empty() {
        return (R::NoCommonWorkingHours, Vec::new());
    }
    let staffable: Vec<&TimeRange> = covered
        .into_iter()
        .filter(|m| first_assignment(problem, m).is_some())
        .collect();
    if staffable.is_empty() {
        return (R::RolesNeedSamePerson, Vec::new());
    }
    let frozen = |m: &TimeRange| problem.freeze_windows.iter().any(|f| f.range.overlaps(m));
    let any_frozen = staffable.iter().any(|m| frozen(m));
    let capacity_alone = staffable
        .iter()
        .any(|m| !frozen(m) && !capacity_allows(problem, m));
    match (any_frozen, capacity_alone) {
        (true, true) => (R::FreezeWindow, vec![R::ReviewCapacityFull]),
        (true, false) => (R::FreezeWindow, Vec::new()),
        (false, _) => (R::ReviewCapacityFull, Vec::new()),
    }
}

pub fn all_week_hours() -> Vec<quorum_domain::WorkingHours> {
    use chrono::Weekday::*;
    [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
        .into_iter()
        .map(|weekday| quorum_domain::WorkingHours {
            weekday,
            start: quorum_domain::LocalTime::MIDNIGHT,
            end: quorum_domain::LocalTime::END_OF_DAY,
        })
        .collect()
}

/// The constraints that reject the meeting at `start`, named as explanations
/// name them, or `None` when it admits a slot: the request-wide rules it
/// breaks; for each role nobody can fill, the role and each candidate's
/// working hours and busy time that keep them away; one-person-one-role when
/// only that stands in the way. Sorted, for comparing as sets.
pub fn reference_rejection_reasons(
    problem: &SlotProblem,
    start: DateTime<Utc>,
) -> Option<Vec<(quorum_domain::ConstraintKind, String)>> {
    use quorum_domain::ConstraintKind as K;
    let meeting = TimeRange::new(start, start + problem.meeting_duration());
    let mut found = Vec::new();
    if problem.not_before.is_some_and(|nb| meeting.start < nb) {
        found.push((K::NotBefore, String::new()));
    }
    if problem.evidence_deadline.is_some_and(|d| meeting.end > d) {
        found.push((K::EvidenceDeadline, String::new()));
    }
    for f in problem
        .freeze_windows
        .iter()
        .filter(|f| f.range.overlaps(&meeting))
    {
        found.push((K::FreezeWindow, f.id.clone()));
    }
    if !capacity_allows(problem, &meeting) {
        found.push((K::ReviewCapacity, String::new()));
    }
    for role in &problem.roles {
        if role
            .candidates()
            .any(|(p, _)| person_can_attend(problem, p, &meeting))
        {
            continue;
        }
        found.push((K::RoleRequirement, role.id.0.clone()));
        for (id, _) in role.candidates() {
            let Some(person) = problem.person(id) else {
                continue;
            };
            if !covered_by_working_hours(person.time_zone, &person.working_hours, &meeting) {
                found.push((K::WorkingHours, id.0.clone()));
            }
            if person
                .busy
                .iter()
                .any(|b| b.blocks(problem.tentative_is_free) && b.range.overlaps(&meeting))
            {
                found.push((K::BusyTime, id.0.clone()));
            }
        }
    }
    if found.is_empty() && first_assignment(problem, &meeting).is_none() {
        found.push((K::OnePersonOneRole, String::new()));
    }
    found.sort();
    found.dedup();
    (!found.is_empty()).then_some(found)
}

/// Whether the meeting overlaps or touches one of `id`'s working windows (an
/// after-hours meeting that extends their day rather than sits in their night).
///
/// On the wall-clock rule: the person works at some instant of the meeting,
/// at the instant just before it starts (a window ending at its start), or at
/// its end (a window starting there). Working is constant within each whole
/// UTC minute (see `minute_cells`), so each instant is read off its minute.
pub fn touches_working_window(problem: &SlotProblem, id: &PersonId, meeting: &TimeRange) -> bool {
    let person = problem.person(id).expect("person");
    let works = |t: DateTime<Utc>| works_at(person.time_zone, &person.working_hours, t);
    let minute_of = |t: DateTime<Utc>| {
        DateTime::from_timestamp(t.timestamp().div_euclid(60) * 60, 0).expect("in range")
    };
    minute_cells(meeting).any(works)
        || works(minute_of(meeting.start - Duration::nanoseconds(1)))
        || works(minute_of(meeting.end))
}
