//! The demo data set that `portico serve --demo` puts into an empty database.
//!
//! Seeding happens once per database, in one transaction: a marker row in `portal_meta`
//! says it was done, so restarts (or several replicas starting together) never seed twice,
//! and a database that already holds data of its own is left alone.

use serde_json::json;

use crate::events::{EventError, NewEvent};
use crate::storage::StorageError;
use crate::Portal;

const SEEDED_KEY: &str = "demo.seeded_at";

/// What [`seed`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo data set was written.
    Seeded,
    /// An earlier start already seeded this database.
    AlreadySeeded,
    /// The database holds data of its own; demo data would be mixed into it.
    NotEmpty,
}

/// Seeds the demo data set if the database is empty.
pub async fn seed(portal: &Portal) -> Result<SeedOutcome, EventError> {
    let events = portal.events();
    let mut tx = portal
        .db()
        .pool()
        .begin()
        .await
        .map_err(StorageError::from)?;

    let seeded_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let marked = sqlx::query(
        "INSERT INTO portal_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(SEEDED_KEY)
    .bind(&seeded_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(SeedOutcome::AlreadySeeded);
    }
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        // Dropping the transaction rolls the marker back.
        return Ok(SeedOutcome::NotEmpty);
    }

    let event = events
        .append(
            &mut tx,
            &NewEvent::new("portal", "demo.seeded", json!({ "seeded_at": seeded_at })),
        )
        .await?;
    tx.commit().await?;
    events.publish(event);
    Ok(SeedOutcome::Seeded)
}
