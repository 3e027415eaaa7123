//! The model-based property test (`quorum-holds/tests/support/model.rs`) on
//! PostgreSQL: the same rules and the same model as on SQLite. Each case
//! starts from an empty schema; restarts open a new pool on the same data.
//! A manual clock stands in for the database's, so the model can move time.

#[path = "../../quorum-holds/tests/support/model.rs"]
mod model;
#[path = "../../../tests/support/postgres.rs"]
mod postgres_server;

use model::{Opener, check_against_model, op, policy};
use proptest::prelude::*;
use quorum_domain::Clock;
use quorum_holds::Broker;
use quorum_holds_postgres::{PoolSettings, PostgresStorage};
use std::sync::{Arc, OnceLock};

fn server() -> Option<&'static postgres_server::TestPostgres> {
    static SERVER: OnceLock<Option<postgres_server::TestPostgres>> = OnceLock::new();
    SERVER
        .get_or_init(postgres_server::TestPostgres::start)
        .as_ref()
}

/// An empty database for one case: the schema dropped and migrated anew.
fn fresh(url: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .expect("empty schema");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_postgres_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let Some(server) = server() else { return Ok(()) };
        static DATABASE: OnceLock<String> = OnceLock::new();
        let url = DATABASE.get_or_init(|| server.create_database("model")).clone();
        fresh(&url);
        let settings = PoolSettings { max_connections: 2, ..PoolSettings::default() };
        let open: Opener<PostgresStorage> = Box::new(move |clock| {
            let clock: Arc<dyn Clock> = clock.clone();
            let storage = PostgresStorage::open(&url, Some(clock), &settings).expect("store opens");
            Broker::new(storage, None, policy()).expect("broker")
        });
        check_against_model(open, &ops)?;
    }
}
