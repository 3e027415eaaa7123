//! Bad input never panics: requests with fields set to arbitrary values come
//! back as a response or an error, whatever the values.

mod common;

use proptest::prelude::*;
use quorum::{pb, slot_finder::solve_request};
use quorum_domain::ProblemLimits;
use quorum_solver::NeverStop;

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    prop_oneof![
        Just(None),
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
        (1_700_000_000i64..1_900_000_000, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    HorizonEnd(Option<prost_types::Timestamp>),
    NotBefore(Option<prost_types::Timestamp>),
    Deadline(Option<prost_types::Timestamp>),
    Busy(
        usize,
        Option<prost_types::Timestamp>,
        Option<prost_types::Timestamp>,
    ),
    Bucket(u32),
    Meeting(u32),
    TopK(u32),
    Zone(usize, String),
    Hours(usize, String, String, i32),
    Pool(usize, Vec<String>),
    Weight(i64),
    Capacity(u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        timestamp().prop_map(Mutation::HorizonEnd),
        timestamp().prop_map(Mutation::NotBefore),
        timestamp().prop_map(Mutation::Deadline),
        (0usize..12, timestamp(), timestamp()).prop_map(|(p, s, e)| Mutation::Busy(p, s, e)),
        any::<u32>().prop_map(Mutation::Bucket),
        prop_oneof![any::<u32>(), 0u32..2000].prop_map(Mutation::Meeting),
        any::<u32>().prop_map(Mutation::TopK),
        (0usize..12, "[A-Za-z/_+-]{0,20}").prop_map(|(p, z)| Mutation::Zone(p, z)),
        (0usize..12, "[0-9:]{0,6}", "[0-9:]{0,6}", any::<i32>())
            .prop_map(|(p, s, e, d)| Mutation::Hours(p, s, e, d)),
        (0usize..5, prop::collection::vec("[a-z-]{0,8}", 0..4))
            .prop_map(|(r, pool)| Mutation::Pool(r, pool)),
        any::<i64>().prop_map(Mutation::Weight),
        any::<u32>().prop_map(Mutation::Capacity),
    ]
}

fn apply(request: &mut pb::FindSlotsRequest, mutation: Mutation) {
    match mutation {
        Mutation::HorizonEnd(t) => request.horizon.get_or_insert_with(Default::default).end = t,
        Mutation::NotBefore(t) => request.not_before = t,
        Mutation::Deadline(t) => request.evidence_deadline = t,
        Mutation::Busy(p, start, end) => request.people[p].busy.push(pb::BusyInterval {
            start,
            end,
            status: 0,
        }),
        Mutation::Bucket(b) => request.bucket_minutes = b,
        Mutation::Meeting(m) => request.meeting_minutes = m,
        Mutation::TopK(k) => request.top_k = k,
        Mutation::Zone(p, z) => request.people[p].time_zone = z,
        Mutation::Hours(p, start, end, weekday) => {
            request.people[p].working_hours.push(pb::WorkingHours {
                weekday,
                start,
                end,
            })
        }
        Mutation::Pool(r, pool) => request.roles[r].pool = pool,
        Mutation::Weight(w) => request.optional_attendee_weight_minutes = w,
        Mutation::Capacity(c) => {
            request
                .review_capacity
                .get_or_insert_with(Default::default)
                .max_concurrent = c
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn prop_any_request_gets_an_answer_not_a_panic(mutations in prop::collection::vec(mutation(), 1..6), explain in any::<bool>()) {
        let mut request = common::fixture("identity-cutover.json");
        request.explain = explain;
        for m in mutations {
            apply(&mut request, m);
        }
        let top_k = if request.top_k == 0 { 10 } else { request.top_k as usize };
        match solve_request(request, &ProblemLimits::default(), &NeverStop) {
            Ok(response) => {
                prop_assert!(response.slots.len() <= top_k);
                prop_assert!(response.outcome != pb::Outcome::Unspecified as i32);
            }
            Err(error) => prop_assert!(
                matches!(error, quorum::error::ServiceError::InvalidRequest { ref violations } if !violations.is_empty()),
                "{error}"
            ),
        }
    }
}
