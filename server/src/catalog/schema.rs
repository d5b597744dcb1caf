//! The shapes of the catalog API's JSON, for the OpenAPI document. Handlers build these
//! shapes from portico-core's Backstage output (`to_backstage`, `project`); the HTTP
//! tests check the responses, this module only describes them.
#![allow(dead_code)] // described, never built

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An entity in Backstage's format, with the server's fields filled in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// `backstage.io/v1alpha1`, `backstage.io/v1beta1`, or another group's version.
    api_version: String,
    /// `Component`, `API`, `Resource`, `System`, `Domain`, `Group`, `User`, `Location`, …
    kind: String,
    metadata: EntityMetadata,
    /// What the kind defines (`type`, `lifecycle`, `owner`, …).
    #[schema(value_type = Object)]
    spec: Option<Value>,
    /// Both directions of every relation the catalog knows, targets possibly missing.
    relations: Vec<EntityRelation>,
    status: Option<EntityStatus>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityMetadata {
    uid: String,
    /// Changes whenever anything of the entity changes.
    etag: String,
    /// Changes when its `spec` changes.
    generation: i64,
    name: String,
    /// `default` when the file names none.
    namespace: String,
    title: Option<String>,
    description: Option<String>,
    labels: Option<std::collections::BTreeMap<String, String>>,
    /// Includes `backstage.io/managed-by-location`, `backstage.io/managed-by-origin-location`
    /// and `backstage.io/orphan: 'true'` for entities their location no longer lists.
    annotations: Option<std::collections::BTreeMap<String, String>>,
    tags: Option<Vec<String>>,
    links: Option<Vec<EntityLink>>,
}

#[derive(Serialize, ToSchema)]
pub struct EntityLink {
    url: String,
    title: Option<String>,
    icon: Option<String>,
    #[serde(rename = "type")]
    link_type: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityRelation {
    /// `ownedBy`, `ownerOf`, `partOf`, `hasPart`, `dependsOn`, `dependencyOf`,
    /// `providesApi`, `apiProvidedBy`, `consumesApi`, `apiConsumedBy`, `childOf`,
    /// `parentOf`, `memberOf`, `hasMember`.
    #[serde(rename = "type")]
    relation_type: String,
    /// `kind:namespace/name`, lower-cased.
    target_ref: String,
}

/// Problems met while reading the entity (an unreadable `$text` placeholder, …).
#[derive(Serialize, ToSchema)]
pub struct EntityStatus {
    items: Vec<EntityStatusItem>,
}

#[derive(Serialize, ToSchema)]
pub struct EntityStatusItem {
    #[serde(rename = "type")]
    item_type: String,
    level: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// The page's entities, projected to `fields` when given.
    items: Vec<Entity>,
    total_items: i64,
    page_info: PageInfo,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// Pass as `cursor` for the next page; absent on the last.
    next_cursor: Option<String>,
    prev_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RefsPage {
    /// One per requested reference, in order; `null` where no entity has it.
    items: Vec<Option<Entity>>,
}

#[derive(Serialize, ToSchema)]
pub struct Facets {
    /// Per requested facet, its values (as written) and how many entities have each.
    facets: std::collections::BTreeMap<String, Vec<FacetValue>>,
}

#[derive(Serialize, ToSchema)]
pub struct FacetValue {
    value: String,
    count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Location {
    id: String,
    /// `file` or `url`.
    #[serde(rename = "type")]
    location_type: String,
    target: String,
}

#[derive(Serialize, ToSchema)]
pub struct LocationEntry {
    data: Location,
}

#[derive(Serialize, ToSchema)]
pub struct LocationCreated {
    location: Location,
    /// What the location holds now.
    entities: Vec<Entity>,
    /// Problems with what it holds, each naming file, document, entity and field.
    problems: Vec<String>,
    /// `{added, updated, unchanged, orphaned, rejected}`.
    #[schema(value_type = Object)]
    summary: Value,
}

#[derive(Serialize, ToSchema)]
pub struct ValidationErrors {
    errors: Vec<ErrorDetail>,
}

/// Every error: `{error: {name, message}, request: {method, url}, response: {statusCode}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorResponse {
    error: ErrorDetail,
    request: ErrorRequest,
    response: ErrorStatus,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `InputError`, `NotFoundError`, `ConflictError`, `ServiceUnavailableError`, `Error`.
    name: String,
    /// What was wrong, naming the parameter or field.
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorRequest {
    method: String,
    url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorStatus {
    status_code: u16,
}
