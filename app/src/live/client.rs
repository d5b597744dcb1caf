//! The tab's socket (browser only): connects to `/socket/websocket` with the session
//! cookie, joins the topics components follow, sends heartbeats, reconnects on
//! Phoenix's schedule and rejoins with `since`.
//!
//! A tab has one socket for all its components, so the state lives in one place per
//! tab (a thread-local: the browser runs the app on one thread).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use serde_json::{json, Value};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::backoff::{reconnect_after, rejoin_after, OFFLINE_AFTER};
use super::presence::{PresenceState, Viewer};
use super::{Connection, LiveEvent};

/// Phoenix clients send a heartbeat every 30 s; the server closes a socket silent for 60.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Every this many heartbeats (15 minutes) an open page touches the session over HTTP:
/// a dashboard left open counts as use, so its session does not end for idleness (the
/// absolute expiry still applies). A websocket cannot renew the session cookie; an
/// HTTP response can.
const KEEP_ALIVE_BEATS: u32 = 30;

/// After this many failed connections in a row, the tab asks the server whether it is
/// still signed in (the browser does not say why a websocket was refused).
const SESSION_CHECK_EVERY: u32 = 6;

/// The close code the server gives when the socket's session ended or its token was
/// revoked (see the server's `CloseReason::Revoked`).
const CLOSED_FOR_CREDENTIALS: u16 = 4001;

/// Where a topic's news goes.
#[derive(Clone, Copy)]
pub enum Sink {
    Events(RwSignal<Option<LiveEvent>>),
    Presence(RwSignal<Vec<Viewer>>),
}

/// What the tab knows about one followed topic.
#[derive(Default)]
struct Topic {
    /// The ref of the current join (its replies and pushes carry it).
    join_ref: Option<String>,
    joined: bool,
    /// The newest event id seen: rejoins ask for what came after it.
    last_id: Option<i64>,
    failed_joins: u32,
    rejoin: Option<TimeoutHandle>,
    presence: PresenceState,
}

struct State {
    socket: Option<WebSocket>,
    /// The socket's callbacks, kept alive as long as it is.
    callbacks: Option<Callbacks>,
    connection: ArcRwSignal<Connection>,
    failed_connects: u32,
    reconnect: Option<TimeoutHandle>,
    /// Asking the server whether the session holds before connecting again.
    checking_session: bool,
    heartbeat: Option<IntervalHandle>,
    heartbeat_ref: Option<String>,
    beats: u32,
    /// A log position no later than any data the tab has loaded: first joins replay
    /// from it. The server-rendered page gives the first; each join's reply a later one.
    known_position: Option<i64>,
    next_ref: u64,
    topics: HashMap<String, Topic>,
    subscriptions: HashMap<u64, (String, Sink)>,
    next_subscription: u64,
}

struct Callbacks {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        socket: None,
        callbacks: None,
        connection: ArcRwSignal::new(Connection::Connecting),
        failed_connects: 0,
        reconnect: None,
        checking_session: false,
        heartbeat: None,
        heartbeat_ref: None,
        beats: 0,
        known_position: rendered_position(),
        next_ref: 0,
        topics: HashMap::new(),
        subscriptions: HashMap::new(),
        next_subscription: 0,
    });
}

/// News for sinks, delivered once the state is no longer borrowed (a signal's
/// subscribers may call back into the client).
enum Delivery {
    Event(Sink, LiveEvent),
    Viewers(Sink, Vec<Viewer>),
}

