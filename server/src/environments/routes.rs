//! The environments API under `/api/v1`: environments and their components, deployment
//! reports, pushed health, and probes.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_core::environments::deployments::{
    DeploymentCursor, DeploymentFilter, DeploymentReport, ReportOutcome,
};
use portico_core::environments::health::HealthPush;
use portico_core::environments::probes::{ProbeRequest, ProbeSpec};
use portico_core::environments::views::{ComponentState, Counts};
use portico_core::environments::{
    definitions::Source, Deployment, Environment, EnvironmentSpec, Health,
};
use portico_core::storage::sql::from_millis;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::schema;
use crate::access::{Need, Routes};
use crate::catalog::schema::ErrorResponse;
use crate::error::ApiError;
use crate::identity::{audit_change, Caller};
use crate::state::AppState;

/// Reading needs a viewer; reporting deployments and health and managing probes an SRE
/// (or a token with that role); defining environments an admin.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/environments", Need::VIEWER, list_environments)
        .get("/api/v1/environments/{name}", Need::VIEWER, get_environment)
        .put("/api/v1/environments/{name}", Need::ADMIN, put_environment)
        .delete(
            "/api/v1/environments/{name}",
            Need::ADMIN,
            delete_environment,
        )
        .get("/api/v1/deployments", Need::VIEWER, list_deployments)
        .post("/api/v1/deployments", Need::SRE, report_deployment)
        .post("/api/v1/health", Need::SRE, push_health)
        .get("/api/v1/probes", Need::VIEWER, list_probes)
        .put("/api/v1/probes", Need::SRE, put_probe)
        .delete("/api/v1/probes", Need::SRE, delete_probe)
}

/// A JSON body, or a 400 that says what is wrong with it (serde's message names the
/// field and the position).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes, what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Input(format!("the body is not {what}: {e}")))
}

/// A stored time as the API writes it: RFC 3339, UTC.
pub(crate) fn time(millis: i64) -> String {
    from_millis(millis)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A time the API was given, in RFC 3339; the error names the field.
pub(super) fn parse_time(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
            .map_err(|_| {
                ApiError::Input(format!(
                    "{field}: {t:?} is not an RFC 3339 time (e.g. 2026-11-21T09:30:00Z)"
                ))
            })
    })
    .transpose()
}

pub(crate) fn environment_json(environment: &Environment) -> Value {
    json!({
        "name": environment.name,
        "title": environment.title,
        "tier": environment.tier,
        "order": environment.order,
    })
}

pub(crate) fn deployment_json(deployment: &Deployment) -> Value {
    json!({
        "id": deployment.id,
        "entity": deployment.entity,
        "environment": deployment.environment,
        "version": deployment.version,
        "status": deployment.status,
        "commit": deployment.commit,
        "url": deployment.url,
        "started_at": time(deployment.started_at),
        "finished_at": deployment.finished_at.map(time),
        "actor": deployment.actor,
        "reported_by": deployment.reported_by,
        "updated_at": time(deployment.updated_at),
    })
}

pub(crate) fn health_json(health: &Health) -> Value {
    json!({
        "status": health.status,
        "since": time(health.since),
        "checked_at": time(health.checked_at),
        "latency_ms": health.latency_ms,
        "message": health.message,
        "source": health.source,
    })
}

fn component_json(state: &ComponentState) -> Value {
    json!({
        "entity": state.component.entity,
        "title": state.component.title,
        "owner": state.component.owner,
        "system": state.component.system,
        "in_catalog": state.component.in_catalog,
        "deployment": state.deployment.as_ref().map(deployment_json),
        "health": state.health.as_ref().map(health_json),
        "probed": state.probed,
    })
}

