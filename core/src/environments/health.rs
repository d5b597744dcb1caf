//! Health: the status of each component in each environment (judged by the probe
//! engine, or pushed through the API), the checks behind it, and uptime figures.
//!
//! Checks are kept raw for an hour, counted per minute for two days, and per hour for 90
//! days: enough for the latest results, 24-hour charts and long uptime figures, at a
//! bounded size.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::model::{Health, HealthStatus};
use super::{change_events, EnvironmentError, Environments};
use crate::storage::sql::{insert_rows, now_millis, Placeholders};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// How long each resolution is kept.
const RAW_KEPT: i64 = HOUR;
const MINUTES_KEPT: i64 = 48 * HOUR;
const HOURS_KEPT: i64 = 90 * 24 * HOUR;
/// Longest message kept with a check.
const MAX_MESSAGE: usize = 500;

/// One check's result, as the probe engine (or a push) saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub entity: String,
    pub environment: String,
    /// Unix milliseconds.
    pub at: i64,
    /// What this one check saw: healthy, degraded (slow) or down.
    pub outcome: HealthStatus,
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
    /// The status after this check, once hysteresis is applied.
    pub status: HealthStatus,
}

/// A push of health through the API.
#[derive(Clone, Debug, Default)]
pub struct HealthPush {
    pub entity: String,
    pub environment: String,
    pub status: String,
    pub message: Option<String>,
    pub latency_ms: Option<i64>,
}

/// Checks counted over a span of time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UptimeBucket {
    /// Start of the span, Unix milliseconds.
    pub start: i64,
    pub checks: i64,
    pub healthy: i64,
    pub degraded: i64,
    pub down: i64,
    pub latency_avg_ms: Option<i64>,
    pub latency_max_ms: Option<i64>,
}

impl UptimeBucket {
    /// The share of checks that found it up (healthy or degraded), if any were made.
    pub fn uptime(&self) -> Option<f64> {
        (self.checks > 0).then(|| (self.healthy + self.degraded) as f64 / self.checks as f64)
    }
}

/// A recent check, as shown on a component's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecentCheck {
    pub at: i64,
    pub outcome: HealthStatus,
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
}

fn truncate(message: Option<String>) -> Option<String> {
    message.map(|m| {
        if m.len() <= MAX_MESSAGE {
            m
        } else {
            let mut end = MAX_MESSAGE;
            while !m.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &m[..end])
        }
    })
}

pub(super) fn health_from(row: &AnyRow) -> Result<Health, EnvironmentError> {
    let status: String = row.try_get("status")?;
    Ok(Health {
        entity: row.try_get("entity_ref")?,
        environment: row.try_get("environment")?,
        status: status.parse()?,
        since: row.try_get("since")?,
        checked_at: row.try_get("checked_at")?,
        latency_ms: row.try_get("latency_ms")?,
        message: row.try_get("message")?,
        source: row.try_get("source")?,
    })
}

/// Per-minute counts of a batch, merged before they are written (PostgreSQL refuses to
/// update one row twice in one statement).
#[derive(Default)]
struct Counts {
    checks: i64,
    healthy: i64,
    degraded: i64,
    down: i64,
    latency_total: i64,
    latency_count: i64,
    latency_max: i64,
}

impl Environments {
    /// The health of every component in every environment where it has some.
    pub async fn health_of(&self, entity: &str) -> Result<Vec<Health>, EnvironmentError> {
        let rows = sqlx::query(
            "SELECT entity_ref, environment, status, since, checked_at, latency_ms, message, source \
             FROM health WHERE entity_ref = $1",
        )
        .bind(entity)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(health_from).collect()
    }

