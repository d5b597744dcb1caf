//! The demo data set that `portico serve --demo` puts into an empty database: the catalog
//! of Northwind Outfitters, a fictional outdoor-gear retailer (`catalog.yaml`: two
//! departments, eight teams, their people, domains, systems, components, APIs and
//! resources), written for Portico.
//!
//! Seeding happens once per database: a marker row in `portal_meta` says it was done,
//! so restarts (or several replicas starting together) never seed twice, and a database
//! that already holds a catalog of its own is left alone.

pub mod golden_paths;

use std::path::PathBuf;

use serde_json::json;

use crate::catalog::document::entities_in;
use crate::catalog::place::Place;
use crate::catalog::reader::{LocationRead, ReadEntity};
use crate::catalog::CatalogError;
use crate::events::NewEvent;
use crate::storage::StorageError;
use crate::Portal;

const SEEDED_KEY: &str = "demo.seeded_at";
/// Where the demo entities say they come from.
pub const ORIGIN: &str = "demo:northwind";
const CATALOG: &str = include_str!("catalog.yaml");

/// What [`seed`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo data set was written.
    Seeded,
    /// An earlier start already seeded this database.
    AlreadySeeded,
    /// The database holds a catalog of its own; demo data would be mixed into it.
    NotEmpty,
}

/// Seeds the demo data set if the database is empty. Safe to repeat after a failure:
/// the catalog import is idempotent and the marker is written last.
pub async fn seed(portal: &Portal) -> Result<SeedOutcome, CatalogError> {
    let pool = portal.db().pool();
    let marked: Option<String> = sqlx::query_scalar("SELECT value FROM portal_meta WHERE key = $1")
        .bind(SEEDED_KEY)
        .fetch_optional(pool)
        .await?;
    if marked.is_some() {
        return Ok(SeedOutcome::AlreadySeeded);
    }
    let others: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM catalog_entities WHERE origin <> $1")
            .bind(ORIGIN)
            .fetch_one(pool)
            .await?;
    if others > 0 {
        return Ok(SeedOutcome::NotEmpty);
    }

    portal.catalog().ingest(ORIGIN, demo_catalog()).await?;

    let seeded_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut tx = pool.begin().await.map_err(StorageError::from)?;
    let inserted = sqlx::query(
        "INSERT INTO portal_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(SEEDED_KEY)
    .bind(&seeded_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(SeedOutcome::AlreadySeeded); // another replica finished first
    }
    let events = portal.events();
    events
        .append(
            &mut tx,
            &NewEvent::new("portal", "demo.seeded", json!({ "seeded_at": seeded_at })),
        )
        .await?;
    tx.commit().await?;
    events.committed();
    Ok(SeedOutcome::Seeded)
}

/// The embedded demo catalog, read like a file location.
fn demo_catalog() -> LocationRead {
    let contents = entities_in("demo/catalog.yaml", CATALOG);
    LocationRead {
        entities: contents
            .entities
            .into_iter()
            .map(|located| ReadEntity {
                entity: located.entity,
                file: Place::File(PathBuf::from("demo/catalog.yaml")),
                document: located.document,
                problems: Vec::new(),
            })
            .collect(),
        rejected: contents.problems,
        ..LocationRead::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_demo_catalog_is_valid_and_large_enough() {
        let read = demo_catalog();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        let mut kinds: HashMap<String, usize> = HashMap::new();
        for item in &read.entities {
            *kinds.entry(item.entity.kind().to_owned()).or_default() += 1;
        }
        assert!(kinds["Component"] >= 40, "{kinds:?}");
        assert!(kinds["API"] >= 15, "{kinds:?}");
        assert!(
            kinds["Group"] >= 8 && kinds["User"] >= 6 && kinds["System"] >= 2,
            "{kinds:?}"
        );
        assert!(
            kinds.contains_key("Domain") && kinds.contains_key("Resource"),
            "{kinds:?}"
        );
    }
}
