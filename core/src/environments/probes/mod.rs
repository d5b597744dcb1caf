//! Health probes: what to check (declared in catalog annotations or through the API),
//! how one check is made, how results are judged, and the engine that runs them.
//!
//! A component declares a probe per environment with annotations:
//!
//! ```yaml
//! metadata:
//!   annotations:
//!     portico.dev/health-url.production: https://payments.example.com/healthz
//!     portico.dev/health-interval: 15s   # optional, for every environment
//!     portico.dev/health-timeout: 2s     # optional
//!     portico.dev/health-slow: 500ms     # optional: slower answers are degraded
//! ```

mod check;
mod duration;
pub mod engine;
pub mod hysteresis;

use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

pub use check::{check, client, Observation};
pub use duration::{format_duration, parse_duration};
pub use engine::ProbeEngine;
pub use hysteresis::{Thresholds, Tracker};

use super::deployments::check_url;
use super::{EnvironmentError, Environments, PROBES_TOPIC};
use crate::events::NewEvent;
use crate::storage::sql::{escape_like, now_millis};

pub const URL_ANNOTATION: &str = "portico.dev/health-url.";
pub const INTERVAL_ANNOTATION: &str = "portico.dev/health-interval";
pub const TIMEOUT_ANNOTATION: &str = "portico.dev/health-timeout";
pub const SLOW_ANNOTATION: &str = "portico.dev/health-slow";

const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(3600);
const MIN_TIMEOUT: Duration = Duration::from_millis(100);
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// What a probe checks, how often, and how patiently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeSpec {
    /// The component's reference key.
    pub entity: String,
    pub environment: String,
    pub url: String,
    pub interval_ms: i64,
    pub timeout_ms: i64,
    /// Answers slower than this are `degraded`.
    pub slow_ms: i64,
    /// `annotation` or `api`.
    pub source: String,
}

impl ProbeSpec {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(1) as u64)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1) as u64)
    }

    pub fn slow(&self) -> Duration {
        Duration::from_millis(self.slow_ms.max(1) as u64)
    }
}

/// Timing used when a probe does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeDefaults {
    pub interval: Duration,
    pub timeout: Duration,
    pub slow: Duration,
}

impl Default for ProbeDefaults {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            slow: Duration::from_secs(1),
        }
    }
}

/// A probe's timing as written (each optional), checked against the limits.
#[derive(Clone, Debug, Default)]
pub struct Timing<'a> {
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub slow: Option<&'a str>,
}

impl Timing<'_> {
    /// `(interval, timeout, slow)` in milliseconds; errors name the field.
    fn resolve(
        &self,
        defaults: &ProbeDefaults,
        names: [&'static str; 3],
    ) -> Result<(i64, i64, i64), EnvironmentError> {
        let read = |field: &'static str, value: Option<&str>, default: Duration| match value {
            Some(text) => parse_duration(text).map_err(|m| EnvironmentError::invalid(field, m)),
            None => Ok(default),
        };
        let interval = read(names[0], self.interval, defaults.interval)?;
        if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
            return Err(EnvironmentError::invalid(names[0], "must be from 1s to 1h"));
        }
        let timeout = read(names[1], self.timeout, defaults.timeout.min(interval))?;
        if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&timeout) || timeout > interval {
            return Err(EnvironmentError::invalid(
                names[1],
                format!(
                    "must be from 100ms to 60s, and no longer than the interval ({})",
                    format_duration(interval)
                ),
            ));
        }
        let slow = read(names[2], self.slow, defaults.slow.min(timeout))?;
        if slow > timeout {
            return Err(EnvironmentError::invalid(
                names[2],
                format!(
                    "must be no longer than the timeout ({})",
                    format_duration(timeout)
                ),
            ));
        }
        Ok((
            interval.as_millis() as i64,
            timeout.as_millis() as i64,
            slow.as_millis() as i64,
        ))
    }
}

