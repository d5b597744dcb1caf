//! `GET /api/openapi.json`: the OpenAPI document of the JSON API, generated from the
//! route handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::access::{Need, Routes};
use crate::approvals::routes as approvals;
use crate::catalog::{locations, routes, schema};
use crate::environments::routes as environments;
use crate::notifications::routes as notifications;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico",
        description = "Portico's JSON API. The catalog API is shaped like Backstage's, so Backstage's catalog clients work against it unchanged; the environments API takes deployment reports from CI/CD and health from monitoring; the approvals API lets a pipeline wait for a yes."
    ),
    paths(
        routes::query_entities,
        routes::list_entities,
        routes::get_entity_by_name,
        routes::get_entity_by_uid,
        routes::delete_entity_by_uid,
        routes::get_entities_by_refs,
        routes::get_entity_facets,
        locations::list_locations,
        locations::create_location,
        locations::get_location,
        locations::delete_location,
        locations::refresh_entity,
        locations::validate_entity,
        environments::list_environments,
        environments::get_environment,
        environments::put_environment,
        environments::delete_environment,
        environments::list_deployments,
        environments::report_deployment,
        environments::push_health,
        environments::list_probes,
        environments::put_probe,
        environments::delete_probe,
        approvals::request_approval,
        approvals::get_approval,
        approvals::list_approvals,
        approvals::decide_approval,
        approvals::cancel_approval,
        notifications::inbox,
        notifications::mark_read,
    ),
    components(schemas(
        schema::Entity,
        schema::ErrorResponse,
    )),
    tags(
        (name = "catalog", description = "Entities, relations, queries and facets"),
        (name = "locations", description = "Where entities are read from"),
        (name = "environments", description = "Environments and what runs in them"),
        (name = "deployments", description = "Deployment reports from CI/CD"),
        (name = "health", description = "Pushed health and health probes"),
        (name = "approvals", description = "Approval requests: CI/CD gates and golden paths that wait for a yes"),
        (name = "notifications", description = "What the signed-in person was told"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Routes {
    Routes::new().get("/api/openapi.json", Need::VIEWER, || async {
        Json(ApiDoc::openapi())
    })
}
