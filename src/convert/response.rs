//! `SlotSearch` → `FindSlotsResponse`: the data converted, the words from
//! the reporter (`crate::report`) in the reader's zone.

use super::{problem::engine_to_proto, timestamp::to_timestamp};
use crate::{pb, report::Reporter};
use quorum_domain::{
    Approver, Claim, Conflict, ConflictGroup, ConstraintKind, ConstraintRef, DecisiveFact,
    Derivation, EscalationReason, Explanation, Outcome, ProofStep, RejectedStarts, Relaxation,
    RelaxationCombination, RelaxationKind, Slot, SlotProblem, SlotSearch, TimeRange,
};
use quorum_solver::Engine;

pub fn search_to_response(
    change_ticket: &str,
    search: SlotSearch,
    engine: Engine,
    reporter: &Reporter<'_>,
) -> pb::FindSlotsResponse {
    let SlotSearch {
        slots,
        grid_origin,
        bucket_minutes,
        bucket_count,
        candidate_starts_considered,
        presolved_starts,
        explanation,
    } = search;
    let escalation_reasons = explanation.escalation_reasons();
    let words = reporter.words(&explanation);
    let Explanation {
        outcome,
        primary_reason,
        secondary_reasons,
        decisive_fact,
        derivation,
        conflicts,
        more_conflicts_may_exist,
        relaxations,
        combinations,
        rejected_starts,
    } = explanation;
    pb::FindSlotsResponse {
        change_ticket: change_ticket.to_owned(),
        slots: slots
            .into_iter()
            .zip(1..)
            .map(|(s, rank)| slot(s, rank))
            .collect(),
        grid: Some(pb::BucketGrid {
            origin: Some(to_timestamp(grid_origin)),
            bucket_minutes,
            bucket_count,
        }),
        candidate_starts_considered,
        presolved_starts,
        engine: engine_to_proto(engine).into(),
        outcome: outcome_to_proto(outcome).into(),
        escalation_reasons: escalation_reasons
            .into_iter()
            .map(|r| reason_to_proto(r).into())
            .collect(),
        primary_reason: primary_reason
            .map_or(pb::EscalationReason::Unspecified, reason_to_proto)
            .into(),
        secondary_reasons: secondary_reasons
            .into_iter()
            .map(|r| reason_to_proto(r).into())
            .collect(),
        decisive_fact: decisive_fact.map(fact_to_proto),
        conflicts: conflicts
            .into_iter()
            .zip(words.conflicts)
            .map(|(c, text)| conflict(c, text, reporter))
            .collect(),
        more_conflicts_may_exist,
        relaxations: relaxations
            .into_iter()
            .zip(words.relaxations)
            .map(|(r, text)| relaxation(r, text))
            .collect(),
        rejected_starts: (!rejected_starts.is_empty() || rejected_starts.run_cap_reached)
            .then(|| rejected(rejected_starts, reporter)),
        relaxation_combinations: combinations
            .into_iter()
            .zip(words.combinations)
            .map(|(c, text)| combination(c, text, reporter.problem()))
            .collect(),
        derivation: derivation.map(|d| derivation_to_proto(d, reporter)),
        headline: words.headline,
        proof: words.proof,
        // Filled in by the service when the request named calendars.
        calendar_provenance: Vec::new(),
        // Filled in by the service when it shares the hold broker's store.
        holds_counted_as_busy: Vec::new(),
    }
}

pub(super) fn outcome_to_proto(outcome: Outcome) -> pb::Outcome {
    match outcome {
        Outcome::Feasible => pb::Outcome::Feasible,
        Outcome::NeedsException => pb::Outcome::NeedsException,
        Outcome::Infeasible => pb::Outcome::Infeasible,
    }
}

pub(super) fn reason_to_proto(reason: EscalationReason) -> pb::EscalationReason {
    match reason {
        EscalationReason::RolePoolUnavailable => pb::EscalationReason::RolePoolUnavailable,
        EscalationReason::NoCommonWorkingHours => pb::EscalationReason::NoCommonWorkingHours,
        EscalationReason::FreezeWindow => pb::EscalationReason::FreezeWindow,
        EscalationReason::ReviewCapacityFull => pb::EscalationReason::ReviewCapacityFull,
        EscalationReason::DeadlineTooEarly => pb::EscalationReason::DeadlineTooEarly,
        EscalationReason::AfterHoursOnly => pb::EscalationReason::AfterHoursOnly,
        EscalationReason::RolesNeedSamePerson => pb::EscalationReason::RolesNeedSamePerson,
    }
}

