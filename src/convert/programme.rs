//! `PlanReleaseRequest` → `ReleaseProgramme` (the response side is
//! `programme_response`). Parsing shares FindSlots' parser (timestamps,
//! people, roles), so a bad field reads the same in both services; the
//! programme's own rules are the domain's (`ReleaseProgramme::validate`).

use super::request::{FieldPath, Parser, freeze_kind, role};
use crate::pb;
use chrono::DateTime;
use quorum_domain::{
    BucketSize, Dependency, FieldViolation, FreezeScope, FreezeWindow, Milestone, MilestoneKind,
    MilestoneRole, OnCallShift, PersonId, PreferenceWindow, ReleaseProgramme, Resource, RoleBasis,
    ScopedFreeze, TimeRange,
};
use quorum_solver::ProgrammeEngine;

/// The zone the response's words are written in: empty is UTC, anything
/// else must be an IANA zone name.
pub fn display_zone(request: &pb::PlanReleaseRequest) -> Result<chrono_tz::Tz, FieldViolation> {
    super::request::display_zone_named(&request.display_time_zone)
}

/// Converts a request into a programme and the engine asked for, or every
/// parse problem found.
pub fn release_programme(
    request: pb::PlanReleaseRequest,
) -> Result<(ReleaseProgramme, ProgrammeEngine), Vec<FieldViolation>> {
    let pb::PlanReleaseRequest {
        change_ticket,
        horizon,
        bucket_minutes,
        people,
        on_call,
        freeze_windows,
        resources,
        milestones,
        dependencies,
        top_k,
        tentative_is_free,
        engine,
        // Read by `display_zone`: how the answer is worded, not the programme.
        display_time_zone: _,
    } = request;
    let mut parser = Parser::default();
    let horizon = match horizon {
        Some(pb::TimeRange { start, end }) => {
            parser.range(start.as_ref(), end.as_ref(), &FieldPath::Root("horizon"))
        }
        None => {
            parser.violation(
                &FieldPath::Root("horizon"),
                "a planning horizon is required",
            );
            TimeRange::new(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH)
        }
    };
    let bucket = if bucket_minutes == 0 {
        BucketSize::default()
    } else {
        BucketSize::from_minutes(bucket_minutes).unwrap_or_else(|| {
            parser.violation(
                &FieldPath::Root("bucket_minutes"),
                format!("bucket size {bucket_minutes} is not one of 5, 10, 15, 30 or 60 minutes"),
            );
            BucketSize::default()
        })
    };
    let people = people
        .into_iter()
        .enumerate()
        .map(|(i, p)| parser.person(p, &FieldPath::Item("people", i)))
        .collect();
    let on_call = on_call
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let pb::OnCallShift {
                person_id,
                start,
                end,
            } = s;
            OnCallShift {
                person: PersonId(person_id),
                range: parser.range(start.as_ref(), end.as_ref(), &FieldPath::Item("on_call", i)),
            }
        })
        .collect();
    let freeze_windows = freeze_windows
        .into_iter()
        .enumerate()
        .map(|(i, f)| scoped_freeze(&mut parser, f, i))
        .collect();
    let resources = resources
        .into_iter()
        .enumerate()
        .map(|(i, r)| resource(&mut parser, r, i))
        .collect();
    let milestones = milestones
        .into_iter()
        .enumerate()
        .map(|(i, m)| milestone(&mut parser, m, i))
        .collect();
    let engine = match pb::PlanEngine::try_from(engine) {
        Ok(pb::PlanEngine::Unspecified | pb::PlanEngine::Auto) => ProgrammeEngine::Auto,
        Ok(pb::PlanEngine::ChainDp) => ProgrammeEngine::ChainDp,
        Ok(pb::PlanEngine::BranchAndBound) => ProgrammeEngine::BranchAndBound,
        Ok(pb::PlanEngine::JointIntegerProgram) => ProgrammeEngine::IntegerProgram,
        Err(_) => {
            parser.violation(
                &FieldPath::Root("engine"),
                format!("unknown plan engine {engine}"),
            );
            ProgrammeEngine::Auto
        }
    };
    if !parser.violations.is_empty() {
        return Err(parser.violations);
    }
    let programme = ReleaseProgramme {
        change_ticket,
        horizon,
        bucket,
        people,
        on_call,
        freeze_windows,
        resources,
        milestones,
        dependencies: dependencies.into_iter().map(dependency).collect(),
        top_k: if top_k == 0 {
            ReleaseProgramme::DEFAULT_TOP_K
        } else {
            top_k as usize
        },
        tentative_is_free,
    };
    Ok((programme, engine))
}

