//! The model-based property test (see `support/model.rs`) on the embedded
//! SQLite store; each case starts from an empty file and restarts reopen it.

#[path = "support/model.rs"]
mod model;

use model::{Opener, check_against_model, op, policy};
use proptest::prelude::*;
use quorum_holds::{SqliteHoldStore, SqliteStorage};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn prop_sqlite_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("holds.db");
        let open: Opener<SqliteStorage> = Box::new(move |clock| {
            SqliteHoldStore::open(&path, clock.clone(), None, policy()).expect("store opens")
        });
        check_against_model(open, &ops)?;
    }
}