/// The probes a catalog entity declares in its annotations, per environment named
/// (defined or not: the caller keeps those of environments that exist). A bad value
/// gives an error naming its annotation, for every environment it declares.
pub fn declared(
    entity_key: &str,
    body: &Value,
    defaults: &ProbeDefaults,
) -> Vec<(String, Result<ProbeSpec, EnvironmentError>)> {
    let Some(annotations) = body["metadata"]["annotations"].as_object() else {
        return Vec::new();
    };
    let text = |key: &str| annotations.get(key).and_then(Value::as_str);
    let timing = Timing {
        interval: text(INTERVAL_ANNOTATION),
        timeout: text(TIMEOUT_ANNOTATION),
        slow: text(SLOW_ANNOTATION),
    }
    .resolve(
        defaults,
        [INTERVAL_ANNOTATION, TIMEOUT_ANNOTATION, SLOW_ANNOTATION],
    );
    annotations
        .iter()
        .filter_map(|(key, value)| {
            let environment = key.strip_prefix(URL_ANNOTATION)?.to_ascii_lowercase();
            let url_field = "portico.dev/health-url.<environment>";
            let spec = match (&timing, value.as_str()) {
                (Err(e), _) => Err(copy_of(e)),
                (Ok(_), None) => Err(EnvironmentError::invalid(url_field, "must be a URL")),
                (Ok((interval_ms, timeout_ms, slow_ms)), Some(url)) => check_url(url_field, url)
                    .map(|url| ProbeSpec {
                        entity: entity_key.to_owned(),
                        environment: environment.clone(),
                        url,
                        interval_ms: *interval_ms,
                        timeout_ms: *timeout_ms,
                        slow_ms: *slow_ms,
                        source: "annotation".into(),
                    }),
            };
            Some((environment, spec))
        })
        .collect()
}

/// The same invalid-input error again (one per environment the bad timing applies to).
fn copy_of(error: &EnvironmentError) -> EnvironmentError {
    match error {
        EnvironmentError::Invalid { field, message } => {
            EnvironmentError::invalid(field, message.clone())
        }
        other => EnvironmentError::invalid("metadata.annotations", other.to_string()),
    }
}

/// A probe defined through the API.
#[derive(Clone, Debug, Default)]
pub struct ProbeRequest {
    pub entity: String,
    pub environment: String,
    pub url: String,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub slow: Option<String>,
}

const COLUMNS: &str = "entity_ref, environment, url, interval_ms, timeout_ms, slow_ms, source";

fn probe_from(row: &AnyRow) -> Result<ProbeSpec, EnvironmentError> {
    Ok(ProbeSpec {
        entity: row.try_get("entity_ref")?,
        environment: row.try_get("environment")?,
        url: row.try_get("url")?,
        interval_ms: row.try_get("interval_ms")?,
        timeout_ms: row.try_get("timeout_ms")?,
        slow_ms: row.try_get("slow_ms")?,
        source: row.try_get("source")?,
    })
}

