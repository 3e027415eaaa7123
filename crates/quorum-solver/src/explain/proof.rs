//! The proof behind the primary reason, as a derivation tree of typed facts
//! (see `quorum_domain::Derivation`). It follows the diagnosis' stages: each
//! role's availability is a lemma resting on its pool and their calendars,
//! "when the team can meet" is a lemma resting on those, and the freezes and
//! capacity that block every such meeting rest on it in turn. Each
//! constraint and lemma is one step, referred to by index wherever it is
//! used, so a shared one is never repeated. The secondary reasons are
//! lemmas too, built from what the diagnosis found (the start it admitted
//! without the window, the after-hours relaxation), listed beside the root.
//! No words here.

use super::{
    diagnosis::{Diagnosis, merged_meetings},
    rules::{Constraint, Rules},
};
use crate::constraints::HoursCache;
use fixedbitset::FixedBitSet;
use quorum_domain::{
    Claim, DecisiveFact, Derivation, EscalationReason, ProofStep, Relaxation, RelaxationKind,
    TimeRange,
};
use std::collections::HashMap;

/// Builds the tree, one step per constraint and lemma.
struct Builder<'r, 'p> {
    rules: &'r Rules<'p>,
    hours: HoursCache<'p>,
    proof: Derivation,
    facts: HashMap<Constraint, u32>,
    in_window: FixedBitSet,
}

impl<'r, 'p> Builder<'r, 'p> {
    fn fact(&mut self, constraint: Constraint) -> u32 {
        if let Some(&step) = self.facts.get(&constraint) {
            return step;
        }
        let described = constraint.describe(self.rules.presolve, &mut self.hours);
        let step = self.proof.push(ProofStep::Fact(described));
        self.facts.insert(constraint, step);
        step
    }

    fn lemma(&mut self, claim: Claim, because: Vec<u32>) -> u32 {
        self.proof.push(ProofStep::Lemma { claim, because })
    }

    /// Not-before and the deadline, where the request sets them.
    fn window_facts(&mut self) -> Vec<u32> {
        let problem = self.rules.presolve.problem;
        let mut steps = Vec::new();
        if problem.not_before.is_some() {
            steps.push(self.fact(Constraint::NotBefore));
        }
        if problem.evidence_deadline.is_some() {
            steps.push(self.fact(Constraint::Deadline));
        }
        steps
    }

    /// The starts of the window at which role `r` has someone available.
    fn coverage(&self, r: usize) -> FixedBitSet {
        let mut coverage = self.rules.presolve.role_coverage(r);
        coverage.intersect_with(&self.in_window);
        coverage
    }

    /// "Role r can be staffed only in …", resting on the role, its
    /// candidates' hours and busy time, and the window.
    fn role_lemma(&mut self, r: usize) -> u32 {
        let presolve = self.rules.presolve;
        let mut because = vec![self.fact(Constraint::Role(r))];
        for candidate in &presolve.roles[r] {
            because.push(self.fact(Constraint::WorkingHours(candidate.person)));
            let busy = self.fact(Constraint::Busy(candidate.person));
            if matches!(self.proof.step(busy), Some(ProofStep::Fact(f)) if !f.ranges.is_empty()) {
                because.push(busy);
            }
        }
        because.extend(self.window_facts());
        let starts: Vec<usize> = self.coverage(r).ones().collect();
        let claim = Claim::RoleStaffedOnlyIn {
            role: presolve.problem.roles[r].id.clone(),
            window: presolve.problem.window(),
            meetings: merged_meetings(self.rules, &starts),
        };
        self.lemma(claim, because)
    }

    /// Every role's lemma, and one-person-one-role where it applies.
    fn team_lemmas(&mut self) -> Vec<u32> {
        let mut because: Vec<u32> = (0..self.rules.presolve.roles.len())
            .map(|r| self.role_lemma(r))
            .collect();
        if !self.rules.presolve.problem.allow_multiple_roles_per_person {
            because.push(self.fact(Constraint::OnePersonOneRole));
        }
        because
    }
}

