//! Why there is no slot, as a proof: a derivation tree of typed facts, after
//! pubgrub's `DerivationTree`. External facts are the request's constraints
//! (kind, id, time ranges); derived facts are lemmas ("the team can meet only
//! in these windows") computed once and referenced by index wherever they are
//! used, so a shared lemma is never repeated. The secondary reasons are
//! lemmas of the same tree, listed beside the root rather than under it: the
//! root does not rest on them, they are further facts a pipeline routes on.
//! There are no sentences here: a reporter at the edge words the tree in the
//! reader's zone.

use crate::{ConstraintRef, EscalationReason, PersonId, RoleId, TimeRange};
use chrono::{DateTime, Utc};

/// A derived statement about the request, with absolute times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The root: no slot exists, for `reason` (the primary reason).
    NoSlot { reason: EscalationReason },
    /// No grid start's meeting fits between these instants (stage 1).
    WindowEmpty {
        not_before: DateTime<Utc>,
        deadline: DateTime<Utc>,
    },
    /// Within `window`, `role` can be staffed only in `meetings` (merged
    /// meeting ranges; empty when never).
    RoleStaffedOnlyIn {
        role: RoleId,
        window: TimeRange,
        meetings: Vec<TimeRange>,
    },
    /// Each of `roles` can be staffed at some start of `window`, never all of
    /// them at one (stage 3).
    RolesNeverTogether {
        roles: Vec<RoleId>,
        window: TimeRange,
    },
    /// Every role has someone only in `meetings`, and there only if one
    /// person held two roles (stage 4).
    SamePersonNeeded { meetings: Vec<TimeRange> },
    /// The roles can all meet, by distinct people, only in `meetings` (the
    /// lemma stage 5 rests on).
    TeamMeetsOnlyIn { meetings: Vec<TimeRange> },
    /// Freeze window `freeze_window` covers `meetings`, those of the team's
    /// meetings it blocks.
    FrozenIn {
        freeze_window: String,
        meetings: Vec<TimeRange>,
    },
    /// The review capacity is full in `meetings`; `booked` are the change
    /// tickets of the booked reviews overlapping them.
    CapacityFullIn {
        meetings: Vec<TimeRange>,
        booked: Vec<String>,
    },
    /// Secondary (`DEADLINE_TOO_EARLY`): with not-before and the evidence
    /// deadline dropped, and every other rule kept, the team could meet at
    /// `meeting`.
    SlotWithoutWindow { meeting: TimeRange },
    /// Secondary (`AFTER_HOURS_ONLY`): with `person` attending `minutes`
    /// outside their working hours (`outside`: the parts of `meeting` they do
    /// not work), a slot opens at `meeting`.
    AfterHoursOpens {
        person: PersonId,
        minutes: i64,
        meeting: TimeRange,
        outside: Vec<TimeRange>,
    },
}

impl Claim {
    /// The escalation code this claim shows when [`Derivation::secondary`]
    /// lists it, so a reader reads the code off the tree rather than off a
    /// list kept beside it; `None` for claims that show no code on their own.
    pub fn secondary_reason(&self) -> Option<EscalationReason> {
        match self {
            Claim::SlotWithoutWindow { .. } => Some(EscalationReason::DeadlineTooEarly),
            Claim::AfterHoursOpens { .. } => Some(EscalationReason::AfterHoursOnly),
            Claim::CapacityFullIn { .. } => Some(EscalationReason::ReviewCapacityFull),
            Claim::NoSlot { .. }
            | Claim::WindowEmpty { .. }
            | Claim::RoleStaffedOnlyIn { .. }
            | Claim::RolesNeverTogether { .. }
            | Claim::SamePersonNeeded { .. }
            | Claim::TeamMeetsOnlyIn { .. }
            | Claim::FrozenIn { .. } => None,
        }
    }
}

/// One step of a proof: a constraint of the request, or a lemma derived from
/// earlier steps (`because` holds their indices in [`Derivation::steps`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofStep {
    Fact(ConstraintRef),
    Lemma { claim: Claim, because: Vec<u32> },
}

