//! Checks that a relaxation or a combination of them really opens the slot
//! it promises, by applying it to a copy of the problem and asking the
//! brute-force reference; shared by the explanation property tests.

use crate::reference::reference_slots;
use proptest::prelude::*;
use quorum_domain::{BusyInterval, PersonId, RelaxationKind, SlotProblem, SlotSearch, TimeRange};

/// `person`'s blocking commitments overlapping `meeting`, in the solver's
/// order, and their total minutes.
pub fn commitments(
    problem: &SlotProblem,
    person: &PersonId,
    meeting: &TimeRange,
) -> (Vec<BusyInterval>, i64) {
    let who = problem.person(person).expect("person");
    let mut found: Vec<BusyInterval> = who
        .busy
        .iter()
        .filter(|b| b.blocks(problem.tentative_is_free) && b.range.overlaps(meeting))
        .copied()
        .collect();
    found.sort_by_key(|b| (b.range.start, b.range.end));
    found.dedup();
    let seconds: i64 = found.iter().map(|b| b.range.duration().num_seconds()).sum();
    (found, (seconds + 59).div_euclid(60))
}

/// Moving exactly the named commitments opens the promised slot; they are
/// all of the person's commitments in its way; and no slot opened by freeing
/// the person's whole calendar needs fewer commitments, or as few and fewer
/// minutes.
pub fn check_moved_commitments(
    problem: &SlotProblem,
    person: &PersonId,
    intervals: &[BusyInterval],
    minutes: i64,
    promised: &quorum_domain::Slot,
) -> Result<(), TestCaseError> {
    let mut relaxed = problem.clone();
    relaxed.top_k = 1_000;
    let who = relaxed
        .people
        .iter_mut()
        .find(|p| &p.id == person)
        .expect("person");
    who.busy.retain(|b| !intervals.contains(b));
    prop_assert!(
        reference_slots(&relaxed)
            .iter()
            .any(|s| s.range == promised.range),
        "moving {intervals:?} does not open {}",
        promised.range
    );
    let (expected, expected_minutes) = commitments(problem, person, &promised.range);
    let mut named = intervals.to_vec();
    named.sort_by_key(|b| (b.range.start, b.range.end));
    prop_assert_eq!(named, expected);
    prop_assert_eq!(minutes, expected_minutes);
    let mut free = problem.clone();
    free.top_k = 1_000;
    if let Some(who) = free.people.iter_mut().find(|p| &p.id == person) {
        who.busy.clear();
    }
    let fewest = reference_slots(&free)
        .iter()
        .map(|s| {
            let (found, minutes) = commitments(problem, person, &s.range);
            (found.len(), minutes)
        })
        .min();
    prop_assert_eq!(
        fewest,
        Some((intervals.len(), minutes)),
        "a smaller move opens a slot"
    );
    Ok(())
}

/// Applies one change to a copy of the problem, generously (after-hours
/// waives the person's hours altogether): enough to check the change opens
/// what it promises.
pub fn apply(relaxed: &mut SlotProblem, change: &RelaxationKind) {
    match change {
        RelaxationKind::AfterHours { person, .. } => {
            if let Some(who) = relaxed.people.iter_mut().find(|p| &p.id == person) {
                who.working_hours = all_week();
            }
        }
        RelaxationKind::MoveCommitments {
            person, intervals, ..
        } => {
            if let Some(who) = relaxed.people.iter_mut().find(|p| &p.id == person) {
                who.busy.retain(|b| !intervals.contains(b));
            }
        }
        RelaxationKind::MoveEvidenceDeadline { minutes } => {
            relaxed.evidence_deadline = relaxed
                .evidence_deadline
                .map(|d| d + chrono::Duration::minutes(*minutes));
        }
        RelaxationKind::ExceedReviewCapacity { extra_reviews } => {
            if let Some(c) = relaxed.review_capacity.as_mut() {
                c.max_concurrent += extra_reviews;
            }
        }
        RelaxationKind::OverrideFreezeWindow { id } => {
            relaxed.freeze_windows.retain(|f| &f.id != id);
        }
        RelaxationKind::ConfirmDelegate { role, person } => {
            if let Some(r) = relaxed.roles.iter_mut().find(|r| &r.id == role) {
                r.delegates
                    .iter_mut()
                    .filter(|d| &d.person == person)
                    .for_each(|d| d.authority_confirmed = true);
            }
        }
    }
}

/// Combinations come only when no single change helps, take one change per
/// conflict, open their slot together (by brute force), and none of their
/// changes can be left out.
pub fn check_combinations(problem: &SlotProblem, found: &SlotSearch) -> Result<(), TestCaseError> {
    let explanation = &found.explanation;
    for combination in &explanation.combinations {
        prop_assert!(explanation.relaxations.is_empty());
        prop_assert_eq!(combination.changes.len(), explanation.conflicts.len());
        let mut relaxed = problem.clone();
        relaxed.top_k = 1_000;
        for change in &combination.changes {
            apply(&mut relaxed, change);
        }
        prop_assert!(
            reference_slots(&relaxed)
                .iter()
                .any(|s| s.range == combination.best_slot.range),
            "{:?} do not open {}",
            combination.changes,
            combination.best_slot.range
        );
        for skipped in 0..combination.changes.len() {
            let mut fewer = problem.clone();
            for (i, change) in combination.changes.iter().enumerate() {
                if i != skipped {
                    apply(&mut fewer, change);
                }
            }
            prop_assert!(
                reference_slots(&fewer).is_empty(),
                "{:?} is not needed",
                combination.changes[skipped]
            );
        }
    }
    Ok(())
}

pub fn all_week() -> Vec<quorum_domain::WorkingHours> {
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
