//! The shapes of the environments API's JSON, for the OpenAPI document. Handlers build
//! them with `json!` (see `routes`); the HTTP tests check the responses, this module only
//! describes them.
#![allow(dead_code)] // described, never built

use serde::Serialize;
use utoipa::ToSchema;

/// An environment.
#[derive(Serialize, ToSchema)]
pub struct Environment {
    /// Lower case: `dev`, `staging`, `production`.
    name: String,
    title: String,
    /// `development`, `staging` or `production`.
    tier: String,
    /// Display order, lowest first.
    order: i64,
}

/// An environment with its counts.
#[derive(Serialize, ToSchema)]
pub struct EnvironmentSummary {
    name: String,
    title: String,
    tier: String,
    order: i64,
    /// Components with a deployment or a probe there.
    components: u64,
    /// Components degraded or down there.
    unhealthy: u64,
    /// Components whose deployment there failed or was rolled back.
    failed_deployments: u64,
}

#[derive(Serialize, ToSchema)]
pub struct EnvironmentList {
    items: Vec<EnvironmentSummary>,
}

/// A deployment. Times are RFC 3339.
#[derive(Serialize, ToSchema)]
pub struct Deployment {
    /// The reporter's id.
    id: String,
    /// The component's reference key: `component:default/payments`.
    entity: String,
    environment: String,
    version: String,
    /// `started`, `succeeded`, `failed` or `rolled_back`.
    status: String,
    commit: Option<String>,
    url: Option<String>,
    started_at: String,
    finished_at: Option<String>,
    /// Who deployed, as the reporter said.
    actor: Option<String>,
    /// The principal that reported it: `token:ci-deploy`, `webhook:github`.
    reported_by: String,
    updated_at: String,
}

/// A component's health in an environment.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, `degraded`, `down` or `unknown`.
    status: String,
    since: String,
    checked_at: String,
    latency_ms: Option<i64>,
    message: Option<String>,
    /// `probe` or `api`.
    source: String,
}

/// A component in one environment.
#[derive(Serialize, ToSchema)]
pub struct ComponentState {
    entity: String,
    title: Option<String>,
    /// The owner's reference key.
    owner: Option<String>,
    /// The system's reference key.
    system: Option<String>,
    /// False when the entity has left the catalog.
    in_catalog: bool,
    deployment: Option<Deployment>,
    health: Option<Health>,
    /// Whether a probe checks it there.
    probed: bool,
}

/// An environment and its components, problems first.
#[derive(Serialize, ToSchema)]
pub struct EnvironmentView {
    name: String,
    title: String,
    tier: String,
    order: i64,
    components: Vec<ComponentState>,
}

/// What a report did.
#[derive(Serialize, ToSchema)]
pub struct ReportResult {
    deployment: Deployment,
    /// `created` (201), `advanced`, `unchanged` or `stale` (200).
    outcome: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPage {
    items: Vec<Deployment>,
    /// Present when there are more: pass it as `cursor`.
    next_cursor: Option<String>,
}

/// Health after a push.
#[derive(Serialize, ToSchema)]
pub struct PushedHealth {
    entity: String,
    environment: String,
    status: String,
    since: String,
    checked_at: String,
    latency_ms: Option<i64>,
    message: Option<String>,
    source: String,
    /// Whether the status changed (and was announced).
    changed: bool,
}

/// A probe.
#[derive(Serialize, ToSchema)]
pub struct Probe {
    entity: String,
    environment: String,
    url: String,
    interval_ms: i64,
    timeout_ms: i64,
    /// Answers slower than this are `degraded`.
    slow_ms: i64,
    /// `annotation` or `api`.
    source: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProbeList {
    items: Vec<Probe>,
}
