//! What the dashboards and the read API show: the components of an environment, the
//! matrix of components × environments, what changed lately, and one component's
//! history.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::Row;

use super::deployments::{deployment_from, DeploymentFilter};
use super::health::{health_from, RecentCheck, UptimeBucket};
use super::model::{Deployment, Environment, Health, HealthStatus};
use super::{EnvironmentError, Environments};
use crate::storage::sql::{now_millis, Placeholders};

/// A component as the dashboards name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// The reference key.
    pub entity: String,
    pub title: Option<String>,
    /// Reference keys of its owner and system (from its relations).
    pub owner: Option<String>,
    pub system: Option<String>,
    /// False when the entity has left the catalog since it was deployed.
    pub in_catalog: bool,
}

/// A component in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComponentState {
    pub component: ComponentInfo,
    /// What runs there (the deployment started last).
    pub deployment: Option<Deployment>,
    /// How it is doing; `None` when neither probed nor pushed.
    pub health: Option<Health>,
    /// Whether a probe checks it there.
    pub probed: bool,
}

impl ComponentState {
    /// How bad it looks, worst first: down, failed deployment, degraded, deploying,
    /// unknown, fine.
    pub fn severity(&self) -> u8 {
        let health = self.health.as_ref().map(|h| h.status);
        let deployment = self.deployment.as_ref().map(|d| d.status);
        match (health, deployment) {
            (Some(HealthStatus::Down), _) => 0,
            (_, Some(s)) if s.is_problem() => 1,
            (Some(HealthStatus::Degraded), _) => 2,
            (_, Some(super::DeploymentStatus::Started)) => 3,
            (Some(HealthStatus::Unknown), _) => 4,
            _ => 5,
        }
    }
}

/// One environment and every component with a deployment or a probe there, problems
/// first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvironmentView {
    pub environment: Environment,
    pub components: Vec<ComponentState>,
}

/// Components × environments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub environments: Vec<Environment>,
    /// One row per component, problems first; cells keyed by environment name.
    pub rows: Vec<MatrixRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    pub component: ComponentInfo,
    pub cells: BTreeMap<String, ComponentState>,
}

impl MatrixRow {
    /// The worst severity of its cells, production counting first.
    fn rank(&self, tiers: &BTreeMap<String, super::Tier>) -> (u8, std::cmp::Reverse<super::Tier>) {
        self.cells
            .iter()
            .map(|(env, cell)| {
                (
                    cell.severity(),
                    std::cmp::Reverse(tiers.get(env).copied().unwrap_or(super::Tier::Development)),
                )
            })
            .min()
            .unwrap_or((u8::MAX, std::cmp::Reverse(super::Tier::Development)))
    }
}

/// A deployment reported or moved on, or a health status changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The event's id in the log.
    pub id: i64,
    pub at: i64,
    /// `deployment.reported`, `deployment.updated` or `health.changed`.
    pub kind: String,
    pub entity: String,
    pub environment: String,
    pub deployment: Option<Deployment>,
    pub health: Option<Health>,
    pub previous: Option<HealthStatus>,
}

/// One component in one environment, over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvironmentHistory {
    pub environment: Environment,
    pub current: Option<Deployment>,
    pub health: Option<Health>,
    pub probe_url: Option<String>,
    /// The latest deployments, newest first.
    pub deployments: Vec<Deployment>,
    /// The last 24 hours of checks, in spans of [`HISTORY_SPAN_MS`].
    pub uptime: Vec<UptimeBucket>,
    /// The latest checks, newest first.
    pub checks: Vec<RecentCheck>,
}

/// What runs where: each current deployment's row (filtered by the caller on `c.`).
const RUNNING: &str =
    "SELECT d.seq, d.id, d.entity_ref, d.environment, d.version, d.commit_sha, d.url, \
     d.status, d.started_at, d.finished_at, d.actor, d.reported_by, d.updated_at \
     FROM current_deployments c JOIN deployments d ON d.seq = c.deployment_seq";

/// How an environment is doing, over some of its components.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Components with a deployment or a probe there.
    pub components: usize,
    /// Components degraded or down there.
    pub unhealthy: usize,
    /// Components whose deployment there failed or was rolled back.
    pub failing: usize,
}

impl Counts {
    pub fn of<'a>(states: impl IntoIterator<Item = &'a ComponentState>) -> Self {
        states
            .into_iter()
            .fold(Self::default(), |mut counts, state| {
                counts.components += 1;
                if state.health.as_ref().is_some_and(|h| h.status.is_problem()) {
                    counts.unhealthy += 1;
                }
                if state
                    .deployment
                    .as_ref()
                    .is_some_and(|d| d.status.is_problem())
                {
                    counts.failing += 1;
                }
                counts
            })
    }
}

