//! In-app notifications: what someone should know about (a request waiting for their
//! approval, their request decided, a golden path's `notification:send`).
//!
//! A notification is stored once per recipient and pushed at once to the `user:<id>`
//! topic of everyone signed in as that recipient, so the bell in their header counts it
//! without a reload, in every tab.
//!
//! A recipient is a reference key: a catalog User entity's (`user:default/ada`: someone
//! a template names before their first sign-in finds it when they come), or, for
//! people the catalog does not know, their portal user's ([`person_key`]).
//!
//! - `store`: the SQL.
//! - [`recipients`]: who a written reference, a role or an actor stands for.

mod error;
pub mod recipients;
mod store;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

pub use error::NotificationError;

use crate::catalog::Catalog;
use crate::events::{Events, NewEvent};
use crate::identity::Principal;
use crate::storage::sql::now_millis;
use crate::storage::Database;

/// How loud a notification is.
pub const SEVERITIES: &[&str] = &["low", "normal", "high", "critical"];

/// The most notifications one page of the inbox holds.
pub const PAGE_MAX: i64 = 100;

/// A notification to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    pub title: String,
    pub description: Option<String>,
    /// Where it leads: a path in the portal (`/approvals/…`) or an absolute URL.
    pub link: Option<String>,
    /// One of [`SEVERITIES`].
    pub severity: &'static str,
    /// What sent it: `task:<id>`, `approval:<id>`.
    pub origin: String,
}

/// A stored notification, as its recipient reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub link: Option<String>,
    pub severity: String,
    pub origin: String,
    /// Unix time in milliseconds.
    pub created_at: i64,
    pub read: bool,
}

/// One page of someone's notifications, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inbox {
    pub notifications: Vec<Notification>,
    /// How many of all their notifications (not only this page's) are unread.
    pub unread: i64,
    /// The id to ask for older ones with (`before`), when there are older ones.
    pub next_before: Option<i64>,
}

/// Which notifications to mark read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marking {
    All,
    Ids(Vec<i64>),
}

/// The notifications service. Cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    db: Database,
    events: Events,
    catalog: Catalog,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

/// The recipient key of the portal user `user_id`: their catalog User entity's key, or
/// `portico-user:<id>` for someone the catalog does not know.
pub fn person_key(user_id: &str, entity: Option<&str>) -> String {
    match entity {
        Some(entity) => entity.to_ascii_lowercase(),
        None => format!("portico-user:{user_id}"),
    }
}

/// Every key `principal`'s notifications are addressed to.
fn keys_of(principal: &Principal) -> Vec<String> {
    let mut keys = vec![person_key(&principal.id, None)];
    if let Some(entity) = &principal.entity {
        keys.push(entity.to_ascii_lowercase());
    }
    keys
}

impl Notifications {
    pub fn new(db: Database, events: Events, catalog: Catalog) -> Self {
        Self {
            db,
            events,
            catalog,
        }
    }

    /// Who `written` references stand for: users as themselves, groups as their members.
    pub async fn people(&self, written: &[String]) -> Result<BTreeSet<String>, NotificationError> {
        recipients::people(&self.catalog, written).await
    }

    /// Sends `notification` to `recipients` (reference keys) in a transaction of its own.
    pub async fn send(
        &self,
        recipients: &BTreeSet<String>,
        notification: &NewNotification,
    ) -> Result<(), NotificationError> {
        let mut tx = self.db.begin_write().await?;
        let events = self.store(&mut tx, recipients, notification).await?;
        self.events.append_all(&mut tx, &events).await?;
        tx.commit().await?;
        self.events.committed();
        Ok(())
    }

    /// Stores `notification` for each of `recipients` in the caller's transaction, and
    /// returns the events that push it to those signed in as them (for the caller to
    /// append in the same transaction: a notification is never half sent).
    pub async fn store(
        &self,
        conn: &mut AnyConnection,
        recipients: &BTreeSet<String>,
        notification: &NewNotification,
    ) -> Result<Vec<NewEvent>, NotificationError> {
        let now = now_millis();
        let mut events = Vec::new();
        for recipient in recipients {
            let id = store::insert(conn, recipient, notification, now).await?;
            let payload = json!({
                "id": id,
                "title": notification.title,
                "description": notification.description,
                "link": notification.link,
                "severity": notification.severity,
                "origin": notification.origin,
                "created_at": now,
            });
            for user in store::users_addressed_as(conn, recipient).await? {
                events.push(NewEvent::new(
                    format!("user:{user}"),
                    "notification.created",
                    payload.clone(),
                ));
            }
        }
        Ok(events)
    }

    /// `principal`'s notifications, newest first, older than `before` when given.
    pub async fn inbox(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Inbox, NotificationError> {
        let keys = keys_of(principal);
        let limit = limit.clamp(1, PAGE_MAX);
        let mut conn = self.db.pool().acquire().await?;
        let mut notifications = store::page(&mut conn, &keys, before, limit + 1).await?;
        let next_before = if notifications.len() as i64 > limit {
            notifications.truncate(limit as usize);
            notifications.last().map(|n| n.id)
        } else {
            None
        };
        let unread = store::unread(&mut conn, &keys).await?;
        Ok(Inbox {
            notifications,
            unread,
            next_before,
        })
    }

    /// How many of `principal`'s notifications are unread: the bell's count.
    pub async fn unread(&self, principal: &Principal) -> Result<i64, NotificationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(store::unread(&mut conn, &keys_of(principal)).await?)
    }

    /// Marks `principal`'s notifications read (only theirs: other ids are passed over);
    /// their other tabs hear of it on `user:<id>`. Returns how many changed.
    pub async fn mark_read(
        &self,
        principal: &Principal,
        marking: &Marking,
    ) -> Result<u64, NotificationError> {
        if matches!(marking, Marking::Ids(ids) if ids.is_empty()) {
            return Ok(0);
        }
        let keys = keys_of(principal);
        let mut tx = self.db.begin_write().await?;
        let changed = store::mark_read(&mut tx, &keys, marking, now_millis()).await?;
        if changed > 0 {
            let ids = match marking {
                Marking::All => json!("all"),
                Marking::Ids(ids) => json!(ids),
            };
            let event = NewEvent::new(
                format!("user:{}", principal.id),
                "notification.read",
                json!({ "ids": ids }),
            );
            self.events.append_all(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        if changed > 0 {
            self.events.committed();
        }
        Ok(changed)
    }
}
