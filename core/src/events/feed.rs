//! The feed: reads committed events from the log, in order, and publishes them on the
//! bus of this process.

use std::time::Duration;

use tracing::{debug, warn};

use super::{store, EventBus, EventError, MAX_READ};
use crate::storage::Database;

/// The PostgreSQL channel every append notifies (once per transaction, at commit).
pub(super) const CHANNEL: &str = "portico_events";

/// How often the log is read without a wake-up: on PostgreSQL a notification can be
/// lost while the listening connection reconnects; this bounds how late that makes
/// an event.
const POLL: Duration = Duration::from_secs(2);

/// Waits after a failed read or listen, doubling up to the maximum.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Publishes the event log on the bus: woken by this process's writers, and on
/// PostgreSQL by every process's commits (LISTEN/NOTIFY), it reads what was appended
/// after the last event it published and sends it, oldest first.
///
/// Appends are ordered (see `store::lock_for_append`), so when the log shows id N,
/// every id below N that will ever exist is already visible: reading "after the last
/// id published" never skips an event, and never sends one twice.
pub struct EventFeed {
    db: Database,
    bus: EventBus,
}

impl EventFeed {
    pub(super) fn new(db: Database, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// Fixes where publishing starts: after the newest event now in the log. Events
    /// committed after this returns reach subscribers. A feed restarted in the same
    /// process carries on from where the previous one was.
    pub async fn prepare(&self) -> Result<i64, EventError> {
        if let Some(id) = self.bus.published() {
            return Ok(id);
        }
        let (last, _) = store::head(self.db.pool()).await?;
        Ok(self.bus.start_at(last.unwrap_or(0)))
    }

    /// Publishes until the process ends. Database failures are logged and retried;
    /// nothing committed meanwhile is lost, it is published once the log can be read.
    pub async fn run(self) -> Result<(), EventError> {
        let mut delay = RETRY_FIRST;
        let mut listener = None;
        loop {
            let step = async {
                self.prepare().await?;
                if listener.is_none() {
                    listener = self.db.listen(CHANNEL).await?;
                }
                self.catch_up().await
            };
            match step.await {
                Ok(()) => delay = RETRY_FIRST,
                Err(e) => {
                    warn!(error = &e as &dyn std::error::Error, retry_in = ?delay, "reading the event log");
                    listener = None;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                    continue;
                }
            }
            tokio::select! {
                () = self.bus.woken().notified() => {}
                notified = next_notification(&mut listener) => {
                    if let Err(e) = notified {
                        debug!(error = %e, "the event listener reconnects");
                        listener = None;
                    }
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sends everything after the last published id.
    async fn catch_up(&self) -> Result<(), EventError> {
        loop {
            let after = self.bus.published().unwrap_or(0);
            let events = store::select_since(self.db.pool(), after, None, MAX_READ).await?;
            let full = events.len() == MAX_READ as usize;
            for event in events {
                self.bus.send(event);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The next notification, or never when there is no listener (SQLite).
async fn next_notification(
    listener: &mut Option<sqlx::postgres::PgListener>,
) -> Result<(), sqlx::Error> {
    match listener {
        Some(listener) => listener.recv().await.map(drop),
        None => std::future::pending().await,
    }
}
