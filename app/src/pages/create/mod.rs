//! Golden paths: pick a template (`/create`), fill in its wizard
//! (`/create/templates/{namespace}/{name}`), and watch the run it starts
//! (`/create/tasks/{id}`), live; or write one and dry-run it (`/create/edit`).
//!
//! These pages are written as HTML text (by the server, and for the wizard's fields by
//! the same code in the browser) rather than as Leptos views: the renderer's generic
//! code is copied into the browser bundle for every view, attribute and closure, and the
//! pages as views cost well over the bundle's budget. The browser keeps the state and
//! listens once per kind of event on each page.
//!
//! - [`gallery`]: the templates, with search and tags, and the caller's recent runs.
//! - [`wizard`]: the template's parameter pages as a form, a review with a dry run, and
//!   "Create"; in the browser, the values and their checks.
//! - [`fields`]: one form control per JSON Schema property, as HTML, and the values they
//!   stand for.
//! - [`pickers`]: the catalog-backed pickers (owner, entity) and the repository picker.
//! - [`patterns`]: the `pattern` keyword in the browser (JavaScript's `RegExp`) and on
//!   the server (the `regex` crate), so a form checks as it is typed with the rules the
//!   server applies again before it runs anything.
//! - [`editor`]: `/create/edit`, a template pasted or taken from the catalog, its wizard
//!   and a dry run of it.
//! - [`task`]: one run: its steps, its log as it grows, its output.
//! - `wire`: what the server functions send, read by hand in the browser.
//! - `preview` (ssr): a dry run's files as a tree, its output and its log.
//! - `server` (ssr): reads the templates service and shapes what the pages show.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::error::AppError;
use crate::pages::status::ErrorList;

pub mod editor;
// What only the browser does with a form (reading values, checking them as they are
// typed) is still compiled, and tested, on the server.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod fields;
pub mod gallery;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod patterns;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod pickers;
#[cfg(feature = "ssr")]
mod preview;
#[cfg(feature = "ssr")]
mod server;
pub mod task;
mod wire;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub mod wizard;

/// The tone of a run's or a step's status, which colours its badge.
#[cfg(feature = "ssr")]
pub fn run_tone(status: &str) -> &'static str {
    match status {
        "completed" => "ok",
        "processing" => "run",
        "failed" => "bad",
        "open" => "warn",
        _ => "idle",
    }
}

/// A run's status as people read it.
#[cfg(feature = "ssr")]
pub fn run_label(status: &str) -> &'static str {
    match status {
        "open" => "waiting",
        "processing" => "running",
        "completed" => "completed",
        "failed" => "failed",
        "cancelled" => "cancelled",
        "skipped" => "skipped",
        _ => "unknown",
    }
}

/// Asks a page's server function for what the page shows, given the page's key (its
/// route parameters, or its query).
pub type Fetch = fn(Vec<String>) -> Pin<Box<dyn Future<Output = Result<String, AppError>> + Send>>;
/// Shows what the server function answered, for the key.
pub type Show = fn(Vec<String>, String) -> AnyView;

/// The live topic a page follows, for its key: a change there reads the page again.
pub type Live = fn(&[String]) -> Option<String>;

/// The data of the page being shown, in the context of what it shows: a page reads it
/// again after changing something (`.0.refetch()`).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct PageData(pub Resource<Result<String, AppError>>);

/// The frame of each of these pages: load the page's data (on the server for the first
/// render), show a loading line meanwhile and the error if it fails, and read it again
/// on a change on its live topic. One frame for these pages, as their data is one text
/// each: the bundle carries its code once.
pub fn page_frame(
    key: Signal<Vec<String>>,
    fetch: Fetch,
    show: Show,
    loading: &'static str,
    live: Live,
) -> AnyView {
    let data = Resource::new(move || key.get(), fetch);
    provide_context(PageData(data));
    crate::live::use_live_refresh(move || live(&key.get()), move || data.refetch());
    view! {
        <Transition fallback=move || view! { <p class="loading" role="status">{loading}</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    data.await.map(|answer| show(key.get_untracked(), answer))
                })}
            </ErrorBoundary>
        </Transition>
    }
    .into_any()
}

/// A view as HTML for the browser to insert: without the markers hydration looks for
/// (nothing hydrates it), so a run's page or the gallery is sent as plain HTML.
#[cfg(feature = "ssr")]
pub trait Fragment {
    fn fragment(self) -> String;
}

#[cfg(feature = "ssr")]
impl<V: leptos::tachys::view::RenderHtml> Fragment for V {
    fn fragment(self) -> String {
        // Text is escaped, so `<!>` can only be a marker.
        self.to_html().replace("<!>", "")
    }
}

/// Unix milliseconds, by the browser's clock.
#[cfg(feature = "hydrate")]
pub fn browser_now() -> i64 {
    date_now() as i64
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

/// A duration as people read it: `<1 s`, `4 s`, `2 min 05 s`, `1 h 12 min`.
pub fn duration(millis: i64) -> String {
    if millis < 1000 {
        return "<1 s".to_owned();
    }
    let seconds = millis / 1000;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_statuses_read_naturally() {
        assert_eq!(duration(-5), "<1 s");
        assert_eq!(duration(999), "<1 s");
        assert_eq!(duration(4_900), "4 s");
        assert_eq!(duration(125_000), "2 min 05 s");
        assert_eq!(duration(4_320_000), "1 h 12 min");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn statuses_read_naturally() {
        assert_eq!(run_label("processing"), "running");
        assert_eq!(run_tone("failed"), "bad");
    }
}
