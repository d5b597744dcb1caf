//! One websocket connection: reads the client's frames (heartbeats, joins, leaves),
//! writes replies, replays and queued events, and closes on idleness, revocation or
//! a full queue.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use portico_core::events::{Replay, Topic};
use portico_core::identity::Principal;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, error};

use super::frame::{self, Incoming};
use super::hub::{CloseReason, Credential, Hub, Outbound, SocketHandle};

/// How long a join waits for the hub to start (only just after the server starts).
const READY_WAIT: Duration = Duration::from_secs(10);

/// The most topics one socket may follow at once: a tab follows a handful; this bounds
/// what one client can make the hub hold.
pub const MAX_TOPICS: usize = 100;

/// Frames written before one flush when the queue has several waiting.
const BATCH: usize = 64;

/// What the socket knows about a topic it joined.
struct Joined {
    join_ref: Option<String>,
    /// The highest event id sent on this topic: queued events at or below it were
    /// already sent by the replay.
    last_sent: i64,
}

struct Connection {
    hub: Arc<Hub>,
    handle: Arc<SocketHandle>,
    ws: WebSocket,
    joined: HashMap<String, Joined>,
}

/// Serves one socket until it closes, then forgets it.
pub async fn serve(
    hub: Arc<Hub>,
    ws: WebSocket,
    principal: Arc<Principal>,
    credential: Credential,
) {
    let (handle, queue) = hub.connect(principal, credential);
    let mut connection = Connection {
        hub,
        handle,
        ws,
        joined: HashMap::new(),
    };
    let reason = connection.run(queue).await;
    if let Some(reason) = reason {
        debug!(socket = connection.handle.id, ?reason, "closing socket");
        let close = CloseFrame {
            code: reason.code(),
            reason: Utf8Bytes::from_static(reason.text()),
        };
        let closing = connection.ws.send(Message::Close(Some(close)));
        let _ = tokio::time::timeout(connection.hub.settings.write_timeout, closing).await;
    }
    let Connection {
        hub,
        handle,
        joined,
        ..
    } = connection;
    hub.disconnect(&handle, joined.keys().map(String::as_str));
}

