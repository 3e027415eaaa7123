//! Why there is no slot, as data: the outcome, escalation codes a pipeline can
//! route on, irreducible conflicts of named constraints, the relaxations a
//! human could approve, and which constraints rejected which grid starts.
//! No sentences: a reporter at the edge words these in the reader's zone.

use crate::{BusyInterval, Derivation, PersonId, RoleId, Slot, TimeRange};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Outcome {
    /// Ranked slots from the problem exactly as given.
    #[default]
    Feasible,
    /// No slot as given; a relaxation a human could approve opens one.
    NeedsException,
    /// Not even the relaxations Quorum knows open a slot.
    Infeasible,
}

/// Root-cause codes a pipeline can route on, in the order of the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EscalationReason {
    RolePoolUnavailable,
    NoCommonWorkingHours,
    FreezeWindow,
    ReviewCapacityFull,
    DeadlineTooEarly,
    AfterHoursOnly,
    RolesNeedSamePerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstraintKind {
    RoleRequirement,
    WorkingHours,
    BusyTime,
    OnePersonOneRole,
    FreezeWindow,
    ReviewCapacity,
    NotBefore,
    EvidenceDeadline,
}

/// One named constraint of the request, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConstraintRef {
    pub kind: ConstraintKind,
    /// Role id, person id or freeze window id; empty for request-wide rules.
    pub id: String,
    /// What the constraint forbids (busy, freeze, capacity, outside the
    /// window) or allows (working hours), clipped to the horizon.
    pub ranges: Vec<TimeRange>,
}

/// A set of constraints that on their own admit no slot, while dropping any
/// one of them leaves a set that does. Request-wide rules come first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub constraints: Vec<ConstraintRef>,
    /// Role pools whose people's calendars all fail together, so a reader
    /// sees one pool rather than a list of calendars.
    pub groups: Vec<ConflictGroup>,
}

/// A role and the calendars of its candidates in a conflict: `members`
/// index [`Conflict::constraints`] (the role requirement first, then at
/// least one calendar of every candidate of the role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictGroup {
    pub role: RoleId,
    pub members: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelaxationKind {
    ConfirmDelegate {
        role: RoleId,
        person: PersonId,
    },
    AfterHours {
        person: PersonId,
        minutes: i64,
    },
    MoveEvidenceDeadline {
        minutes: i64,
    },
    ExceedReviewCapacity {
        extra_reviews: u32,
    },
    OverrideFreezeWindow {
        id: String,
    },
    /// Ask `person` to move these commitments of theirs (the busy intervals
    /// overlapping the slot); `minutes` is their total length.
    MoveCommitments {
        person: PersonId,
        intervals: Vec<BusyInterval>,
        minutes: i64,
    },
}

/// Who must approve a relaxation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Approver {
    /// The person whose day or calendar moves.
    Person(PersonId),
    /// The change's release owner (delegated authority, the deadline).
    ReleaseOwner,
    /// The freeze window's owner (`owner` empty when the request named none).
    FreezeWindowOwner {
        freeze_window: String,
        owner: String,
    },
    /// The board that sets production review capacity.
    ReviewBoard,
    /// The owner of a release programme's resource (a review board, a GPU
    /// pool) whose capacity a milestone would exceed; `owner` empty when
    /// the request named none.
    ResourceOwner { resource: String, owner: String },
}

/// A change a human could approve and the best slot it would open. It is only
/// ever proposed: returned slots never rely on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relaxation {
    pub kind: RelaxationKind,
    pub best_slot: Slot,
    pub approvers: Vec<Approver>,
}

/// Several changes together, one per disjoint conflict, when no single
/// change opens a slot, with the best slot they open together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaxationCombination {
    pub changes: Vec<RelaxationKind>,
    pub best_slot: Slot,
    /// Everyone who must approve one of the changes, each once.
    pub approvers: Vec<Approver>,
}

/// Consecutive grid starts, from `first_start` to `last_start` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRun {
    pub first_start: DateTime<Utc>,
    pub last_start: DateTime<Utc>,
}

/// A role nobody could fill, with what kept each of its candidates away:
/// `role` and `members` index [`RejectedStarts::constraints`]. The same pool
/// failing the same way at many starts is listed once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolBlame {
    pub role: u32,
    pub members: Vec<u32>,
}

