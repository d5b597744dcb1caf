//! Backstage's scaffolder API under `/api/scaffolder/v2`: templates' parameter schemas,
//! actions, tasks (create, list, read, cancel, events, a live event stream) and dry runs.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::{Extension, Json};
use futures_util::stream::{self, Stream};
use portico_core::templates::actions::{self, RunUser};
use portico_core::templates::dry_run::DryRunRequest;
use portico_core::templates::tasks::{topic, TaskFilter};
use portico_core::templates::{TaskEvent, TaskStatus};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::access::{Need, Routes};
use crate::environments::routes::parse_body;
use crate::error::ApiError;
use crate::identity::{audit_change, Caller};
use crate::state::AppState;

/// Reading templates' forms and the actions needs a viewer; running templates, reading
/// and cancelling runs a developer.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
            Need::VIEWER,
            parameter_schema,
        )
        .get("/api/scaffolder/v2/actions", Need::VIEWER, list_actions)
        .post("/api/scaffolder/v2/tasks", Need::DEVELOPER, create_task)
        .get("/api/scaffolder/v2/tasks", Need::DEVELOPER, list_tasks)
        .get("/api/scaffolder/v2/tasks/{id}", Need::DEVELOPER, get_task)
        .post(
            "/api/scaffolder/v2/tasks/{id}/cancel",
            Need::DEVELOPER,
            cancel_task,
        )
        .get(
            "/api/scaffolder/v2/tasks/{id}/events",
            Need::DEVELOPER,
            task_events,
        )
        .get(
            "/api/scaffolder/v2/tasks/{id}/eventstream",
            Need::DEVELOPER,
            task_eventstream,
        )
        .post("/api/scaffolder/v2/dry-run", Need::DEVELOPER, dry_run)
}

async fn parameter_schema(
    State(state): State<AppState>,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let reference = format!("{kind}:{namespace}/{name}");
    Ok(Json(
        state
            .portal
            .templates()
            .parameter_schema(&reference)
            .await?,
    ))
}

async fn list_actions() -> Json<Value> {
    Json(json!(actions::all()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTask {
    #[serde(rename = "templateRef")]
    template_ref: String,
    #[serde(default)]
    values: Value,
    #[serde(default)]
    secrets: Map<String, Value>,
}

async fn run_user(state: &AppState, caller: &Caller) -> RunUser {
    match caller.principal() {
        Some(principal) => RunUser::of(principal, &state.portal.catalog()).await,
        None => RunUser::default(),
    }
}

async fn create_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: CreateTask = parse_body(&body, "a task ({templateRef, values, secrets})")?;
    let values = if request.values.is_null() {
        Value::Object(Map::new())
    } else {
        request.values
    };
    let user = run_user(&state, &caller).await;
    let id = state
        .portal
        .templates()
        .create_task(user, &request.template_ref, &values, request.secrets)
        .await?;
    audit_change(
        &state,
        &caller,
        "template.run",
        request.template_ref.clone(),
        json!({ "task": id }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "createdBy")]
    created_by: Option<String>,
    /// `true`: only the caller's runs.
    mine: Option<bool>,
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_tasks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            TaskStatus::parse(s).ok_or_else(|| {
                ApiError::Input(format!(
                    "status: {s:?} is not a task status (open, processing, completed, failed, cancelled)"
                ))
            })
        })
        .transpose()?;
    let created_by = if query.mine == Some(true) {
        Some(caller.actor())
    } else {
        query.created_by
    };
    let filter = TaskFilter {
        created_by,
        status,
        limit: query.limit,
        offset: query.offset,
    };
    let (tasks, total) = state.portal.templates().tasks(&filter).await?;
    Ok(Json(json!({
        "tasks": tasks.iter().map(|t| t.to_api()).collect::<Vec<_>>(),
        "totalTasks": total,
    })))
}

async fn get_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.portal.templates().task(&id).await?.to_api()))
}

async fn cancel_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = state
        .portal
        .templates()
        .cancel(&id, &caller.actor())
        .await?;
    audit_change(&state, &caller, "template.cancel", id, json!({})).await;
    Ok(Json(json!({ "status": task.status })))
}

#[derive(Deserialize)]
struct EventsQuery {
    after: Option<i64>,
}

async fn task_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<TaskEvent>>, ApiError> {
    let after = query.after.unwrap_or(0).max(0);
    Ok(Json(
        state.portal.templates().task_events(&id, after).await?,
    ))
}

/// The task's events as server-sent events (`event: log|completion|cancelled|recovered`,
/// `data:` the event as JSON), from `after` on, ending after the last one.
async fn task_eventstream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let templates = state.portal.templates();
    // Subscribe before reading what is stored, so nothing falls in between.
    let live = state.portal.events().subscribe();
    let backlog = templates
        .task_events(&id, query.after.unwrap_or(0).max(0))
        .await?;
    let finished = backlog.iter().any(TaskEvent::is_last);
    let last_seen = backlog.last().map_or(query.after.unwrap_or(0), |e| e.id);
    let topic = topic(&id);
    struct Follow {
        pending: std::collections::VecDeque<TaskEvent>,
        live: tokio::sync::broadcast::Receiver<std::sync::Arc<portico_core::events::Event>>,
        topic: String,
        id: String,
        last_seen: i64,
        done: bool,
        templates: portico_core::templates::Templates,
    }
    let follow = Follow {
        pending: backlog.into(),
        live,
        topic,
        id,
        last_seen,
        done: finished,
        templates,
    };
    let events = stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.pending.pop_front() {
                let sse = SseEvent::default()
                    .event(event.event_type.clone())
                    .id(event.id.to_string())
                    .data(serde_json::to_string(&event).unwrap_or_default());
                return Some((Ok(sse), follow));
            }
            if follow.done {
                return None;
            }
            match follow.live.recv().await {
                Ok(event) if event.topic == follow.topic && event.id > follow.last_seen => {
                    follow.last_seen = event.id;
                    let task_event = TaskEvent::from_event(&follow.id, &event);
                    follow.done = task_event.is_last();
                    follow.pending.push_back(task_event);
                }
                Ok(_) => {}
                // Fell behind the bus: read what was missed from the log.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    match follow
                        .templates
                        .task_events(&follow.id, follow.last_seen)
                        .await
                    {
                        Ok(missed) => {
                            if let Some(last) = missed.last() {
                                follow.last_seen = last.id;
                            }
                            follow.done = missed.iter().any(TaskEvent::is_last);
                            follow.pending.extend(missed);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "a task's event stream ended early");
                            return None;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn dry_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: DryRunRequest = parse_body(
        &body,
        "a dry run ({template, values, secrets, directoryContents})",
    )?;
    if !request.template.is_object() {
        return Err(ApiError::Input(
            "template: must be the template entity (an object)".into(),
        ));
    }
    let user = run_user(&state, &caller).await;
    let result = state.portal.templates().dry_run(user, request).await?;
    Ok(Json(json!(result)))
}
