use leptos::prelude::*;

use crate::live::{use_connection, Connection};

/// The header's live-channel indicator: live, reconnecting or offline. Announced to
/// screen readers when it changes.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let connection = use_connection();
    let label = move || match connection.get() {
        Connection::Connecting => "Connecting…",
        Connection::Live => "Live",
        Connection::Reconnecting => "Reconnecting…",
        Connection::Offline => "Offline",
    };
    let title = move || match connection.get() {
        Connection::Connecting => "Connecting to live updates",
        Connection::Live => "Pages update as things change",
        Connection::Reconnecting => "Live updates paused: reconnecting; nothing will be missed",
        Connection::Offline => {
            "Live updates are off: the portal cannot be reached. Pages catch up when it can"
        }
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
        </span>
    }
}
