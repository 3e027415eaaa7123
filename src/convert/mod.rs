//! The one place where protobuf messages become domain types and back.
//!
//! Parsing problems (a missing timestamp, an unknown zone, "9:5" as a time)
//! are reported here with the request's field paths; the rules of a valid
//! problem are the domain's (`SlotProblem::validate`), reported the same way.

mod calendars;
pub mod holds;
pub mod plan_holds;
mod problem;
mod programme;
mod programme_response;
mod request;
mod response;
mod timestamp;

pub use calendars::{calendar_plan, provenance_to_proto};
pub use problem::{person_to_proto, problem_to_request};
pub use programme::{display_zone as programme_display_zone, release_programme};
pub use programme_response::{engine_to_proto as plan_engine_to_proto, plans_to_response};
pub use request::{display_zone, engine_from_proto, slot_problem};
pub use response::search_to_response;
pub use timestamp::{from_timestamp, to_timestamp};
