//! What server functions find in the Leptos context: the portal they read from.

#[cfg(feature = "ssr")]
pub fn portal() -> Result<portico_core::Portal, crate::error::AppError> {
    leptos::prelude::use_context::<portico_core::Portal>().ok_or_else(|| {
        crate::error::AppError::internal("server function without a portal", &MissingContext)
    })
}

#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
#[error("the Portal is not in the Leptos context")]
struct MissingContext;
