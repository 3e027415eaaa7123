//! The vocabulary of Quorum: absolute time ranges, people with working hours in
//! their own zones, roles and their pools, freeze windows, review capacity, and
//! the slot problem that ties them together, release programmes of dependent
//! milestones, the validated form the solver
//! accepts, and the life of a tentative hold (explanations too). Nothing here knows about gRPC, async runtimes or storage, so the
//! solver and the stores can depend on it without dragging those in.

mod derivation;
mod error;
mod explanation;
mod holds;
mod people;
mod plan_holds;
mod problem;
mod programme;
mod programme_validate;
mod roles;
mod rules;
mod solution;
mod time;
mod validate;
mod working_hours;

pub use derivation::{Claim, Derivation, ProofStep};
pub use error::{DomainError, FieldViolation};
pub use explanation::{
    Approver, Conflict, ConflictGroup, ConstraintKind, ConstraintRef, DecisiveFact,
    EscalationReason, Explanation, Outcome, PoolBlame, RejectedStarts, RejectionGroup, Relaxation,
    RelaxationCombination, RelaxationKind, StartRun,
};
pub use holds::{
    AuditAction, AuditRecord, Clock, Hold, HoldAttendee, HoldId, HoldState, ManualClock,
    Substitution, SystemClock, substitute,
};
pub use people::{BusyInterval, BusyStatus, Person, PersonId};
pub use plan_holds::{PlanHold, PlanId, PlanMember};
pub use problem::{ProblemLimits, SlotProblem, ValidatedProblem};
pub use programme::{
    Dependency, FreezeScope, Milestone, MilestoneKind, MilestoneRole, NoPlanReason, OnCallShift,
    Plan, PlannedMilestone, ProgrammeConstraint, ProgrammeExplanation, ProgrammeLimits,
    ProgrammeRelaxation, ProgrammeRelaxationKind, ReleaseProgramme, Resource, RoleBasis,
    ScopedFreeze, ValidatedProgramme,
};
pub use roles::{Delegate, RequiredRole, RoleId};
pub use rules::{BookedReview, FreezeKind, FreezeWindow, PreferenceWindow, ReviewCapacity};
pub use solution::{RoleAssignment, ScoreBreakdown, Slot, SlotSearch};
pub use time::{BucketSize, TimeRange};
pub use validate::MAX_COLLECTED_VIOLATIONS;
pub use working_hours::{LocalTime, WorkingHours};
