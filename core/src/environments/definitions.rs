//! Environments as declared: by configuration (`PORTICO_ENVIRONMENTS`, `portico.toml`),
//! the admin API, or the demo.

use serde_json::json;
use sqlx::Row;

use super::model::{check_name, Environment, EnvironmentSpec, Tier};
use super::{EnvironmentError, Environments};
use crate::events::NewEvent;
use crate::storage::sql::now_millis;

/// Who declared an environment. Configured ones are declared again at every start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Config,
    Api,
    Demo,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Api => "api",
            Self::Demo => "demo",
        }
    }
}

const SELECT: &str = "SELECT name, title, tier, position FROM environments";

fn environment(row: &sqlx::any::AnyRow) -> Result<Environment, EnvironmentError> {
    let tier: String = row.try_get("tier")?;
    Ok(Environment {
        name: row.try_get("name")?,
        title: row.try_get("title")?,
        tier: tier.parse().unwrap_or(Tier::Development),
        order: row.try_get("position")?,
    })
}

impl Environments {
    /// Every environment, in display order.
    pub async fn list(&self) -> Result<Vec<Environment>, EnvironmentError> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY position, name"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(environment).collect()
    }

    /// The environment called `name` (any case), if there is one.
    pub async fn get(&self, name: &str) -> Result<Option<Environment>, EnvironmentError> {
        let row = sqlx::query(&format!("{SELECT} WHERE name = $1"))
            .bind(name.to_ascii_lowercase())
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(environment).transpose()
    }

    /// The environment called `name`, or an error that names `field` and lists the
    /// environments there are.
    pub async fn require(
        &self,
        field: &'static str,
        name: &str,
    ) -> Result<Environment, EnvironmentError> {
        if let Some(found) = self.get(name).await? {
            return Ok(found);
        }
        let known: Vec<String> = self.list().await?.into_iter().map(|e| e.name).collect();
        let message = if known.is_empty() {
            format!("there is no environment {name:?}: none are defined (set PORTICO_ENVIRONMENTS, e.g. dev,staging,production)")
        } else {
            format!(
                "there is no environment {name:?} (environments: {})",
                known.join(", ")
            )
        };
        Err(EnvironmentError::invalid(field, message))
    }

    /// Declares the configured environments, in the order given (existing ones keep
    /// their history; their title, tier and order follow the configuration).
    pub async fn define_all(
        &self,
        specs: &[EnvironmentSpec],
        source: Source,
    ) -> Result<(), EnvironmentError> {
        for (index, spec) in specs.iter().enumerate() {
            let spec = EnvironmentSpec {
                order: spec.order.or(Some(index as i64 * 10)),
                ..spec.clone()
            };
            self.define(&spec, source).await?;
        }
        Ok(())
    }

    /// Adds or changes one environment; its order defaults to after the others.
    pub async fn define(
        &self,
        spec: &EnvironmentSpec,
        source: Source,
    ) -> Result<Environment, EnvironmentError> {
        let name = check_name(&spec.name)?;
        let title = spec.title_or_default();
        if title.trim().is_empty() || title.len() > 100 {
            return Err(EnvironmentError::invalid(
                "title",
                "must be 1 to 100 characters",
            ));
        }
        let now = now_millis();
        let mut tx = self.db.begin_write().await?;
        let order = match spec.order {
            Some(order) => order,
            None => {
                let existing: Option<i64> =
                    sqlx::query_scalar("SELECT position FROM environments WHERE name = $1")
                        .bind(&name)
                        .fetch_optional(&mut *tx)
                        .await?;
                match existing {
                    Some(order) => order,
                    None => {
                        let last: Option<i64> =
                            sqlx::query_scalar("SELECT MAX(position) FROM environments")
                                .fetch_one(&mut *tx)
                                .await?;
                        last.map_or(0, |last| last + 10)
                    }
                }
            }
        };
        let changed = sqlx::query(
            "INSERT INTO environments (name, title, tier, position, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (name) DO UPDATE SET title = excluded.title, tier = excluded.tier, \
             position = excluded.position, source = excluded.source, updated_at = excluded.updated_at \
             WHERE environments.title <> excluded.title OR environments.tier <> excluded.tier \
             OR environments.position <> excluded.position OR environments.source <> excluded.source",
        )
        .bind(&name)
        .bind(&title)
        .bind(spec.tier.as_str())
        .bind(order)
        .bind(source.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let defined = Environment {
            name: name.clone(),
            title,
            tier: spec.tier,
            order,
        };
        if changed > 0 {
            let payload = json!({ "environment": &defined });
            self.events
                .append_all(
                    &mut tx,
                    &[
                        NewEvent::new("deployments", "environment.defined", payload.clone()),
                        NewEvent::new(
                            format!("environment:{name}"),
                            "environment.defined",
                            payload,
                        ),
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        if changed > 0 {
            self.events.committed();
        }
        Ok(defined)
    }

    /// Removes an environment with its deployments, probes and health history.
    /// Environments from the configuration come back at the next start, so they are
    /// removed there instead.
    pub async fn remove(&self, name: &str) -> Result<(), EnvironmentError> {
        let name = name.to_ascii_lowercase();
        let mut tx = self.db.begin_write().await?;
        let source: Option<String> =
            sqlx::query_scalar("SELECT source FROM environments WHERE name = $1")
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?;
        match source.as_deref() {
            None => {
                return Err(EnvironmentError::NotFound(format!(
                    "there is no environment {name:?}"
                )))
            }
            Some("config") => {
                return Err(EnvironmentError::Conflict(format!(
                    "environment {name:?} is defined by the configuration (PORTICO_ENVIRONMENTS or portico.toml): remove it there"
                )))
            }
            Some(_) => {}
        }
        sqlx::query("DELETE FROM environments WHERE name = $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        let payload = json!({ "environment": { "name": &name } });
        self.events
            .append_all(
                &mut tx,
                &[
                    NewEvent::new("deployments", "environment.removed", payload.clone()),
                    NewEvent::new(
                        format!("environment:{name}"),
                        "environment.removed",
                        payload,
                    ),
                ],
            )
            .await?;
        tx.commit().await?;
        self.events.committed();
        Ok(())
    }
}
