//! What operators and orchestrators call: liveness, readiness, metrics.

pub mod health;
pub mod metrics;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// `/healthz`, `/readyz` and `/metrics`: unauthenticated, as probes and scrapers expect.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness))
        .route("/metrics", get(metrics::export))
}
