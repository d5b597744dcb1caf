//! `GET /api/openapi.json`: the OpenAPI document of the JSON API, generated from the
//! route handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::access::{Need, Routes};
use crate::catalog::{locations, routes, schema};
use crate::environments::routes as environments;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico",
        description = "Portico's JSON API. The catalog API is shaped like Backstage's, so Backstage's catalog clients work against it unchanged; the environments API takes deployment reports from CI/CD and health from monitoring."
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
    )
)]
pub struct ApiDoc;

pub fn routes() -> Routes {
    Routes::new().get("/api/openapi.json", Need::VIEWER, || async {
        Json(ApiDoc::openapi())
    })
}
