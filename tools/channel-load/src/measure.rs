//! The publish phase: one event at a time, each timed from the moment it is requested
//! until every joined socket has it (or 10 s have passed).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::entity_file;
use crate::error::Result;
use crate::fleet::Fleet;
use crate::refresh::Refresher;
use crate::socket::Note;

/// How long one event may take to reach every socket before the rest count as lost.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Deliveries {
    /// Request → arrival, per (socket, event) delivered, in µs.
    pub latencies_us: Vec<u64>,
    /// Request → arrival at the last socket, per event that reached any, in µs.
    pub fanout_us: Vec<u64>,
    /// (socket, event) pairs not delivered in time; a socket that closed misses the rest.
    pub lost: u64,
    /// Sockets that closed during the phase.
    pub closed: u32,
    /// From the first request to the last event's completion.
    pub elapsed: Duration,
}

/// Publishes `events` changes of the entity in `file` and collects every arrival.
pub async fn publish(
    events: u32,
    file: &Path,
    refresher: &Refresher,
    fleet: &Fleet,
    inbox: &mut UnboundedReceiver<Note>,
) -> Result<Deliveries> {
    let expected = u64::from(fleet.live());
    let mut live = fleet.joined.clone();
    // `got[socket] == k`: socket has event k (1-based), with no per-event allocation.
    let mut got = vec![0u32; live.len()];
    let mut newest = fleet.newest_id;
    // A different value every run: rewriting the value the file already holds would
    // change nothing and publish nothing.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut out = Deliveries {
        latencies_us: Vec::with_capacity((expected * u64::from(events)) as usize),
        fanout_us: Vec::with_capacity(events as usize),
        lost: 0,
        closed: 0,
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    for k in 1..=events {
        // Whatever came in since the last event (late arrivals, closes) is settled first,
        // so the threshold below is the newest id any socket has seen.
        while let Ok(note) = inbox.try_recv() {
            if let Note::Arrival { id, .. } = note {
                newest = newest.max(id);
            } else if let Note::Closed { socket, .. } = note {
                if std::mem::take(&mut live[socket as usize]) {
                    out.closed += 1;
                }
            }
        }
        let threshold = newest;
        entity_file::set_sequence(file, &format!("{run}-{k}"))?;
        let t0 = Instant::now();
        refresher.refresh().await?;

        let mut remaining = live.iter().filter(|&&l| l).count();
        let mut delivered = 0u64;
        let mut last = None;
        let deadline = t0 + EVENT_TIMEOUT;
        while remaining > 0 {
            let Ok(Some(note)) = tokio::time::timeout_at(deadline, inbox.recv()).await else {
                break;
            };
            match note {
                Note::Arrival { socket, id, at } => {
                    newest = newest.max(id);
                    let s = socket as usize;
                    if id > threshold && live[s] && got[s] != k {
                        got[s] = k;
                        remaining -= 1;
                        delivered += 1;
                        let us = at.saturating_duration_since(t0).as_micros() as u64;
                        out.latencies_us.push(us);
                        last = last.max(Some(us));
                    }
                }
                Note::Closed { socket, .. } => {
                    let s = socket as usize;
                    if std::mem::take(&mut live[s]) {
                        out.closed += 1;
                        if got[s] != k {
                            remaining -= 1;
                        }
                    }
                }
                Note::Joined { .. } => {}
            }
        }
        out.lost += expected - delivered;
        out.fanout_us.extend(last);
    }
    out.elapsed = started.elapsed();
    Ok(out)
}
