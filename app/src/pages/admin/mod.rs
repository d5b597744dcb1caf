//! Administration pages (admins only): API tokens and the audit log.

pub mod audit;
pub mod tokens;

#[cfg(feature = "ssr")]
mod server {
    use portico_core::identity::{IdentityError, Principal, Role};

    use crate::error::AppError;

    pub use crate::context::refused;

    /// The caller, who must be an admin. The route is declared for admins already; this
    /// keeps the server function safe wherever it is called from.
    pub fn admin() -> Result<Principal, AppError> {
        crate::context::signed_in(Role::Admin)
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
