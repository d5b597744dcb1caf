//! What server functions find in the Leptos context: the portal they read from, and
//! who is asking.

#[cfg(feature = "ssr")]
pub fn portal() -> Result<portico_core::Portal, crate::error::AppError> {
    leptos::prelude::use_context::<portico_core::Portal>().ok_or_else(|| {
        crate::error::AppError::internal("server function without a portal", &MissingContext)
    })
}

/// The signed-in person or token behind this request, if any (the server puts it in the
/// context of every page and server function).
#[cfg(feature = "ssr")]
pub fn principal() -> Option<portico_core::identity::Principal> {
    leptos::prelude::use_context::<Option<portico_core::identity::Principal>>().flatten()
}

/// A refusal the person can act on, answered with `status` rather than 500.
#[cfg(feature = "ssr")]
pub fn refused(status: http::StatusCode, message: String) -> crate::error::AppError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    crate::error::AppError::Refused(message)
}

/// The caller, who must have at least `role`. The route is declared with the same need;
/// this keeps the server function safe wherever it is called from.
#[cfg(feature = "ssr")]
pub fn signed_in(
    role: portico_core::identity::Role,
) -> Result<portico_core::identity::Principal, crate::error::AppError> {
    match principal() {
        Some(principal) if principal.has(role) => Ok(principal),
        Some(principal) => Err(refused(
            http::StatusCode::FORBIDDEN,
            format!(
                "this needs the {role} role; {} has {}",
                principal.name, principal.role
            ),
        )),
        None => Err(refused(
            http::StatusCode::UNAUTHORIZED,
            "sign in first".into(),
        )),
    }
}

#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
#[error("the Portal is not in the Leptos context")]
struct MissingContext;
