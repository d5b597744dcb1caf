use leptos::prelude::*;
use leptos_router::components::A;

use super::connection::ConnectionIndicator;
use super::theme_toggle::ThemeToggle;
use super::user_menu::UserMenu;

/// The portal's version, shown in the footer (the workspace shares one version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The top bar: brand, navigation to the sections that exist, theme switch.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Portico"
            </A>
            <nav class="site-nav" aria-label="Sections">
                                <A href="/" exact=true>"Overview"</A>
                <A href="/catalog">"Catalog"</A>
                <A href="/environments">"Environments"</A>
                <A href="/create">"Create"</A>
                <A href="/approvals">"Approvals"</A>
                <A href="/status">"System status"</A>
            </nav>
            <ConnectionIndicator />
            <ThemeToggle />
            <UserMenu />
        </header>
    }
}

/// The bottom bar: version and where to check the instance.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <span class="version">{format!("Portico v{VERSION}")}</span>
            <span class="footer-links">
                <a href="/readyz" rel="external">"Readiness"</a>
                <a href="/metrics" rel="external">"Metrics"</a>
            </span>
        </footer>
    }
}
