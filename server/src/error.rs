//! The one place core errors become HTTP responses.
//!
//! Bodies are JSON shaped like Backstage's: `{"error": {"name", "message"}, "request":
//! {"method", "url"}, "response": {"statusCode"}}`, so Backstage clients read them: the
//! handler's error gives `error`, and [`envelope`] adds the rest, which only the request
//! knows. 5xx details go to the log, never to the client.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portico_core::approvals::ApprovalError;
use portico_core::catalog::locations::LocationError;
use portico_core::catalog::query::QueryError;
use portico_core::catalog::CatalogError;
use portico_core::environments::EnvironmentError;
use portico_core::events::EventError;
use portico_core::identity::IdentityError;
use portico_core::notifications::NotificationError;
use portico_core::storage::StorageError;
use portico_core::templates::TemplateError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Nothing exists at this path or under this name.
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or credentials that are not accepted (the message says which).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request's input breaks a rule; the message names the field.
    #[error("{0}")]
    Input(String),
    /// The request's input breaks rules of several fields: `errors` lists each field and
    /// its rule, for forms to show next to the field.
    #[error("{message}")]
    Fields {
        message: String,
        errors: Vec<serde_json::Value>,
    },
    /// The request conflicts with what exists (a location registered twice).
    #[error("{0}")]
    Conflict(String),
    /// Something the request needs elsewhere (a catalog URL's host) failed; the message
    /// says what, and retrying later may work.
    #[error("{0}")]
    Upstream(String),
    /// Something needed to answer is down for now (the message says what); retrying
    /// later may work.
    #[error("{0}")]
    TryLater(String),
    /// The database cannot be reached right now; retrying later may work.
    #[error("storage unavailable")]
    Unavailable(#[source] StorageError),
    /// Anything else: a bug or an unexpected failure below.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    fn status_and_name(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "AuthenticationError"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "NotAllowedError"),
            Self::Input(_) | Self::Fields { .. } => (StatusCode::BAD_REQUEST, "InputError"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "ConflictError"),
            Self::Upstream(_) => (StatusCode::BAD_GATEWAY, "BadGatewayError"),
            Self::Unavailable(_) | Self::TryLater(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableError")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, name) = self.status_and_name();
        let message = match &self {
            Self::NotFound(m)
            | Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::Input(m)
            | Self::Conflict(m)
            | Self::Upstream(m)
            | Self::TryLater(m)
            | Self::Fields { message: m, .. } => m.clone(),
            Self::Unavailable(e) => {
                tracing::warn!(error = e as &dyn std::error::Error, "storage unavailable");
                "The service is temporarily unavailable; try again shortly.".to_owned()
            }
            Self::Internal(e) => {
                tracing::error!(error = &**e as &dyn std::error::Error, "internal error");
                "An internal error occurred.".to_owned()
            }
        };
        let fields = match &self {
            Self::Fields { errors, .. } => Some(errors.clone()),
            _ => None,
        };
        let mut body = json!({ "error": { "name": name, "message": message } });
        if let Some(fields) = &fields {
            body["errors"] = json!(fields);
        }
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorDetails {
            name,
            message,
            fields,
        });
        response
    }
}

/// What [`envelope`] needs to rebuild an error body with the request in it.
#[derive(Clone, Debug)]
struct ErrorDetails {
    name: &'static str,
    message: String,
    /// Per-field errors, for [`ApiError::Fields`].
    fields: Option<Vec<serde_json::Value>>,
}

/// Middleware: completes every [`ApiError`] body with the request and the status.
pub async fn envelope(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let url = request.uri().to_string();
    let mut response = next.run(request).await;
    let Some(details) = response.extensions_mut().remove::<ErrorDetails>() else {
        return response;
    };
    let status = response.status();
    let mut body = json!({
        "error": { "name": details.name, "message": details.message },
        "request": { "method": method, "url": url },
        "response": { "statusCode": status.as_u16() },
    });
    if let Some(fields) = details.fields {
        body["errors"] = json!(fields);
    }
    let mut rebuilt = (status, Json(body)).into_response();
    // Keep what the error set besides its body (`WWW-Authenticate`, for one).
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            rebuilt.headers_mut().append(name.clone(), value.clone());
        }
    }
    rebuilt
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match &e {
            StorageError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => Self::Unavailable(e),
            _ => Self::Internal(Box::new(e)),
        }
    }
}

