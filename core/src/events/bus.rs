use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::{broadcast, Notify};

use super::Event;

/// How many events a slow subscriber may fall behind before it is told it lagged.
/// A lagged subscriber loses nothing: it replays the gap from the log by id.
const CAPACITY: usize = 4096;

/// No event has been published yet: the feed has not started.
const NOT_STARTED: i64 = -1;

/// Publishes committed events to everything running in this process, in log order.
///
/// Writers only say "something was committed" ([`EventBus::wake`]); the
/// [`EventFeed`](super::EventFeed) then reads the log from the last id it published
/// and sends what it finds. Going through the log, rather than handing each writer's
/// event straight to subscribers, is what keeps the order exactly the log's order
/// (two writers that commit 10 then 11 may finish their calls in the other order),
/// lets nothing be skipped (a writer cancelled between its commit and its publish),
/// and delivers events committed by other processes on the same PostgreSQL database.
#[derive(Clone, Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
    wake: Arc<Notify>,
    /// The id of the last event sent to subscribers, [`NOT_STARTED`] before the feed
    /// starts. Shared so a restarted feed carries on where the previous one stopped.
    published: Arc<AtomicI64>,
}

impl EventBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            wake: Arc::new(Notify::new()),
            published: Arc::new(AtomicI64::new(NOT_STARTED)),
        }
    }

    /// Tells the feed that events were committed (a wake-up with nobody waiting is
    /// kept, so none is lost).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// The id of the last event sent to subscribers, if the feed has started.
    pub fn published(&self) -> Option<i64> {
        let id = self.published.load(Ordering::Acquire);
        (id != NOT_STARTED).then_some(id)
    }

    pub(super) fn woken(&self) -> &Notify {
        &self.wake
    }

    /// Records where the feed starts, unless a previous feed already did.
    pub(super) fn start_at(&self, id: i64) -> i64 {
        match self
            .published
            .compare_exchange(NOT_STARTED, id, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => id,
            Err(current) => current,
        }
    }

    /// Sends one event, which must come after the last one sent.
    pub(super) fn send(&self, event: Event) {
        self.published.store(event.id, Ordering::Release);
        let _ = self.sender.send(Arc::new(event));
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
