use crate::catalog::CatalogError;
use crate::events::EventError;
use crate::storage::StorageError;

/// What can go wrong with notifications.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// A recipient cannot be read, or is not in the catalog; the message names it.
    #[error("{0}")]
    Recipient(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<sqlx::Error> for NotificationError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
