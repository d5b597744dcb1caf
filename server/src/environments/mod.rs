//! Environments at the edge: the `/api/v1` environments, deployments, health and probes
//! API, GitHub's deployment webhook, the probe engine's start, and the demo simulator.
//!
//! - [`routes`]: environments, deployments, pushed health, probes.
//! - [`github`]: `POST /api/v1/webhooks/github` (`deployment_status`, signed).
//! - [`simulator`]: the demo's simulated CI/CD and monitoring.

pub mod github;
pub mod routes;
pub mod schema;
pub mod simulator;

use std::sync::Arc;

use portico_core::environments::definitions::Source;
use portico_core::environments::probes::engine::{ProbeEngine, ProbeSettings};
use portico_core::environments::{EnvironmentError, EnvironmentSpec};
use portico_core::Portal;

use crate::access::Routes;
use crate::operations::metrics::ProbeMetrics;

pub fn routes() -> Routes {
    routes::routes().merge(github::routes())
}

/// Declares the configured environments, and with the demo its three (those not
/// configured otherwise).
pub async fn define(
    portal: &Portal,
    configured: &[EnvironmentSpec],
    demo: bool,
) -> Result<(), EnvironmentError> {
    let environments = portal.environments();
    environments.define_all(configured, Source::Config).await?;
    if demo {
        let existing = environments.list().await?;
        let mut order = existing.iter().map(|e| e.order).max().unwrap_or(-10);
        for name in simulator::DEMO_ENVIRONMENTS {
            if existing.iter().all(|e| e.name != name) {
                order += 10;
                let mut spec = EnvironmentSpec::parse(name)?;
                spec.order = Some(order);
                environments.define(&spec, Source::Demo).await?;
            }
        }
    }
    Ok(())
}

/// The probe engine, to run under the supervisor.
pub fn probe_engine(
    portal: &Portal,
    settings: &ProbeSettings,
    metrics: &ProbeMetrics,
) -> ProbeEngine {
    ProbeEngine::new(
        portal.environments(),
        settings.clone(),
        Arc::new(metrics.clone()),
    )
}
