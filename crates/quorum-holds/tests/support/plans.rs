//! Held plans, the same scenarios on every store (SQLite here, PostgreSQL
//! in `quorum-holds-postgres`): all or nothing on a conflict, extend and
//! release acting on every milestone, one approval for the whole plan and
//! one compare-and-set to confirm it, permissions as for single holds, and
//! concurrent callers placing overlapping plans.
#![allow(
    dead_code,
    reason = "each store's test binary runs the scenarios it can"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use quorum_domain::{
    AuditRecord, HoldAttendee, HoldState, ManualClock, PersonId, PlanHold, RoleId, TimeRange,
};
use quorum_holds::{
    Broker, HoldClash, HoldError, HoldFilter, HoldPolicy, HoldStore, PageRequest, PlaceHold,
    PlacePlan, PlanMilestoneHold, Principal, Scope, Storage,
};
use std::sync::Arc;

/// Opens a fresh store on this clock.
pub type Open<S> = dyn Fn(Arc<ManualClock>) -> Broker<S>;

pub fn policy() -> HoldPolicy {
    HoldPolicy {
        owner_from_first_hold: true,
        ..HoldPolicy::default()
    }
}

pub fn start_of_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
}

pub fn bot() -> Principal {
    Principal::new("release-bot", [Scope::Pipeline])
}

fn olga() -> Principal {
    Principal::new("olga", [Scope::ReleaseOwner])
}

fn eve() -> Principal {
    Principal::new("eve", [Scope::Pipeline])
}

fn auditor() -> Principal {
    Principal::new("auditor", [Scope::Read])
}

fn attendees(people: &[&str]) -> Vec<HoldAttendee> {
    people
        .iter()
        .map(|p| HoldAttendee {
            person: PersonId((*p).into()),
            role: RoleId(format!("role-{p}")),
        })
        .collect()
}

fn milestone(id: &str, start: DateTime<Utc>, people: &[&str]) -> PlanMilestoneHold {
    PlanMilestoneHold {
        milestone_id: id.into(),
        slot: TimeRange::new(start, start + Duration::hours(1)),
        attendees: attendees(people),
    }
}

pub fn plan(ticket: &str, key: &str, milestones: Vec<PlanMilestoneHold>) -> PlacePlan {
    PlacePlan {
        change_ticket: ticket.into(),
        milestones,
        ttl: Duration::hours(1),
        idempotency_key: key.into(),
        release_owner: Some("olga".into()),
    }
}

/// Data readiness, validation, deployment: three milestones on two days.
fn release(ticket: &str, key: &str) -> PlacePlan {
    plan(
        ticket,
        key,
        vec![
            milestone("data-readiness", at(1, 9), &["ana", "bo"]),
            milestone("validation", at(1, 11), &["ana", "cy"]),
            milestone("deployment", at(2, 14), &["dee", "bo"]),
        ],
    )
}

fn all_holds(store: &dyn HoldStore, ticket: &str) -> Vec<quorum_domain::Hold> {
    let filter = HoldFilter {
        change_ticket: Some(ticket.into()),
        include_inactive: true,
        ..HoldFilter::default()
    };
    store
        .list(&filter, &PageRequest::first(500), &auditor())
        .expect("listing")
        .items
}

pub fn audit(store: &dyn HoldStore, ticket: &str) -> Vec<AuditRecord> {
    store
        .audit_log(ticket, &PageRequest::first(500), &auditor())
        .expect("audit log")
        .items
}

fn states(plan: &PlanHold) -> Vec<HoldState> {
    plan.members.iter().map(|m| m.hold.state).collect()
}

