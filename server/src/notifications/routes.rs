//! `/api/v1/notifications`: what the signed-in person was told, newest first, and
//! marking it read. An API token has no inbox: its list is empty.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use portico_core::notifications::{Marking, PAGE_MAX};
use serde::Deserialize;
use serde_json::{json, Value};

use super::schema;
use crate::access::{Need, Routes};
use crate::catalog::schema::ErrorResponse;
use crate::environments::routes::parse_body;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/notifications", Need::VIEWER, inbox)
        .post("/api/v1/notifications/read", Need::VIEWER, mark_read)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxParams {
    /// Only notifications older than this id (the previous page's `next_before`).
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/notifications?before=&limit=` → `{notifications: [{id, title,
/// description, link, severity, origin, created_at, read}], unread, next_before}`.
#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "notifications",
    params(
        ("before" = Option<i64>, Query, description = "Only those older than this id (the previous page's `next_before`)."),
        ("limit" = Option<i64>, Query, description = "Notifications per page, 1 to 100 (default 50)."),
    ),
    responses(
        (status = 200, description = "The caller's notifications, newest first (an API token has none)", body = schema::Inbox),
        (status = 400, description = "A parameter is invalid; the message names it", body = ErrorResponse),
    )
)]
pub(crate) async fn inbox(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<InboxParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::Input(format!(
            "limit: must be between 1 and {PAGE_MAX}"
        )));
    }
    let principal = caller.signed_in()?;
    let inbox = state
        .portal
        .notifications()
        .inbox(principal, params.before, limit)
        .await?;
    Ok(Json(json!(inbox)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    #[serde(default)]
    all: bool,
}

/// `POST /api/v1/notifications/read` `{ids: [..]}` or `{all: true}` → `{marked, unread}`.
#[utoipa::path(
    post, path = "/api/v1/notifications/read", tag = "notifications",
    request_body = schema::ReadBody,
    responses(
        (status = 200, description = "Marked: only the caller's own change", body = schema::Marked),
        (status = 400, description = "Neither ids nor all, or both", body = ErrorResponse),
    )
)]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: ReadBody = parse_body(&body, "what to mark read ({ids: [..]} or {all: true})")?;
    let marking = match (body.all, body.ids) {
        (true, None) => Marking::All,
        (false, Some(ids)) => Marking::Ids(ids),
        _ => {
            return Err(ApiError::Input(
                "give either ids (a list of notification ids) or all: true".into(),
            ))
        }
    };
    let principal = caller.signed_in()?;
    let notifications = state.portal.notifications();
    let marked = notifications.mark_read(principal, &marking).await?;
    let unread = notifications.unread(principal).await?;
    Ok(Json(json!({ "marked": marked, "unread": unread })))
}
