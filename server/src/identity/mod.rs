//! Signing in and who is asking: OIDC and demo sign-in, sessions, API tokens, the
//! audit log, and the per-request caller.
//!
//! - [`caller`]: resolves the caller from a token or the session; the origin check.
//! - [`session`]: the session store in the database and the cookie's settings.
//! - [`oidc`]: the OpenID Connect relying party.
//! - [`demo`]: the demo people (no provider, loopback only).
//! - [`pages`]: `/login` and the sign-in error page, rendered without wasm.
//! - [`routes`]: `/auth/*`, `/login`, `/api/me`.
//! - [`admin`]: `/api/admin/tokens` and `/api/admin/audit`.
//! - [`tokens_cli`]: `portico token create|list|revoke`.

pub mod admin;
pub mod caller;
pub mod demo;
pub mod oidc;
pub mod pages;
pub mod routes;
pub mod session;
pub mod tokens_cli;

use std::sync::Arc;

pub use caller::Caller;
use portico_core::identity::{NewAudit, Outcome};
use url::Url;

use crate::config::{AuthConfig, OidcConfig};

/// What the sign-in routes and the caller check need, resolved at start.
pub struct AuthState {
    /// The public URL with the port the server really listens on.
    pub public_url: Url,
    /// Its origin (`http://127.0.0.1:3000`), which browser requests must come from.
    pub origin: String,
    pub provider: Option<Arc<oidc::Provider>>,
    /// Whether the demo people may sign in.
    pub demo: bool,
    pub session_max: time::Duration,
    pub metrics_public: bool,
    /// Credentials verified recently, for a database outage.
    pub recent: caller::RecentCallers,
}

/// Audits a change made by the caller; a failure to audit is logged (the change was
/// made already).
pub async fn audit_change(
    state: &crate::state::AppState,
    caller: &Caller,
    action: &'static str,
    target: String,
    detail: serde_json::Value,
) {
    routes::audit(
        state,
        NewAudit {
            actor: caller.actor(),
            action,
            target,
            outcome: Outcome::Ok,
            detail,
        },
    )
    .await;
}

impl AuthState {
    pub fn new(config: &AuthConfig, public_url: Url, demo: bool) -> Self {
        let provider = config
            .oidc
            .clone()
            .map(|oidc: OidcConfig| Arc::new(oidc::Provider::new(oidc, &public_url)));
        Self {
            origin: public_url.origin().ascii_serialization(),
            public_url,
            provider,
            demo,
            session_max: config.session_max,
            metrics_public: config.metrics_public,
            recent: caller::RecentCallers::default(),
        }
    }
}
