//! The demo's traffic: with `--demo`, a simulated CI/CD system and monitoring system
//! report deployments and health changes every few seconds, so the dashboards move.
//!
//! It is a client like any other: it holds an API token of its own (role `sre`, named
//! `demo-simulator`, made afresh at every start) and calls the public HTTP API.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use portico_core::catalog::query::{Filter, Query};
use portico_core::identity::{NewToken, Role};
use portico_core::Portal;
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// The token's name (tokens are named uniquely among live ones).
const TOKEN_NAME: &str = "demo-simulator";
/// Components the simulator deploys.
const COMPONENTS: usize = 12;
/// Environments the demo has, in order.
pub const DEMO_ENVIRONMENTS: [&str; 3] = ["dev", "staging", "production"];

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error(transparent)]
    Identity(#[from] portico_core::identity::IdentityError),
    #[error(transparent)]
    Catalog(#[from] portico_core::catalog::CatalogError),
    #[error(transparent)]
    Query(#[from] portico_core::catalog::query::QueryError),
    #[error("the demo simulator's request failed: {0}")]
    Http(#[from] reqwest::Error),
}

/// One component's simulated life: its version and its health per environment.
struct Service {
    entity: String,
    /// The minor version last deployed to each environment.
    versions: HashMap<&'static str, u32>,
    /// Environments where it is currently unwell.
    unwell: HashMap<&'static str, &'static str>,
}

/// A report to send later (a deployment finishing, a service recovering).
struct Later {
    at: Instant,
    path: &'static str,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn post(&self, path: &str, body: &Value) -> Result<(), SimulatorError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            warn!(%status, path, body = %text, "the demo simulator's report was refused");
        }
        Ok(())
    }
}

/// Runs until cancelled: reports a deployment or a health change every few seconds.
pub async fn run(portal: Portal, addr: SocketAddr) -> Result<(), SimulatorError> {
    let identity = portal.identity();
    for token in identity.tokens().await? {
        if token.name == TOKEN_NAME && token.revoked_at.is_none() {
            identity.revoke_token(&token.id, "system:demo").await?;
        }
    }
    let (_, secret) = identity
        .create_token(
            &NewToken {
                name: TOKEN_NAME.into(),
                role: Role::Sre,
                expires_in_days: Some(1),
            },
            "system:demo",
        )
        .await?;
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        base: format!("http://{addr}"),
        token: secret,
    };
    let page = portal
        .catalog()
        .query(&Query {
            filter: Filter::parse(&["kind=component,spec.type=service".to_owned()])?,
            order: Vec::new(),
            full_text: None,
            offset: 0,
            limit: COMPONENTS as u64,
        })
        .await?;
    let mut services: Vec<Service> = page
        .items
        .iter()
        .filter_map(|e| portico_core::catalog::Entity::reference_of(&e.body))
        .map(|r| Service {
            entity: r.key(),
            versions: HashMap::new(),
            unwell: HashMap::new(),
        })
        .collect();
    if services.is_empty() {
        info!("the demo catalog has no services: the simulator has nothing to deploy");
        return Ok(());
    }
    let mut run = 0u64;
    let seed = portico_core::storage::sql::now_millis();
    // A first release everywhere, so the dashboards start full.
    let first = portal.environments().deployments(&Default::default()).await;
    if first.is_ok_and(|page| page.items.is_empty()) {
        for service in &mut services {
            for environment in DEMO_ENVIRONMENTS {
                run += 1;
                let minor = fastrand::u32(1..9);
                service.versions.insert(environment, minor);
                let body = deployment(&service.entity, environment, minor, "succeeded", seed, run);
                client.post("/api/v1/deployments", &body).await?;
                let health = json!({ "entity": service.entity, "environment": environment, "status": "healthy", "latency_ms": fastrand::i64(20..120) });
                client.post("/api/v1/health", &health).await?;
            }
        }
    }
    info!(services = services.len(), "demo simulator started");
    let mut later: Vec<Later> = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(2500..5000))).await;
        let now = Instant::now();
        let (due, waiting): (Vec<Later>, Vec<Later>) = later.drain(..).partition(|l| l.at <= now);
        later = waiting;
        for report in due {
            client.post(report.path, &report.body).await?;
        }
        let pick = fastrand::usize(..services.len());
        let service = &mut services[pick];
        // Most changes happen in development, fewest in production.
        let environment = match fastrand::u8(0..10) {
            0..=4 => "dev",
            5..=7 => "staging",
            _ => "production",
        };
        run += 1;
        if fastrand::u8(0..10) < 6 {
            let minor = service.versions.get(environment).copied().unwrap_or(0) + 1;
            service.versions.insert(environment, minor);
            debug!(entity = %service.entity, environment, minor, "demo deployment");
            let started = deployment(&service.entity, environment, minor, "started", seed, run);
            client.post("/api/v1/deployments", &started).await?;
            let mut finished = started.clone();
            finished["status"] = json!(if fastrand::u8(0..10) == 0 {
                "failed"
            } else {
                "succeeded"
            });
            later.push(Later {
                at: now + Duration::from_millis(fastrand::u64(3000..8000)),
                path: "/api/v1/deployments",
                body: finished,
            });
        } else if let Some(status) = service.unwell.remove(environment) {
            debug!(entity = %service.entity, environment, status, "demo recovery");
            let body = json!({ "entity": service.entity, "environment": environment, "status": "healthy", "latency_ms": fastrand::i64(20..120) });
            client.post("/api/v1/health", &body).await?;
        } else {
            let (status, message, latency) = if fastrand::bool() {
                (
                    "degraded",
                    "p99 latency above 800 ms",
                    fastrand::i64(800..2000),
                )
            } else {
                ("down", "health endpoint answered HTTP 503", 0)
            };
            service.unwell.insert(environment, status);
            let body = json!({ "entity": service.entity, "environment": environment, "status": status, "message": message, "latency_ms": latency });
            client.post("/api/v1/health", &body).await?;
            // It recovers by itself a little later, unless picked again first.
            later.push(Later {
                at: now + Duration::from_secs(fastrand::u64(10..40)),
                path: "/api/v1/health",
                body: json!({ "entity": service.entity, "environment": environment, "status": "healthy", "latency_ms": fastrand::i64(20..120) }),
            });
        }
    }
}

/// A deployment report of version `1.<minor>.0`.
fn deployment(
    entity: &str,
    environment: &str,
    minor: u32,
    status: &str,
    seed: i64,
    run: u64,
) -> Value {
    let commit: String = (0..12)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect();
    json!({
        "id": format!("demo-{seed}-{run}"),
        "entity": entity,
        "environment": environment,
        "version": format!("1.{minor}.0"),
        "status": status,
        "commit": commit,
        "actor": "demo-pipeline",
    })
}
