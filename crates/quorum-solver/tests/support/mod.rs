//! Shared by the solver's integration tests: the brute-force reference, the
//! random problem generators and the relaxation checks, which live in
//! `quorum-testkit` so over-the-wire tests can use them too.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

// Each test binary uses some of these; an unused re-export is not dead code
// the lint above covers, so each is its own item with its own expectation.
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use quorum_testkit::changes;
#[allow(unused_imports, reason = "each test binary uses a different part")]
pub use quorum_testkit::clock_change;
pub use quorum_testkit::{random, reference};
