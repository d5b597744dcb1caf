use crate::events::EventError;
use crate::storage::StorageError;

/// What can go wrong in the catalog service.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Appending the change to the event log failed.
    #[error(transparent)]
    Event(#[from] EventError),
    /// A stored entity body is not valid JSON (written by something other than Portico).
    #[error("stored entity {reference} is corrupt")]
    Corrupt {
        reference: String,
        #[source]
        source: serde_json::Error,
    },
}

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
