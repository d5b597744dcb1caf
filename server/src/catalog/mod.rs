//! The catalog at the edge: the `portico import` command (the REST routes join it here).

pub mod import;
