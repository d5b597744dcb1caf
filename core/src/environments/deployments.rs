//! Deployment reports from CI/CD.
//!
//! A report is idempotent on its `id`: the same report twice changes nothing, and a
//! later report for the same id moves the deployment forward (`started` → `succeeded` or
//! `failed` → `rolled_back`), never back. What runs in an environment is the deployment
//! started last there.

use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::model::{Deployment, DeploymentStatus};
use super::{change_events, EnvironmentError, Environments};
use crate::storage::sql::{now_millis, Sql};
use crate::storage::Backend;

/// Longest id, version, commit, actor or URL accepted.
const MAX_TEXT: usize = 200;
const MAX_URL: usize = 2000;
/// Deployments listed per page at most.
pub const MAX_PAGE: u32 = 500;

/// A report as received, before it is checked.
#[derive(Clone, Debug, Default)]
pub struct DeploymentReport {
    pub id: String,
    /// A catalog reference: `component:default/payments` or `payments`.
    pub entity: String,
    pub environment: String,
    pub version: String,
    pub status: String,
    pub commit: Option<String>,
    pub url: Option<String>,
    /// Unix milliseconds.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub actor: Option<String>,
}

/// What a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportOutcome {
    /// A deployment not seen before.
    Created,
    /// A known deployment moved forward.
    Advanced,
    /// The same report again: nothing changed.
    Unchanged,
    /// A report older than what is known (a `started` after the `succeeded`): ignored.
    Stale,
}

/// Which deployments to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct DeploymentFilter {
    /// A reference key.
    pub entity: Option<String>,
    pub environment: Option<String>,
    pub limit: u32,
    /// From the previous page.
    pub cursor: Option<DeploymentCursor>,
}

/// Where a page ended: the start time and sequence of its last deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeploymentCursor {
    pub started_at: i64,
    pub seq: i64,
}

impl DeploymentCursor {
    pub fn encode(self) -> String {
        format!("{}.{}", self.started_at, self.seq)
    }

    pub fn decode(text: &str) -> Result<Self, EnvironmentError> {
        let invalid = || EnvironmentError::invalid("cursor", "not a cursor this API gave out");
        let (started_at, seq) = text.split_once('.').ok_or_else(invalid)?;
        Ok(Self {
            started_at: started_at.parse().map_err(|_| invalid())?,
            seq: seq.parse().map_err(|_| invalid())?,
        })
    }
}

/// A page of deployments.
#[derive(Clone, Debug)]
pub struct DeploymentPage {
    pub items: Vec<Deployment>,
    pub next: Option<DeploymentCursor>,
}

const COLUMNS: &str = "seq, id, entity_ref, environment, version, commit_sha, url, status, \
                       started_at, finished_at, actor, reported_by, updated_at";