/// `GET /api/v1/environments` → `{items: [{name, title, tier, order, components,
/// unhealthy, failed_deployments}]}`.
#[utoipa::path(
    get, path = "/api/v1/environments", tag = "environments",
    responses((status = 200, description = "Every environment, in display order, with its counts", body = schema::EnvironmentList))
)]
pub(crate) async fn list_environments(
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let matrix = state.portal.environments().matrix().await?;
    let items: Vec<Value> = matrix
        .environments
        .iter()
        .map(|environment| {
            let counts = Counts::of(
                matrix
                    .rows
                    .iter()
                    .filter_map(|row| row.cells.get(&environment.name)),
            );
            let mut item = environment_json(environment);
            item["components"] = json!(counts.components);
            item["unhealthy"] = json!(counts.unhealthy);
            item["failed_deployments"] = json!(counts.failing);
            item
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/environments/{name}` → `{name, title, tier, order, components: [{entity,
/// deployment, health, …}]}`, problems first.
#[utoipa::path(
    get, path = "/api/v1/environments/{name}", tag = "environments",
    params(("name" = String, Path, description = "The environment's name.")),
    responses(
        (status = 200, description = "The environment and every component with a deployment or a probe there, problems first", body = schema::EnvironmentView),
        (status = 404, description = "No such environment", body = ErrorResponse),
    )
)]
pub(crate) async fn get_environment(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = state
        .portal
        .environments()
        .environment_view(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no environment {name:?}")))?;
    let mut body = environment_json(&view.environment);
    body["components"] = Value::Array(view.components.iter().map(component_json).collect());
    Ok(Json(body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvironmentBody {
    title: Option<String>,
    tier: Option<String>,
    order: Option<i64>,
}

/// `PUT /api/v1/environments/{name}` `{tier?, title?, order?}` → the environment. The
/// tier may be left out when the name says it (`staging`).
#[utoipa::path(
    put, path = "/api/v1/environments/{name}", tag = "environments",
    params(("name" = String, Path, description = "The environment's name: a letter, then letters, digits or '-'.")),
    request_body = EnvironmentBody,
    responses(
        (status = 200, description = "Defined", body = schema::Environment),
        (status = 400, description = "A bad name, tier or title; the message says which", body = ErrorResponse),
    )
)]
pub(crate) async fn put_environment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: EnvironmentBody = if body.is_empty() {
        EnvironmentBody {
            title: None,
            tier: None,
            order: None,
        }
    } else {
        parse_body(&body, "an environment ({tier, title, order})")?
    };
    let item = match &request.tier {
        Some(tier) => format!("{name}:{tier}"),
        None => name.clone(),
    };
    let mut spec = EnvironmentSpec::parse(&item)?;
    spec.title = request.title.filter(|t| !t.trim().is_empty());
    spec.order = request.order;
    let environment = state
        .portal
        .environments()
        .define(&spec, Source::Api)
        .await?;
    audit_change(
        &state,
        &caller,
        "environment.define",
        environment.name.clone(),
        environment_json(&environment),
    )
    .await;
    Ok(Json(environment_json(&environment)))
}

/// `DELETE /api/v1/environments/{name}` → 204, with its deployments and health.
#[utoipa::path(
    delete, path = "/api/v1/environments/{name}", tag = "environments",
    params(("name" = String, Path, description = "The environment's name.")),
    responses(
        (status = 204, description = "Removed, with its deployments, probes and health"),
        (status = 404, description = "No such environment", body = ErrorResponse),
        (status = 409, description = "Defined by the configuration: remove it there", body = ErrorResponse),
    )
)]
pub(crate) async fn delete_environment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.portal.environments().remove(&name).await?;
    audit_change(&state, &caller, "environment.remove", name, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct DeploymentQuery {
    entity: Option<String>,
    environment: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Deployments per page unless asked otherwise.
const DEFAULT_PAGE: u32 = 50;

/// `GET /api/v1/deployments?entity=&environment=&limit=&cursor=` → `{items, nextCursor?}`,
/// newest first.
#[utoipa::path(
    get, path = "/api/v1/deployments", tag = "deployments",
    params(
        ("entity" = Option<String>, Query, description = "A catalog reference: `component:default/payments` or `payments`."),
        ("environment" = Option<String>, Query, description = "An environment's name."),
        ("limit" = Option<u32>, Query, description = "Deployments per page, 1 to 500 (default 50)."),
        ("cursor" = Option<String>, Query, description = "From `nextCursor`."),
    ),
    responses(
        (status = 200, description = "Deployments, newest started first", body = schema::DeploymentPage),
        (status = 400, description = "A parameter is invalid; the message names it", body = ErrorResponse),
    )
)]
pub(crate) async fn list_deployments(
    State(state): State<AppState>,
    Query(query): Query<DeploymentQuery>,
) -> Result<Json<Value>, ApiError> {
    let environments = state.portal.environments();
    let limit = match query.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=portico_core::environments::deployments::MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::Input(format!("limit: {text:?} is not a number from 1 to 500"))
            })?,
    };
    let entity = match query.entity.as_deref().filter(|e| !e.is_empty()) {
        Some(entity) => Some(environments.resolve_entity("entity", entity).await?),
        None => None,
    };
    let environment = match query.environment.as_deref().filter(|e| !e.is_empty()) {
        Some(name) => Some(environments.require("environment", name).await?.name),
        None => None,
    };
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(DeploymentCursor::decode)
        .transpose()?;
    let page = environments
        .deployments(&DeploymentFilter {
            entity,
            environment,
            limit,
            cursor,
        })
        .await?;
    let mut body = json!({ "items": page.items.iter().map(deployment_json).collect::<Vec<_>>() });
    if let Some(next) = page.next {
        body["nextCursor"] = json!(next.encode());
    }
    Ok(Json(body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportBody {
    id: String,
    entity: String,
    environment: String,
    version: String,
    status: String,
    commit: Option<String>,
    url: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    actor: Option<String>,
}

/// `POST /api/v1/deployments` `{id, entity, environment, version, status, commit?, url?,
/// started_at?, finished_at?, actor?}` → 201 for a new deployment, 200 otherwise, with
/// `{deployment, outcome}` (`created`, `advanced`, `unchanged` or `stale`).
#[utoipa::path(
    post, path = "/api/v1/deployments", tag = "deployments",
    request_body = ReportBody,
    responses(
        (status = 201, description = "A new deployment", body = schema::ReportResult),
        (status = 200, description = "A known deployment: advanced, unchanged or stale", body = schema::ReportResult),
        (status = 400, description = "Unknown entity or environment, bad status, time or field; nothing stored", body = ErrorResponse),
        (status = 409, description = "A finished deployment reported with the other outcome, or an id reused", body = ErrorResponse),
    )
)]
pub(crate) async fn report_deployment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: ReportBody = parse_body(
        &body,
        "a deployment report ({id, entity, environment, version, status, …})",
    )?;
    let report = DeploymentReport {
        id: body.id,
        entity: body.entity,
        environment: body.environment,
        version: body.version,
        status: body.status,
        commit: body.commit,
        url: body.url,
        started_at: parse_time("started_at", body.started_at.as_deref())?,
        finished_at: parse_time("finished_at", body.finished_at.as_deref())?,
        actor: body.actor,
    };
    let (deployment, outcome) = state
        .portal
        .environments()
        .report(&caller.actor(), &report)
        .await?;
    Ok(report_response(&deployment, outcome))
}