/// The proof that there is no slot. Every step refers only to earlier
/// steps, and the last step is the root ([`Claim::NoSlot`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derivation {
    pub steps: Vec<ProofStep>,
    /// The lemmas behind the secondary reasons, one per code of
    /// `Explanation::secondary_reasons` and in its order (indices into
    /// `steps`; [`Claim::secondary_reason`] names each one's code). A lemma
    /// may also sit under the root: the review capacity that blocks together
    /// with a freeze is one step, shared.
    pub secondary: Vec<u32>,
}

impl Derivation {
    /// Appends `step` and returns its index.
    pub fn push(&mut self, step: ProofStep) -> u32 {
        self.steps.push(step);
        u32::try_from(self.steps.len() - 1).unwrap_or(u32::MAX)
    }

    /// The root step, when the tree is not empty.
    pub fn root(&self) -> Option<u32> {
        self.steps
            .len()
            .checked_sub(1)
            .and_then(|i| u32::try_from(i).ok())
    }

    pub fn step(&self, index: u32) -> Option<&ProofStep> {
        self.steps.get(index as usize)
    }

    /// How many lemmas (and the secondary list) refer to each step: a step
    /// referred to more than once is a shared lemma a reporter words once
    /// and then names.
    pub fn references(&self) -> Vec<u32> {
        let mut counts = vec![0; self.steps.len()];
        let because = self.steps.iter().flat_map(|step| match step {
            ProofStep::Lemma { because, .. } => because.as_slice(),
            ProofStep::Fact(_) => &[],
        });
        for &i in because.chain(&self.secondary) {
            if let Some(c) = counts.get_mut(i as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// The secondary lemmas with the code each shows, in order.
    pub fn secondary_claims(&self) -> impl Iterator<Item = (u32, &Claim)> + '_ {
        self.secondary.iter().filter_map(|&i| match self.step(i) {
            Some(ProofStep::Lemma { claim, .. }) => Some((i, claim)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConstraintKind;

    fn fact(id: &str) -> ProofStep {
        ProofStep::Fact(ConstraintRef {
            kind: ConstraintKind::FreezeWindow,
            id: id.to_owned(),
            ranges: Vec::new(),
        })
    }

    #[test]
    fn a_lemma_used_twice_is_counted_twice_and_the_root_is_last() {
        let mut proof = Derivation::default();
        let freeze = proof.push(fact("FW-1"));
        let team = proof.push(ProofStep::Lemma {
            claim: Claim::TeamMeetsOnlyIn {
                meetings: Vec::new(),
            },
            because: Vec::new(),
        });
        let frozen = proof.push(ProofStep::Lemma {
            claim: Claim::FrozenIn {
                freeze_window: "FW-1".to_owned(),
                meetings: Vec::new(),
            },
            because: vec![team, freeze],
        });
        let root = proof.push(ProofStep::Lemma {
            claim: Claim::NoSlot {
                reason: EscalationReason::FreezeWindow,
            },
            because: vec![team, frozen],
        });
        assert_eq!(proof.root(), Some(root));
        assert_eq!(proof.references(), vec![1, 2, 1, 0]);
    }

    #[test]
    fn a_secondary_lemma_also_under_the_root_is_shared_and_shows_its_code() {
        let mut proof = Derivation::default();
        let full = proof.push(ProofStep::Lemma {
            claim: Claim::CapacityFullIn {
                meetings: Vec::new(),
                booked: Vec::new(),
            },
            because: Vec::new(),
        });
        proof.push(ProofStep::Lemma {
            claim: Claim::NoSlot {
                reason: EscalationReason::FreezeWindow,
            },
            because: vec![full],
        });
        proof.secondary.push(full);
        assert_eq!(proof.references(), vec![2, 0]);
        let codes: Vec<_> = proof
            .secondary_claims()
            .map(|(_, c)| c.secondary_reason())
            .collect();
        assert_eq!(codes, vec![Some(EscalationReason::ReviewCapacityFull)]);
    }
}
