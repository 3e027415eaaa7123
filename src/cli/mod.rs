//! Command-line tools: solve a request file locally or against a server and
//! print the slots (or a release programme's plans) for a person to read,
//! generate load against a server, and turn calendars into the request's
//! `people` entries.

pub mod calendars;
pub mod connect;
pub mod find_slots;
pub mod health;
pub mod hold_plan;
pub mod hold_slot;
pub mod holds;
pub mod holds_plan;
pub mod load;
pub mod load_holds;
pub mod plan;