pub(super) fn report_response(
    deployment: &Deployment,
    outcome: ReportOutcome,
) -> (StatusCode, Json<Value>) {
    let status = if outcome == ReportOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(json!({ "deployment": deployment_json(deployment), "outcome": outcome })),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthBody {
    entity: String,
    environment: String,
    status: String,
    message: Option<String>,
    latency_ms: Option<i64>,
}

/// `POST /api/v1/health` `{entity, environment, status, message?, latency_ms?}` → the
/// health now, and whether it changed. For monitoring systems that know better than a
/// probe; taken as is, without hysteresis.
#[utoipa::path(
    post, path = "/api/v1/health", tag = "health",
    request_body = HealthBody,
    responses(
        (status = 200, description = "The health now, and whether it changed", body = schema::PushedHealth),
        (status = 400, description = "Unknown entity or environment, bad status or latency", body = ErrorResponse),
    )
)]
pub(crate) async fn push_health(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: HealthBody = parse_body(&body, "a health report ({entity, environment, status, …})")?;
    let (health, changed) = state
        .portal
        .environments()
        .push_health(&HealthPush {
            entity: body.entity,
            environment: body.environment,
            status: body.status,
            message: body.message,
            latency_ms: body.latency_ms,
        })
        .await?;
    let mut out = health_json(&health);
    out["entity"] = json!(health.entity);
    out["environment"] = json!(health.environment);
    out["changed"] = json!(changed);
    Ok(Json(out))
}

