//! The hub: which socket follows which topic, and the fan-out of published events.
//!
//! Subscribers are indexed by topic, so an event costs a look-up and one queue push per
//! subscriber of its topic, never a scan of every socket. Each event is serialised once
//! and the same bytes are queued to every subscriber. Each socket has a bounded queue:
//! a socket that cannot keep up is closed (its client rejoins with `since` and catches
//! up from the log), so one slow client never holds back the others or the hub.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use portico_core::events::{Event, EventError, Events, MAX_READ};
use portico_core::identity::{Identity, Principal, CREDENTIALS_TOPIC};
use portico_core::storage::{Database, StorageError};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tracing::{info, warn};

use super::frame;
use super::peers;
use super::presence::{Peers, Presence, Visitor};
use crate::config::ChannelConfig;
use crate::identity::session;
use crate::operations::metrics::{ChannelMetrics, OutcomeLabels, ReasonLabels};

pub type SocketId = u64;

/// How often every open socket's credentials are checked again (and at once when a
/// token is revoked or someone signs out, on any instance: see `CREDENTIALS_TOPIC`);
/// the periodic check catches tokens and sessions that expire.
const RECHECK: Duration = Duration::from_secs(10);

/// How often presence changes are sent: joins and leaves within this are one frame.
const PRESENCE_FLUSH: Duration = Duration::from_millis(200);

/// What a socket was opened with, checked again while it stays open.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Credential {
    /// An API token's secret (`?token=`).
    Token(String),
    /// A browser session's id.
    Session(String),
}

/// Why the server closes a socket: the close frame's code and reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// No frame (not even a heartbeat) for the idle limit.
    Idle,
    /// The session ended or the token was revoked or expired.
    Revoked,
    /// The socket's send queue filled up.
    TooSlow,
    /// A frame that is not Phoenix v2 JSON.
    Protocol,
    /// The server is stopping: clients reconnect (to another replica, or to this one
    /// once it is back) and replay what they missed.
    Restart,
}

impl CloseReason {
    pub fn code(self) -> u16 {
        match self {
            Self::Idle => 4000,
            Self::Revoked => 4001,
            Self::TooSlow => 4002,
            Self::Protocol => 1007,
            Self::Restart => 1012,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Self::Idle => "idle: no heartbeat in time (clients send one every 30 s)",
            Self::Revoked => "signed out: the session ended or the token was revoked",
            Self::TooSlow => "too slow: the send queue is full; rejoin with since to catch up",
            Self::Protocol => "malformed frame: expected [join_ref, ref, topic, event, payload]",
            Self::Restart => "the server is restarting; reconnect and rejoin with since",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Revoked => "revoked",
            Self::TooSlow => "slow",
            Self::Protocol => "protocol",
            Self::Restart => "restart",
        }
    }
}

/// An event ready to send: serialised once, shared by every subscriber.
#[derive(Debug)]
pub struct Published {
    pub id: i64,
    pub topic: String,
    pub frame: Utf8Bytes,
}

/// What waits in a socket's queue.
#[derive(Debug)]
pub enum Outbound {
    /// An event of the log (deduplicated by id against a replay).
    Event(Arc<Published>),
    /// Any other frame (presence diffs).
    Frame(Utf8Bytes),
}

/// The hub's side of one socket.
pub struct SocketHandle {
    pub id: SocketId,
    pub principal: Arc<Principal>,
    credential: Credential,
    sender: mpsc::Sender<Outbound>,
    closing: Notify,
    reason: OnceLock<CloseReason>,
}

impl SocketHandle {
    /// Asks the socket to close with `reason` (the first reason given wins).
    pub fn close(&self, reason: CloseReason) {
        if self.reason.set(reason).is_ok() {
            self.closing.notify_one();
        }
    }

    /// Completes when the socket is asked to close, with the reason.
    pub async fn closed(&self) -> CloseReason {
        loop {
            if let Some(reason) = self.reason.get() {
                return *reason;
            }
            self.closing.notified().await;
        }
    }

