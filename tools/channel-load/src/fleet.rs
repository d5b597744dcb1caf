//! Bringing up all the clients: handshakes with bounded concurrency, then every join
//! answered. Each socket's task is spawned as soon as its handshake is done, so it reads
//! (and answers pings) from then on.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::socket::{self, Malformed, Note};

/// How long to wait for the last join reply once every handshake is done.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Fleet {
    /// Handshakes that succeeded.
    pub connected: u32,
    /// The first handshake error, when some failed.
    pub connect_error: Option<String>,
    /// From the first handshake to the last one done.
    pub connect_time: Duration,
    /// From the first handshake to the last join answered.
    pub join_time: Duration,
    /// `joined[i]`: socket i is connected, joined and still open.
    pub joined: Vec<bool>,
    /// The highest event id any socket has received so far.
    pub newest_id: u64,
}

impl Fleet {
    pub fn live(&self) -> u32 {
        self.joined.iter().filter(|&&j| j).count() as u32
    }
}

/// Connects `count` sockets, spread over `urls` in turn, and joins `topic` on each; fails
/// if none connects, if a server refuses a join (with its reason), or if joins are not all
/// answered in time.
pub async fn start(
    urls: &[String],
    count: u32,
    concurrency: u32,
    topic: Arc<str>,
    notes: &UnboundedSender<Note>,
    inbox: &mut UnboundedReceiver<Note>,
    malformed: &Arc<Malformed>,
) -> Result<Fleet> {
    let started = Instant::now();
    let mut connected = 0;
    let mut connect_error = None;
    let mut handshakes = futures_util::stream::iter(0..count)
        .map(|i| {
            let url = &urls[i as usize % urls.len()];
            async move { (i, socket::connect(url).await) }
        })
        .buffer_unordered(concurrency as usize);
    let mut pending = vec![false; count as usize];
    while let Some((i, outcome)) = handshakes.next().await {
        match outcome {
            Ok(ws) => {
                connected += 1;
                pending[i as usize] = true;
                let task = socket::run(i, ws, topic.clone(), notes.clone(), malformed.clone());
                tokio::spawn(task);
            }
            Err(e) => {
                connect_error.get_or_insert(e.to_string());
            }
        }
    }
    let connect_time = started.elapsed();
    if connected == 0 {
        return Err(Error::new(format!(
            "no websocket connected: {}",
            connect_error.unwrap_or_default()
        )));
    }

    let mut joined = vec![false; count as usize];
    let mut newest_id = 0;
    let mut waiting = connected;
    let deadline = Instant::now() + JOIN_TIMEOUT;
    while waiting > 0 {
        let note = tokio::time::timeout_at(deadline, inbox.recv())
            .await
            .map_err(|_| {
                Error::new(format!(
                    "{waiting} of {connected} joins were not answered within {} s",
                    JOIN_TIMEOUT.as_secs()
                ))
            })?
            .ok_or_else(|| Error::new("every socket task ended before joining"))?;
        match note {
            Note::Joined {
                refused: Some(reason),
                ..
            } => {
                return Err(Error::new(format!(
                    "the server refused to join {topic}: {reason}"
                )));
            }
            Note::Joined {
                socket,
                refused: None,
            } if pending[socket as usize] => {
                pending[socket as usize] = false;
                joined[socket as usize] = true;
                waiting -= 1;
            }
            Note::Closed { socket, reason } if pending[socket as usize] => {
                return Err(Error::new(format!(
                    "socket {socket} ended before its join was answered: {reason}"
                )));
            }
            Note::Closed { socket, .. } => joined[socket as usize] = false,
            // Nothing is published yet: an early push is not a measurement, but its id
            // must not be taken for the first event's.
            Note::Arrival { id, .. } => newest_id = newest_id.max(id),
            Note::Joined { .. } => {}
        }
    }
    Ok(Fleet {
        connected,
        connect_error,
        connect_time,
        join_time: started.elapsed(),
        joined,
        newest_id,
    })
}
