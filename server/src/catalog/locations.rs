//! `/api/catalog/locations`, `/refresh` and `/validate-entity`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_core::catalog::locations::LocationError;
use portico_core::catalog::reference::RefContext;
use portico_core::catalog::{Entity, EntityRef};
use serde::Deserialize;
use serde_json::{json, Value};

use super::schema;
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::identity::{audit_change, Caller};
use crate::state::AppState;

/// Reading locations and validating need a viewer; registering and refreshing a
/// developer; removing a location (which orphans its entities) an admin.
pub fn routes() -> Routes {
    Routes::new()
        .get("/api/catalog/locations", Need::VIEWER, list_locations)
        .post("/api/catalog/locations", Need::DEVELOPER, create_location)
        .get("/api/catalog/locations/{id}", Need::VIEWER, get_location)
        .delete("/api/catalog/locations/{id}", Need::ADMIN, delete_location)
        .post("/api/catalog/refresh", Need::DEVELOPER, refresh_entity)
        .post(
            "/api/catalog/validate-entity",
            Need::VIEWER,
            validate_entity,
        )
}

/// `GET /locations` → `[{data: {id, type, target}}]`.
#[utoipa::path(
    get, path = "/api/catalog/locations", tag = "locations",
    responses((status = 200, description = "Every registered location", body = Vec<schema::LocationEntry>))
)]
pub(crate) async fn list_locations(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let locations = state.portal.catalog().locations().await?;
    Ok(Json(Value::Array(
        locations
            .into_iter()
            .map(|l| json!({ "data": l }))
            .collect(),
    )))
}

/// `GET /locations/{id}` → `{id, type, target}`.
#[utoipa::path(
    get, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path, description = "The location's id.")),
    responses(
        (status = 200, description = "The location", body = schema::Location),
        (status = 404, description = "No such location", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn get_location(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.portal.catalog().location(&id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewLocation {
    #[serde(rename = "type")]
    kind: String,
    target: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateOptions {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /locations[?dryRun=true]` `{type, target}` → 201 `{location, entities, problems}`.
/// `file` targets must lie in `PORTICO_CATALOG_ROOTS`; `url` hosts must be listed in
/// `PORTICO_CATALOG_URL_HOSTS`.
#[utoipa::path(
    post, path = "/api/catalog/locations", tag = "locations",
    params(("dryRun" = Option<bool>, Query, description = "Read and report without registering or storing anything.")),
    request_body = NewLocation,
    responses(
        (status = 201, description = "Registered and read", body = schema::LocationCreated),
        (status = 200, description = "Dry run: what it would hold", body = schema::LocationCreated),
        (status = 400, description = "Type, target or place refused; the message says why", body = schema::ErrorResponse),
        (status = 409, description = "Already registered", body = schema::ErrorResponse),
        (status = 502, description = "A URL could not be read for now (timeout, host error); nothing was registered", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn create_location(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(options): Query<CreateOptions>,
    Json(request): Json<NewLocation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (location, read, summary) = state
        .portal
        .catalog()
        .add_location(&request.kind, &request.target, options.dry_run)
        .await?;
    let entities: Vec<&Entity> = read.entities.iter().map(|e| &e.entity).collect();
    let problems: Vec<String> = read
        .rejected
        .iter()
        .chain(&read.warnings)
        .map(ToString::to_string)
        .collect();
    let status = if options.dry_run {
        StatusCode::OK
    } else {
        let target = format!("{}:{}", location.kind, location.target);
        audit_change(
            &state,
            &caller,
            "catalog.location.create",
            target,
            json!(summary),
        )
        .await;
        StatusCode::CREATED
    };
    let body = json!({
        "location": location,
        "entities": entities,
                "problems": problems,
        "summary": summary,
    });
    Ok((status, Json(body)))
}

/// `DELETE /locations/{id}` → 204; its entities become orphans.
#[utoipa::path(
    delete, path = "/api/catalog/locations/{id}", tag = "locations",
    params(("id" = String, Path, description = "The location's id.")),
    responses(
        (status = 204, description = "Removed; its entities become orphans"),
        (status = 404, description = "No such location", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn delete_location(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let catalog = state.portal.catalog();
    let location = catalog.location(&id).await?;
    let summary = catalog.remove_location(&id).await?;
    let target = format!("{}:{}", location.kind, location.target);
    audit_change(
        &state,
        &caller,
        "catalog.location.delete",
        target,
        json!(summary),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshRequest {
    entity_ref: String,
}

/// `POST /refresh` `{entityRef}`: reads the entity's location again now.
#[utoipa::path(
    post, path = "/api/catalog/refresh", tag = "locations",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The entity's location was read again"),
        (status = 400, description = "Not an entity reference", body = schema::ErrorResponse),
        (status = 404, description = "No such entity", body = schema::ErrorResponse),
        (status = 502, description = "The location could not be read completely (its host did not answer); nothing was changed", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn refresh_entity(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let context = RefContext::STANDALONE;
    let reference =
        EntityRef::parse(&request.entity_ref, context).map_err(|e| LocationError::Invalid {
            field: "entityRef",
            message: format!(
                "{:?} is not a valid entity reference: {e}",
                request.entity_ref
            ),
        })?;
    let summary = state.portal.catalog().refresh(&reference).await?;
    audit_change(
        &state,
        &caller,
        "catalog.refresh",
        reference.to_string(),
        json!(summary),
    )
    .await;
    Ok(StatusCode::OK)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ValidateRequest {
    /// The entity to check, as a catalog file would hold it.
    #[schema(value_type = Object)]
    entity: Value,
}

/// `POST /validate-entity` `{entity, location}` → 200, or 400 `{errors: [{name, message}]}`
/// with every problem and its field.
#[utoipa::path(
    post, path = "/api/catalog/validate-entity", tag = "locations",
    request_body = ValidateRequest,
    responses(
        (status = 200, description = "Valid"),
        (status = 400, description = "Every problem, each naming its field", body = schema::ValidationErrors),
    )
)]
pub(crate) async fn validate_entity(
    Json(request): Json<ValidateRequest>,
) -> (StatusCode, Json<Value>) {
    match Entity::from_value(request.entity) {
        Ok(_) => (StatusCode::OK, Json(json!({}))),
        Err(problems) => {
            let errors: Vec<Value> = problems
                .iter()
                .map(|p| json!({ "name": "InputError", "message": p.to_string() }))
                .collect();
            (StatusCode::BAD_REQUEST, Json(json!({ "errors": errors })))
        }
    }
}