/// A few roles whose availabilities never meet, chosen greedily (each time
/// the role that leaves the fewest common starts), so the proof names the
/// roles that clash rather than all of them.
fn clashing_roles(builder: &Builder<'_, '_>) -> Vec<usize> {
    let roles = builder.rules.presolve.roles.len();
    let coverages: Vec<FixedBitSet> = (0..roles).map(|r| builder.coverage(r)).collect();
    let mut common = builder.in_window.clone();
    let mut chosen = Vec::new();
    while !common.is_clear() && chosen.len() < roles {
        let Some((r, next)) = (0..roles)
            .filter(|r| !chosen.contains(r))
            .map(|r| {
                let mut next = common.clone();
                next.intersect_with(&coverages[r]);
                (r, next)
            })
            .min_by_key(|(r, next)| (next.count_ones(..), *r))
        else {
            break;
        };
        chosen.push(r);
        common = next;
    }
    chosen.sort_unstable();
    chosen
}

pub fn derive(rules: &Rules<'_>, diagnosis: &Diagnosis, relaxations: &[Relaxation]) -> Derivation {
    let presolve = rules.presolve;
    let mut in_window = presolve.not_before_ok.clone();
    in_window.intersect_with(&presolve.deadline_ok);
    let mut b = Builder {
        rules,
        hours: HoursCache::new(),
        proof: Derivation::default(),
        facts: HashMap::new(),
        in_window,
    };
    let decisive = match &diagnosis.fact {
        DecisiveFact::EmptyWindow {
            not_before,
            deadline,
        } => {
            let because = b.window_facts();
            let claim = Claim::WindowEmpty {
                not_before: *not_before,
                deadline: *deadline,
            };
            vec![b.lemma(claim, because)]
        }
        DecisiveFact::RolesNeverStaffed { roles, .. } => (0..presolve.roles.len())
            .filter(|&r| roles.contains(&presolve.problem.roles[r].id))
            .map(|r| b.role_lemma(r))
            .collect(),
        DecisiveFact::RolesNeverTogether { window } => {
            let roles = clashing_roles(&b);
            let because = roles.iter().map(|&r| b.role_lemma(r)).collect();
            let claim = Claim::RolesNeverTogether {
                roles: roles
                    .iter()
                    .map(|&r| presolve.problem.roles[r].id.clone())
                    .collect(),
                window: *window,
            };
            vec![b.lemma(claim, because)]
        }
        DecisiveFact::SamePersonNeeded { meetings } => {
            let because = b.team_lemmas();
            let claim = Claim::SamePersonNeeded {
                meetings: meetings.clone(),
            };
            vec![b.lemma(claim, because)]
        }
        DecisiveFact::TeamMeetsOnlyIn {
            meetings,
            freezes,
            capacity_full,
        } => blocked(&mut b, diagnosis, meetings, freezes, *capacity_full),
    };
    // Before the root, which stays the last step.
    let secondary = diagnosis
        .secondary
        .iter()
        .filter_map(|&code| secondary_lemma(&mut b, diagnosis, relaxations, code))
        .collect();
    let reason = diagnosis.primary;
    b.lemma(Claim::NoSlot { reason }, decisive);
    b.proof.secondary = secondary;
    b.proof
}

/// The lemma that shows one secondary code, from what the diagnosis kept
/// when it found the code.
fn secondary_lemma(
    b: &mut Builder<'_, '_>,
    diagnosis: &Diagnosis,
    relaxations: &[Relaxation],
    code: EscalationReason,
) -> Option<u32> {
    match code {
        EscalationReason::DeadlineTooEarly => {
            let meeting = b.rules.grid().meeting_range(diagnosis.without_window?);
            let because = b.window_facts();
            Some(b.lemma(Claim::SlotWithoutWindow { meeting }, because))
        }
        EscalationReason::AfterHoursOnly => {
            let relaxation = relaxations.get(diagnosis.after_hours?)?;
            let RelaxationKind::AfterHours { person, minutes } = &relaxation.kind else {
                return None;
            };
            let problem = b.rules.presolve.problem;
            let p = problem.people.iter().position(|who| &who.id == person)?;
            let hours = b.fact(Constraint::WorkingHours(p));
            let meeting = relaxation.best_slot.range;
            let outside = match b.proof.step(hours) {
                Some(ProofStep::Fact(f)) => outside(&meeting, &f.ranges),
                _ => Vec::new(),
            };
            let claim = Claim::AfterHoursOpens {
                person: person.clone(),
                minutes: *minutes,
                meeting,
                outside,
            };
            Some(b.lemma(claim, vec![hours]))
        }
        // Secondary only when a freeze blocks too: the capacity's lemma
        // already rests under the root, and is shared rather than repeated.
        EscalationReason::ReviewCapacityFull => b
            .proof
            .steps
            .iter()
            .position(|s| {
                matches!(
                    s,
                    ProofStep::Lemma {
                        claim: Claim::CapacityFullIn { .. },
                        ..
                    }
                )
            })
            .and_then(|i| u32::try_from(i).ok()),
        // The diagnosis gives no other code as a secondary one.
        EscalationReason::RolePoolUnavailable
        | EscalationReason::NoCommonWorkingHours
        | EscalationReason::FreezeWindow
        | EscalationReason::RolesNeedSamePerson => None,
    }
}

