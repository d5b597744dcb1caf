use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use portico_core::environments::probes::ProbeDefaults;
use portico_core::Portal;

use crate::events::hub::Hub;
use crate::identity::AuthState;
use crate::operations::metrics::Metrics;

/// What every handler can reach: cheap to clone (handles and `Arc`s inside).
#[derive(Clone)]
pub struct AppState {
    /// The portal: database, event log, services.
    pub portal: Portal,
    /// Where the UI's files are and what they are called, for Leptos' rendering.
    pub leptos: LeptosOptions,
    /// Request and pool metrics, served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Sign-in: the public origin, the identity provider, the demo sign-in.
    pub auth: Arc<AuthState>,
    /// The live channel: subscriptions and the fan-out of events to sockets.
    pub hub: Arc<Hub>,
    /// The secret GitHub signs `deployment_status` webhooks with; none turns the
    /// webhook off.
    pub github_webhook_secret: Option<Arc<str>>,
    /// Probe timing where a probe defined through the API does not give its own.
    pub probe_defaults: ProbeDefaults,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
