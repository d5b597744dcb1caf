//! Portico's web UI (Leptos): rendered on the server, hydrated in the browser.
//!
//! - [`shell`]: the HTML document around the app (head, theme boot script, hydration).
//! - [`app`]: the router: every page and its path.
//! - `components/`: the app frame (header, navigation, footer) and shared widgets.
//! - `pages/`: one file per page, the component first, then its server functions.
//! - `live`: the live channel's client (one socket per tab) and its hooks.
//! - `context`: what server functions read from the Leptos context.
//! - [`error`]: the one error type server functions return to the browser.
//!
//! Built twice: with `ssr` into the server binary, with `hydrate` into the wasm bundle.

pub mod app;
mod codec;
mod components;
mod context;
#[cfg(feature = "hydrate")]
mod dom;
pub mod error;
pub mod live;
mod pages;
pub mod shell;

pub use app::App;
pub use shell::shell;

/// The browser entry point: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for people and tests: from here on the page is interactive.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