/// A conflict on the last milestone refuses the whole plan: no hold of it
/// is left, and the log holds only the refusal, naming the plan's key.
pub fn a_conflict_on_one_milestone_holds_none<S: Storage>(open: &Open<S>) {
    let store = open(Arc::new(ManualClock::new(start_of_time())));
    let slot = TimeRange::new(at(2, 14), at(2, 15));
    let blocker = PlaceHold {
        change_ticket: "CHG-OTHER".into(),
        slot,
        attendees: attendees(&["dee"]),
        ttl: Duration::hours(1),
        idempotency_key: "blocker".into(),
        release_owner: Some("olga".into()),
    };
    let blocker = store.place(blocker, &bot()).expect("blocker placed");
    let refused = store.place_plan(release("CHG-1", "p1"), &bot());
    assert_eq!(
        refused,
        Err(HoldError::Conflict {
            clashes: vec![HoldClash {
                person: PersonId("dee".into()),
                hold: blocker.id.clone(),
            }]
        })
    );
    assert!(
        all_holds(&store, "CHG-1").is_empty(),
        "a partial plan was left"
    );
    let log = audit(&store, "CHG-1");
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["HOLD_REFUSED"], "{log:?}");
    assert!(
        log[0].reason.contains("plan with idempotency key \"p1\""),
        "{log:?}"
    );

    // Once the blocker is gone the same plan is held whole, each milestone's
    // hold bound to the ticket, and each record naming plan and milestone.
    store
        .release(&blocker.id, "moved", &bot())
        .expect("released");
    let held = store
        .place_plan(release("CHG-1", "p1"), &bot())
        .expect("held");
    let ids: Vec<&str> = held
        .members
        .iter()
        .map(|m| m.milestone_id.as_str())
        .collect();
    assert_eq!(ids, ["data-readiness", "validation", "deployment"]);
    assert_eq!(all_holds(&store, "CHG-1").len(), 3);
    let placed: Vec<AuditRecord> = audit(&store, "CHG-1")
        .into_iter()
        .filter(|r| r.action == "HOLD_PLACED")
        .collect();
    assert_eq!(placed.len(), 3);
    for (record, member) in placed.iter().zip(&held.members) {
        assert_eq!(record.hold_id.as_ref(), Some(&member.hold.id));
        let named = format!("plan {} milestone {}", held.id, member.milestone_id);
        assert!(record.reason.contains(&named), "{record:?}");
    }
    // Retrying with the key gives the same plan; another request under it is refused.
    let again = store
        .place_plan(release("CHG-1", "p1"), &bot())
        .expect("same");
    assert_eq!(again.id, held.id);
    let mut other = release("CHG-1", "p1");
    other.milestones.pop();
    assert!(matches!(
        store.place_plan(other, &bot()),
        Err(HoldError::IdempotencyKeyReused { .. })
    ));
    assert!(store.overlapping_active_holds().expect("check").is_empty());
}

