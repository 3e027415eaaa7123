//! The Quorum service: the generated protobuf code, the conversions between it
//! and the domain, the gRPC services and the server that runs them, and the
//! command-line tools built on the same pieces. The domain and the solver live
//! in `crates/`; everything here is the edge.

pub mod auth;
pub mod calendar_sources;
pub mod cli;
pub mod connection;
pub mod convert;
pub mod error;
pub mod hold_broker;
pub mod json;
pub mod pb;
pub mod picture;
pub mod release_planner;
pub mod report;
pub mod server;
pub mod slot_finder;
