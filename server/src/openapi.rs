//! `GET /api/openapi.json`: the OpenAPI document of the JSON API, generated from the
//! route handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::access::{Need, Routes};
use crate::catalog::{locations, routes, schema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico",
        description = "Portico's JSON API. The catalog API is shaped like Backstage's, so Backstage's catalog clients work against it unchanged."
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
    ),
    components(schemas(
        schema::Entity,
        schema::ErrorResponse,
    )),
    tags(
        (name = "catalog", description = "Entities, relations, queries and facets"),
        (name = "locations", description = "Where entities are read from"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Routes {
    Routes::new().get("/api/openapi.json", Need::VIEWER, || async {
        Json(ApiDoc::openapi())
    })
}
