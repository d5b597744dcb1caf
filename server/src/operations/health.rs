use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// `GET /healthz`: 200 while the process runs. It checks nothing else on purpose: a
/// database outage must not make an orchestrator restart healthy processes.
pub async fn liveness() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 only while the database answers and every migration is applied,
/// else 503 with the reason. Checked on every call, so it recovers by itself.
pub async fn readiness(State(state): State<AppState>) -> impl IntoResponse {
    let readiness = state.portal.db().readiness().await;
    let ready = readiness.is_ready();
    state.metrics.set_ready(ready);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "reason": readiness.describe(),
        "database": state.portal.db().backend().as_str(),
    });
    (status, Json(body))
}