impl Connection {
    /// Runs until the client goes away (`None`) or the server closes the socket.
    async fn run(&mut self, mut queue: mpsc::Receiver<Outbound>) -> Option<CloseReason> {
        let limit = self.hub.settings.idle;
        let idle = tokio::time::sleep(limit);
        tokio::pin!(idle);
        let handle = Arc::clone(&self.handle);
        loop {
            tokio::select! {
                biased;
                reason = handle.closed() => return Some(reason),
                incoming = self.ws.recv() => {
                    idle.as_mut().reset(Instant::now() + limit);
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            if let ControlFlow::Break(reason) = self.receive(&text).await {
                                return reason;
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            self.handle.close(CloseReason::Protocol);
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
                    }
                }
                Some(first) = queue.recv() => {
                    // A client that stops reading altogether (its TCP window stays
                    // shut) is dropped, without a close frame, which could not be
                    // delivered either.
                    let limit = self.hub.settings.write_timeout;
                    let written = self.write_queued(first, &mut queue);
                    match tokio::time::timeout(limit, written).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return None,
                        Err(_) => {
                            self.hub.count_closed(CloseReason::TooSlow);
                            return None;
                        }
                    }
                }
                () = &mut idle => {
                    self.handle.close(CloseReason::Idle);
                }
            }
        }
    }

    /// Writes `first` and whatever else is queued (up to a batch), then flushes.
    async fn write_queued(
        &mut self,
        first: Outbound,
        queue: &mut mpsc::Receiver<Outbound>,
    ) -> Result<(), axum::Error> {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(item) = next.take() {
            if let Some(text) = self.admit(item) {
                self.ws.feed(Message::Text(text)).await?;
                written += 1;
            }
            if written < BATCH {
                next = queue.try_recv().ok();
            }
        }
        self.ws.flush().await
    }

    /// The frame to write for a queued item, if it is still wanted: an event is sent
    /// once per topic joined, never again after a replay sent it.
    fn admit(&mut self, item: Outbound) -> Option<Utf8Bytes> {
        match item {
            Outbound::Frame(text) => Some(text),
            Outbound::Event(event) => {
                let joined = self.joined.get_mut(&event.topic)?;
                if event.id <= joined.last_sent {
                    return None;
                }
                joined.last_sent = event.id;
                Some(event.frame.clone())
            }
        }
    }

    async fn send(&mut self, text: String) -> ControlFlow<Option<CloseReason>> {
        let limit = self.hub.settings.write_timeout;
        let sent = self.ws.send(Message::Text(text.into()));
        match tokio::time::timeout(limit, sent).await {
            Ok(Ok(())) => ControlFlow::Continue(()),
            Ok(Err(_)) => ControlFlow::Break(None),
            Err(_) => {
                self.hub.count_closed(CloseReason::TooSlow);
                ControlFlow::Break(None)
            }
        }
    }

    /// Handles one text frame from the client.
    async fn receive(&mut self, text: &str) -> ControlFlow<Option<CloseReason>> {
        let incoming = match Incoming::parse(text) {
            Ok(incoming) => incoming,
            Err(e) => {
                debug!(socket = self.handle.id, error = %e, "malformed frame");
                self.handle.close(CloseReason::Protocol);
                return ControlFlow::Continue(());
            }
        };
        match (incoming.topic.as_str(), incoming.event.as_str()) {
            (frame::PHOENIX, frame::HEARTBEAT) => {
                self.send(frame::reply(&incoming, true, json!({}))).await
            }
            (_, frame::JOIN) => self.join(incoming).await,
            (topic, frame::LEAVE) if self.joined.contains_key(topic) => {
                self.leave(&incoming.topic);
                self.send(frame::reply(&incoming, true, json!({}))).await?;
                let closed = frame::closed(incoming.join_ref.as_deref(), &incoming.topic);
                self.send(closed).await
            }
            (topic, event) if self.joined.contains_key(topic) => {
                let reason = format!("unsupported event {event:?}: the live channel only pushes; clients join and leave");
                self.send(frame::refuse(&incoming, &reason)).await
            }
            _ => self.send(frame::refuse(&incoming, "unmatched topic")).await,
        }
    }

    fn leave(&mut self, topic: &str) {
        if self.joined.remove(topic).is_some() {
            self.hub.unsubscribe(topic, self.handle.id);
        }
    }

    /// `phx_join`: authorise, subscribe, reply, replay what was missed (`since`), then
    /// show the joiner's presence on pages people look at together.
    async fn join(&mut self, incoming: Incoming) -> ControlFlow<Option<CloseReason>> {
        let topic = match Topic::parse(&incoming.topic)
            .and_then(|topic| topic.may_join(&self.handle.principal).map(|()| topic))
        {
            Ok(topic) => topic,
            Err(refused) => {
                self.hub.count_join("refused");
                return self
                    .send(frame::refuse(&incoming, &refused.to_string()))
                    .await;
            }
        };
        let since = match incoming.payload.get("since") {
            None | Some(Value::Null) => None,
            Some(since) => match since.as_i64().filter(|s| *s >= 0) {
                Some(since) => Some(since),
                None => {
                    self.hub.count_join("refused");
                    let reason = "since must be a whole number: the id of the last event seen";
                    return self.send(frame::refuse(&incoming, reason)).await;
                }
            },
        };
        if self.joined.len() >= MAX_TOPICS && !self.joined.contains_key(&incoming.topic) {
            self.hub.count_join("refused");
            let reason = format!(
                "this socket follows {MAX_TOPICS} topics, the most one may: leave one first"
            );
            return self.send(frame::refuse(&incoming, &reason)).await;
        }
        if !self.hub.wait_ready(READY_WAIT).await {
            self.hub.count_join("error");
            let reason = "the live channel is starting; retry in a moment";
            return self.send(frame::refuse(&incoming, reason)).await;
        }
        // A second join of a joined topic replaces the first, as in Phoenix.
        if let Some(previous) = self.joined.get(&incoming.topic) {
            let closed = frame::closed(previous.join_ref.as_deref(), &incoming.topic);
            self.leave(&incoming.topic);
            self.send(closed).await?;
        }

        let position = self.hub.subscribe(&incoming.topic, &self.handle);
        let replay = match since {
            None => Replay::Missed(Vec::new()),
            Some(since) => {
                let window = self.hub.settings.replay_window;
                match self
                    .hub
                    .events()
                    .replay(&incoming.topic, since, window)
                    .await
                {
                    Ok(replay) => replay,
                    Err(e) => {
                        error!(error = &e as &dyn std::error::Error, topic = %incoming.topic, "reading the event log for a replay");
                        self.hub.unsubscribe(&incoming.topic, self.handle.id);
                        self.hub.count_join("error");
                        let reason = "the event log cannot be read now; retry in a moment";
                        return self.send(frame::refuse(&incoming, reason)).await;
                    }
                }
            }
        };
        self.hub.count_join("ok");
        let (missed, response) = match replay {
            Replay::Missed(missed) => {
                let response = json!({"last_id": position, "replayed": missed.len()});
                (missed, response)
            }
            Replay::TooFarBehind => (Vec::new(), json!({"last_id": position, "resync": true})),
        };
        let last_sent = missed.last().map_or(0, |e| e.id);
        self.joined.insert(
            incoming.topic.clone(),
            Joined {
                join_ref: incoming.join_ref.clone(),
                last_sent,
            },
        );
        self.send(frame::reply(&incoming, true, response)).await?;
        let replayed = missed.len() as u64;
        for event in missed {
            self.send(frame::event(&event)).await?;
        }
        self.hub.metrics.events_out.inc_by(replayed);
        if topic.tracks_presence() {
            let phx_ref = format!(
                "{}.{}",
                self.handle.id,
                incoming.join_ref.as_deref().unwrap_or("0")
            );
            let state = self
                .hub
                .show_presence(&incoming.topic, &self.handle, &phx_ref);
            self.send(frame::push(&incoming.topic, frame::PRESENCE_STATE, &state))
                .await?;
        }
        ControlFlow::Continue(())
    }
}
