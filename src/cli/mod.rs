//! Command-line tools: solve a request file locally or against a server and
//! print the slots for a person to read, and generate load against a server.

pub mod find_slots;
pub mod headline;
pub mod holds;
pub mod load;