/// Spans of the 24-hour charts: 96 of a quarter-hour.
pub const HISTORY_SPAN_MS: i64 = 15 * 60_000;
const DAY_MS: i64 = 24 * 3_600_000;

impl Environments {
    /// Names, owners and systems of `keys`.
    async fn components(
        &self,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, ComponentInfo>, EnvironmentError> {
        let mut out: BTreeMap<String, ComponentInfo> = keys
            .iter()
            .map(|key| {
                (
                    key.clone(),
                    ComponentInfo {
                        entity: key.clone(),
                        title: None,
                        owner: None,
                        system: None,
                        in_catalog: false,
                    },
                )
            })
            .collect();
        let keys: Vec<&String> = keys.iter().collect();
        let mut conn = self.db.pool().acquire().await?;
        for chunk in keys.chunks(500) {
            let list = Placeholders::of(&conn).list(1, chunk.len());
            let sql = format!(
                "SELECT e.ref_key, (SELECT MIN(s.original_value) FROM catalog_search s \
                 WHERE s.entity_id = e.id AND s.key = 'metadata.title') AS title \
                 FROM catalog_entities e WHERE e.ref_key IN ({list})"
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for row in query.fetch_all(&mut *conn).await? {
                let key: String = row.try_get("ref_key")?;
                let title: Option<String> = row.try_get("title")?;
                if let Some(info) = out.get_mut(&key) {
                    info.in_catalog = true;
                    info.title = title.filter(|t| !t.trim().is_empty());
                }
            }
            let sql = format!(
                "SELECT source_ref, relation_type, target_ref FROM catalog_relations \
                 WHERE source_ref IN ({list}) AND relation_type IN ('ownedBy', 'partOf')"
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for row in query.fetch_all(&mut *conn).await? {
                let source: String = row.try_get("source_ref")?;
                let relation: String = row.try_get("relation_type")?;
                let target: String = row.try_get("target_ref")?;
                if let Some(info) = out.get_mut(&source) {
                    match relation.as_str() {
                        "ownedBy" => info.owner = Some(target),
                        _ if target.starts_with("system:") => info.system = Some(target),
                        _ => {}
                    }
                }
            }
        }
        Ok(out)
    }

    /// The state of every component in `environment` (all environments when `None`).
    async fn states(
        &self,
        environment: Option<&str>,
    ) -> Result<Vec<(String, ComponentState)>, EnvironmentError> {
        let filter = environment.map_or(String::new(), |_| " WHERE c.environment = $1".into());
        let mut conn = self.db.pool().acquire().await?;
        let mut deployments: BTreeMap<(String, String), Deployment> = BTreeMap::new();
        let sql = format!("{RUNNING}{filter}");
        let mut query = sqlx::query(&sql);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let (_, deployment) = deployment_from(&row)?;
            deployments.insert(
                (deployment.entity.clone(), deployment.environment.clone()),
                deployment,
            );
        }
        let sql = format!(
            "SELECT c.entity_ref, c.environment, c.status, c.since, c.checked_at, c.latency_ms, \
             c.message, c.source FROM health c{filter}"
        );
        let mut query = sqlx::query(&sql);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let mut health: BTreeMap<(String, String), Health> = BTreeMap::new();
        for row in query.fetch_all(&mut *conn).await? {
            let h = health_from(&row)?;
            health.insert((h.entity.clone(), h.environment.clone()), h);
        }
        let sql = format!("SELECT c.entity_ref, c.environment FROM health_probes c{filter}");
        let mut query = sqlx::query(&sql);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let mut probed: BTreeSet<(String, String)> = BTreeSet::new();
        for row in query.fetch_all(&mut *conn).await? {
            probed.insert((row.try_get("entity_ref")?, row.try_get("environment")?));
        }
        drop(conn);
        let pairs: BTreeSet<(String, String)> = deployments
            .keys()
            .chain(health.keys())
            .chain(probed.iter())
            .cloned()
            .collect();
        let keys: BTreeSet<String> = pairs.iter().map(|(entity, _)| entity.clone()).collect();
        let components = self.components(&keys).await?;
        Ok(pairs
            .into_iter()
            .map(|pair| {
                let state = ComponentState {
                    component: components[&pair.0].clone(),
                    deployment: deployments.remove(&pair),
                    health: health.remove(&pair),
                    probed: probed.contains(&pair),
                };
                (pair.1, state)
            })
            .collect())
    }

    /// The environment called `name` with its components, problems first; `None` when
    /// there is no such environment.
    pub async fn environment_view(
        &self,
        name: &str,
    ) -> Result<Option<EnvironmentView>, EnvironmentError> {
        let Some(environment) = self.get(name).await? else {
            return Ok(None);
        };
        let mut components: Vec<ComponentState> = self
            .states(Some(&environment.name))
            .await?
            .into_iter()
            .map(|(_, state)| state)
            .collect();
        components.sort_by(|a, b| {
            (a.severity(), &a.component.entity).cmp(&(b.severity(), &b.component.entity))
        });
        Ok(Some(EnvironmentView {
            environment,
            components,
        }))
    }

    /// Every component with a deployment or a probe somewhere, by environment; rows with
    /// problems first (production's before staging's before development's).
    pub async fn matrix(&self) -> Result<Matrix, EnvironmentError> {
        let environments = self.list().await?;
        let tiers: BTreeMap<String, super::Tier> = environments
            .iter()
            .map(|e| (e.name.clone(), e.tier))
            .collect();
        let mut rows: BTreeMap<String, MatrixRow> = BTreeMap::new();
        for (environment, state) in self.states(None).await? {
            rows.entry(state.component.entity.clone())
                .or_insert_with(|| MatrixRow {
                    component: state.component.clone(),
                    cells: BTreeMap::new(),
                })
                .cells
                .insert(environment, state);
        }
        let mut rows: Vec<MatrixRow> = rows.into_values().collect();
        rows.sort_by_cached_key(|row| (row.rank(&tiers), row.component.entity.clone()));
        Ok(Matrix { environments, rows })
    }

    /// Deployments and health changes since `since` (Unix milliseconds), newest first,
    /// at most `limit`; only `environment`'s when given.
    pub async fn changes(
        &self,
        since: i64,
        environment: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Change>, EnvironmentError> {
        let topics = match environment {
            Some(name) => vec![format!("environment:{name}")],
            None => vec!["deployments".to_owned(), "health".to_owned()],
        };
        let mut out = Vec::new();
        for topic in topics {
            let rows = sqlx::query(
                "SELECT id, event_type, payload, created_at FROM events \
                 WHERE topic = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3",
            )
            .bind(&topic)
            .bind(since)
            .bind(i64::from(limit))
            .fetch_all(self.db.pool())
            .await?;
            for row in rows {
                let kind: String = row.try_get("event_type")?;
                if !(kind.starts_with("deployment.") || kind.starts_with("health.")) {
                    continue;
                }
                let payload: String = row.try_get("payload")?;
                let Ok(payload) = serde_json::from_str::<serde_json::Value>(&payload) else {
                    continue;
                };
                out.push(Change {
                    id: row.try_get("id")?,
                    at: row.try_get("created_at")?,
                    kind,
                    entity: payload["entity"].as_str().unwrap_or_default().to_owned(),
                    environment: payload["environment"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    deployment: serde_json::from_value(payload["deployment"].clone()).ok(),
                    health: serde_json::from_value(payload["health"].clone()).ok(),
                    previous: serde_json::from_value(payload["previous"].clone()).ok(),
                });
            }
        }
        out.sort_by_key(|change| std::cmp::Reverse(change.id));
        out.truncate(limit as usize);
        Ok(out)
    }

    /// `entity`'s deployments and health in every environment where it has some, in
    /// environment order.
    pub async fn history(
        &self,
        entity: &str,
        deployments_shown: u32,
        checks_shown: u32,
    ) -> Result<Vec<EnvironmentHistory>, EnvironmentError> {
        let environments = self.list().await?;
        let health = self.health_of(entity).await?;
        let probes = self.probes(Some(entity), None).await?;
        let from = now_millis() - DAY_MS;
        let mut out = Vec::new();
        for environment in environments {
            let deployments = self
                .deployments(&DeploymentFilter {
                    entity: Some(entity.to_owned()),
                    environment: Some(environment.name.clone()),
                    limit: deployments_shown,
                    ..DeploymentFilter::default()
                })
                .await?
                .items;
            let health = health
                .iter()
                .find(|h| h.environment == environment.name)
                .cloned();
            let probe_url = probes
                .iter()
                .find(|p| p.environment == environment.name)
                .map(|p| p.url.clone());
            if deployments.is_empty() && health.is_none() && probe_url.is_none() {
                continue;
            }
            let current = self.current(entity, &environment.name).await?;
            let uptime = self
                .uptime(entity, &environment.name, from, HISTORY_SPAN_MS)
                .await?;
            let checks = self
                .recent_checks(entity, &environment.name, checks_shown)
                .await?;
            out.push(EnvironmentHistory {
                environment,
                current,
                health,
                probe_url,
                deployments,
                uptime,
                checks,
            });
        }
        Ok(out)
    }

    /// What runs of `entity` in `environment`.
    pub async fn current(
        &self,
        entity: &str,
        environment: &str,
    ) -> Result<Option<Deployment>, EnvironmentError> {
        let row = sqlx::query(&format!(
            "{RUNNING} WHERE c.entity_ref = $1 AND c.environment = $2"
        ))
        .bind(entity)
        .bind(environment)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row
            .as_ref()
            .map(deployment_from)
            .transpose()?
            .map(|(_, d)| d))
    }
}