/// Extend, approve, confirm and release act on every milestone at once; a
/// milestone's hold alone cannot be changed; the token is single-use and
/// bound to every hold's version.
pub fn one_approval_confirms_the_whole_plan<S: Storage>(open: &Open<S>) {
    let store = open(Arc::new(ManualClock::new(start_of_time())));
    let held = store
        .place_plan(release("CHG-1", "p1"), &bot())
        .expect("held");
    let first = held.members[0].hold.id.clone();
    assert!(matches!(
        store.extend(&first, Duration::minutes(5), &bot()),
        Err(HoldError::InPlan { .. })
    ));
    assert!(matches!(
        store.release(&first, "alone", &bot()),
        Err(HoldError::InPlan { .. })
    ));
    assert!(matches!(
        store.approve(&first, &olga(), &[], Duration::minutes(10)),
        Err(HoldError::InPlan { .. })
    ));

    let stale = store
        .approve_plan(&held.id, &olga(), Duration::minutes(10))
        .expect("approved");
    let extended = store
        .extend_plan(&held.id, Duration::minutes(30), &bot())
        .expect("extended");
    for (before, after) in held.members.iter().zip(&extended.members) {
        assert_eq!(after.hold.version, before.hold.version + 1);
        assert_eq!(
            after.hold.expires_at,
            before.hold.expires_at + Duration::minutes(30)
        );
    }
    // Approved before the extension: the plan moved on, nothing is confirmed.
    assert!(matches!(
        store.confirm_plan(&held.id, &stale.token, &bot()),
        Err(HoldError::MovedOn { .. })
    ));
    let seen = store.get_plan(&held.id, &bot()).expect("plan");
    assert_eq!(states(&seen), [HoldState::Tentative; 3]);
    // A single hold's token never confirms a plan.
    assert!(matches!(
        store.confirm_plan(&held.id, "v1.e30.AAAA", &bot()),
        Err(HoldError::TokenInvalid { .. })
    ));

    let grant = store
        .approve_plan(&held.id, &olga(), Duration::minutes(10))
        .expect("approved again");
    let confirmed = store
        .confirm_plan(&held.id, &grant.token, &bot())
        .expect("confirmed");
    assert_eq!(states(&confirmed), [HoldState::Confirmed; 3]);
    for member in &store.get_plan(&held.id, &bot()).expect("plan").members {
        assert_eq!(member.hold.state, HoldState::Confirmed);
    }
    assert!(matches!(
        store.confirm_plan(&held.id, &grant.token, &bot()),
        Err(HoldError::TokenRefused { .. } | HoldError::MovedOn { .. })
    ));
    let confirmations = audit(&store, "CHG-1")
        .into_iter()
        .filter(|r| r.action == "HOLD_CONFIRMED")
        .count();
    assert_eq!(confirmations, 3);

    assert!(matches!(
        store.release_plan(&held.id, "", &olga()),
        Err(HoldError::InvalidRequest { .. })
    ));
    let released = store
        .release_plan(&held.id, "release slipped", &olga())
        .expect("released");
    assert_eq!(states(&released), [HoldState::Released; 3]);
    let active = store
        .list(
            &HoldFilter {
                change_ticket: Some("CHG-1".into()),
                ..HoldFilter::default()
            },
            &PageRequest::first(10),
            &bot(),
        )
        .expect("listing");
    assert!(active.items.is_empty());
}

/// Who may do what to a plan is the single hold's table.
pub fn plan_permissions_are_those_of_single_holds<S: Storage>(open: &Open<S>) {
    let store = open(Arc::new(ManualClock::new(start_of_time())));
    let held = store
        .place_plan(release("CHG-1", "p1"), &bot())
        .expect("held");
    let denied = |outcome: Result<PlanHold, HoldError>| {
        assert!(
            matches!(outcome, Err(HoldError::NotPermitted { .. })),
            "{outcome:?}"
        );
    };
    // Placing needs the pipeline scope, and never names the caller owner.
    assert!(matches!(
        store.place_plan(release("CHG-2", "p2"), &olga()),
        Err(HoldError::NotPermitted { .. })
    ));
    let mut own = release("CHG-3", "p3");
    own.release_owner = Some("release-bot".into());
    assert!(matches!(
        store.place_plan(own, &bot()),
        Err(HoldError::NotPermitted { .. })
    ));
    // A stranger neither reads, extends nor releases it; the read scope reads.
    denied(store.get_plan(&held.id, &eve()));
    denied(store.extend_plan(&held.id, Duration::minutes(5), &eve()));
    denied(store.release_plan(&held.id, "mine now", &eve()));
    store
        .get_plan(&held.id, &auditor())
        .expect("read scope reads");
    // The requester never approves its own plan; a stranger cannot either.
    let bot_as_owner = Principal::new("release-bot", [Scope::Pipeline, Scope::ReleaseOwner]);
    for who in [bot_as_owner, eve()] {
        assert!(matches!(
            store.approve_plan(&held.id, &who, Duration::minutes(10)),
            Err(HoldError::NotPermitted { .. })
        ));
    }
    let grant = store
        .approve_plan(&held.id, &olga(), Duration::minutes(10))
        .expect("the owner approves");
    denied(store.confirm_plan(&held.id, &grant.token, &eve()));
    store
        .confirm_plan(&held.id, &grant.token, &bot())
        .expect("the requester confirms");
    // A confirmed plan is released by the owner (or an admin), not the requester.
    denied(store.release_plan(&held.id, "no longer", &bot()));
    store
        .release_plan(&held.id, "no longer", &olga())
        .expect("the owner releases");
    // Refusals are audited, naming the plan.
    let refusals: Vec<AuditRecord> = audit(&store, "CHG-1")
        .into_iter()
        .filter(|r| r.actor == "eve")
        .collect();
    assert!(refusals.len() >= 4, "{refusals:?}");
    let named = format!("plan {}", held.id);
    assert!(
        refusals.iter().all(|r| r.reason.contains(&named)),
        "{refusals:?}"
    );
}