fn fact_to_proto(fact: DecisiveFact) -> pb::DecisiveFact {
    use pb::decisive_fact as f;
    let fact = match fact {
        DecisiveFact::EmptyWindow {
            not_before,
            deadline,
        } => f::Fact::EmptyWindow(f::EmptyWindow {
            not_before: Some(to_timestamp(not_before)),
            deadline: Some(to_timestamp(deadline)),
        }),
        DecisiveFact::RolesNeverStaffed { roles, window } => {
            f::Fact::RolesNeverStaffed(f::RolesNeverStaffed {
                role_ids: roles.into_iter().map(|r| r.0).collect(),
                window: Some(range(window)),
            })
        }
        DecisiveFact::RolesNeverTogether { window } => {
            f::Fact::RolesNeverTogether(f::RolesNeverTogether {
                window: Some(range(window)),
            })
        }
        DecisiveFact::SamePersonNeeded { meetings } => {
            f::Fact::SamePersonNeeded(f::SamePersonNeeded {
                meetings: meetings.into_iter().map(range).collect(),
            })
        }
        DecisiveFact::TeamMeetsOnlyIn {
            meetings,
            freezes,
            capacity_full,
        } => f::Fact::TeamMeetsOnlyIn(f::TeamMeetsOnlyIn {
            meetings: meetings.into_iter().map(range).collect(),
            freeze_window_ids: freezes,
            capacity_full,
        }),
    };
    pb::DecisiveFact { fact: Some(fact) }
}

fn kind_to_proto(kind: ConstraintKind) -> pb::ConstraintKind {
    match kind {
        ConstraintKind::RoleRequirement => pb::ConstraintKind::RoleRequirement,
        ConstraintKind::WorkingHours => pb::ConstraintKind::WorkingHours,
        ConstraintKind::BusyTime => pb::ConstraintKind::BusyTime,
        ConstraintKind::OnePersonOneRole => pb::ConstraintKind::OnePersonOneRole,
        ConstraintKind::FreezeWindow => pb::ConstraintKind::Freeze,
        ConstraintKind::ReviewCapacity => pb::ConstraintKind::ReviewCapacity,
        ConstraintKind::NotBefore => pb::ConstraintKind::NotBefore,
        ConstraintKind::EvidenceDeadline => pb::ConstraintKind::EvidenceDeadline,
    }
}

fn range(range: TimeRange) -> pb::TimeRange {
    pb::TimeRange {
        start: Some(to_timestamp(range.start)),
        end: Some(to_timestamp(range.end)),
    }
}

fn constraint(c: ConstraintRef, reporter: &Reporter<'_>) -> pb::ConstraintRef {
    let label = reporter.label(&c);
    let ConstraintRef { kind, id, ranges } = c;
    pb::ConstraintRef {
        kind: kind_to_proto(kind).into(),
        id,
        label,
        ranges: ranges.into_iter().map(range).collect(),
    }
}

pub(super) fn conflict(c: Conflict, explanation: String, reporter: &Reporter<'_>) -> pb::Conflict {
    let Conflict {
        constraints,
        groups,
    } = c;
    pb::Conflict {
        constraints: constraints
            .into_iter()
            .map(|c| constraint(c, reporter))
            .collect(),
        explanation,
        groups: conflict_groups(groups),
    }
}

fn conflict_groups(groups: Vec<ConflictGroup>) -> Vec<pb::ConflictGroup> {
    groups
        .into_iter()
        .map(|g| pb::ConflictGroup {
            role_id: g.role.0,
            members: g.members,
        })
        .collect()
}

/// A conflict worded without its problem (a programme milestone's): bare
/// labels, no times.
pub(super) fn bare_conflict(c: Conflict) -> pb::Conflict {
    let explanation = crate::report::bare_conflict(&c.constraints);
    let Conflict {
        constraints,
        groups,
    } = c;
    pb::Conflict {
        groups: conflict_groups(groups),
        constraints: constraints
            .into_iter()
            .map(|c| {
                let label = crate::report::bare_label(&c);
                let ConstraintRef { kind, id, ranges } = c;
                pb::ConstraintRef {
                    kind: kind_to_proto(kind).into(),
                    id,
                    label,
                    ranges: ranges.into_iter().map(range).collect(),
                }
            })
            .collect(),
        explanation,
    }
}

