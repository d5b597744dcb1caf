//! Environments, what is deployed in them, and whether it is healthy.
//!
//! - [`model`]: environments and tiers, deployments and their statuses, health.
//! - [`definitions`]: environments declared by configuration, the admin API or the demo.
//! - [`deployments`]: deployment reports from CI/CD: idempotent, forward-only.
//! - [`health`]: health results (probed or pushed), their history and uptime figures.
//! - [`probes`]: the probe engine: HTTP checks declared in catalog annotations or through
//!   the API, scheduled with jitter, judged with hysteresis.
//! - [`views`]: what the dashboards read: an environment's components, the matrix of
//!   components × environments, the recent changes.
//!
//! Every change that people watch (a deployment reported or moved on, a health status
//! changed) is appended to the event log in the same transaction, on `deployments` or
//! `health`, `environment:<name>` and `entity:<ref>`.

pub mod definitions;
pub mod deployments;
mod error;
pub mod health;
pub mod model;
pub mod probes;
pub mod views;

pub use error::EnvironmentError;
pub use model::{
    Deployment, DeploymentStatus, Environment, EnvironmentSpec, Health, HealthStatus, Tier,
};

use crate::catalog::reference::RefContext;
use crate::catalog::{Catalog, EntityRef};
use crate::events::{Events, NewEvent};
use crate::storage::Database;

/// Where probe definitions changed through the API are announced, so the probe engine
/// (on whichever instance runs it) reloads them. Not a topic clients may join.
pub const PROBES_TOPIC: &str = "probes";

/// The environments service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Environments {
    db: Database,
    catalog: Catalog,
    events: Events,
}

impl Environments {
    pub fn new(db: Database, catalog: Catalog, events: Events) -> Self {
        Self {
            db,
            catalog,
            events,
        }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The catalog entity `text` names (`payments` means `component:default/payments`),
    /// as its reference key; an error naming `field` when there is no such entity.
    pub async fn resolve_entity(
        &self,
        field: &'static str,
        text: &str,
    ) -> Result<String, EnvironmentError> {
        let context = RefContext {
            default_kind: Some("component"),
            default_namespace: "default",
        };
        let reference = EntityRef::parse(text, context).map_err(|e| {
            EnvironmentError::invalid(field, format!("{text:?} is not an entity reference: {e}"))
        })?;
        match self.catalog.entity(&reference).await? {
            Some(_) => Ok(reference.key()),
            None => Err(EnvironmentError::invalid(
                field,
                format!("{} is not in the catalog", reference.key()),
            )),
        }
    }
}

impl Environments {
    /// Reference keys of the catalog entities whose annotation `key` is `value`
    /// (compared ignoring case, as the search index keeps them).
    pub async fn entities_with_annotation(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<String>, EnvironmentError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT e.ref_key FROM catalog_search s \
             JOIN catalog_entities e ON e.id = s.entity_id \
             WHERE s.key = $1 AND s.value = $2 ORDER BY e.ref_key",
        )
        .bind(format!("metadata.annotations.{}", key.to_lowercase()))
        .bind(value.to_lowercase())
        .fetch_all(self.db.pool())
        .await?)
    }
}

/// The events of one change of a component in an environment: on the feed of its kind
/// (`deployments`, `health`), the environment's and the entity's topics.
fn change_events(
    feed: &str,
    event_type: &str,
    entity: &str,
    environment: &str,
    payload: &serde_json::Value,
) -> [NewEvent; 3] {
    [
        NewEvent::new(feed, event_type, payload.clone()),
        NewEvent::new(
            format!("environment:{environment}"),
            event_type,
            payload.clone(),
        ),
        NewEvent::new(format!("entity:{entity}"), event_type, payload.clone()),
    ]
}