/// A tentative plan expires whole with its holds, and then cannot be extended.
pub fn an_unconfirmed_plan_expires_whole<S: Storage>(open: &Open<S>) {
    let clock = Arc::new(ManualClock::new(start_of_time()));
    let store = open(clock.clone());
    let held = store
        .place_plan(release("CHG-1", "p1"), &bot())
        .expect("held");
    clock.advance(Duration::hours(1));
    let seen = store.get_plan(&held.id, &bot()).expect("plan");
    assert_eq!(states(&seen), [HoldState::Expired; 3]);
    assert_eq!(seen.state_at(clock_now(&store)), HoldState::Expired);
    assert!(matches!(
        store.extend_plan(&held.id, Duration::minutes(5), &bot()),
        Err(HoldError::WrongState { .. })
    ));
    // Its people are free again for another ticket.
    store
        .place_plan(release("CHG-2", "p2"), &bot())
        .expect("the time is free again");
}

fn clock_now(store: &dyn HoldStore) -> DateTime<Utc> {
    store.now()
}

/// `callers` threads place plans of different tickets that all share one
/// person at one time in their last milestone, while their other milestones
/// are each caller's own: exactly one plan is held, and no other caller's
/// milestones are left behind.
pub fn racing_overlapping_plans_hold_exactly_one<S: Storage + 'static>(
    open: &Open<S>,
    callers: usize,
) {
    let store = Arc::new(open(Arc::new(ManualClock::new(start_of_time()))));
    let threads: Vec<_> = (0..callers)
        .map(|c| {
            let store = store.clone();
            std::thread::spawn(move || {
                let own = format!("own-{c}");
                let request = plan(
                    &format!("CHG-{c}"),
                    &format!("race-{c}"),
                    vec![
                        milestone("prepare", at(1, 9), &[&own]),
                        milestone("review", at(1, 11), &[&own]),
                        milestone("cutover", at(2, 14), &["shared-sre", &own]),
                    ],
                );
                store.place_plan(request, &bot())
            })
        })
        .collect();
    let outcomes: Vec<Result<PlanHold, HoldError>> = threads
        .into_iter()
        .map(|t| t.join().expect("caller thread"))
        .collect();
    let winners: Vec<&PlanHold> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Ok(_) | Err(HoldError::Conflict { .. })),
            "{outcome:?}"
        );
    }
    let winner = &winners[0].change_ticket;
    for c in 0..callers {
        let ticket = format!("CHG-{c}");
        let holds = all_holds(store.as_ref(), &ticket);
        let placed = audit(store.as_ref(), &ticket)
            .iter()
            .filter(|r| r.action == "HOLD_PLACED")
            .count();
        let expected = if &ticket == winner { 3 } else { 0 };
        assert_eq!(holds.len(), expected, "{ticket}: {holds:?}");
        assert_eq!(placed, expected, "{ticket}");
    }
    assert!(store.overlapping_active_holds().expect("check").is_empty());
}