fn probe_json(probe: &ProbeSpec) -> Value {
    json!({
        "entity": probe.entity,
        "environment": probe.environment,
        "url": probe.url,
        "interval_ms": probe.interval_ms,
        "timeout_ms": probe.timeout_ms,
        "slow_ms": probe.slow_ms,
        "source": probe.source,
    })
}

#[derive(Deserialize)]
pub(crate) struct ProbeQuery {
    entity: Option<String>,
    environment: Option<String>,
}

/// `GET /api/v1/probes?entity=&environment=` → `{items: [{entity, environment, url,
/// interval_ms, timeout_ms, slow_ms, source}]}`.
#[utoipa::path(
    get, path = "/api/v1/probes", tag = "health",
    params(
        ("entity" = Option<String>, Query, description = "A catalog reference."),
        ("environment" = Option<String>, Query, description = "An environment's name."),
    ),
    responses((status = 200, description = "Probes, from annotations and the API", body = schema::ProbeList))
)]
pub(crate) async fn list_probes(
    State(state): State<AppState>,
    Query(query): Query<ProbeQuery>,
) -> Result<Json<Value>, ApiError> {
    let environments = state.portal.environments();
    let entity = match query.entity.as_deref().filter(|e| !e.is_empty()) {
        Some(entity) => Some(environments.resolve_entity("entity", entity).await?),
        None => None,
    };
    let environment = query
        .environment
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(str::to_ascii_lowercase);
    let probes = environments
        .probes(entity.as_deref(), environment.as_deref())
        .await?;
    Ok(Json(
        json!({ "items": probes.iter().map(probe_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeBody {
    entity: String,
    environment: String,
    url: String,
    interval: Option<String>,
    timeout: Option<String>,
    slow: Option<String>,
}

/// `PUT /api/v1/probes` `{entity, environment, url, interval?, timeout?, slow?}` → the
/// probe (durations like `15s`, `500ms`).
#[utoipa::path(
    put, path = "/api/v1/probes", tag = "health",
    request_body = ProbeBody,
    responses(
        (status = 200, description = "Defined", body = schema::Probe),
        (status = 400, description = "A bad URL, duration, entity or environment", body = ErrorResponse),
        (status = 409, description = "Declared by the entity's catalog annotation: change it there", body = ErrorResponse),
    )
)]
pub(crate) async fn put_probe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: ProbeBody = parse_body(
        &body,
        "a probe ({entity, environment, url, interval?, timeout?, slow?})",
    )?;
    let probe = state
        .portal
        .environments()
        .put_probe(
            &ProbeRequest {
                entity: body.entity,
                environment: body.environment,
                url: body.url,
                interval: body.interval,
                timeout: body.timeout,
                slow: body.slow,
            },
            &state.probe_defaults,
        )
        .await?;
    audit_change(
        &state,
        &caller,
        "probe.put",
        format!("{} in {}", probe.entity, probe.environment),
        probe_json(&probe),
    )
    .await;
    Ok(Json(probe_json(&probe)))
}

/// `DELETE /api/v1/probes?entity=&environment=` → 204.
#[utoipa::path(
    delete, path = "/api/v1/probes", tag = "health",
    params(
        ("entity" = String, Query, description = "A catalog reference."),
        ("environment" = String, Query, description = "An environment's name."),
    ),
    responses(
        (status = 204, description = "Removed, with the health it measured"),
        (status = 404, description = "No such probe", body = ErrorResponse),
        (status = 409, description = "Declared by the entity's catalog annotation: remove it there", body = ErrorResponse),
    )
)]
pub(crate) async fn delete_probe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ProbeQuery>,
) -> Result<StatusCode, ApiError> {
    let (Some(entity), Some(environment)) = (query.entity, query.environment) else {
        return Err(ApiError::Input(
            "entity and environment are both required (?entity=payments&environment=staging)"
                .into(),
        ));
    };
    state
        .portal
        .environments()
        .delete_probe(&entity, &environment)
        .await?;
    audit_change(
        &state,
        &caller,
        "probe.delete",
        format!("{entity} in {environment}"),
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
