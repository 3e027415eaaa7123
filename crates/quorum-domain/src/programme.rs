//! Release programmes: the dependent milestones of one release (data-readiness
//! sign-off, validation review, risk review, change window, post-release
//! review) scheduled together on one grid, with what they share — people,
//! on-call rotas, scoped freezes, resources of limited capacity — and the
//! gaps between them. The validated form is the only one the solver accepts.

use crate::{
    BucketSize, FieldViolation, FreezeWindow, Person, PersonId, PreferenceWindow, ProblemLimits,
    RequiredRole, TimeRange, programme_validate,
};
use chrono::{DateTime, Duration, Utc};
use std::ops::Deref;

/// What a milestone is: a meeting of people, or a change window in which a
/// change is carried out (only change windows are stopped by change-only
/// freezes, and only they normally carry a soak).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MilestoneKind {
    #[default]
    Meeting,
    ChangeWindow,
}

/// How a role's holder must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RoleBasis {
    /// Inside working hours and outside busy time, as in FindSlots.
    #[default]
    WorkingHours,
    /// On call for the whole window plus the milestone's soak; working hours
    /// and busy time do not matter (paging does).
    OnCall,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MilestoneRole {
    pub role: RequiredRole,
    pub basis: RoleBasis,
}

/// One absolute on-call shift, as PagerDuty's `/oncalls` gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OnCallShift {
    pub person: PersonId,
    pub range: TimeRange,
}

/// Which milestones a freeze stops.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum FreezeScope {
    #[default]
    AllMilestones,
    /// An evidence freeze forbids changes, not meetings.
    ChangeWindowsOnly,
    /// Only the listed milestone ids.
    Milestones(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopedFreeze {
    pub window: FreezeWindow,
    pub scope: FreezeScope,
}

impl ScopedFreeze {
    pub fn applies_to(&self, milestone: &Milestone) -> bool {
        match &self.scope {
            FreezeScope::AllMilestones => true,
            FreezeScope::ChangeWindowsOnly => milestone.kind == MilestoneKind::ChangeWindow,
            FreezeScope::Milestones(ids) => ids.contains(&milestone.id),
        }
    }
}

/// Something milestones use that runs at most `capacity` at once (a review
/// board, a GPU pool), with the bookings it already has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub capacity: u32,
    pub booked: Vec<TimeRange>,
    /// Who may let a milestone run beyond the capacity; empty when not given.
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: String,
    pub name: String,
    pub kind: MilestoneKind,
    pub duration_minutes: u32,
    /// Starts at or after this instant; `None` is the horizon start.
    pub not_before: Option<DateTime<Utc>>,
    /// Ends at or before this instant; `None` is the horizon end.
    pub deadline: Option<DateTime<Utc>>,
    pub roles: Vec<MilestoneRole>,
    pub optional_attendees: Vec<(PersonId, Option<i64>)>,
    /// Ids of the resources it uses, one unit of each.
    pub resources: Vec<String>,
    /// On-call cover needed after the window ends (watching the change).
    pub soak_minutes: u32,
    pub preferences: Vec<PreferenceWindow>,
    pub optional_attendee_weight_minutes: i64,
    pub allow_multiple_roles_per_person: bool,
    /// FindSlots' relaxations applied to this milestone alone (see
    /// [`ProgrammeRelaxationKind::Milestone`] for what each means here).
    /// Requests carry none: the explainer adds one to a copy of the
    /// programme to see which plan it would open, and returned plans never
    /// rely on one.
    pub exceptions: Vec<crate::RelaxationKind>,
}

impl Milestone {
    pub fn duration(&self) -> Duration {
        Duration::minutes(self.duration_minutes.into())
    }

    /// "risk review" when named, else the id.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }
}

/// `start(after) ≥ end(before) + min_gap`, and `≤ end(before) + max_gap`
/// when given. Gaps are absolute minutes: a DST change inside one changes
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    pub before: String,
    pub after: String,
    pub min_gap_minutes: u32,
    pub max_gap_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseProgramme {
    pub change_ticket: String,
    pub horizon: TimeRange,
    pub bucket: BucketSize,
    pub people: Vec<Person>,
    pub on_call: Vec<OnCallShift>,
    pub freeze_windows: Vec<ScopedFreeze>,
    pub resources: Vec<Resource>,
    pub milestones: Vec<Milestone>,
    pub dependencies: Vec<Dependency>,
    pub top_k: usize,
    pub tentative_is_free: bool,
}

/// Limits on a programme, on top of those every milestone's slot problem
/// shares with FindSlots. Checked before any presolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeLimits {
    pub problem: ProblemLimits,
    pub max_milestones: usize,
    pub max_dependencies: usize,
    pub max_on_call_shifts: usize,
    pub max_resources: usize,
    /// Booked intervals summed over all resources.
    pub max_resource_bookings: usize,
    /// Partial plans the joint search may hold at once: its memory bound.
    pub max_search_nodes: usize,
}

impl Default for ProgrammeLimits {
    fn default() -> Self {
        Self {
            problem: ProblemLimits::default(),
            max_milestones: 32,
            max_dependencies: 128,
            max_on_call_shifts: 10_000,
            max_resources: 64,
            max_resource_bookings: 10_000,
            max_search_nodes: 2_000_000,
        }
    }
}

