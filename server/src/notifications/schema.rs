//! The shapes of the notifications API's JSON, for the OpenAPI document (described,
//! never built: the handlers answer with `json!`).
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A notification as its recipient reads it.
#[derive(Serialize, ToSchema)]
pub struct Notification {
    id: i64,
    title: String,
    description: Option<String>,
    /// A path in the portal (`/approvals/…`) or an http(s) URL.
    link: Option<String>,
    /// `low`, `normal`, `high` or `critical`.
    severity: String,
    /// What sent it: `approval:<id>`, `task:<id>`.
    origin: String,
    /// Unix time in milliseconds.
    created_at: i64,
    read: bool,
}

/// One page of the inbox, newest first.
#[derive(Serialize, ToSchema)]
pub struct Inbox {
    notifications: Vec<Notification>,
    /// Unread among all of them, not only this page.
    unread: i64,
    /// Ask for older ones with `before=` this.
    next_before: Option<i64>,
}

/// Which to mark read: `{ids: [..]}` or `{all: true}`.
#[derive(Serialize, ToSchema)]
pub struct ReadBody {
    ids: Option<Vec<i64>>,
    all: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Marked {
    /// How many changed.
    marked: u64,
    unread: i64,
}
