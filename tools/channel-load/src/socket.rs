//! One websocket client: connecting (with retries), joining the topic, heartbeats, and
//! reporting each new `entity.updated` it receives, stamped the moment it was read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};
use crate::frame::{self, Frame};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The server closes a socket that has said nothing for 60 s; Phoenix clients beat every 30.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Handshake attempts per socket: a burst of connects can overflow the listen backlog.
const ATTEMPTS: u32 = 4;

/// What a socket task tells the measuring loop.
#[derive(Debug)]
pub enum Note {
    /// The join was answered: `None` accepted, `Some(reason)` refused.
    Joined {
        socket: u32,
        refused: Option<String>,
    },
    /// The first frame carrying event-log id `id` (higher than any before on this socket).
    Arrival { socket: u32, id: u64, at: Instant },
    /// The socket ended; it receives nothing more.
    Closed { socket: u32, reason: String },
}

/// Frames that were not valid Phoenix v2 frames, shared by every socket.
#[derive(Default)]
pub struct Malformed {
    pub count: AtomicU64,
    pub first: OnceLock<String>,
}

/// Small buffers: tungstenite's default 128 KiB read buffer, allocated up front, would
/// cost the client 1.3 GB at 10k sockets; these sockets carry small, rare frames.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// Opens a websocket, retrying transport failures with a growing pause. An HTTP answer
/// instead of an upgrade (401, 404) is not retried: it would be the same again.
pub async fn connect(url: &str) -> Result<Ws> {
    let mut pause = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match tokio_tungstenite::connect_async_with_config(url, Some(config()), true).await {
            Ok((ws, _)) => return Ok(ws),
            Err(WsError::Http(response)) => {
                let status = response.status();
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                return Err(Error::new(format!(
                    "the server answered {status} instead of upgrading to a websocket \
                     (is /socket/websocket served, and is the token valid?) {body}"
                )));
            }
            Err(_) if attempt < ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(e) => {
                return Err(Error::new(format!(
                    "websocket connect failed after {ATTEMPTS} attempts: {e}"
                )))
            }
        }
    }
}

/// Runs one joined client until its socket ends: sends the join, then reads every frame
/// (reading is also what answers the server's pings) and beats every 30 s.
pub async fn run(
    socket: u32,
    mut ws: Ws,
    topic: Arc<str>,
    notes: UnboundedSender<Note>,
    malformed: Arc<Malformed>,
) {
    let reason = match serve(socket, &mut ws, &topic, &notes, &malformed).await {
        Ok(()) => "closed by the server".to_owned(),
        Err(e) => e.to_string(),
    };
    let _ = notes.send(Note::Closed { socket, reason });
}

async fn serve(
    socket: u32,
    ws: &mut Ws,
    topic: &str,
    notes: &UnboundedSender<Note>,
    malformed: &Malformed,
) -> std::result::Result<(), WsError> {
    ws.send(Message::text(frame::join(topic))).await?;
    let mut beat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut beats: u64 = 1; // ref "1" is the join's
    let mut newest: u64 = 0;
    loop {
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Ok(_)) => continue, // pings are answered by tungstenite itself
                    Some(Err(e)) => return Err(e),
                };
                let at = Instant::now();
                match frame::parse(text.as_str(), topic) {
                    Ok(Frame::Updated(id)) if id > newest => {
                        newest = id;
                        let _ = notes.send(Note::Arrival { socket, id, at });
                    }
                    Ok(Frame::JoinReply(reply)) => {
                        let _ = notes.send(Note::Joined { socket, refused: reply.err() });
                    }
                    Ok(_) => {}
                    Err(e) => {
                        malformed.count.fetch_add(1, Ordering::Relaxed);
                        let _ = malformed.first.set(format!("{e}: {}", excerpt(text.as_str())));
                    }
                }
            }
            _ = beat.tick() => {
                beats += 1;
                ws.send(Message::text(frame::heartbeat(beats))).await?;
            }
        }
    }
}

/// The start of a frame, for an error message.
fn excerpt(text: &str) -> &str {
    let end = text.char_indices().nth(200).map_or(text.len(), |(i, _)| i);
    &text[..end]
}