pub(super) fn deployment_from(row: &AnyRow) -> Result<(i64, Deployment), EnvironmentError> {
    let status: String = row.try_get("status")?;
    Ok((
        row.try_get("seq")?,
        Deployment {
            id: row.try_get("id")?,
            entity: row.try_get("entity_ref")?,
            environment: row.try_get("environment")?,
            version: row.try_get("version")?,
            commit: row.try_get("commit_sha")?,
            url: row.try_get("url")?,
            status: status.parse()?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            actor: row.try_get("actor")?,
            reported_by: row.try_get("reported_by")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

/// A checked report.
struct Checked {
    id: String,
    entity: String,
    environment: String,
    version: String,
    status: DeploymentStatus,
    commit: Option<String>,
    url: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    actor: Option<String>,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, EnvironmentError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(EnvironmentError::invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(EnvironmentError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(EnvironmentError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, EnvironmentError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| text(field, v, max))
        .transpose()
}

/// An http(s) URL, as people may follow it from a dashboard.
pub fn check_url(field: &'static str, value: &str) -> Result<String, EnvironmentError> {
    let value = text(field, value, MAX_URL)?;
    match url::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(value),
        _ => Err(EnvironmentError::invalid(
            field,
            format!("{value:?} is not an http(s) URL"),
        )),
    }
}

impl Environments {
    async fn check(&self, report: &DeploymentReport) -> Result<Checked, EnvironmentError> {
        let id = text("id", &report.id, MAX_TEXT)?;
        let version = text("version", &report.version, MAX_TEXT)?;
        let status: DeploymentStatus = report.status.trim().parse()?;
        let commit = optional_text("commit", report.commit.as_deref(), MAX_TEXT)?;
        let actor = optional_text("actor", report.actor.as_deref(), MAX_TEXT)?;
        let url = report
            .url
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| check_url("url", v))
            .transpose()?;
        if let (Some(started), Some(finished)) = (report.started_at, report.finished_at) {
            if finished < started {
                return Err(EnvironmentError::invalid(
                    "finished_at",
                    "is before started_at",
                ));
            }
        }
        if status == DeploymentStatus::Started && report.finished_at.is_some() {
            return Err(EnvironmentError::invalid(
                "finished_at",
                "a deployment that has only started has not finished: leave it out, or report its outcome",
            ));
        }
        let environment = self.require("environment", &report.environment).await?.name;
        let entity = self.resolve_entity("entity", &report.entity).await?;
        Ok(Checked {
            id,
            entity,
            environment,
            version,
            status,
            commit,
            url,
            started_at: report.started_at,
            finished_at: report.finished_at,
            actor,
        })
    }

    /// Records a deployment report from `reported_by` (`token:ci-deploy`). See the
    /// module's rules; the events go out after the commit.
    pub async fn report(
        &self,
        reported_by: &str,
        report: &DeploymentReport,
    ) -> Result<(Deployment, ReportOutcome), EnvironmentError> {
        let report = self.check(report).await?;
        let now = now_millis();
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let select = format!("SELECT {COLUMNS} FROM deployments WHERE id = $1{lock}");
        let mut tx = self.db.begin_write().await?;
        let mut existing = sqlx::query(&select)
            .bind(&report.id)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_none() {
            let started_at = report.started_at.unwrap_or(now);
            let finished_at = report
                .status
                .is_finished()
                .then(|| report.finished_at.unwrap_or(now.max(started_at)));
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO deployments (id, entity_ref, environment, version, commit_sha, url, \
                 status, started_at, finished_at, actor, reported_by, received_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                 ON CONFLICT (id) DO NOTHING RETURNING seq",
            )
            .bind(&report.id)
            .bind(&report.entity)
            .bind(&report.environment)
            .bind(&report.version)
            .bind(&report.commit)
            .bind(&report.url)
            .bind(report.status.as_str())
            .bind(started_at)
            .bind(finished_at)
            .bind(&report.actor)
            .bind(reported_by)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                Some(seq) => {
                    let deployment = Deployment {
                        id: report.id,
                        entity: report.entity,
                        environment: report.environment,
                        version: report.version,
                        commit: report.commit,
                        url: report.url,
                        status: report.status,
                        started_at,
                        finished_at,
                        actor: report.actor,
                        reported_by: reported_by.to_owned(),
                        updated_at: now,
                    };
                    let current = make_current(&mut tx, &deployment, seq).await?;
                    self.announce(&mut tx, "deployment.reported", &deployment, current)
                        .await?;
                    tx.commit().await?;
                    self.events.committed();
                    return Ok((deployment, ReportOutcome::Created));
                }
                // Another report with this id was stored meanwhile: go on as an update.
                None => {
                    existing = sqlx::query(&select)
                        .bind(&report.id)
                        .fetch_optional(&mut *tx)
                        .await?
                }
            }
        }
        let row = existing.ok_or_else(|| {
            EnvironmentError::Conflict(format!(
                "deployment {:?} vanished while reported",
                report.id
            ))
        })?;
        let (seq, stored) = deployment_from(&row)?;
        if stored.entity != report.entity
            || stored.environment != report.environment
            || stored.version != report.version
        {
            return Err(EnvironmentError::Conflict(format!(
                "deployment {:?} was reported as {} {} in {}; an id names one deployment (use a new id for another)",
                stored.id, stored.entity, stored.version, stored.environment
            )));
        }
        if report.status.stage() < stored.status.stage() {
            return Ok((stored, ReportOutcome::Stale));
        }
        if report.status == stored.status {
            return Ok((stored, ReportOutcome::Unchanged));
        }
        if report.status.stage() == stored.status.stage() {
            return Err(EnvironmentError::Conflict(format!(
                "deployment {:?} already {}; report rolled_back to undo it, or use a new id",
                stored.id, stored.status
            )));
        }
        if let Some(finished) = report.finished_at {
            if finished < stored.started_at {
                return Err(EnvironmentError::invalid(
                    "finished_at",
                    "is before the deployment's started_at",
                ));
            }
        }
        let finished_at = match (report.finished_at, stored.finished_at) {
            (Some(at), _) => Some(at),
            (None, Some(at)) if report.status != DeploymentStatus::RolledBack => Some(at),
            _ => Some(now.max(stored.started_at)),
        };
        let deployment = Deployment {
            status: report.status,
            finished_at,
            commit: report.commit.or(stored.commit),
            url: report.url.or(stored.url),
            actor: report.actor.or(stored.actor),
            updated_at: now,
            ..stored
        };
        sqlx::query(
            "UPDATE deployments SET status = $1, finished_at = $2, commit_sha = $3, url = $4, \
             actor = $5, updated_at = $6 WHERE seq = $7",
        )
        .bind(deployment.status.as_str())
        .bind(deployment.finished_at)
        .bind(&deployment.commit)
        .bind(&deployment.url)
        .bind(&deployment.actor)
        .bind(now)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT deployment_seq FROM current_deployments WHERE entity_ref = $1 AND environment = $2",
        )
        .bind(&deployment.entity)
        .bind(&deployment.environment)
        .fetch_optional(&mut *tx)
        .await?;
        self.announce(
            &mut tx,
            "deployment.updated",
            &deployment,
            current == Some(seq),
        )
        .await?;
        tx.commit().await?;
        self.events.committed();
        Ok((deployment, ReportOutcome::Advanced))
    }

    async fn announce(
        &self,
        conn: &mut sqlx::AnyConnection,
        event_type: &str,
        deployment: &Deployment,
        current: bool,
    ) -> Result<(), EnvironmentError> {
        let payload = json!({
            "entity": deployment.entity,
            "environment": deployment.environment,
            "current": current,
            "deployment": deployment,
        });
        let events = change_events(
            "deployments",
            event_type,
            &deployment.entity,
            &deployment.environment,
            &payload,
        );
        self.events.append_all(conn, &events).await?;
        Ok(())
    }

    /// Deployments matching `filter`, newest (by start) first.
    pub async fn deployments(
        &self,
        filter: &DeploymentFilter,
    ) -> Result<DeploymentPage, EnvironmentError> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut sql = Sql::default();
        let mut conditions = Vec::new();
        if let Some(entity) = &filter.entity {
            conditions.push(format!("entity_ref = {}", sql.bind(entity.as_str())));
        }
        if let Some(environment) = &filter.environment {
            conditions.push(format!("environment = {}", sql.bind(environment.as_str())));
        }
        if let Some(cursor) = filter.cursor {
            let started = sql.bind(cursor.started_at);
            let started_again = sql.bind(cursor.started_at);
            let seq = sql.bind(cursor.seq);
            conditions.push(format!(
                "(started_at < {started} OR (started_at = {started_again} AND seq < {seq}))"
            ));
        }
        let limit_bind = sql.bind(i64::from(limit) + 1);
        sql.text = format!(
            "SELECT {COLUMNS} FROM deployments {} ORDER BY started_at DESC, seq DESC LIMIT {limit_bind}",
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            }
        );
        let rows = sql.query().fetch_all(self.db.pool()).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            let (seq, deployment) = deployment_from(row)?;
            last = Some(DeploymentCursor {
                started_at: deployment.started_at,
                seq,
            });
            items.push(deployment);
        }
        let next = if rows.len() > limit as usize {
            last
        } else {
            None
        };
        Ok(DeploymentPage { items, next })
    }

    /// The deployment with this id, if any.
    pub async fn deployment(&self, id: &str) -> Result<Option<Deployment>, EnvironmentError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM deployments WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row
            .as_ref()
            .map(deployment_from)
            .transpose()?
            .map(|(_, d)| d))
    }
}

/// Makes `deployment` what runs in its environment unless one started later already
/// is; says whether it is.
async fn make_current(
    conn: &mut sqlx::AnyConnection,
    deployment: &Deployment,
    seq: i64,
) -> Result<bool, EnvironmentError> {
    sqlx::query(
        "INSERT INTO current_deployments (entity_ref, environment, deployment_seq) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (entity_ref, environment) DO UPDATE SET deployment_seq = excluded.deployment_seq \
         WHERE (SELECT d.started_at FROM deployments d WHERE d.seq = current_deployments.deployment_seq) < $4 \
         OR ((SELECT d.started_at FROM deployments d WHERE d.seq = current_deployments.deployment_seq) = $4 \
             AND current_deployments.deployment_seq < excluded.deployment_seq)",
    )
    .bind(&deployment.entity)
    .bind(&deployment.environment)
    .bind(seq)
    .bind(deployment.started_at)
    .execute(&mut *conn)
    .await?;
    let current: Option<i64> = sqlx::query_scalar(
        "SELECT deployment_seq FROM current_deployments WHERE entity_ref = $1 AND environment = $2",
    )
    .bind(&deployment.entity)
    .bind(&deployment.environment)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(current == Some(seq))
}