impl From<LocationError> for ApiError {
    fn from(e: LocationError) -> Self {
        match e {
            LocationError::Invalid { .. } => Self::Input(e.to_string()),
            LocationError::Exists(_) => Self::Conflict(e.to_string()),
            LocationError::NotFound(_) => Self::NotFound(e.to_string()),
            LocationError::Unreadable(_) => Self::Upstream(e.to_string()),
            LocationError::Catalog(e) => e.into(),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Invalid { .. } => Self::Input(e.to_string()),
            IdentityError::Conflict(_) => Self::Conflict(e.to_string()),
            IdentityError::NotFound(_) => Self::NotFound(e.to_string()),
            IdentityError::Storage(e) => e.into(),
            IdentityError::Catalog(e) => e.into(),
            IdentityError::Event(e) => e.into(),
        }
    }
}

impl From<EnvironmentError> for ApiError {
    fn from(e: EnvironmentError) -> Self {
        match e {
            EnvironmentError::Invalid { .. } => Self::Input(e.to_string()),
            EnvironmentError::Conflict(_) => Self::Conflict(e.to_string()),
            EnvironmentError::NotFound(_) => Self::NotFound(e.to_string()),
            EnvironmentError::Storage(e) => e.into(),
            EnvironmentError::Catalog(e) => e.into(),
            EnvironmentError::Event(e) => e.into(),
        }
    }
}

impl From<ApprovalError> for ApiError {
    fn from(e: ApprovalError) -> Self {
        match e {
            ApprovalError::Invalid { .. } => Self::Input(e.to_string()),
            ApprovalError::NotFound(_) => Self::NotFound(e.to_string()),
            ApprovalError::Forbidden(_) => Self::Forbidden(e.to_string()),
            ApprovalError::Conflict(_) => Self::Conflict(e.to_string()),
            ApprovalError::Corrupt(_) => Self::Internal(Box::new(e)),
            ApprovalError::Storage(e) => e.into(),
            ApprovalError::Event(e) => e.into(),
            ApprovalError::Identity(e) => e.into(),
        }
    }
}

impl From<NotificationError> for ApiError {
    fn from(e: NotificationError) -> Self {
        match e {
            NotificationError::Recipient(_) => Self::Input(e.to_string()),
            NotificationError::Storage(e) => e.into(),
            NotificationError::Event(e) => e.into(),
            NotificationError::Catalog(e) => e.into(),
        }
    }
}

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Invalid { .. } | TemplateError::Template(_) => {
                Self::Input(e.to_string())
            }
            TemplateError::Values(ref errors) => Self::Fields {
                message: e.to_string(),
                errors: errors
                    .iter()
                    .map(|f| json!({ "field": f.field, "message": f.message }))
                    .collect(),
            },
            TemplateError::NotFound(_) => Self::NotFound(e.to_string()),
            TemplateError::Conflict(_) => Self::Conflict(e.to_string()),
            TemplateError::Corrupt(_) => Self::Internal(Box::new(e)),
            TemplateError::Storage(e) => e.into(),
            TemplateError::Catalog(e) => e.into(),
            TemplateError::Event(e) => e.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        Self::Input(e.to_string())
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Storage(e) => e.into(),
            CatalogError::Event(e) => e.into(),
            CatalogError::Corrupt { .. } => Self::Internal(Box::new(e)),
        }
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Invalid { .. } => Self::Input(e.to_string()),
            EventError::Storage(e) => e.into(),
            EventError::CorruptPayload { .. } => Self::Internal(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_error_has_a_status_and_a_safe_body() {
        let cases = [
            (
                ApiError::Conflict("location file:/x is already registered".into()),
                409,
                "ConflictError",
                "location file:/x is already registered",
            ),
            (
                ApiError::NotFound("no route GET /api/x".into()),
                404,
                "NotFoundError",
                "no route GET /api/x",
            ),
            (
                EventError::Invalid {
                    field: "topic",
                    reason: "must not be empty",
                }
                .into(),
                400,
                "InputError",
                "topic: must not be empty",
            ),
            (
                StorageError::Database(sqlx::Error::PoolTimedOut).into(),
                503,
                "ServiceUnavailableError",
                "The service is temporarily unavailable; try again shortly.",
            ),
            (
                StorageError::Database(sqlx::Error::Protocol("secret detail".into())).into(),
                500,
                "InternalError",
                "An internal error occurred.",
            ),
        ];
        for (error, status, name, message) in cases {
            let (actual, json) = body(error).await;
            assert_eq!(actual.as_u16(), status);
            assert_eq!(json["error"]["name"], name);
            assert_eq!(json["error"]["message"], message);
        }
    }
}