impl Environments {
    /// Every probe, optionally only one entity's or one environment's.
    pub async fn probes(
        &self,
        entity: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<ProbeSpec>, EnvironmentError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM health_probes \
             WHERE ($1 = '' OR entity_ref = $1) AND ($2 = '' OR environment = $2) \
             ORDER BY entity_ref, environment"
        ))
        .bind(entity.unwrap_or(""))
        .bind(environment.unwrap_or(""))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(probe_from).collect()
    }

    /// Adds or changes a probe through the API. A probe declared by the entity's
    /// catalog annotation is the catalog's: change the annotation instead.
    pub async fn put_probe(
        &self,
        request: &ProbeRequest,
        defaults: &ProbeDefaults,
    ) -> Result<ProbeSpec, EnvironmentError> {
        let url = check_url("url", &request.url)?;
        let (interval_ms, timeout_ms, slow_ms) = Timing {
            interval: request.interval.as_deref(),
            timeout: request.timeout.as_deref(),
            slow: request.slow.as_deref(),
        }
        .resolve(defaults, ["interval", "timeout", "slow"])?;
        let environment = self
            .require("environment", &request.environment)
            .await?
            .name;
        let entity = self.resolve_entity("entity", &request.entity).await?;
        if let Some(existing) = self
            .probes(Some(&entity), Some(&environment))
            .await?
            .pop()
            .filter(|p| p.source == "annotation")
        {
            return Err(EnvironmentError::Conflict(format!(
                "the probe of {} in {} is declared by its catalog annotation {}{}: change it there",
                existing.entity, existing.environment, URL_ANNOTATION, existing.environment
            )));
        }
        let spec = ProbeSpec {
            entity,
            environment,
            url,
            interval_ms,
            timeout_ms,
            slow_ms,
            source: "api".into(),
        };
        let mut tx = self.db.begin_write().await?;
        upsert(&mut tx, &spec).await?;
        self.events
            .append(&mut tx, &probe_changed(&spec.entity, &spec.environment))
            .await?;
        tx.commit().await?;
        self.events.committed();
        Ok(spec)
    }

    /// Removes a probe defined through the API, and the health it measured.
    pub async fn delete_probe(
        &self,
        entity: &str,
        environment: &str,
    ) -> Result<(), EnvironmentError> {
        let environment = self.require("environment", environment).await?.name;
        let entity = self.resolve_entity("entity", entity).await?;
        let existing = self.probes(Some(&entity), Some(&environment)).await?.pop();
        match existing {
            None => {
                return Err(EnvironmentError::NotFound(format!(
                    "{entity} has no probe in {environment}"
                )))
            }
            Some(p) if p.source == "annotation" => {
                return Err(EnvironmentError::Conflict(format!(
                    "the probe of {entity} in {environment} is declared by its catalog annotation {URL_ANNOTATION}{environment}: remove it there"
                )))
            }
            Some(_) => {}
        }
        let mut tx = self.db.begin_write().await?;
        remove(&mut tx, &entity, &environment).await?;
        self.events
            .append(&mut tx, &probe_changed(&entity, &environment))
            .await?;
        tx.commit().await?;
        self.events.committed();
        Ok(())
    }

    /// Makes the stored annotation probes of `entity` those it declares now (`declared`
    /// holds only probes of existing environments); removes the health of probes that
    /// went away. Returns whether anything changed.
    pub async fn sync_declared(
        &self,
        entity: &str,
        declared: &[ProbeSpec],
    ) -> Result<bool, EnvironmentError> {
        let stored: Vec<ProbeSpec> = self
            .probes(Some(entity), None)
            .await?
            .into_iter()
            .filter(|p| p.source == "annotation")
            .collect();
        let gone: Vec<&ProbeSpec> = stored
            .iter()
            .filter(|s| !declared.iter().any(|d| d.environment == s.environment))
            .collect();
        let changed: Vec<&ProbeSpec> = declared.iter().filter(|d| !stored.contains(d)).collect();
        if gone.is_empty() && changed.is_empty() {
            return Ok(false);
        }
        let mut tx = self.db.begin_write().await?;
        for probe in gone {
            remove(&mut tx, &probe.entity, &probe.environment).await?;
        }
        for probe in changed {
            upsert(&mut tx, probe).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Entities with annotation probes stored (to find those whose entity is gone).
    pub async fn annotated_entities(&self) -> Result<Vec<String>, EnvironmentError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT entity_ref FROM health_probes WHERE source = 'annotation'",
        )
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Reference keys of catalog entities with a `portico.dev/health-url.*` annotation.
    /// Read from the stored bodies, not the search index, which leaves out values over
    /// 200 characters (a long URL would be missed): one scan, at start and after the
    /// engine falls behind.
    pub async fn entities_declaring_probes(&self) -> Result<Vec<String>, EnvironmentError> {
        Ok(sqlx::query_scalar(
            r"SELECT ref_key FROM catalog_entities WHERE body LIKE $1 ESCAPE '\' ORDER BY ref_key",
        )
        .bind(format!("%\"{}%", escape_like(URL_ANNOTATION)))
        .fetch_all(self.db.pool())
        .await?)
    }
}

