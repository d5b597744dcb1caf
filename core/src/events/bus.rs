use std::sync::Arc;

use tokio::sync::broadcast;

use super::Event;

/// How many events a slow subscriber may fall behind before it is told it lagged.
/// A lagged subscriber loses nothing: it replays the gap from the log by id.
const CAPACITY: usize = 4096;

/// Publishes committed events to everything running in this process.
#[derive(Clone, Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl EventBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self { sender }
    }

    /// Sends a committed event to every current subscriber (none is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
