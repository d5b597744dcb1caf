//! The catalog REST API under `/api/catalog`, shaped like Backstage's so its clients work.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portico_core::catalog::output::project;
use portico_core::catalog::query::{Filter, FullText, Order, Query, QueryError};
use portico_core::catalog::reference::RefContext;
use portico_core::catalog::{EntityRef, StoredEntity};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::schema;
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::identity::{audit_change, Caller};
use crate::state::AppState;

/// Reads need a viewer (`by-refs` is a read sent as POST). Deleting an entity needs a
/// developer who owns it (through their groups), or an admin.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            Need::VIEWER,
            get_entity_by_name,
        )
        .get(
            "/api/catalog/entities/by-uid/{uid}",
            Need::VIEWER,
            get_entity_by_uid,
        )
        .delete(
            "/api/catalog/entities/by-uid/{uid}",
            Need::DEVELOPER,
            delete_entity_by_uid,
        )
        .post(
            "/api/catalog/entities/by-refs",
            Need::VIEWER,
            get_entities_by_refs,
        )
        .get(
            "/api/catalog/entities/by-query",
            Need::VIEWER,
            query_entities,
        )
        .get("/api/catalog/entities", Need::VIEWER, list_entities)
        .get(
            "/api/catalog/entity-facets",
            Need::VIEWER,
            get_entity_facets,
        )
        .merge(super::locations::routes())
}

/// Page size of `by-query` when the client names none.
const DEFAULT_PAGE: u64 = 100;

