use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Shown for any path no page claims; the server answers it with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"Page not found"</h1>
            <p class="muted">"Nothing lives at this address. It may have moved, or the link may be mistyped."</p>
            <p><A href="/">"Back to the overview"</A></p>
        </section>
    }
}
