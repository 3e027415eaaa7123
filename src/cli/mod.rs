//! Command-line tools: solve a request file locally or against a server and
//! print the slots for a person to read, and generate load against a server.

pub mod connect;
pub mod find_slots;
pub mod holds;
pub mod load;
pub mod load_holds;