    /// The stored status of every probed or pushed pair, keyed by `(entity, environment)`:
    /// where the probe engine starts from.
    pub async fn statuses(
        &self,
    ) -> Result<BTreeMap<(String, String), HealthStatus>, EnvironmentError> {
        let rows = sqlx::query("SELECT entity_ref, environment, status FROM health")
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok((
                    (row.try_get("entity_ref")?, row.try_get("environment")?),
                    status.parse()?,
                ))
            })
            .collect()
    }

    /// Sets a component's health as pushed by `by` (a monitoring system through the
    /// API): taken as it is, without hysteresis.
    pub async fn push_health(&self, push: &HealthPush) -> Result<(Health, bool), EnvironmentError> {
        let status: HealthStatus = push.status.trim().parse()?;
        if let Some(latency) = push.latency_ms {
            if !(0..=3_600_000).contains(&latency) {
                return Err(EnvironmentError::invalid(
                    "latency_ms",
                    "must be from 0 to 3600000",
                ));
            }
        }
        let environment = self.require("environment", &push.environment).await?.name;
        let entity = self.resolve_entity("entity", &push.entity).await?;
        let result = CheckResult {
            entity,
            environment,
            at: now_millis(),
            outcome: status,
            latency_ms: push.latency_ms,
            message: push.message.clone().filter(|m| !m.trim().is_empty()),
            status,
        };
        let changed = self.record(std::slice::from_ref(&result), "api").await?;
        let health = self
            .health_of(&result.entity)
            .await?
            .into_iter()
            .find(|h| h.environment == result.environment)
            .ok_or_else(|| EnvironmentError::NotFound("health vanished while pushed".into()))?;
        Ok((health, changed > 0))
    }

    /// Writes a batch of check results in one transaction: the raw checks, the
    /// per-minute counts, the current status of each pair, and a `health.changed` event
    /// for each pair whose status changed. Returns how many changed.
    pub async fn record(
        &self,
        results: &[CheckResult],
        source: &str,
    ) -> Result<usize, EnvironmentError> {
        if results.is_empty() {
            return Ok(0);
        }
        let results: Vec<CheckResult> = results
            .iter()
            .cloned()
            .map(|r| CheckResult {
                message: truncate(r.message),
                ..r
            })
            .collect();
        let mut tx = self.db.begin_write().await?;
        // The statuses before this batch, to tell changes (and their start) apart.
        let mut previous: BTreeMap<(String, String), (HealthStatus, i64)> = BTreeMap::new();
        for chunk in results.chunks(200) {
            // Row values (`(a, b) IN ((?, ?), …)`) are not portable: match the entities,
            // and keep every environment of theirs.
            let mut pairs = Vec::new();
            let entities: Vec<&str> = chunk.iter().map(|r| r.entity.as_str()).collect();
            let sql = format!(
                "SELECT entity_ref, environment, status, since FROM health WHERE entity_ref IN ({})",
                Placeholders::of(&tx).list(1, entities.len())
            );
            let mut query = sqlx::query(&sql);
            for entity in &entities {
                query = query.bind(*entity);
            }
            for row in query.fetch_all(&mut *tx).await? {
                let status: String = row.try_get("status")?;
                pairs.push((
                    (
                        row.try_get::<String, _>("entity_ref")?,
                        row.try_get::<String, _>("environment")?,
                    ),
                    (
                        status.parse::<HealthStatus>()?,
                        row.try_get::<i64, _>("since")?,
                    ),
                ));
            }
            previous.extend(pairs);
        }
        insert_rows(
            &mut tx,
            "INSERT INTO health_checks (entity_ref, environment, at, outcome, latency_ms, message) VALUES ",
            6,
            100,
            &results,
            |query, r| {
                query
                    .bind(&r.entity)
                    .bind(&r.environment)
                    .bind(r.at)
                    .bind(r.outcome.as_str())
                    .bind(r.latency_ms)
                    .bind(&r.message)
            },
        )
        .await?;
        let mut minutes: BTreeMap<(String, String, i64), Counts> = BTreeMap::new();
        for r in &results {
            if r.outcome == HealthStatus::Unknown {
                continue;
            }
            let counts = minutes
                .entry((
                    r.entity.clone(),
                    r.environment.clone(),
                    r.at - r.at.rem_euclid(MINUTE),
                ))
                .or_default();
            counts.checks += 1;
            match r.outcome {
                HealthStatus::Healthy => counts.healthy += 1,
                HealthStatus::Degraded => counts.degraded += 1,
                HealthStatus::Down => counts.down += 1,
                HealthStatus::Unknown => {}
            }
            if let Some(latency) = r.latency_ms {
                counts.latency_total += latency;
                counts.latency_count += 1;
                counts.latency_max = counts.latency_max.max(latency);
            }
        }
        let minutes: Vec<_> = minutes.into_iter().collect();
        for chunk in minutes.chunks(100) {
            let sql = Placeholders::of(&tx).values(
                "INSERT INTO health_rollups (entity_ref, environment, resolution, bucket, checks, \
                 healthy, degraded, down, latency_total, latency_count, latency_max) VALUES ",
                chunk.len(),
                11,
            )
                + " ON CONFLICT (entity_ref, environment, resolution, bucket) DO UPDATE SET \
                 checks = health_rollups.checks + excluded.checks, \
                 healthy = health_rollups.healthy + excluded.healthy, \
                 degraded = health_rollups.degraded + excluded.degraded, \
                 down = health_rollups.down + excluded.down, \
                 latency_total = health_rollups.latency_total + excluded.latency_total, \
                 latency_count = health_rollups.latency_count + excluded.latency_count, \
                 latency_max = CASE WHEN health_rollups.latency_max > excluded.latency_max \
                 THEN health_rollups.latency_max ELSE excluded.latency_max END";
            let mut query = sqlx::query(&sql);
            for ((entity, environment, bucket), c) in chunk {
                query = query
                    .bind(entity)
                    .bind(environment)
                    .bind("minute")
                    .bind(*bucket)
                    .bind(c.checks)
                    .bind(c.healthy)
                    .bind(c.degraded)
                    .bind(c.down)
                    .bind(c.latency_total)
                    .bind(c.latency_count)
                    .bind(c.latency_max);
            }
            query.execute(&mut *tx).await?;
        }
        // The latest result of each pair decides its row; every change is announced.
        let mut latest: BTreeMap<(String, String), Health> = BTreeMap::new();
        let mut events = Vec::new();
        for r in &results {
            let key = (r.entity.clone(), r.environment.clone());
            let before = latest
                .get(&key)
                .map(|h| (h.status, h.since))
                .or_else(|| previous.get(&key).copied());
            let since = match before {
                Some((status, since)) if status == r.status => since,
                _ => r.at,
            };
            let health = Health {
                entity: r.entity.clone(),
                environment: r.environment.clone(),
                status: r.status,
                since,
                checked_at: r.at,
                latency_ms: r.latency_ms,
                message: r.message.clone(),
                source: source.to_owned(),
            };
            if before.map(|(status, _)| status) != Some(r.status) {
                let payload = json!({
                    "entity": health.entity,
                    "environment": health.environment,
                    "previous": before.map(|(status, _)| status),
                    "health": &health,
                });
                events.extend(change_events(
                    "health",
                    "health.changed",
                    &health.entity,
                    &health.environment,
                    &payload,
                ));
            }
            latest.insert(key, health);
        }
        let rows: Vec<Health> = latest.into_values().collect();
        for chunk in rows.chunks(100) {
            let sql = Placeholders::of(&tx).values(
                "INSERT INTO health (entity_ref, environment, status, since, checked_at, latency_ms, \
                 message, source) VALUES ",
                chunk.len(),
                8,
            ) + " ON CONFLICT (entity_ref, environment) DO UPDATE SET status = excluded.status, \
                 since = excluded.since, checked_at = excluded.checked_at, \
                 latency_ms = excluded.latency_ms, message = excluded.message, source = excluded.source";
            let mut query = sqlx::query(&sql);
            for h in chunk {
                query = query
                    .bind(&h.entity)
                    .bind(&h.environment)
                    .bind(h.status.as_str())
                    .bind(h.since)
                    .bind(h.checked_at)
                    .bind(h.latency_ms)
                    .bind(&h.message)
                    .bind(&h.source);
            }
            query.execute(&mut *tx).await?;
        }
        let changed = events.len() / 3;
        if !events.is_empty() {
            self.events.append_all(&mut tx, &events).await?;
        }
        tx.commit().await?;
        if changed > 0 {
            self.events.committed();
        }
        Ok(changed)
    }

    /// Checks of `entity` in `environment` since `from`, counted per `span` ms (a
    /// multiple of a minute), oldest first; spans without checks are left out.
    pub async fn uptime(
        &self,
        entity: &str,
        environment: &str,
        from: i64,
        span: i64,
    ) -> Result<Vec<UptimeBucket>, EnvironmentError> {
        let span = span.max(MINUTE);
        let rows = sqlx::query(
            "SELECT (bucket / $1) * $1 AS start, CAST(SUM(checks) AS BIGINT) AS checks, \
             CAST(SUM(healthy) AS BIGINT) AS healthy, CAST(SUM(degraded) AS BIGINT) AS degraded, \
             CAST(SUM(down) AS BIGINT) AS down, CAST(SUM(latency_total) AS BIGINT) AS latency_total, \
             CAST(SUM(latency_count) AS BIGINT) AS latency_count, MAX(latency_max) AS latency_max \
             FROM health_rollups WHERE entity_ref = $2 AND environment = $3 \
             AND resolution = 'minute' AND bucket >= $4 \
             GROUP BY 1 ORDER BY 1",
        )
        .bind(span)
        .bind(entity)
        .bind(environment)
        .bind(from - from.rem_euclid(MINUTE))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get("latency_count")?;
                let total: i64 = row.try_get("latency_total")?;
                Ok(UptimeBucket {
                    start: row.try_get("start")?,
                    checks: row.try_get("checks")?,
                    healthy: row.try_get("healthy")?,
                    degraded: row.try_get("degraded")?,
                    down: row.try_get("down")?,
                    latency_avg_ms: (count > 0).then(|| total / count),
                    latency_max_ms: (count > 0)
                        .then(|| row.try_get("latency_max"))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// The latest checks of `entity` in `environment`, newest first.
    pub async fn recent_checks(
        &self,
        entity: &str,
        environment: &str,
        limit: u32,
    ) -> Result<Vec<RecentCheck>, EnvironmentError> {
        let rows = sqlx::query(
            "SELECT at, outcome, latency_ms, message FROM health_checks \
             WHERE entity_ref = $1 AND environment = $2 ORDER BY at DESC LIMIT $3",
        )
        .bind(entity)
        .bind(environment)
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let outcome: String = row.try_get("outcome")?;
                Ok(RecentCheck {
                    at: row.try_get("at")?,
                    outcome: outcome.parse()?,
                    latency_ms: row.try_get("latency_ms")?,
                    message: row.try_get("message")?,
                })
            })
            .collect()
    }

    /// Drops raw checks older than an hour, rolls minutes older than two days up into
    /// hours, and drops hours older than 90 days. Returns the rows removed.
    pub async fn compact_history(&self, now: i64) -> Result<u64, EnvironmentError> {
        let mut tx = self.db.begin_write().await?;
        let mut removed = sqlx::query("DELETE FROM health_checks WHERE at < $1")
            .bind(now - RAW_KEPT)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Whole hours only, so an hour is never rolled up half.
        let cutoff = {
            let at = now - MINUTES_KEPT;
            at - at.rem_euclid(HOUR)
        };
        sqlx::query(
            "INSERT INTO health_rollups (entity_ref, environment, resolution, bucket, checks, \
             healthy, degraded, down, latency_total, latency_count, latency_max) \
             SELECT entity_ref, environment, 'hour', (bucket / $1) * $1, SUM(checks), SUM(healthy), \
             SUM(degraded), SUM(down), SUM(latency_total), SUM(latency_count), MAX(latency_max) \
             FROM health_rollups WHERE resolution = 'minute' AND bucket < $2 \
             GROUP BY 1, 2, 4 \
             ON CONFLICT (entity_ref, environment, resolution, bucket) DO UPDATE SET \
             checks = health_rollups.checks + excluded.checks, \
             healthy = health_rollups.healthy + excluded.healthy, \
             degraded = health_rollups.degraded + excluded.degraded, \
             down = health_rollups.down + excluded.down, \
             latency_total = health_rollups.latency_total + excluded.latency_total, \
             latency_count = health_rollups.latency_count + excluded.latency_count, \
             latency_max = CASE WHEN health_rollups.latency_max > excluded.latency_max \
             THEN health_rollups.latency_max ELSE excluded.latency_max END",
        )
        .bind(HOUR)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        removed +=
            sqlx::query("DELETE FROM health_rollups WHERE resolution = 'minute' AND bucket < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        removed +=
            sqlx::query("DELETE FROM health_rollups WHERE resolution = 'hour' AND bucket < $1")
                .bind(now - HOURS_KEPT)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(removed)
    }
}