fn derivation_to_proto(d: Derivation, reporter: &Reporter<'_>) -> pb::Derivation {
    use pb::proof_step::{Lemma, Step};
    let Derivation { steps, secondary } = d;
    pb::Derivation {
        secondary,
        steps: steps
            .into_iter()
            .map(|s| pb::ProofStep {
                step: Some(match s {
                    ProofStep::Fact(c) => Step::Fact(constraint(c, reporter)),
                    ProofStep::Lemma { claim, because } => Step::Lemma(Lemma {
                        claim: Some(claim_to_proto(claim)),
                        because,
                    }),
                }),
            })
            .collect(),
    }
}

fn ranges(list: Vec<TimeRange>) -> Vec<pb::TimeRange> {
    list.into_iter().map(range).collect()
}

fn claim_to_proto(claim: Claim) -> pb::Claim {
    use pb::claim as c;
    let claim = match claim {
        Claim::NoSlot { reason } => c::Claim::NoSlot(c::NoSlot {
            reason: reason_to_proto(reason).into(),
        }),
        Claim::WindowEmpty {
            not_before,
            deadline,
        } => c::Claim::WindowEmpty(c::WindowEmpty {
            not_before: Some(to_timestamp(not_before)),
            deadline: Some(to_timestamp(deadline)),
        }),
        Claim::RoleStaffedOnlyIn {
            role,
            window,
            meetings,
        } => c::Claim::RoleStaffedOnlyIn(c::RoleStaffedOnlyIn {
            role_id: role.0,
            window: Some(range(window)),
            meetings: ranges(meetings),
        }),
        Claim::RolesNeverTogether { roles, window } => {
            c::Claim::RolesNeverTogether(c::RolesNeverTogether {
                role_ids: roles.into_iter().map(|r| r.0).collect(),
                window: Some(range(window)),
            })
        }
        Claim::SamePersonNeeded { meetings } => c::Claim::SamePersonNeeded(c::SamePersonNeeded {
            meetings: ranges(meetings),
        }),
        Claim::TeamMeetsOnlyIn { meetings } => c::Claim::TeamMeetsOnlyIn(c::TeamMeetsOnlyIn {
            meetings: ranges(meetings),
        }),
        Claim::FrozenIn {
            freeze_window,
            meetings,
        } => c::Claim::FrozenIn(c::FrozenIn {
            freeze_window_id: freeze_window,
            meetings: ranges(meetings),
        }),
        Claim::CapacityFullIn { meetings, booked } => c::Claim::CapacityFullIn(c::CapacityFullIn {
            meetings: ranges(meetings),
            booked_change_tickets: booked,
        }),
        Claim::SlotWithoutWindow { meeting } => c::Claim::SlotWithoutWindow(c::SlotWithoutWindow {
            meeting: Some(range(meeting)),
        }),
        Claim::AfterHoursOpens {
            person,
            minutes,
            meeting,
            outside,
        } => c::Claim::AfterHoursOpens(c::AfterHoursOpens {
            person_id: person.0,
            minutes,
            meeting: Some(range(meeting)),
            outside: ranges(outside),
        }),
    };
    pb::Claim { claim: Some(claim) }
}

pub(super) fn relaxation(r: Relaxation, description: String) -> pb::Relaxation {
    let Relaxation {
        kind,
        best_slot,
        approvers,
    } = r;
    pb::Relaxation {
        change: Some(change(kind)),
        best_slot: Some(slot(best_slot, 1)),
        requires_approval: true,
        description,
        approvers: approvers.into_iter().map(approver).collect(),
    }
}

/// A combination: each change as a relaxation of its own (words, approvers,
/// no slot of its own), and the slot they open together.
fn combination(
    c: RelaxationCombination,
    words: (String, Vec<String>),
    problem: &SlotProblem,
) -> pb::RelaxationCombination {
    let RelaxationCombination {
        changes,
        best_slot,
        approvers,
    } = c;
    let (description, change_words) = words;
    pb::RelaxationCombination {
        changes: changes
            .into_iter()
            .zip(change_words)
            .map(|(kind, description)| pb::Relaxation {
                approvers: quorum_solver::relaxation_approvers(problem, &kind)
                    .into_iter()
                    .map(approver)
                    .collect(),
                change: Some(change(kind)),
                best_slot: None,
                requires_approval: true,
                description,
            })
            .collect(),
        best_slot: Some(slot(best_slot, 1)),
        approvers: approvers.into_iter().map(approver).collect(),
        description,
    }
}

