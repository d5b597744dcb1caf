//! Portico's core: the portal itself, free of HTTP and UI.
//!
//! - [`catalog`]: Backstage-compatible entities: references, validation, relations.
//! - [`portal`]: the [`Portal`] handle that owns the database and the event bus; every
//!   adapter (HTTP routes, server functions, workers) works through it.
//! - [`storage`]: the database connection (SQLite or PostgreSQL), migrations, readiness.
//! - [`events`]: the append-only event log and the in-process bus that publishes it.
//! - [`environments`]: environments, deployments reported by CI/CD, health probes.
//! - [`identity`]: users, roles, API tokens, sessions and the audit log.
//! - [`notifications`]: in-app notifications, pushed live to the people they are for.
//! - [`templates`]: golden paths: Backstage software templates, their runs and actions.
//! - [`demo`]: the demo data set seeded by `portico serve --demo`.
//! - [`testing`]: fresh databases on both backends for the test suites.

pub mod approvals;
pub mod catalog;
pub mod demo;
pub mod environments;
pub mod events;
pub mod identity;
pub mod notifications;
pub mod portal;
pub mod storage;
pub mod templates;
pub mod testing;

pub use portal::{Portal, Settings};
