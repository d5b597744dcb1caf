//! The database: one sqlx `Any` pool over SQLite (embedded default) or PostgreSQL.
//!
//! Queries are checked at run time and written once for both backends; where the SQL
//! must differ, the code matches on [`Backend`] right beside the query. Every query runs
//! in the integration suite against both databases.

mod database;
mod error;
mod migrations;
pub mod sql;

pub use database::{redact_url, Backend, Database};
pub use error::StorageError;
pub use migrations::{MigrationState, MigrationStatus, Readiness};
