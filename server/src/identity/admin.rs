//! Administration over HTTP: API tokens and the audit log (admins only).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_core::identity::{AuditFilter, NewToken, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/admin/tokens", Need::ADMIN, list_tokens)
        .post("/api/admin/tokens", Need::ADMIN, create_token)
        .delete("/api/admin/tokens/{id}", Need::ADMIN, revoke_token)
        .get("/api/admin/audit", Need::ADMIN, audit_log)
}

/// `GET /api/admin/tokens` → `{items: [{id, name, role, created_by, created_at,
/// expires_at, last_used_at, revoked_at}]}`; never a secret.
async fn list_tokens(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let tokens = state.portal.identity().tokens().await?;
    Ok(Json(json!({ "items": tokens })))
}

#[derive(Deserialize)]
pub(crate) struct CreateToken {
    name: String,
    role: String,
    expires_in_days: Option<u32>,
}

/// `POST /api/admin/tokens` `{name, role, expires_in_days?}` → 201 `{token, secret}`:
/// the secret is shown this once.
async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<CreateToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let role: Role = request
        .role
        .parse()
        .map_err(|e| ApiError::Input(format!("role: {e}")))?;
    let new = NewToken {
        name: request.name,
        role,
        expires_in_days: request.expires_in_days,
    };
    let (token, secret) = state
        .portal
        .identity()
        .create_token(&new, &caller.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "secret": secret })),
    ))
}

/// `DELETE /api/admin/tokens/{id}` → the revoked token.
async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let token = state
        .portal
        .identity()
        .revoke_token(&id, &caller.actor())
        .await?;
    Ok(Json(json!(token)))
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    who: Option<String>,
    what: Option<String>,
    /// Unix milliseconds.
    since: Option<i64>,
    until: Option<i64>,
    cursor: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/admin/audit?who=&what=&since=&until=&cursor=&limit=` → `{items,
/// nextCursor}`, newest first.
async fn audit_log(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = AuditFilter {
        who: query.who,
        what: query.what,
        since: query.since,
        until: query.until,
        before: query.cursor,
    };
    let (items, next) = state
        .portal
        .identity()
        .audit_log(&filter, query.limit.unwrap_or(50))
        .await?;
    Ok(Json(json!({ "items": items, "nextCursor": next })))
}
