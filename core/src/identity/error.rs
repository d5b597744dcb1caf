use crate::catalog::CatalogError;
use crate::storage::StorageError;

/// What can go wrong in the identity service.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The request breaks a rule (`field` names what is wrong).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// It conflicts with what exists (a live token with the same name).
    #[error("{0}")]
    Conflict(String),
    /// Nothing has this id.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Looking up the user's catalog entity failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Announcing an ended credential failed.
    #[error(transparent)]
    Event(#[from] crate::events::EventError),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
