//! Approvals: `/approvals`, what waits for the caller first, then every pending
//! request, then what was settled; and `/approvals/{id}`, one request with its context,
//! its history and the decision.
//!
//! Both pages are live: a change on the `approvals` topic reads them again, so a
//! decision shows for everyone at once. The server writes them as HTML (`render`), as
//! it does the golden-path pages: the browser bundle carries no markup for them, only
//! the handlers of the decision form.
//!
//! - [`list`]: `/approvals`, with its filters in the URL.
//! - [`detail`]: `/approvals/{id}`, and deciding it.
//! - `render` (ssr): the pages' HTML.
//! - `server` (ssr): reads the approvals service for them.

pub mod detail;
pub mod list;
#[cfg(feature = "ssr")]
mod markdown;
#[cfg(feature = "ssr")]
mod render;
#[cfg(feature = "ssr")]
mod server;

/// The tone of a request's status, which colours its badge.
#[cfg(feature = "ssr")]
fn tone(status: &str) -> &'static str {
    match status {
        "approved" => "ok",
        "rejected" => "bad",
        "pending" => "warn",
        _ => "idle",
    }
}
