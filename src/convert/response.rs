//! `SlotSearch` → `FindSlotsResponse`.

use super::{request::engine_to_proto, timestamp::to_timestamp};
use crate::pb;
use quorum_domain::{Slot, SlotSearch};
use quorum_solver::Engine;

pub fn search_to_response(
    change_ticket: &str,
    search: SlotSearch,
    engine: Engine,
) -> pb::FindSlotsResponse {
    let SlotSearch {
        slots,
        grid_origin,
        bucket_minutes,
        bucket_count,
        candidate_starts_considered,
        presolved_starts,
    } = search;
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
    }
}

fn slot(slot: Slot, rank: u32) -> pb::Slot {
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
