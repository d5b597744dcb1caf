use std::sync::Arc;

use sqlx::AnyConnection;
use tokio::sync::broadcast;

use super::{store, Event, EventBus, EventError, NewEvent, MAX_READ};
use crate::storage::Database;

/// The event log and the bus, as one service.
#[derive(Clone, Debug)]
pub struct Events {
    db: Database,
    bus: EventBus,
}

/// Where the log stands: the newest id (none while empty) and the number of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LogHead {
    pub last_id: Option<i64>,
    pub count: i64,
}

impl Events {
    pub fn new(db: Database, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// Appends `event` inside the caller's transaction. The caller commits, then hands
    /// the returned event to [`Events::publish`]: publishing before the commit could
    /// announce a change that is then rolled back.
    pub async fn append(
        &self,
        conn: &mut AnyConnection,
        event: &NewEvent,
    ) -> Result<Event, EventError> {
        event.validate()?;
        store::insert(conn, self.db.backend(), event).await
    }

    /// Appends several events inside the caller's transaction, in order, with few
    /// statements (bulk changes such as a catalog import). Publish after the commit.
    pub async fn append_all(
        &self,
        conn: &mut AnyConnection,
        events: &[NewEvent],
    ) -> Result<Vec<Event>, EventError> {
        for event in events {
            event.validate()?;
        }
        store::insert_all(conn, self.db.backend(), events).await
    }

    /// Appends `event` in a transaction of its own and publishes it.
    pub async fn record(&self, event: NewEvent) -> Result<Event, EventError> {
        event.validate()?;
        let mut tx = self.db.pool().begin().await?;
        let recorded = store::insert(&mut tx, self.db.backend(), &event).await?;
        tx.commit().await?;
        self.publish(recorded.clone());
        Ok(recorded)
    }

    /// Publishes committed events to live subscribers.
    pub fn publish(&self, event: Event) {
        self.bus.publish(event);
    }

    /// Follows events as they are published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.bus.subscribe()
    }

    /// Events after id `after` (0 for the beginning), oldest first, optionally only those
    /// of one topic; at most `limit` (capped at [`MAX_READ`]).
    pub async fn read_since(
        &self,
        after: i64,
        topic: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Event>, EventError> {
        store::select_since(self.db.pool(), after, topic, limit.min(MAX_READ)).await
    }

    /// The newest id and the size of the log.
    pub async fn head(&self) -> Result<LogHead, EventError> {
        let (last_id, count) = store::head(self.db.pool()).await?;
        Ok(LogHead { last_id, count })
    }
}
