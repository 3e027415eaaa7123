//! Shared by the solver's integration tests: the brute-force reference and the
//! random problem generator, which live in `quorum-testkit` so over-the-wire
//! tests can use them too.

pub use quorum_testkit::{random, reference};
