//! The shapes of the approvals API's JSON, for the OpenAPI document. Handlers build
//! them with `json!` (see `routes`); the HTTP tests check the responses, this module only
//! describes them.
#![allow(dead_code)] // described, never built

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What a pipeline (or a person) asks.
#[derive(Serialize, ToSchema)]
pub struct NewApproval {
    title: String,
    /// Markdown.
    description: Option<String>,
    /// `group:default/sre`, `user:default/ada`, `role:admin`, `token:<name>`.
    approvers: Vec<String>,
    /// How many approvals it needs (1 when not given).
    min_approvals: Option<u32>,
    /// `30m`, `4h`, `2d` or seconds; a day when not given (1 minute to 30 days).
    expires_in: Option<String>,
    /// What it is about: `{kind: task|entity|environment|external, …}`.
    #[schema(value_type = Option<Object>)]
    subject: Option<Value>,
    /// What approvers are shown: a release's version and environment.
    #[schema(value_type = Option<Object>)]
    context: Option<Value>,
    /// Called (signed) once the request is settled.
    callback_url: Option<String>,
}

/// The answer to a new request.
#[derive(Serialize, ToSchema)]
pub struct Requested {
    id: String,
    /// `pending`.
    status: String,
    /// Where people see and decide it.
    url: String,
}

/// One approver's decision, final.
#[derive(Serialize, ToSchema)]
pub struct Decision {
    /// The actor: `user:ada`, `token:release-bot`.
    by: String,
    /// `approve` or `reject`.
    decision: String,
    comment: Option<String>,
    at: String,
}

/// A request. Times are RFC 3339.
#[derive(Serialize, ToSchema)]
pub struct Approval {
    id: String,
    /// `pending`, `approved`, `rejected`, `expired` or `cancelled`.
    status: String,
    title: String,
    description: String,
    requested_by: String,
    approvers: Vec<String>,
    min_approvals: u32,
    /// Approvals so far.
    approvals: u32,
    created_at: String,
    expires_at: String,
    decided_at: Option<String>,
    decisions: Vec<Decision>,
    #[schema(value_type = Object)]
    subject: Value,
    #[schema(value_type = Object)]
    context: Value,
    url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalList {
    items: Vec<Approval>,
    total: i64,
    limit: i64,
    offset: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    decision: String,
    /// Why; needed to reject unless the portal says otherwise.
    comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CancelBody {
    reason: Option<String>,
}