fn scoped_freeze(parser: &mut Parser, f: pb::ScopedFreezeWindow, i: usize) -> ScopedFreeze {
    let pb::ScopedFreezeWindow {
        window,
        scope,
        milestone_ids,
    } = f;
    let path = FieldPath::Item("freeze_windows", i);
    let pb::FreezeWindow {
        id,
        start,
        end,
        kind,
        reason,
        owner,
    } = window.unwrap_or_else(|| {
        parser.violation(&path.field("window"), "a freeze window is required");
        pb::FreezeWindow::default()
    });
    let range = parser.range(start.as_ref(), end.as_ref(), &path.field("window"));
    let scope = match pb::FreezeScope::try_from(scope) {
        Ok(pb::FreezeScope::Unspecified | pb::FreezeScope::ScopeAllMilestones) => {
            FreezeScope::AllMilestones
        }
        Ok(pb::FreezeScope::ScopeChangeWindows) => FreezeScope::ChangeWindowsOnly,
        Ok(pb::FreezeScope::ScopeListedMilestones) => FreezeScope::Milestones(milestone_ids),
        Err(_) => {
            parser.violation(
                &path.field("scope"),
                format!("unknown freeze scope {scope}"),
            );
            FreezeScope::AllMilestones
        }
    };
    ScopedFreeze {
        window: FreezeWindow {
            id,
            range,
            kind: freeze_kind(kind),
            reason,
            owner,
        },
        scope,
    }
}

fn resource(parser: &mut Parser, r: pb::Resource, i: usize) -> Resource {
    let pb::Resource {
        id,
        name,
        capacity,
        booked,
        owner,
    } = r;
    let path = FieldPath::Item("resources", i);
    Resource {
        id,
        name,
        capacity,
        owner,
        booked: booked
            .into_iter()
            .enumerate()
            .map(|(j, b)| parser.range(b.start.as_ref(), b.end.as_ref(), &path.item("booked", j)))
            .collect(),
    }
}

fn milestone(parser: &mut Parser, m: pb::Milestone, i: usize) -> Milestone {
    let pb::Milestone {
        id,
        name,
        kind,
        duration_minutes,
        not_before,
        deadline,
        roles,
        optional_attendees,
        resource_ids,
        soak_minutes,
        preferences,
        optional_attendee_weight_minutes,
        allow_multiple_roles_per_person,
    } = m;
    let path = FieldPath::Item("milestones", i);
    let kind = match pb::MilestoneKind::try_from(kind) {
        Ok(pb::MilestoneKind::Unspecified | pb::MilestoneKind::Meeting) => MilestoneKind::Meeting,
        Ok(pb::MilestoneKind::ChangeWindow) => MilestoneKind::ChangeWindow,
        Err(_) => {
            parser.violation(
                &path.field("kind"),
                format!("unknown milestone kind {kind}"),
            );
            MilestoneKind::Meeting
        }
    };
    let roles = roles
        .into_iter()
        .enumerate()
        .map(|(j, r)| {
            let pb::MilestoneRole {
                role: required,
                basis,
            } = r;
            let basis = match pb::RoleBasis::try_from(basis) {
                Ok(pb::RoleBasis::Unspecified | pb::RoleBasis::BasisWorkingHours) => {
                    RoleBasis::WorkingHours
                }
                Ok(pb::RoleBasis::BasisOnCall) => RoleBasis::OnCall,
                Err(_) => {
                    parser.violation(
                        &path.item("roles", j).field("basis"),
                        format!("unknown role basis {basis}"),
                    );
                    RoleBasis::WorkingHours
                }
            };
            let required = required.unwrap_or_else(|| {
                parser.violation(&path.item("roles", j).field("role"), "a role is required");
                pb::RequiredRole::default()
            });
            MilestoneRole {
                role: role(required),
                basis,
            }
        })
        .collect();
    let preferences = preferences
        .into_iter()
        .enumerate()
        .map(|(j, p)| {
            let pb::PreferenceWindow {
                id,
                start,
                end,
                weight_minutes,
            } = p;
            PreferenceWindow {
                id,
                range: parser.range(start.as_ref(), end.as_ref(), &path.item("preferences", j)),
                weight_minutes,
            }
        })
        .collect();
    Milestone {
        id,
        name,
        kind,
        duration_minutes,
        not_before: parser.optional_instant(not_before.as_ref(), &path.field("not_before")),
        deadline: parser.optional_instant(deadline.as_ref(), &path.field("deadline")),
        roles,
        optional_attendees: optional_attendees
            .into_iter()
            .map(|a| {
                let pb::OptionalAttendee {
                    person_id,
                    weight_minutes,
                } = a;
                (PersonId(person_id), weight_minutes)
            })
            .collect(),
        resources: resource_ids,
        soak_minutes,
        preferences,
        optional_attendee_weight_minutes,
        allow_multiple_roles_per_person,
        // Requests carry no exceptions: relaxations are only ever proposed.
        exceptions: Vec::new(),
    }
}

fn dependency(d: pb::Dependency) -> Dependency {
    let pb::Dependency {
        before,
        after,
        min_gap_minutes,
        max_gap_minutes,
    } = d;
    Dependency {
        before,
        after,
        min_gap_minutes,
        max_gap_minutes,
    }
}