/// Every run of starts rejected for the same reasons, merged: `reasons` are
/// request-wide rules (indices into [`RejectedStarts::constraints`]) and
/// `pools` the roles nobody could fill (indices into [`RejectedStarts::pools`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionGroup {
    pub reasons: Vec<u32>,
    pub pools: Vec<u32>,
    pub runs: Vec<StartRun>,
}

/// Why grid starts were rejected (`explain: true`), compact: each constraint
/// is described once in a table, each failing pool once, and groups of runs
/// refer to both by index, so the size grows with runs plus constraints,
/// never their product.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RejectedStarts {
    pub constraints: Vec<ConstraintRef>,
    pub pools: Vec<PoolBlame>,
    pub groups: Vec<RejectionGroup>,
    /// The server's cap on runs was reached: starts after the last listed run
    /// were not described.
    pub run_cap_reached: bool,
}

impl RejectedStarts {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn run_count(&self) -> usize {
        self.groups.iter().map(|g| g.runs.len()).sum()
    }

    /// Every constraint a group blames, its pools' roles and members
    /// included, each once.
    pub fn blamed(&self, group: &RejectionGroup) -> Vec<&ConstraintRef> {
        let pooled = group
            .pools
            .iter()
            .filter_map(|&p| self.pools.get(p as usize))
            .flat_map(|p| std::iter::once(&p.role).chain(&p.members));
        let mut indices: Vec<u32> = group.reasons.iter().chain(pooled).copied().collect();
        indices.sort_unstable();
        indices.dedup();
        indices
            .iter()
            .filter_map(|&i| self.constraints.get(i as usize))
            .collect()
    }

    /// The constraints rejecting the run that holds `start`, if one does.
    pub fn reasons_at(&self, start: DateTime<Utc>) -> Option<Vec<&ConstraintRef>> {
        self.groups
            .iter()
            .find(|g| {
                g.runs
                    .iter()
                    .any(|r| r.first_start <= start && start <= r.last_start)
            })
            .map(|g| self.blamed(g))
    }
}

/// The fact that decides the primary reason, as data: the lemma a headline
/// names. Times are absolute; the reader's zone is the reporter's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisiveFact {
    /// Stage 1: no grid start's meeting fits between these instants.
    EmptyWindow {
        not_before: DateTime<Utc>,
        deadline: DateTime<Utc>,
    },
    /// Stage 2: these roles have nobody available at any start of `window`.
    RolesNeverStaffed {
        roles: Vec<RoleId>,
        window: TimeRange,
    },
    /// Stage 3: each role can be staffed at some start of `window`, never
    /// all of them at one.
    RolesNeverTogether { window: TimeRange },
    /// Stage 4: every role has someone only in `meetings` (merged meeting
    /// ranges), and there only if one person held two roles.
    SamePersonNeeded { meetings: Vec<TimeRange> },
    /// Stage 5: the team can meet only in `meetings`; the named freezes and,
    /// when `capacity_full`, the review capacity block every one of them.
    TeamMeetsOnlyIn {
        meetings: Vec<TimeRange>,
        freezes: Vec<String>,
        capacity_full: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    pub outcome: Outcome,
    /// The first stage of the diagnosis that fails; set whenever there is no
    /// slot (see the solver's `diagnosis` for the stages).
    pub primary_reason: Option<EscalationReason>,
    /// Later facts: review capacity beside a freeze, a deadline that alone
    /// stands in the way, a slot that only after-hours opens.
    pub secondary_reasons: Vec<EscalationReason>,
    /// The lemma behind `primary_reason`; set with it.
    pub decisive_fact: Option<DecisiveFact>,
    /// The proof behind `primary_reason`, as a tree of typed facts; set with it.
    pub derivation: Option<Derivation>,
    pub conflicts: Vec<Conflict>,
    pub more_conflicts_may_exist: bool,
    pub relaxations: Vec<Relaxation>,
    /// With several disjoint conflicts: the smallest combinations of one
    /// change per conflict that open a slot, best first.
    pub combinations: Vec<RelaxationCombination>,
    pub rejected_starts: RejectedStarts,
}

impl Explanation {
    /// The primary reason followed by the secondary ones.
    pub fn escalation_reasons(&self) -> Vec<EscalationReason> {
        self.primary_reason
            .iter()
            .chain(&self.secondary_reasons)
            .copied()
            .collect()
    }
}
