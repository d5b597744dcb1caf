//! The `portico` binary's library: the axum edge around `portico-core`.
//!
//! - [`cli`]: the command line (`serve`, `migrate`, `import`).
//! - [`access`]: what each route needs, and the one check that enforces it.
//! - [`catalog`]: the catalog's commands and routes.
//! - [`events`]: the live channel (Phoenix Channels v2 over a websocket).
//! - [`environments`]: environments, deployment reports (API and GitHub webhook), health
//!   and probes over HTTP; the probe engine's start; the demo simulator.
//! - [`identity`]: sign-in (OIDC, demo), sessions, tokens and the audit log over HTTP.
//! - [`notifications`]: a person's inbox over HTTP.
//! - [`config`]: one typed [`Config`](config::Config) from `portico.toml`, `PORTICO_*`
//!   variables and flags.
//! - [`startup`]: binding, background migrations, graceful shutdown.
//! - [`state`]: the [`AppState`](state::AppState) every handler receives.
//! - [`error`]: the one mapping from core errors to HTTP responses.
//! - [`openapi`]: the OpenAPI document of the JSON API.
//! - [`operations`]: `/healthz`, `/readyz`, `/metrics`.
//! - [`ui`]: the Leptos pages, their server functions, and the site's static files.
//! - [`telemetry`]: logging set-up.

pub mod access;
pub mod approvals;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod environments;
pub mod error;
pub mod events;
pub mod identity;
pub mod notifications;
pub mod openapi;
pub mod operations;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod templates;
pub mod ui;
