//! Command-line tools: solve a request file locally or against a server and
//! print the slots for a person to read.

pub mod find_slots;
