use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::status::{backend_label, system_status, ErrorList, InstanceStatus};

/// The landing page: what Portico is, and how this instance is doing at a glance.
#[component]
pub fn HomePage() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    view! {
        <Title text="Overview" />
        <section class="hero">
            <h1>"Your developer portal"</h1>
            <p class="lead">
                "Portico brings your services, their owners, where each version runs and how \
                 it is doing into one place that updates as things change."
            </p>
        </section>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Checking this instance…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    status.await.map(|status| view! { <InstanceSummary status /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn InstanceSummary(status: InstanceStatus) -> impl IntoView {
    let (class, label) = if status.ready {
        ("pill pill-ok", "Ready")
    } else {
        ("pill pill-bad", "Not ready")
    };
    view! {
        <section class="card summary" aria-labelledby="summary-heading">
            <h2 id="summary-heading">"This instance"</h2>
            <ul class="stats">
                <li>
                    <span class="stat-label">"State"</span>
                    <span class=class>{label}</span>
                </li>
                <li>
                    <span class="stat-label">"Database"</span>
                    <span class="stat-value">{backend_label(&status.backend)}</span>
                </li>
                <li>
                    <span class="stat-label">"Events recorded"</span>
                    <span class="stat-value">
                        {status.events.map_or_else(|| "—".to_owned(), |e| e.count.to_string())}
                    </span>
                </li>
            </ul>
            <p><A href="/status">"See the full system status →"</A></p>
        </section>
    }
}
