//! The catalog at the edge: the `portico import` command and the REST API.

pub mod import;
pub mod locations;
pub mod routes;
pub mod schema;