fn deliver(deliveries: Vec<Delivery>) {
    for delivery in deliveries {
        match delivery {
            Delivery::Event(Sink::Events(signal), event) => {
                let _ = signal.try_set(Some(event));
            }
            Delivery::Viewers(Sink::Presence(signal), viewers) => {
                let _ = signal.try_set(viewers);
            }
            _ => {}
        }
    }
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// The connection state (and opens the socket if it is not open yet).
pub fn connection() -> Signal<Connection> {
    let signal = with_state(|state| {
        state.ensure_connected();
        state.connection.clone()
    });
    Signal::from(signal.read_only())
}

/// Follows `topic` into `sink`; returns the subscription to end with [`unsubscribe`].
pub fn subscribe(topic: String, sink: Sink) -> u64 {
    let (id, deliveries) = with_state(|state| {
        state.next_subscription += 1;
        let id = state.next_subscription;
        state.subscriptions.insert(id, (topic.clone(), sink));
        let mut deliveries = Vec::new();
        match state.topics.get(&topic) {
            Some(known) => {
                if let Sink::Presence(_) = sink {
                    deliveries.push(Delivery::Viewers(sink, known.presence.viewers()));
                }
            }
            None => {
                state.topics.insert(topic.clone(), Topic::default());
                state.join(&topic);
            }
        }
        state.ensure_connected();
        (id, deliveries)
    });
    deliver(deliveries);
    id
}

/// Ends a subscription; the topic is left when nothing follows it any more.
pub fn unsubscribe(id: u64) {
    with_state(|state| {
        let Some((topic, _)) = state.subscriptions.remove(&id) else {
            return;
        };
        if state.subscriptions.values().any(|(t, _)| *t == topic) {
            return;
        }
        if let Some(left) = state.topics.remove(&topic) {
            if let Some(handle) = left.rejoin {
                handle.clear();
            }
            if left.joined {
                let reference = state.next_ref();
                state.send(&json!([left.join_ref, reference, topic, "phx_leave", {}]));
            }
        }
    });
}

impl State {
    fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    fn is_open(&self) -> bool {
        self.socket
            .as_ref()
            .is_some_and(|s| s.ready_state() == WebSocket::OPEN)
    }

    fn send(&self, frame: &Value) {
        if let Some(socket) = self.socket.as_ref().filter(|_| self.is_open()) {
            let _ = socket.send_with_str(&frame.to_string());
        }
    }

    fn ensure_connected(&mut self) {
        let signed_out = self.connection.get_untracked() == Connection::SignedOut;
        let waiting = self.reconnect.is_some() || self.checking_session;
        if self.socket.is_none() && !waiting && !signed_out {
            self.open();
        }
    }

    fn open(&mut self) {
        let Some(url) = socket_url() else {
            return;
        };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                self.schedule_reconnect();
                return;
            }
        };
        let open = Closure::<dyn FnMut()>::new(on_open);
        let message = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
        let close = Closure::<dyn FnMut(CloseEvent)>::new(on_close);
        socket.set_onopen(Some(open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(close.as_ref().unchecked_ref()));
        self.socket = Some(socket);
        self.callbacks = Some(Callbacks {
            _open: open,
            _message: message,
            _close: close,
        });
    }

    fn schedule_reconnect(&mut self) {
        self.failed_connects += 1;
        if self.failed_connects.is_multiple_of(SESSION_CHECK_EVERY) {
            check_session();
        }
        let offline = self.failed_connects >= OFFLINE_AFTER || !window().navigator().on_line();
        self.connection.set(if offline {
            Connection::Offline
        } else {
            Connection::Reconnecting
        });
        let delay = reconnect_after(self.failed_connects);
        self.reconnect = set_timeout_with_handle(
            || {
                with_state(|state| {
                    state.reconnect = None;
                    state.open();
                })
            },
            delay,
        )
        .ok();
    }

    /// Sends a join for `topic` (if the socket is open; otherwise it is sent on open),
    /// asking for what came after the last event seen.
    fn join(&mut self, topic: &str) {
        if !self.is_open() {
            return;
        }
        let reference = self.next_ref();
        let Some(state) = self.topics.get_mut(topic) else {
            return;
        };
        let payload = match state.last_id.or(self.known_position) {
            Some(id) => json!({ "since": id }),
            None => json!({}),
        };
        state.join_ref = Some(reference.clone());
        state.joined = false;
        let frame = json!([reference, reference, topic, "phx_join", payload]);
        self.send(&frame);
    }

    fn schedule_rejoin(&mut self, topic: &str) {
        let Some(state) = self.topics.get_mut(topic) else {
            return;
        };
        state.joined = false;
        state.failed_joins += 1;
        if let Some(handle) = state.rejoin.take() {
            handle.clear();
        }
        let name = topic.to_owned();
        state.rejoin = set_timeout_with_handle(
            move || {
                with_state(|state| {
                    if let Some(topic) = state.topics.get_mut(&name) {
                        topic.rejoin = None;
                    }
                    state.join(&name);
                })
            },
            rejoin_after(state.failed_joins),
        )
        .ok();
    }

    fn sinks(&self, topic: &str) -> impl Iterator<Item = Sink> + '_ {
        let topic = topic.to_owned();
        self.subscriptions
            .values()
            .filter(move |(t, _)| *t == topic)
            .map(|(_, sink)| *sink)
    }

    /// Handles one frame from the server; returns the news for sinks.
    fn receive(&mut self, frame: Frame) -> Vec<Delivery> {
        let Frame(_join_ref, reference, topic, event, payload) = frame;
        let mut deliveries = Vec::new();
        if topic == "phoenix" {
            if event == "phx_reply" && reference.is_some() && reference == self.heartbeat_ref {
                self.heartbeat_ref = None;
            }
            return deliveries;
        }
        let Some(state) = self.topics.get_mut(&topic) else {
            return deliveries;
        };
        match event.as_str() {
            "phx_reply" if reference.is_some() && reference == state.join_ref && !state.joined => {
                if payload["status"] == "ok" {
                    state.joined = true;
                    state.failed_joins = 0;
                    let response = &payload["response"];
                    let position = response["last_id"].as_i64();
                    if position > self.known_position {
                        self.known_position = position;
                    }
                    if response["resync"] == true {
                        state.last_id = position;
                        for sink in self.sinks(&topic).collect::<Vec<_>>() {
                            deliveries.push(Delivery::Event(sink, LiveEvent::Resync));
                        }
                    } else if state.last_id.is_none() && response["replayed"] == 0 {
                        // Replayed events (which follow the reply) set it otherwise:
                        // they are older than `position`, and must not be skipped.
                        state.last_id = position;
                    }
                } else {
                    self.schedule_rejoin(&topic);
                }
            }
            "phx_error" => self.schedule_rejoin(&topic),
            "phx_close" => {
                if reference.is_some() && reference == state.join_ref {
                    self.schedule_rejoin(&topic);
                }
            }
            "presence_state" | "presence_diff" => {
                if event == "presence_state" {
                    state.presence.sync_state(&payload);
                } else {
                    state.presence.sync_diff(&payload);
                }
                let viewers = state.presence.viewers();
                for sink in self.sinks(&topic).collect::<Vec<_>>() {
                    deliveries.push(Delivery::Viewers(sink, viewers.clone()));
                }
            }
            _ => {
                let Some(id) = payload["id"].as_i64() else {
                    return deliveries;
                };
                if state.last_id.is_some_and(|last| id <= last) {
                    return deliveries;
                }
                state.last_id = Some(id);
                let news = LiveEvent::Event { id, event, payload };
                for sink in self.sinks(&topic).collect::<Vec<_>>() {
                    deliveries.push(Delivery::Event(sink, news.clone()));
                }
            }
        }
        deliveries
    }
}