    /// Queues a frame; a full queue closes the socket.
    fn offer(&self, item: Outbound, metrics: &ChannelMetrics) -> bool {
        match self.sender.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.reason.get().is_none() {
                    count_closed(metrics, CloseReason::TooSlow);
                }
                self.close(CloseReason::TooSlow);
                false
            }
            // The socket is gone; it unsubscribes on its way out.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

fn count_closed(metrics: &ChannelMetrics, reason: CloseReason) {
    metrics
        .closed
        .get_or_create(&ReasonLabels {
            reason: reason.label(),
        })
        .inc();
}

/// The live channel's shared state.
pub struct Hub {
    events: Events,
    identity: Identity,
    session_max: time::Duration,
    pub settings: ChannelConfig,
    pub metrics: ChannelMetrics,
    /// topic → subscribers. Written on join and leave, read for each event; never held
    /// across an await.
    topics: RwLock<HashMap<String, HashMap<SocketId, Arc<SocketHandle>>>>,
    /// Every open socket, for the credential checks.
    sockets: Mutex<HashMap<SocketId, Arc<SocketHandle>>>,
    presence: Mutex<Presence>,
    /// Presence on the other instances (PostgreSQL).
    peers: Mutex<Peers>,
    /// This instance, as the others know it in presence messages.
    instance: String,
    db: Database,
    /// The id of the last event fanned out (read with the topics lock held, so a new
    /// subscriber knows exactly which events it will get from the queue).
    fanned_out: AtomicI64,
    next_socket: AtomicU64,
    ready: watch::Sender<bool>,
    recheck: Notify,
}

impl Hub {
    pub fn new(
        db: Database,
        events: Events,
        identity: Identity,
        session_max: time::Duration,
        settings: ChannelConfig,
        metrics: ChannelMetrics,
    ) -> Self {
        Self {
            events,
            identity,
            session_max,
            settings,
            metrics,
            topics: RwLock::default(),
            sockets: Mutex::default(),
            presence: Mutex::default(),
            peers: Mutex::default(),
            instance: uuid::Uuid::new_v4().simple().to_string(),
            db,
            fanned_out: AtomicI64::new(-1),
            next_socket: AtomicU64::new(1),
            ready: watch::Sender::new(false),
            recheck: Notify::new(),
        }
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Registers a new socket; its frames arrive on the returned queue.
    pub fn connect(
        &self,
        principal: Arc<Principal>,
        credential: Credential,
    ) -> (Arc<SocketHandle>, mpsc::Receiver<Outbound>) {
        let (sender, receiver) = mpsc::channel(self.settings.queue);
        let handle = Arc::new(SocketHandle {
            id: self.next_socket.fetch_add(1, Ordering::Relaxed),
            principal,
            credential,
            sender,
            closing: Notify::new(),
            reason: OnceLock::new(),
        });
        lock(&self.sockets).insert(handle.id, Arc::clone(&handle));
        self.metrics.sockets.inc();
        (handle, receiver)
    }

    /// Forgets a socket that closed, with its subscriptions and presence.
    pub fn disconnect<'a>(&self, handle: &SocketHandle, topics: impl Iterator<Item = &'a str>) {
        for topic in topics {
            self.unsubscribe(topic, handle.id);
        }
        // A full queue was counted when it filled.
        if let Some(reason) = handle.reason.get().filter(|r| **r != CloseReason::TooSlow) {
            self.count_closed(*reason);
        }
        lock(&self.sockets).remove(&handle.id);
        self.metrics.sockets.dec();
    }

    /// Counts a socket the server closed (or dropped), by reason.
    pub fn count_closed(&self, reason: CloseReason) {
        count_closed(&self.metrics, reason);
    }

