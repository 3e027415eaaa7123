//! The model-based property test (`quorum-holds/tests/support/model.rs`) on
//! PostgreSQL: the same rules and the same model as on SQLite. Each case
//! starts from an empty schema; restarts open a new pool on the same data.
//! A manual clock stands in for the database's, so the model can move time.
//! The runner is driven by hand, not by `proptest!`, so the server is owned
//! by the test and stopped when it ends, pass or fail.

#[path = "../../quorum-holds/tests/support/model.rs"]
mod model;
#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use model::{Opener, check_against_model, op, policy};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use quorum_domain::Clock;
use quorum_holds::Broker;
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use std::sync::Arc;

/// An empty database for one case: the schema dropped and migrated anew.
fn fresh(url: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .expect("empty schema");
}

#[test]
fn prop_postgres_store_agrees_with_the_model() {
    let Some(server) = postgres_server::TestPostgres::start() else {
        return;
    };
    let url = server.create_database("model");
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&prop::collection::vec(op(), 1..40), |ops| {
        fresh(&url);
        let url = url.clone();
        let settings = PoolSettings {
            max_connections: 2,
            ..PoolSettings::default()
        };
        let open: Opener<PostgresStorage> = Box::new(move |clock| {
            let clock: Arc<dyn Clock> = clock.clone();
            let storage = PostgresStorage::open(&url, Some(clock), &settings).expect("store opens");
            Broker::new(storage, None, policy()).expect("broker")
        });
        check_against_model(open, &ops)
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