/// `[join_ref, ref, topic, event, payload]`.
#[derive(serde::Deserialize)]
struct Frame(Option<String>, Option<String>, String, String, Value);

/// Asks whether the session is still signed in; if not, stops reconnecting and says so
/// (the page offers to sign in again).
fn check_session() {
    leptos::task::spawn_local(async {
        if signed_out().await {
            with_state(|state| {
                if state.socket.is_none() {
                    if let Some(handle) = state.reconnect.take() {
                        handle.clear();
                    }
                    state.connection.set(Connection::SignedOut);
                }
            });
        }
    });
}

/// After the server closed the socket for its credentials: connects again only if the
/// session still holds. A tab that is signing out (or whose session expired) then does
/// not knock with a cookie the server has just refused.
fn reconnect_if_signed_in() {
    leptos::task::spawn_local(async {
        let gone = signed_out().await;
        with_state(|state| {
            state.checking_session = false;
            if gone {
                state.connection.set(Connection::SignedOut);
            } else if state.socket.is_none() && state.reconnect.is_none() {
                state.schedule_reconnect();
            }
        });
    });
}

/// Whether the server says nobody is signed in (an unanswered question is not a no).
async fn signed_out() -> bool {
    matches!(crate::components::user_menu::current_user().await, Ok(None))
}

/// The log position the server rendered the page at (see `LogPosition`).
fn rendered_position() -> Option<i64> {
    document()
        .query_selector(&format!("meta[name={}]", super::POSITION_META))
        .ok()
        .flatten()?
        .get_attribute("content")?
        .parse()
        .ok()
}

fn socket_url() -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}/socket/websocket?vsn=2.0.0",
        location.host().ok()?
    ))
}

fn on_open() {
    with_state(|state| {
        state.failed_connects = 0;
        state.connection.set(Connection::Live);
        state.heartbeat_ref = None;
        state.heartbeat = set_interval_with_handle(beat, HEARTBEAT).ok();
        let topics: Vec<String> = state.topics.keys().cloned().collect();
        for topic in topics {
            state.join(&topic);
        }
    });
}

/// Sends a heartbeat; if the last one was never answered the connection is dead,
/// even if the browser has not noticed: close it and reconnect.
fn beat() {
    with_state(|state| {
        if state.heartbeat_ref.is_some() {
            if let Some(socket) = &state.socket {
                let _ = socket.close();
            }
            return;
        }
        let reference = state.next_ref();
        state.send(&json!([null, reference, "phoenix", "heartbeat", {}]));
        state.heartbeat_ref = Some(reference);
        state.beats += 1;
        if state.beats.is_multiple_of(KEEP_ALIVE_BEATS) {
            // The answer does not matter: the request itself renews the session.
            let _ = window().fetch_with_str("/api/me");
        }
    });
}

fn on_message(message: MessageEvent) {
    let Some(text) = message.data().as_string() else {
        return;
    };
    let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
        return;
    };
    let deliveries = with_state(|state| state.receive(frame));
    deliver(deliveries);
}

fn on_close(event: CloseEvent) {
    let for_credentials = event.code() == CLOSED_FOR_CREDENTIALS;
    with_state(|state| {
        if let Some(handle) = state.heartbeat.take() {
            handle.clear();
        }
        // The callbacks stay until the next socket replaces them: this one is running.
        state.socket = None;
        for topic in state.topics.values_mut() {
            topic.joined = false;
            topic.presence = PresenceState::default();
        }
        if for_credentials {
            state.checking_session = true;
            state.connection.set(Connection::Reconnecting);
            reconnect_if_signed_in();
        } else {
            state.schedule_reconnect();
        }
    });
}
