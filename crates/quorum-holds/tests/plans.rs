//! Held plans on the embedded SQLite store (the scenarios are in
//! `support/plans.rs`, shared with the PostgreSQL store's tests).

#[path = "support/plans.rs"]
mod plans;

use quorum_holds::{SqliteHoldStore, SqliteStorage};
use std::sync::Arc;

fn run(scenario: fn(&plans::Open<SqliteStorage>)) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("holds.db");
    let open = move |clock: Arc<quorum_domain::ManualClock>| {
        SqliteHoldStore::open(&path, clock, None, plans::policy()).expect("store opens")
    };
    scenario(&open);
}

#[test]
fn a_conflict_on_one_milestone_holds_none() {
    run(plans::a_conflict_on_one_milestone_holds_none);
}

#[test]
fn one_approval_confirms_the_whole_plan() {
    run(plans::one_approval_confirms_the_whole_plan);
}

#[test]
fn plan_permissions_are_those_of_single_holds() {
    run(plans::plan_permissions_are_those_of_single_holds);
}

#[test]
fn an_unconfirmed_plan_expires_whole() {
    run(plans::an_unconfirmed_plan_expires_whole);
}

#[test]
fn thirty_two_racing_overlapping_plans_hold_exactly_one() {
    run(|open| plans::racing_overlapping_plans_hold_exactly_one(open, 32));
}
