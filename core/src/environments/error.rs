use crate::catalog::CatalogError;
use crate::events::EventError;
use crate::storage::StorageError;

/// What can go wrong with environments, deployments and health.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// The input breaks a rule; `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// It contradicts what was recorded (a deployment id reported for another
    /// component, a finished deployment reported with the other outcome).
    #[error("{0}")]
    Conflict(String),
    /// Nothing has this name.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Event(#[from] EventError),
}

impl EnvironmentError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for EnvironmentError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
