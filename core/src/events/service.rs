use std::sync::Arc;

use sqlx::AnyConnection;
use tokio::sync::broadcast;

use super::{store, Event, EventBus, EventError, EventFeed, NewEvent, MAX_READ};
use crate::storage::Database;

/// The event log and the bus, as one service.
#[derive(Clone, Debug)]
pub struct Events {
    db: Database,
    bus: EventBus,
}

/// What a client catching up on a topic gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Replay {
    /// The events it missed, oldest first (none when it is up to date).
    Missed(Vec<Event>),
    /// Too much to replay: it should reload the data instead.
    TooFarBehind,
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

    /// Appends `event` inside the caller's transaction. The caller commits, then calls
    /// [`Events::committed`]: announcing before the commit could announce a change that
    /// is then rolled back.
    pub async fn append(
        &self,
        conn: &mut AnyConnection,
        event: &NewEvent,
    ) -> Result<Event, EventError> {
        event.validate()?;
        store::insert(conn, self.db.backend(), event).await
    }

    /// Appends several events inside the caller's transaction, in order, with few
    /// statements (bulk changes such as a catalog import). Announce after the commit.
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
        let mut tx = self.db.begin_write().await?;
        let recorded = store::insert(&mut tx, self.db.backend(), &event).await?;
        tx.commit().await?;
        self.committed();
        Ok(recorded)
    }

    /// Says that events were committed: the [`EventFeed`] reads them back from the log
    /// and publishes them, in the log's order. Once per transaction is enough.
    pub fn committed(&self) {
        self.bus.wake();
    }

    /// Follows events as they are published from now on (once [`Events::feed`] runs).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.bus.subscribe()
    }

    /// The worker that publishes the log on the bus: run one per process.
    pub fn feed(&self) -> EventFeed {
        EventFeed::new(self.db.clone(), self.bus.clone())
    }

    /// What a client that saw events of `topic` up to id `since` missed, oldest first:
    /// the events, or [`Replay::TooFarBehind`] when more than `window` of them, or when
    /// `since` is not a position this log has reached (the client follows another
    /// database, or one that was reset).
    pub async fn replay(&self, topic: &str, since: i64, window: u32) -> Result<Replay, EventError> {
        let (head, _) = store::head(self.db.pool()).await?;
        if since < 0 || since > head.unwrap_or(0) {
            return Ok(Replay::TooFarBehind);
        }
        let mut missed = Vec::new();
        let mut after = since;
        loop {
            let want = (window as usize + 1 - missed.len()).min(MAX_READ as usize) as u32;
            let page = store::select_since(self.db.pool(), after, Some(topic), want).await?;
            let last_page = page.len() < want as usize;
            after = page.last().map_or(after, |e| e.id);
            missed.extend(page);
            if missed.len() > window as usize {
                return Ok(Replay::TooFarBehind);
            }
            if last_page {
                return Ok(Replay::Missed(missed));
            }
        }
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
