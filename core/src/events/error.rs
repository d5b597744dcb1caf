use crate::storage::StorageError;

/// What can go wrong appending to or reading the event log.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// A field of a new event breaks a rule (`field` names it, `reason` says which rule).
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    /// The stored payload is not JSON (the row was written by something other than Portico).
    #[error("event {id}: stored payload is not valid JSON")]
    CorruptPayload {
        id: i64,
        #[source]
        source: serde_json::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for EventError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}