fn probe_changed(entity: &str, environment: &str) -> NewEvent {
    NewEvent::new(
        PROBES_TOPIC,
        "probe.changed",
        json!({ "entity": entity, "environment": environment }),
    )
}

async fn upsert(conn: &mut sqlx::AnyConnection, spec: &ProbeSpec) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO health_probes (entity_ref, environment, url, interval_ms, timeout_ms, slow_ms, \
         source, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (entity_ref, environment) DO UPDATE SET url = excluded.url, \
         interval_ms = excluded.interval_ms, timeout_ms = excluded.timeout_ms, \
         slow_ms = excluded.slow_ms, source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(&spec.entity)
    .bind(&spec.environment)
    .bind(&spec.url)
    .bind(spec.interval_ms)
    .bind(spec.timeout_ms)
    .bind(spec.slow_ms)
    .bind(&spec.source)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a probe and the health it measured (its history stays for uptime figures).
async fn remove(
    conn: &mut sqlx::AnyConnection,
    entity: &str,
    environment: &str,
) -> Result<(), sqlx::Error> {
    for table in ["health_probes", "health"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE entity_ref = $1 AND environment = $2"
        ))
        .bind(entity)
        .bind(environment)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(annotations: Value) -> Value {
        json!({ "metadata": { "name": "payments", "annotations": annotations } })
    }

    #[test]
    fn annotations_declare_a_probe_per_environment() {
        let declared = declared(
            "component:default/payments",
            &body(json!({
                "portico.dev/health-url.production": "https://pay.example.com/healthz",
                "portico.dev/health-url.Staging": "http://127.0.0.1:8080/health",
                "portico.dev/health-interval": "15s",
                "portico.dev/health-timeout": "2s",
                "backstage.io/techdocs-ref": "dir:.",
            })),
            &ProbeDefaults::default(),
        );
        assert_eq!(declared.len(), 2);
        let production = declared
            .iter()
            .find(|(env, _)| env == "production")
            .unwrap()
            .1
            .as_ref()
            .unwrap();
        assert_eq!(production.url, "https://pay.example.com/healthz");
        assert_eq!(
            (
                production.interval_ms,
                production.timeout_ms,
                production.slow_ms
            ),
            (15_000, 2_000, 1_000)
        );
        assert!(declared.iter().any(|(env, _)| env == "staging"));
    }

    #[test]
    fn bad_annotations_name_the_annotation() {
        let errors = |annotations: Value| -> Vec<String> {
            declared(
                "component:default/x",
                &body(annotations),
                &ProbeDefaults::default(),
            )
            .into_iter()
            .map(|(_, r)| r.unwrap_err().to_string())
            .collect()
        };
        assert_eq!(
            errors(json!({ "portico.dev/health-url.dev": "ftp://x" })),
            vec!["portico.dev/health-url.<environment>: \"ftp://x\" is not an http(s) URL"]
        );
        assert_eq!(
            errors(json!({ "portico.dev/health-url.dev": "http://x", "portico.dev/health-interval": "often" })),
            vec!["portico.dev/health-interval: \"often\" is not a duration (a whole number and a unit: 500ms, 1s, 30s, 2m)"]
        );
        assert_eq!(
            errors(json!({ "portico.dev/health-url.dev": "http://x", "portico.dev/health-interval": "2s", "portico.dev/health-timeout": "5s" })),
            vec!["portico.dev/health-timeout: must be from 100ms to 60s, and no longer than the interval (2s)"]
        );
    }

    #[test]
    fn short_intervals_shorten_the_default_timeout() {
        let declared = declared(
            "component:default/x",
            &body(
                json!({ "portico.dev/health-url.dev": "http://x/", "portico.dev/health-interval": "1s" }),
            ),
            &ProbeDefaults::default(),
        );
        let spec = declared[0].1.as_ref().unwrap();
        assert_eq!(
            (spec.interval_ms, spec.timeout_ms, spec.slow_ms),
            (1000, 1000, 1000)
        );
    }
}
