//! ajar finds databases and admin panels on infrastructure you own that answer without
//! credentials, and says what they expose: names, counts, sizes and field names that look
//! like personal data, never the data itself.
//!
//! The library is what the `ajar` binary, the tests and other tools use:
//! [`targets`] parses and expands targets, [`scan`] runs probes over them with bounded
//! concurrency, [`probe`] holds one module per protocol, [`finding`] is the result model and
//! [`report`] writes it out.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod detect;
pub mod finding;

pub mod net;
pub mod probe;
pub mod progress;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod targets;
pub mod time;
pub mod triage;
