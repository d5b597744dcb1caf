//! The live channel in the browser: one Phoenix socket per tab, shared by every
//! component, which joins and leaves topics through small hooks.
//!
//! - [`use_connection`]: live, reconnecting or offline, for the header's indicator.
//! - [`use_topic`]: the latest event on a topic (or a request to reload the data).
//! - [`use_presence`]: who else is looking at the same page.
//! - [`use_live_refresh`]: reloads a page's data when its topic says it changed.
//!
//! The socket reconnects on Phoenix's backoff schedule and rejoins each topic with
//! `since` (the last event id it saw), so nothing is missed across a reconnect. On the
//! server the hooks are inert: pages render their data; the browser makes it live.

// What only the browser's client uses is still compiled (and tested) on the server.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod backoff;
#[cfg(feature = "hydrate")]
mod client;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod presence;

use leptos::prelude::*;

pub use presence::Viewer;

/// The state of the tab's socket.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Not connected yet (also how the server renders the page).
    Connecting,
    Live,
    /// The socket dropped; trying again.
    Reconnecting,
    /// Trying again has not worked for a while, or the browser is offline.
    Offline,
    /// The session ended (signed out elsewhere, or expired): nothing to reconnect with.
    SignedOut,
}

impl Connection {
    /// A word for people (and the indicator's `data-state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
            Self::SignedOut => "signed-out",
        }
    }
}

/// What arrives on a topic.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    /// An event of the log: its id, its type (`entity.updated`) and payload.
    Event {
        id: i64,
        event: String,
        payload: serde_json::Value,
    },
    /// The tab missed more than the server replays: reload the data.
    Resync,
}

/// Where the event log stood when the server began rendering this page (the server
/// puts it in the context of every render). The page's data is at least this recent,
/// so the tab's first joins ask for what came after it: a change made between the
/// render and the join is not missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogPosition(pub i64);

/// The `<meta>` the position travels in.
pub const POSITION_META: &str = "portico-log-position";

/// The tab's connection state.
pub fn use_connection() -> Signal<Connection> {
    #[cfg(feature = "hydrate")]
    {
        client::connection()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Signal::stored(Connection::Connecting)
    }
}

/// Follows `topic` (none: follow nothing) while the calling component lives; the
/// signal holds the latest event.
pub fn use_topic(
    topic: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> ReadSignal<Option<LiveEvent>> {
    let latest = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    follow(topic, client::Sink::Events(latest));
    #[cfg(not(feature = "hydrate"))]
    let _ = topic;
    latest.read_only()
}

/// Who is on `topic`'s page (the caller included), by name.
pub fn use_presence(
    topic: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> ReadSignal<Vec<Viewer>> {
    let viewers = RwSignal::new(Vec::new());
    #[cfg(feature = "hydrate")]
    follow(topic, client::Sink::Presence(viewers));
    #[cfg(not(feature = "hydrate"))]
    let _ = topic;
    viewers.read_only()
}

/// How long a page waits after a change before reloading, so that a burst of changes
/// (an import) costs one reload.
const REFRESH_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Calls `refresh` when an event arrives on `topic` (or the server asks for a reload),
/// at most once per burst.
pub fn use_live_refresh(
    topic: impl Fn() -> Option<String> + Send + Sync + 'static,
    refresh: impl Fn() + Send + Sync + 'static,
) {
    let latest = use_topic(topic);
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let refresh = std::sync::Arc::new(refresh);
    Effect::new(move |_| {
        if latest.get().is_none() {
            return;
        }
        if pending.get_value().is_some() {
            return;
        }
        let refresh = std::sync::Arc::clone(&refresh);
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                refresh();
            },
            REFRESH_AFTER,
        )
        .ok();
        pending.set_value(handle);
    });
}

/// Subscribes `sink` to the current topic, again whenever the topic changes, and
/// unsubscribes when the component goes away.
#[cfg(feature = "hydrate")]
fn follow(topic: impl Fn() -> Option<String> + Send + Sync + 'static, sink: client::Sink) {
    use std::sync::{Arc, Mutex};
    let current = Arc::new(Mutex::new(None::<u64>));
    let subscription = Arc::clone(&current);
    Effect::new(move |_| {
        let topic = topic();
        let mut current = subscription.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = current.take() {
            client::unsubscribe(id);
        }
        *current = topic.map(|topic| client::subscribe(topic, sink));
    });
    on_cleanup(move || {
        if let Some(id) = current.lock().unwrap_or_else(|e| e.into_inner()).take() {
            client::unsubscribe(id);
        }
    });
}