    /// Counts a join by outcome.
    pub fn count_join(&self, outcome: &'static str) {
        self.metrics
            .joins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Waits (up to `limit`) for the fan-out to run: until then a join could miss
    /// events committed between its replay and the start of the fan-out.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let mut ready = self.ready.subscribe();
        tokio::time::timeout(limit, ready.wait_for(|ready| *ready))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The id of the last event sent to sockets (0 before any).
    pub fn position(&self) -> i64 {
        self.fanned_out.load(Ordering::Acquire).max(0)
    }

    /// Subscribes a socket to a topic; returns the id of the last event fanned out
    /// before: every later event of the topic reaches the socket's queue.
    pub fn subscribe(&self, topic: &str, handle: &Arc<SocketHandle>) -> i64 {
        let mut topics = write(&self.topics);
        topics
            .entry(topic.to_owned())
            .or_default()
            .insert(handle.id, Arc::clone(handle));
        self.fanned_out.load(Ordering::Acquire).max(0)
    }

    /// Removes a socket from a topic (and from its presence).
    pub fn unsubscribe(&self, topic: &str, socket: SocketId) {
        {
            let mut topics = write(&self.topics);
            if let Some(subscribers) = topics.get_mut(topic) {
                subscribers.remove(&socket);
                if subscribers.is_empty() {
                    topics.remove(topic);
                }
            }
        }
        lock(&self.presence).leave(topic, socket);
    }

    /// Shows a socket's person on a topic; returns everyone there now (the joiner's
    /// `presence_state`). The others are told with the next presence flush.
    pub fn show_presence(&self, topic: &str, handle: &SocketHandle, phx_ref: &str) -> Value {
        let principal = &handle.principal;
        let visitor = Visitor {
            key: &principal.id,
            name: &principal.name,
            kind: match principal.kind {
                portico_core::identity::PrincipalKind::User => "user",
                portico_core::identity::PrincipalKind::Token => "token",
            },
        };
        let mut state = {
            let mut presence = lock(&self.presence);
            presence.join(topic, handle.id, &visitor, phx_ref);
            presence.state(topic)
        };
        lock(&self.peers).add_to(topic, &mut state);
        state
    }

    /// Sends the joins and leaves gathered since the last flush, every
    /// [`PRESENCE_FLUSH`], as one `presence_diff` per topic, to this instance's sockets
    /// and (on PostgreSQL) to the other instances, whose own changes it passes on to
    /// its sockets in turn. A failure (the listening connection lost) ends it; its
    /// supervisor starts it again, and it asks the others for their lists anew.
    pub async fn share_presence(self: Arc<Self>) -> Result<(), StorageError> {
        let mut listener = self.db.listen(peers::CHANNEL).await?;
        let shared = listener.is_some();
        if shared {
            // Starting, or starting over after a failure: the others drop what this
            // instance listed and get its whole list again, then send theirs.
            lock(&self.peers).clear();
            let me = self.instance.clone();
            self.tell_peers(&peers::Message::Reset { from: me.clone() })
                .await?;
            self.send_lists().await?;
            self.tell_peers(&peers::Message::Hello { from: me }).await?;
        }
        let mut flush = tokio::time::interval(PRESENCE_FLUSH);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut alive = tokio::time::interval(peers::ALIVE_EVERY);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    let diffs = lock(&self.presence).take_diffs();
                    // This instance's sockets first: telling the others may fail.
                    for (topic, diff) in &diffs {
                        self.broadcast(topic, frame::PRESENCE_DIFF, diff);
                    }
                    if shared {
                        for (topic, diff) in &diffs {
                            for message in peers::diff_messages(&self.instance, topic, diff) {
                                self.db.notify(peers::CHANNEL, &message).await?;
                            }
                        }
                    }
                }
                _ = alive.tick(), if shared => {
                    self.tell_peers(&peers::Message::Alive { from: self.instance.clone() }).await?;
                    let gone = lock(&self.peers).expire(peers::SILENCE);
                    for (topic, diff) in gone {
                        self.broadcast(&topic, frame::PRESENCE_DIFF, &diff);
                    }
                }
                received = next_message(&mut listener) => {
                    self.hear(received?).await?;
                }
            }
        }
    }

    /// Sends everything this instance lists to the others.
    async fn send_lists(&self) -> Result<(), StorageError> {
        let states = lock(&self.presence).states();
        for (topic, diff) in states {
            for message in peers::diff_messages(&self.instance, &topic, &diff) {
                self.db.notify(peers::CHANNEL, &message).await?;
            }
        }
        Ok(())
    }

    async fn tell_peers(&self, message: &peers::Message) -> Result<(), StorageError> {
        self.db.notify(peers::CHANNEL, &message.encode()).await
    }

    /// Handles another instance's message.
    async fn hear(&self, text: String) -> Result<(), StorageError> {
        let Ok(message) = serde_json::from_str::<peers::Message>(&text) else {
            warn!("ignoring a presence message that is not Portico's");
            return Ok(());
        };
        if message.from() == self.instance {
            return Ok(());
        }
        match message {
            peers::Message::Hello { from } => {
                lock(&self.peers).heard(&from);
                self.send_lists().await?;
            }
            peers::Message::Reset { from } => {
                let gone = lock(&self.peers).forget(&from);
                for (topic, diff) in gone {
                    self.broadcast(&topic, frame::PRESENCE_DIFF, &diff);
                }
            }
            peers::Message::Alive { from } => lock(&self.peers).heard(&from),
            peers::Message::Diff {
                from,
                topic,
                joins,
                leaves,
            } => {
                let diff = serde_json::json!({ "joins": joins, "leaves": leaves });
                lock(&self.peers).apply(&from, &topic, &diff);
                self.broadcast(&topic, frame::PRESENCE_DIFF, &diff);
            }
        }
        Ok(())
    }

    /// Sends a frame that is not an event to every subscriber of `topic`.
    fn broadcast(&self, topic: &str, event: &str, payload: &Value) {
        let topics = read(&self.topics);
        let Some(subscribers) = topics.get(topic) else {
            return;
        };
        let frame = Utf8Bytes::from(frame::push(topic, event, payload));
        for handle in subscribers.values() {
            handle.offer(Outbound::Frame(frame.clone()), &self.metrics);
        }
    }

    /// Fans out the event log as it is published, until the process stops. A restart
    /// (after a failure) carries on from the last event fanned out.
    pub async fn run(self: Arc<Self>) -> Result<(), EventError> {
        let start = self.events.feed().prepare().await?;
        let mut published = self.events.subscribe();
        let mut cursor = match self.fanned_out.load(Ordering::Acquire) {
            -1 => start,
            resumed => resumed,
        };
        // Anything published before the subscription above is read from the log.
        cursor = self.catch_up(cursor).await?;
        self.fanned_out.store(cursor, Ordering::Release);
        self.ready.send_replace(true);
        info!(from = cursor, "live channel ready");
        loop {
            match published.recv().await {
                Ok(event) if event.id > cursor => {
                    self.fan_out(&event);
                    cursor = event.id;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    warn!(
                        skipped,
                        "the live channel fell behind the bus; reading the log"
                    );
                    cursor = self.catch_up(cursor).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }

    /// Fans out everything in the log after `cursor`; returns the new cursor.
    async fn catch_up(&self, mut cursor: i64) -> Result<i64, EventError> {
        loop {
            let page = self.events.read_since(cursor, None, MAX_READ).await?;
            let full = page.len() == MAX_READ as usize;
            for event in &page {
                self.fan_out(event);
                cursor = event.id;
            }
            if !full {
                return Ok(cursor);
            }
        }
    }

    fn fan_out(&self, event: &Event) {
        self.metrics.events_in.inc();
        if event.topic == CREDENTIALS_TOPIC {
            // A token was revoked or a session ended, on this instance or another.
            self.recheck_soon();
        }
        let topics = read(&self.topics);
        self.fanned_out.store(event.id, Ordering::Release);
        let Some(subscribers) = topics.get(&event.topic) else {
            return;
        };
        let published = Arc::new(Published {
            id: event.id,
            topic: event.topic.clone(),
            frame: Utf8Bytes::from(frame::event(event)),
        });
        let mut queued = 0;
        for handle in subscribers.values() {
            if handle.offer(Outbound::Event(Arc::clone(&published)), &self.metrics) {
                queued += 1;
            }
        }
        self.metrics.events_out.inc_by(queued);
    }

    /// Closes every socket: the server is stopping.
    pub fn close_all(&self) {
        for handle in lock(&self.sockets).values() {
            handle.close(CloseReason::Restart);
        }
    }

    /// Asks for the credential check to run now (after a revocation or a sign-out).
    fn recheck_soon(&self) {
        self.recheck.notify_one();
    }

    /// Checks every open socket's credentials every [`RECHECK`] (each distinct
    /// credential once) and closes the sockets whose session ended or whose token was
    /// revoked. A credential that cannot be checked (database down) is kept.
    pub async fn watch_credentials(self: Arc<Self>) -> Result<(), std::convert::Infallible> {
        loop {
            tokio::select! {
                () = tokio::time::sleep(RECHECK) => {}
                () = self.recheck.notified() => {}
            }
            let open: Vec<Arc<SocketHandle>> = lock(&self.sockets).values().cloned().collect();
            let mut by_credential: HashMap<&Credential, Vec<&Arc<SocketHandle>>> = HashMap::new();
            for handle in &open {
                by_credential
                    .entry(&handle.credential)
                    .or_default()
                    .push(handle);
            }
            for (credential, handles) in by_credential {
                match self.still_valid(credential).await {
                    Ok(true) => {}
                    Ok(false) => {
                        info!(
                            sockets = handles.len(),
                            "closing sockets whose credentials ended"
                        );
                        for handle in handles {
                            handle.close(CloseReason::Revoked);
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "checking a socket's credentials; kept for now");
                    }
                }
            }
        }
    }

    async fn still_valid(&self, credential: &Credential) -> Result<bool, String> {
        match credential {
            Credential::Token(secret) => self
                .identity
                .authenticate_token(secret)
                .await
                .map(|outcome| outcome.is_ok())
                .map_err(|e| e.to_string()),
            Credential::Session(id) => {
                session::still_signed_in(&self.identity, id, self.session_max)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// The next presence message from another instance, or never without a listener
/// (SQLite: one instance).
async fn next_message(
    listener: &mut Option<sqlx::postgres::PgListener>,
) -> Result<String, StorageError> {
    match listener {
        Some(listener) => Ok(listener.recv().await?.payload().to_owned()),
        None => std::future::pending().await,
    }
}
