use crate::catalog::{CatalogError, FieldProblem};
use crate::events::EventError;
use crate::storage::StorageError;

/// What can go wrong with templates and their runs.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The request breaks a rule; `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The form's values do not satisfy the template's parameter schemas.
    #[error("the values do not match the template's parameters: {}", describe(.0))]
    Values(Vec<portico_forms::FieldError>),
    /// The template cannot be run as written.
    #[error("the template cannot be run: {}", join(.0))]
    Template(Vec<FieldProblem>),
    /// No template or task has this name or id.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the task's state (cancelling a finished task).
    #[error("{0}")]
    Conflict(String),
    /// Something stored cannot be read back (logged with the details).
    #[error("stored task data is unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Event(#[from] EventError),
}

impl TemplateError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for TemplateError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}

fn describe(errors: &[portico_forms::FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn join(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
