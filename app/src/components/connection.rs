use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::live::{use_connection, Connection};

/// The header's live-channel indicator: live, reconnecting, offline or signed out (with
/// a link to sign in again and come back). Announced to screen readers when it changes.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let connection = use_connection();
    let location = use_location();
    let label = move || match connection.get() {
        Connection::Connecting => "Connecting…",
        Connection::Live => "Live",
        Connection::Reconnecting => "Reconnecting…",
        Connection::Offline => "Offline",
        Connection::SignedOut => "Signed out",
    };
    let title = move || match connection.get() {
        Connection::Connecting => "Connecting to live updates",
        Connection::Live => "Pages update as things change",
        Connection::Reconnecting => "Live updates paused: reconnecting; nothing will be missed",
        Connection::Offline => {
            "Live updates are off: the portal cannot be reached. Pages catch up when it can"
        }
        Connection::SignedOut => "Your session has ended: sign in again for live updates",
    };
    let sign_in_again = move || {
        (connection.get() == Connection::SignedOut).then(|| {
            let here = format!("{}{}", location.pathname.get(), location.search.get());
            let href = format!(
                "/login?return_to={}",
                form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
            );
            // A full page load: /login is served by the server, not the app.
            view! { <a href=href rel="external">"Sign in again"</a> }
        })
    };
    view! {
        <span
            class="connection"
            data-state=move || connection.get().as_str()
            title=title
            role="status"
            aria-live="polite"
        >
            <span class="connection-dot" aria-hidden="true"></span>
            {label}
            {sign_in_again}
        </span>
    }
}
