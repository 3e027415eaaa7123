//! Command-line tools: solve a request file locally or against a server and
//! print the slots (or a release programme's plans) for a person to read, and generate load against a server.

pub mod connect;
pub mod find_slots;
pub mod holds;
pub mod load;
pub mod plan;
