//! Shared by the solver's integration tests: the brute-force reference and the
//! random problem generators.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

pub mod clock_change;
pub mod random;
pub mod reference;
