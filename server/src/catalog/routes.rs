//! The catalog REST API under `/api/catalog`, shaped like Backstage's so its clients work.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use portico_core::catalog::output::project;
use portico_core::catalog::query::{Filter, FullText, Order, Query, QueryError};
use portico_core::catalog::reference::{RefContext, DEFAULT_NAMESPACE};
use portico_core::catalog::{EntityRef, StoredEntity};
use serde::Deserialize;
use serde_json::{json, Map, Value};

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
        .route("/api/catalog/entities/by-query", get(query_entities))
        .route("/api/catalog/entities", get(list_entities))
        .route("/api/catalog/entity-facets", get(get_entity_facets))
        .merge(super::locations::router())
}

/// Page size of `by-query` when the client names none.
const DEFAULT_PAGE: u64 = 100;

/// `GET /entities/by-query`: `filter`, `fields`, `limit`, `orderField`,
/// `fullTextFilterTerm`, `fullTextFilterFields`, `cursor` → `{items, totalItems, pageInfo}`.
/// A cursor carries the whole query; only `limit` and `fields` may be given beside it.
async fn query_entities(
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
            offset: 0,
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
async fn list_entities(
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
async fn get_entity_facets(
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
