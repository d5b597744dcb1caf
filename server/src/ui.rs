//! The web UI: Leptos pages and server functions, and the site's static files.

use std::convert::Infallible;
use std::sync::Arc;

use app::live::LogPosition;
use app::{shell, App};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::Method;
use axum::Router;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, render_app_to_stream_with_context, LeptosRoutes};
use portico_core::Portal;
use tower_http::services::ServeDir;

use crate::access::AccessTable;
use crate::events::hub::Hub;
use crate::identity::Caller;
use crate::state::AppState;

/// Every page route and server function of the app, then the static files of the site;
/// a path that is neither renders the app's 404 page (with status 404). Each page and
/// server function is declared in `table` (start-up fails on one with no declaration).
pub fn router(state: &AppState, table: &mut AccessTable) -> Result<Router<AppState>, String> {
    let pages = generate_route_list(App);
    for page in &pages {
        table.declare_ui(page.path(), &[Method::GET])?;
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        table.declare_ui(path, &[method])?;
    }
    let context = leptos_context(state.portal.clone(), Arc::clone(&state.hub));
    let options = state.leptos.clone();
    let render_shell = move || shell(options.clone());

    let not_found = render_app_to_stream_with_context(context.clone(), render_shell.clone());
    let not_found = tower::service_fn(move |request: Request| {
        let render = not_found.clone();
        async move { Ok::<_, Infallible>(render(request).await) }
    });
    // wasm-bindgen's output is gzipped at build time (`.gz` beside each file): served
    // compressed to browsers that accept it, with no compression work per request.
    let files = ServeDir::new(&*state.leptos.site_root)
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);

    Ok(Router::new()
        .leptos_routes_with_context(state, pages, context, render_shell)
        .fallback_service(files))
}

/// What pages and server functions find in their context. The same function serves
/// both, so they cannot drift apart.
fn leptos_context(portal: Portal, hub: Arc<Hub>) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(portal.clone());
        // Read before the page's data: the browser replays what came after it.
        provide_context(LogPosition(hub.position()));
        // The caller resolved for this request (see `identity::caller`).
        let principal = use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .and_then(|caller| caller.principal().cloned());
        provide_context(principal);
    }
}
