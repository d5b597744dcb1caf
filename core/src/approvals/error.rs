use crate::events::EventError;
use crate::identity::IdentityError;
use crate::storage::StorageError;

/// What can go wrong with approval requests.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The input breaks a rule; `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// No request has this id.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not decide (or cancel) this request; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// The request is no longer pending (decided, expired or cancelled), or the caller
    /// decided it already; the message says who decided and how.
    #[error("{0}")]
    Conflict(String),
    /// A stored request cannot be read back (edited by hand, or by a newer version).
    #[error("stored approval data is unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl ApprovalError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for ApprovalError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
