//! Shared by the solver's integration tests: the brute-force reference and the
//! random problem generator.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

pub mod random;
pub mod reference;