fn change(kind: RelaxationKind) -> pb::relaxation::Change {
    use pb::relaxation as k;
    match kind {
        RelaxationKind::ConfirmDelegate { role, person } => {
            k::Change::ConfirmDelegate(k::ConfirmDelegate {
                role_id: role.0,
                person_id: person.0,
            })
        }
        RelaxationKind::AfterHours { person, minutes } => k::Change::AfterHours(k::AfterHours {
            person_id: person.0,
            minutes,
        }),
        RelaxationKind::MoveEvidenceDeadline { minutes } => {
            k::Change::MoveEvidenceDeadline(k::MoveEvidenceDeadline { minutes })
        }
        RelaxationKind::ExceedReviewCapacity { extra_reviews } => {
            k::Change::ExceedReviewCapacity(k::ExceedReviewCapacity { extra_reviews })
        }
        RelaxationKind::OverrideFreezeWindow { id } => {
            k::Change::OverrideFreezeWindow(k::OverrideFreezeWindow {
                freeze_window_id: id,
            })
        }
        RelaxationKind::MoveCommitments {
            person,
            intervals,
            minutes,
        } => k::Change::MoveCommitments(k::MoveCommitments {
            person_id: person.0,
            intervals: intervals
                .into_iter()
                .map(|b| pb::BusyInterval {
                    start: Some(to_timestamp(b.range.start)),
                    end: Some(to_timestamp(b.range.end)),
                    status: super::problem::busy_status_to_proto(b.status).into(),
                })
                .collect(),
            minutes,
        }),
    }
}

pub(super) fn approver(a: Approver) -> pb::Approver {
    use pb::approver::Role;
    let (role, id) = match a {
        Approver::Person(person) => (Role::Person, person.0),
        Approver::ReleaseOwner => (Role::ReleaseOwner, String::new()),
        Approver::FreezeWindowOwner { owner, .. } => (Role::FreezeWindowOwner, owner),
        Approver::ReviewBoard => (Role::ReviewBoard, String::new()),
        Approver::ResourceOwner { owner, .. } => (Role::ResourceOwner, owner),
    };
    pb::Approver {
        role: role.into(),
        id,
    }
}

fn rejected(r: RejectedStarts, reporter: &Reporter<'_>) -> pb::RejectedStarts {
    let RejectedStarts {
        constraints,
        pools,
        groups,
        run_cap_reached,
    } = r;
    pb::RejectedStarts {
        constraints: constraints
            .into_iter()
            .map(|c| constraint(c, reporter))
            .collect(),
        pools: pools
            .into_iter()
            .map(|p| pb::PoolBlame {
                role: p.role,
                members: p.members,
            })
            .collect(),
        groups: groups
            .into_iter()
            .map(|g| pb::RejectionGroup {
                reasons: g.reasons,
                pools: g.pools,
                runs: g
                    .runs
                    .into_iter()
                    .map(|run| pb::StartRun {
                        first_start: Some(to_timestamp(run.first_start)),
                        last_start: Some(to_timestamp(run.last_start)),
                    })
                    .collect(),
            })
            .collect(),
        run_cap_reached,
    }
}

pub(super) fn slot(slot: Slot, rank: u32) -> pb::Slot {
    let Slot {
        range,
        assignments,
        optional_attendees,
        score,
    } = slot;
    pb::Slot {
        rank,
        start: Some(to_timestamp(range.start)),
        end: Some(to_timestamp(range.end)),
        assignments: assignments
            .into_iter()
            .map(|a| pb::RoleAssignment {
                role_id: a.role.0,
                person_id: a.person.0,
                via_delegate: a.via_delegate,
            })
            .collect(),
        optional_attendees: optional_attendees.into_iter().map(|p| p.0).collect(),
        score: Some(pb::ScoreBreakdown {
            cost: score.cost,
            start_offset_minutes: score.start_offset_minutes,
            preference_credit_minutes: score.preference_credit_minutes,
            preference_ids: score.preference_ids,
            optional_attendee_credit_minutes: score.optional_attendee_credit_minutes,
        }),
    }
}
