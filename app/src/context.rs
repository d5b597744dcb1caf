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

#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
#[error("the Portal is not in the Leptos context")]
struct MissingContext;
