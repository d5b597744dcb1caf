//! Administration pages (admins only): API tokens and the audit log.

pub mod audit;
pub mod tokens;

#[cfg(feature = "ssr")]
mod server {
    use portico_core::identity::{IdentityError, Principal, Role};

    use crate::error::AppError;

    /// The caller, who must be an admin. The route is declared for admins already; this
    /// keeps the server function safe wherever it is called from.
    pub fn admin() -> Result<Principal, AppError> {
        match crate::context::principal() {
            Some(principal) if principal.has(Role::Admin) => Ok(principal),
            Some(principal) => Err(refused(
                http::StatusCode::FORBIDDEN,
                format!(
                    "this needs the admin role; {} has {}",
                    principal.name, principal.role
                ),
            )),
            None => Err(refused(
                http::StatusCode::UNAUTHORIZED,
                "sign in first".into(),
            )),
        }
    }

    /// A refusal the person can act on, answered with `status` rather than 500.
    pub fn refused(status: http::StatusCode, message: String) -> AppError {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        AppError::Refused(message)
    }

    pub fn identity_error(e: IdentityError) -> AppError {
        match e {
            IdentityError::Invalid { .. } => refused(http::StatusCode::BAD_REQUEST, e.to_string()),
            IdentityError::Conflict(_) => refused(http::StatusCode::CONFLICT, e.to_string()),
            IdentityError::NotFound(_) => refused(http::StatusCode::NOT_FOUND, e.to_string()),
            other => AppError::internal("identity", &other),
        }
    }
}