impl ReleaseProgramme {
    pub const DEFAULT_TOP_K: usize = 5;

    pub fn milestone_index(&self, id: &str) -> Option<usize> {
        self.milestones.iter().position(|m| m.id == id)
    }

    /// Checks every rule and, when all hold, returns the form the solver
    /// accepts. Violations name the request's own field paths.
    pub fn validate(
        self,
        limits: &ProgrammeLimits,
    ) -> Result<ValidatedProgramme, Vec<FieldViolation>> {
        let violations = programme_validate::violations(&self, limits);
        if violations.is_empty() {
            Ok(ValidatedProgramme {
                programme: self,
                limits: limits.clone(),
            })
        } else {
            Err(violations)
        }
    }
}

/// A programme that passed [`ReleaseProgramme::validate`]: references
/// resolve, the dependencies form no cycle, and sizes are within limits.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedProgramme {
    programme: ReleaseProgramme,
    limits: ProgrammeLimits,
}

impl ValidatedProgramme {
    pub fn limits(&self) -> &ProgrammeLimits {
        &self.limits
    }

    pub fn into_inner(self) -> ReleaseProgramme {
        self.programme
    }
}

impl Deref for ValidatedProgramme {
    type Target = ReleaseProgramme;
    fn deref(&self) -> &ReleaseProgramme {
        &self.programme
    }
}

/// One milestone of a plan: where it lies, who fills its roles and the parts
/// of its cost, exactly as FindSlots would score it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMilestone {
    pub milestone: String,
    pub slot: crate::Slot,
}

/// A plan: every milestone placed, best first by total cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub milestones: Vec<PlannedMilestone>,
    pub cost: i64,
}

/// Why a programme has no plan, first cause first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPlanReason {
    /// One milestone has no feasible start even on its own. `explanation`
    /// is FindSlots' own for its working-hours roles, when those alone fail.
    MilestoneImpossible {
        milestone: String,
        detail: String,
        /// Boxed: an explanation is large beside the other reasons.
        explanation: Option<Box<crate::Explanation>>,
    },
    /// A dependency cannot hold even between its two milestones alone.
    DependencyImpossible { dependency: usize, detail: String },
    /// Every milestone and every dependency is possible alone; only their
    /// combination (longer chains, shared people, capacity) fails.
    Combination { detail: String },
}

/// One constraint of a programme as an explanation names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProgrammeConstraint {
    /// A milestone's deadline (its end ≤ deadline).
    Deadline { milestone: String },
    /// A milestone's own rules (roles, freezes, resources), when the
    /// milestone is impossible on its own.
    Milestone { milestone: String },
    /// Dependency `index` of the request.
    Dependency { index: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgrammeRelaxationKind {
    /// Move the milestone's deadline to `to`.
    MoveDeadline {
        milestone: String,
        to: DateTime<Utc>,
    },
    /// Shorten dependency `index`'s minimum gap to `to_minutes`.
    ShortenGap { index: usize, to_minutes: u32 },
    /// Lengthen dependency `index`'s maximum gap to `to_minutes`.
    LengthenGap { index: usize, to_minutes: u32 },
    /// One of FindSlots' relaxations, applied to one milestone only, its
    /// sizes those of the opened plan's slot for that milestone:
    /// - `AfterHours { person, minutes }`: the person may fill a
    ///   working-hours role of the milestone at a start whose window touches
    ///   one of their working windows and lies at most `minutes` outside
    ///   their hours (it extends their day, never lands in their night);
    ///   their busy time still counts.
    /// - `MoveCommitments { person, intervals, .. }`: those busy intervals of
    ///   the person do not keep them from this milestone.
    /// - `ConfirmDelegate { role, person }`: the delegate may fill the role in
    ///   this milestone.
    /// - `OverrideFreezeWindow { id }`: the freeze does not stop this
    ///   milestone.
    ///
    /// On-call cover is never relaxed this way: working hours and busy time
    /// do not matter to it. The deadline kind is [`Self::MoveDeadline`], and
    /// milestones have no review capacity (resources are the programme's).
    Milestone {
        milestone: String,
        change: crate::RelaxationKind,
    },
    /// Let the milestone run beyond `resource`'s capacity: it neither waits
    /// for the resource's bookings nor counts against its capacity (the
    /// programme with the resource dropped from the milestone's list).
    ExceedResource { milestone: String, resource: String },
}

/// A change that would open a plan, with the best plan it opens. Every
/// relaxation needs an approval: it bends a rule the request stated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeRelaxation {
    pub kind: ProgrammeRelaxationKind,
    pub plan: Plan,
    /// Who must approve it: the release owner for deadlines and gaps (the
    /// programme's own schedule), as in FindSlots for a milestone's change.
    pub approvers: Vec<crate::Approver>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeExplanation {
    pub outcome: crate::Outcome,
    pub reason: Option<NoPlanReason>,
    /// An irreducible set of deadlines and dependencies that together admit
    /// no plan: dropping any one of them opens one.
    pub conflict: Vec<ProgrammeConstraint>,
    pub relaxations: Vec<ProgrammeRelaxation>,
}

impl ProgrammeExplanation {
    pub fn feasible() -> Self {
        Self {
            outcome: crate::Outcome::Feasible,
            reason: None,
            conflict: Vec::new(),
            relaxations: Vec::new(),
        }
    }
}
