//! The catalog REST API under `/api/catalog`, shaped like Backstage's so its clients work.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use portico_core::catalog::reference::{RefContext, DEFAULT_NAMESPACE};
use portico_core::catalog::EntityRef;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            get(get_entity_by_name),
        )
        .route(
            "/api/catalog/entities/by-uid/{uid}",
            get(get_entity_by_uid).delete(delete_entity_by_uid),
        )
        .route("/api/catalog/entities/by-refs", post(get_entities_by_refs))
}

/// `GET /entities/by-name/{kind}/{namespace}/{name}`: matched ignoring case.
async fn get_entity_by_name(
    State(state): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let reference = EntityRef::new(kind, namespace, name);
    match state.portal.catalog().entity(&reference).await? {
        Some(entity) => Ok(Json(entity.to_backstage())),
        None => Err(ApiError::NotFound(format!(
            "No entity named '{reference}' found"
        ))),
    }
}

/// `GET /entities/by-uid/{uid}`.
async fn get_entity_by_uid(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.portal.catalog().entity_by_uid(&uid).await? {
        Some(entity) => Ok(Json(entity.to_backstage())),
        None => Err(ApiError::NotFound(format!("No entity with uid {uid}"))),
    }
}

/// `DELETE /entities/by-uid/{uid}`: 204. Its location may bring it back on the next read.
async fn delete_entity_by_uid(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.portal.catalog().delete(&uid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("No entity with uid {uid}")))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ByRefsRequest {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

/// `POST /entities/by-refs` `{entityRefs, fields?}`: `{items}` in the same order, `null`
/// for a reference with no entity.
async fn get_entities_by_refs(
    State(state): State<AppState>,
    Json(request): Json<ByRefsRequest>,
) -> Result<Json<Value>, ApiError> {
    let context = RefContext {
        default_kind: None,
        default_namespace: DEFAULT_NAMESPACE,
    };
    let references = request
        .entity_refs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            EntityRef::parse(text, context).map_err(|e| {
                ApiError::Input(format!(
                    "entityRefs[{i}]: {text:?} is not a valid entity reference: {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let items: Vec<Value> = state
        .portal
        .catalog()
        .entities(&references)
        .await?
        .into_iter()
        .map(|found| match found {
            Some(entity) => {
                portico_core::catalog::output::project(&entity.to_backstage(), &request.fields)
            }
            None => Value::Null,
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
