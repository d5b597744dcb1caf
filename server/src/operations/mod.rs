//! What operators and orchestrators call: liveness, readiness, metrics.

pub mod health;
pub mod metrics;

use crate::access::{Need, Routes};

/// `/healthz` and `/readyz` are open, as probes expect. `/metrics` is open only when
/// configured so (a scraper on a private network); otherwise a scraper sends a token.
pub fn routes(metrics_public: bool) -> Routes {
    let metrics_need = if metrics_public {
        Need::Public
    } else {
        Need::VIEWER
    };
    Routes::new()
        .get("/healthz", Need::Public, health::liveness)
        .get("/readyz", Need::Public, health::readiness)
        .get("/metrics", metrics_need, metrics::export)
}
