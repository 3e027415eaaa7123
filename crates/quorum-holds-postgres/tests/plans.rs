//! Held plans on the PostgreSQL store, on a throwaway server: the same
//! scenarios as on SQLite (`quorum-holds/tests/support/plans.rs`), one
//! database each.

#[path = "../../quorum-holds/tests/support/plans.rs"]
mod plans;
#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use quorum_holds::Broker;
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use std::sync::Arc;

type Scenario = fn(&plans::Open<PostgresStorage>);

#[test]
fn held_plans_on_postgres() {
    let Some(server) = postgres_server::TestPostgres::start() else {
        return;
    };
    let scenarios: [(&str, Scenario); 5] = [
        ("conflict", plans::a_conflict_on_one_milestone_holds_none),
        ("approval", plans::one_approval_confirms_the_whole_plan),
        (
            "permissions",
            plans::plan_permissions_are_those_of_single_holds,
        ),
        ("expiry", plans::an_unconfirmed_plan_expires_whole),
        ("race", |open| {
            plans::racing_overlapping_plans_hold_exactly_one(open, 32);
        }),
    ];
    for (name, scenario) in scenarios {
        let url = server.create_database(name);
        let open = move |clock: Arc<quorum_domain::ManualClock>| {
            let clock: Arc<dyn quorum_domain::Clock> = clock;
            let storage =
                PostgresStorage::open(&url, Some(clock), &PoolSettings::default()).expect("opens");
            Broker::new(storage, None, plans::policy()).expect("broker")
        };
        scenario(&open);
    }
}
