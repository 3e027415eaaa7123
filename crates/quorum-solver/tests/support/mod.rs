//! Shared by the solver's integration tests: the brute-force reference and the
//! random problem generator, which live in `quorum-testkit` so over-the-wire
//! tests can use them too.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

pub mod changes;
pub mod clock_change;
pub use quorum_testkit::{random, reference};