/// `GET /entities/by-query`: `filter`, `fields`, `limit`, `orderField`,
/// `fullTextFilterTerm`, `fullTextFilterFields`, `cursor` → `{items, totalItems, pageInfo}`.
/// A cursor carries the whole query; only `limit` and `fields` may be given beside it.
#[utoipa::path(
    get, path = "/api/catalog/entities/by-query", tag = "catalog",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "`key=value,key2=value2`: all must hold; a key repeated matches any of its values; a bare key means the field exists; repeated `filter` parameters are alternatives. Keys are dotted paths (`spec.type`, `metadata.tags`) or `relations.<type>`."),
        ("fields" = Option<Vec<String>>, Query, description = "Dotted paths to return, comma-separated or repeated (`metadata.name,spec.owner`)."),
                ("limit" = Option<u64>, Query, description = "Entities per page (default 100)."),
        ("offset" = Option<u64>, Query, description = "Entities to skip before the page (default 0)."),
        ("orderField" = Option<Vec<String>>, Query, description = "`field,asc|desc`, repeatable."),
        ("fullTextFilterTerm" = Option<String>, Query, description = "Words that must each start a word of the searched fields; best matches first without `orderField`."),
        ("fullTextFilterFields" = Option<Vec<String>>, Query, description = "Fields to search instead of name, title, description, tags, owner and type."),
        ("cursor" = Option<String>, Query, description = "From `pageInfo`: carries the whole query; only `limit` and `fields` may be given beside it."),
    ),
    responses(
        (status = 200, description = "A page of matching entities", body = schema::QueryPage),
        (status = 400, description = "A parameter is invalid; the message names it", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn query_entities(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(raw.as_deref());
    let query = match params.one("cursor") {
        Some(cursor) => {
            let mut query = Query::from_cursor(cursor)?;
            if let Some(limit) = params.number("limit")? {
                query.limit = limit;
            }
            query
        }
        None => Query {
            filter: Filter::parse(&params.all("filter"))?,
            order: params.orders("orderField", Order::parse_field)?,
            full_text: params
                .one("fullTextFilterTerm")
                .filter(|term| !term.trim().is_empty())
                .map(|term| FullText {
                    term: term.to_owned(),
                    fields: params.list("fullTextFilterFields"),
                }),
            offset: params.number("offset")?.unwrap_or(0),
            limit: params.number("limit")?.unwrap_or(DEFAULT_PAGE),
        },
    };
    let page = state.portal.catalog().query(&query).await?;
    let items = params.project(&page.items);

    let mut page_info = Map::new();
    let shown = query.offset + items.len() as u64;
    // No next page for `limit=0`: it would be the same empty page, for ever.
    if query.limit > 0 && shown < u64::try_from(page.total).unwrap_or(0) {
        let next = Query {
            offset: shown,
            ..query.clone()
        };
        page_info.insert("nextCursor".into(), Value::from(next.to_cursor()));
    }
    if query.offset > 0 {
        let previous = Query {
            offset: query.offset.saturating_sub(query.limit),
            ..query.clone()
        };
        page_info.insert("prevCursor".into(), Value::from(previous.to_cursor()));
    }
    Ok(Json(
        json!({ "items": items, "totalItems": page.total, "pageInfo": page_info }),
    ))
}

/// `GET /entities`, the older list: `filter`, `fields`, `offset`, `limit`, `after`,
/// `order` (`asc:metadata.name`) → a plain array. Without `limit`, every match.
#[utoipa::path(
    get, path = "/api/catalog/entities", tag = "catalog",
    params(
        ("filter" = Option<Vec<String>>, Query, description = "As for `by-query`."),
        ("fields" = Option<Vec<String>>, Query, description = "Dotted paths to return."),
        ("offset" = Option<u64>, Query, description = "Entities to skip."),
        ("limit" = Option<u64>, Query, description = "At most this many (default: all)."),
        ("after" = Option<String>, Query, description = "A cursor."),
        ("order" = Option<Vec<String>>, Query, description = "`asc:field` or `desc:field`, repeatable."),
    ),
    responses(
        (status = 200, description = "The matching entities", body = Vec<schema::Entity>),
        (status = 400, description = "A parameter is invalid; the message names it", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn list_entities(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(raw.as_deref());
    let query = match params.one("after") {
        Some(cursor) => Query::from_cursor(cursor)?,
        None => Query {
            filter: Filter::parse(&params.all("filter"))?,
            order: params.orders("order", Order::parse_prefixed)?,
            full_text: None,
            offset: params.number("offset")?.unwrap_or(0),
            limit: params.number("limit")?.unwrap_or(i64::MAX as u64),
        },
    };
    let page = state.portal.catalog().query(&query).await?;
    let items = params.project(&page.items);
    Ok(Json(Value::Array(items)))
}

/// `GET /entity-facets?facet=…&filter=…` → `{facets: {facet: [{value, count}]}}`.
#[utoipa::path(
    get, path = "/api/catalog/entity-facets", tag = "catalog",
    params(
        ("facet" = Vec<String>, Query, description = "Fields to count values of, repeatable (`spec.type`, `metadata.tags`)."),
        ("filter" = Option<Vec<String>>, Query, description = "Counts only the entities matching it, as for `by-query`."),
    ),
    responses(
        (status = 200, description = "Values and counts, most frequent first", body = schema::Facets),
        (status = 400, description = "A parameter is invalid; the message names it", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn get_entity_facets(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = Params::parse(raw.as_deref());
    let keys = params.all("facet");
    if keys.is_empty() {
        return Err(ApiError::Input(
            "facet: at least one facet is required".into(),
        ));
    }
    let filter = Filter::parse(&params.all("filter"))?;
    let facets: Map<String, Value> = state
        .portal
        .catalog()
        .facets(&keys, &filter, None)
        .await?
        .into_iter()
        .map(|(key, values)| (key, json!(values)))
        .collect();
    Ok(Json(json!({ "facets": facets })))
}

/// Query parameters with repeated keys kept (`filter=a&filter=b`), as Backstage's
/// clients send them.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a comma-separated, possibly repeated parameter (`fields`).
    fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every `key` parameter parsed as an ordering.
    fn orders(
        &self,
        key: &str,
        parse: fn(&str) -> Result<Order, QueryError>,
    ) -> Result<Vec<Order>, ApiError> {
        Ok(self
            .all(key)
            .iter()
            .map(|o| parse(o))
            .collect::<Result<_, _>>()?)
    }

    /// Entities as the API returns them, cut to the `fields` parameter.
    fn project(&self, entities: &[StoredEntity]) -> Vec<Value> {
        let fields = self.list("fields");
        entities
            .iter()
            .map(|e| project(&e.to_backstage(), &fields))
            .collect()
    }

    fn number(&self, key: &'static str) -> Result<Option<u64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| ApiError::Input(format!("{key}: {v:?} is not a whole number")))
            })
            .transpose()
    }
}

/// `GET /entities/by-name/{kind}/{namespace}/{name}`: matched ignoring case.
#[utoipa::path(
    get, path = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}", tag = "catalog",
    params(
        ("kind" = String, Path, description = "Matched ignoring case."),
        ("namespace" = String, Path, description = "Matched ignoring case."),
        ("name" = String, Path, description = "Matched ignoring case."),
    ),
    responses(
        (status = 200, description = "The entity", body = schema::Entity),
        (status = 404, description = "No such entity", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn get_entity_by_name(
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
#[utoipa::path(
    get, path = "/api/catalog/entities/by-uid/{uid}", tag = "catalog",
    params(("uid" = String, Path, description = "`metadata.uid`.")),
    responses(
        (status = 200, description = "The entity", body = schema::Entity),
        (status = 404, description = "No such entity", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn get_entity_by_uid(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.portal.catalog().entity_by_uid(&uid).await? {
        Some(entity) => Ok(Json(entity.to_backstage())),
        None => Err(ApiError::NotFound(format!("No entity with uid {uid}"))),
    }
}

/// `DELETE /entities/by-uid/{uid}`: 204. Its location may bring it back on the next read.
#[utoipa::path(
    delete, path = "/api/catalog/entities/by-uid/{uid}", tag = "catalog",
    params(("uid" = String, Path, description = "`metadata.uid`.")),
    responses(
        (status = 204, description = "Deleted; its location may bring it back on the next read"),
        (status = 404, description = "No such entity", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn delete_entity_by_uid(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let catalog = state.portal.catalog();
    let entity = catalog
        .entity_by_uid(&uid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("No entity with uid {uid}")))?;
    let principal = caller
        .principal()
        .ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
    if !principal.may_change(entity.owners()) {
        let owners: Vec<&str> = entity.owners().collect();
        return Err(ApiError::Forbidden(format!(
            "{} may delete only entities their groups own (or be an admin); this one is owned by {}",
            principal.name,
            if owners.is_empty() { "nobody".to_owned() } else { owners.join(", ") }
        )));
    }
    if catalog.delete(&uid).await? {
        audit_change(&state, &caller, "catalog.entity.delete", uid, json!({})).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("No entity with uid {uid}")))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByRefsRequest {
    entity_refs: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

/// `POST /entities/by-refs` `{entityRefs, fields?}`: `{items}` in the same order, `null`
/// for a reference with no entity.
#[utoipa::path(
    post, path = "/api/catalog/entities/by-refs", tag = "catalog",
    request_body = ByRefsRequest,
    responses(
        (status = 200, description = "One item per reference, in order; null where missing", body = schema::RefsPage),
        (status = 400, description = "A parameter is invalid; the message names it", body = schema::ErrorResponse),
    )
)]
pub(crate) async fn get_entities_by_refs(
    State(state): State<AppState>,
    Json(request): Json<ByRefsRequest>,
) -> Result<Json<Value>, ApiError> {
    let context = RefContext::STANDALONE;
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
