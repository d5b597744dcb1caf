//! `/api/v1/approvals`: a pipeline asks for an approval with its token, polls it (or
//! waits with `?wait=30s`), and approvers decide; people use the same API through the
//! pages.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_core::approvals::model::parse_duration;
use portico_core::approvals::{Approval, ApprovalFilter, ApprovalStatus, NewApproval, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};

use super::schema;
use crate::access::{Need, Routes};
use crate::catalog::schema::ErrorResponse;
use crate::environments::routes::parse_body;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

/// Asking needs a developer (or a token with that role or more); reading and deciding
/// anyone signed in: who may decide is each request's own list of approvers.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/approvals", Need::VIEWER, list_approvals)
        .post("/api/v1/approvals", Need::DEVELOPER, request_approval)
        .get("/api/v1/approvals/{id}", Need::VIEWER, get_approval)
        .post(
            "/api/v1/approvals/{id}/decision",
            Need::VIEWER,
            decide_approval,
        )
        .post(
            "/api/v1/approvals/{id}/cancel",
            Need::VIEWER,
            cancel_approval,
        )
}

/// The longest a `?wait=` long-poll holds a request open.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// The most requests a list returns at once.
const MAX_PAGE: i64 = 200;

/// A request as the API shows it, with the page where people decide it.
pub(crate) fn approval_json(approval: &Approval, public_url: &url::Url) -> Value {
    let mut shown = approval.to_json();
    shown["url"] = Value::String(page_url(approval, public_url));
    shown
}

/// Where people see and decide the request.
fn page_url(approval: &Approval, public_url: &url::Url) -> String {
    public_url
        .join(&format!("approvals/{}", approval.id))
        .map(String::from)
        .unwrap_or_default()
}

/// `POST /api/v1/approvals` `{title, description, approvers, min_approvals?, expires_in?,
/// subject?, context?, callback_url?}` → `201 {id, status, url}`.
#[utoipa::path(
    post, path = "/api/v1/approvals", tag = "approvals",
    request_body = schema::NewApproval,
    responses(
        (status = 201, description = "Asked: pending", body = schema::Requested),
        (status = 400, description = "A field breaks a rule; the message names it. Nothing is stored", body = ErrorResponse),
    )
)]
pub(crate) async fn request_approval(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new: NewApproval = parse_body(
        &body,
        "an approval request ({title, description, approvers, min_approvals?, expires_in?, subject?, context?, callback_url?})",
    )?;
    let principal = caller.signed_in()?;
    let approval = state.portal.approvals().request(principal, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": approval.id,
            "status": approval.status.as_str(),
            "url": page_url(&approval, &state.auth.public_url),
        })),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GetParams {
    /// `30s`, `2m`: hold the answer until the request is decided or this time is up.
    wait: Option<String>,
}

/// `GET /api/v1/approvals/{id}?wait=30s`.
#[utoipa::path(
    get, path = "/api/v1/approvals/{id}", tag = "approvals",
    params(
        ("id" = String, Path, description = "The request's id."),
        ("wait" = Option<String>, Query, description = "`30s`, `2m`: answer once the request is settled, or when this time is up (at most 2 minutes)."),
    ),
    responses(
        (status = 200, description = "The request with its decisions", body = schema::Approval),
        (status = 404, description = "No such request", body = ErrorResponse),
    )
)]
pub(crate) async fn get_approval(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<GetParams>,
) -> Result<Json<Value>, ApiError> {
    let approvals = state.portal.approvals();
    let approval = match params.wait.as_deref() {
        None | Some("") => approvals.get(&id).await?,
        Some(wait) => {
            let millis = parse_duration(&Value::String(wait.to_owned()))
                .map_err(|e| ApiError::Input(format!("wait: {e}")))?;
            let wait = Duration::from_millis(u64::try_from(millis).unwrap_or(0)).min(MAX_WAIT);
            approvals.wait(&id, wait).await?
        }
    };
    Ok(Json(approval_json(&approval, &state.auth.public_url)))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    status: Option<String>,
    /// `true`: only the caller's own requests.
    mine: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/v1/approvals?status=&mine=&limit=&offset=` → `{items, total, limit,
/// offset}`, newest first.
#[utoipa::path(
    get, path = "/api/v1/approvals", tag = "approvals",
    params(
        ("status" = Option<String>, Query, description = "`pending`, `approved`, `rejected`, `expired` or `cancelled`."),
        ("mine" = Option<bool>, Query, description = "Only the caller's own requests."),
        ("limit" = Option<i64>, Query, description = "Requests per page, 1 to 200 (default 50)."),
        ("offset" = Option<i64>, Query, description = "Requests to skip."),
    ),
    responses(
        (status = 200, description = "Requests, newest first", body = schema::ApprovalList),
        (status = 400, description = "A parameter is invalid; the message names it", body = ErrorResponse),
    )
)]
pub(crate) async fn list_approvals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let status = params
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::parse::<ApprovalStatus>)
        .transpose()?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Input(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    let offset = params.offset.unwrap_or(0).max(0);
    let filter = ApprovalFilter {
        status,
        requested_by: params.mine.unwrap_or(false).then(|| caller.actor()),
        limit,
        offset,
    };
    let (items, total) = state.portal.approvals().list(&filter).await?;
    Ok(Json(json!({
        "items": items
            .iter()
            .map(|a| approval_json(a, &state.auth.public_url))
            .collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": offset,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/approvals/{id}/decision` `{decision: approve|reject, comment}`.
#[utoipa::path(
    post, path = "/api/v1/approvals/{id}/decision", tag = "approvals",
    params(("id" = String, Path, description = "The request's id.")),
    request_body = schema::DecisionBody,
    responses(
        (status = 200, description = "The request after the decision", body = schema::Approval),
        (status = 400, description = "No such decision, or a rejection without a comment", body = ErrorResponse),
        (status = 403, description = "The caller asked for it (four eyes), or is not among its approvers", body = ErrorResponse),
        (status = 404, description = "No such request", body = ErrorResponse),
        (status = 409, description = "Settled already (the message says by whom), or the caller decided already", body = ErrorResponse),
    )
)]
pub(crate) async fn decide_approval(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: DecisionBody = parse_body(&body, "a decision ({decision: approve|reject, comment})")?;
    let verdict: Verdict = body.decision.parse()?;
    let principal = caller.signed_in()?;
    let approval = state
        .portal
        .approvals()
        .decide(&id, principal, verdict, body.comment)
        .await?;
    Ok(Json(approval_json(&approval, &state.auth.public_url)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/approvals/{id}/cancel` `{reason?}`: by whoever asked, or an admin.
#[utoipa::path(
    post, path = "/api/v1/approvals/{id}/cancel", tag = "approvals",
    params(("id" = String, Path, description = "The request's id.")),
    request_body = schema::CancelBody,
    responses(
        (status = 200, description = "The request, cancelled", body = schema::Approval),
        (status = 403, description = "Only whoever asked, or an admin, may cancel", body = ErrorResponse),
        (status = 404, description = "No such request", body = ErrorResponse),
        (status = 409, description = "Settled already", body = ErrorResponse),
    )
)]
pub(crate) async fn cancel_approval(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: CancelBody = if body.is_empty() {
        CancelBody::default()
    } else {
        parse_body(&body, "a cancellation ({reason?})")?
    };
    let principal = caller.signed_in()?;
    let approval = state
        .portal
        .approvals()
        .cancel(&id, principal, body.reason)
        .await?;
    Ok(Json(approval_json(&approval, &state.auth.public_url)))
}