/// The parts of `meeting` outside every range of `working` (ascending,
/// non-overlapping, as working intervals are).
fn outside(meeting: &TimeRange, working: &[TimeRange]) -> Vec<TimeRange> {
    let mut parts = Vec::new();
    let mut from = meeting.start;
    for w in working.iter().filter(|w| w.overlaps(meeting)) {
        if w.start > from {
            parts.push(TimeRange::new(from, w.start));
        }
        from = from.max(w.end);
    }
    if from < meeting.end {
        parts.push(TimeRange::new(from, meeting.end));
    }
    parts
}

/// Stage 5: the team lemma once, then each blocker resting on it.
fn blocked(
    b: &mut Builder<'_, '_>,
    diagnosis: &Diagnosis,
    meetings: &[TimeRange],
    freezes: &[String],
    capacity_full: bool,
) -> Vec<u32> {
    let rules = b.rules;
    let problem = rules.presolve.problem;
    let because = b.team_lemmas();
    let team = b.lemma(
        Claim::TeamMeetsOnlyIn {
            meetings: meetings.to_vec(),
        },
        because,
    );
    let mut decisive = vec![team];
    for (f, freeze) in problem.freeze_windows.iter().enumerate() {
        if !freezes.contains(&freeze.id) {
            continue;
        }
        let starts: Vec<usize> = diagnosis
            .staffable
            .iter()
            .copied()
            .filter(|&s| !rules.freeze_ok(f).contains(s))
            .collect();
        let fact = b.fact(Constraint::Freeze(f));
        let claim = Claim::FrozenIn {
            freeze_window: freeze.id.clone(),
            meetings: merged_meetings(rules, &starts),
        };
        decisive.push(b.lemma(claim, vec![team, fact]));
    }
    if capacity_full {
        let starts: Vec<usize> = diagnosis
            .staffable
            .iter()
            .copied()
            .filter(|&s| !rules.presolve.capacity_ok.contains(s))
            .collect();
        let full = merged_meetings(rules, &starts);
        let booked = problem.review_capacity.as_ref().map_or(Vec::new(), |c| {
            c.booked
                .iter()
                .filter(|r| full.iter().any(|m| m.overlaps(&r.range)))
                .map(|r| r.change_ticket.clone())
                .collect()
        });
        let fact = b.fact(Constraint::Capacity);
        let claim = Claim::CapacityFullIn {
            meetings: full,
            booked,
        };
        decisive.push(b.lemma(claim, vec![team, fact]));
    }
    decisive
}

#[cfg(test)]
mod tests {
    use super::outside;
    use chrono::{TimeZone, Utc};
    use quorum_domain::TimeRange;

    fn at(hour: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    fn range(from: u32, to: u32) -> TimeRange {
        TimeRange::new(at(from), at(to))
    }

    #[test]
    fn the_parts_of_a_meeting_outside_working_hours_are_before_between_and_after() {
        let working = [range(0, 1), range(9, 12), range(13, 17), range(20, 22)];
        assert_eq!(outside(&range(8, 10), &working), vec![range(8, 9)]);
        assert_eq!(outside(&range(16, 18), &working), vec![range(17, 18)]);
        assert_eq!(
            outside(&range(8, 18), &working),
            vec![range(8, 9), range(12, 13), range(17, 18)]
        );
        assert_eq!(outside(&range(9, 12), &working), Vec::<TimeRange>::new());
    }
}
