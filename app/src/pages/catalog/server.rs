//! The server side of the catalog pages: reads the catalog and shapes what the pages show.

use std::collections::HashMap;

use portico_core::catalog::document::to_yaml;

use portico_core::catalog::query::{Condition, Filter, FullText, Order, Query};
use portico_core::catalog::reference::RefContext;
use portico_core::catalog::{CatalogError, Entity, EntityRef, StoredEntity};
use portico_core::Portal;
use serde_json::Value;

use super::entity::{EntityDetails, ExternalLink, RelationGroup};
use super::list::{CatalogListing, CatalogRow, FacetCount, FacetGroup, PAGE_SIZE};
use super::params::{CatalogParams, ALL_KINDS, FACETS, SORTS};
use super::{entity_href, RefLink};
use crate::error::AppError;

/// Relation types in the order pages list them, with how they read.
const RELATION_LABELS: &[(&str, &str)] = &[
    ("ownedBy", "Owned by"),
    ("partOf", "Part of"),
    ("hasPart", "Has parts"),
    ("providesApi", "Provides APIs"),
    ("consumesApi", "Consumes APIs"),
    ("apiProvidedBy", "Provided by"),
    ("apiConsumedBy", "Consumed by"),
    ("dependsOn", "Depends on"),
    ("dependencyOf", "Dependency of"),
    ("childOf", "Child of"),
    ("parentOf", "Parent of"),
    ("memberOf", "Member of"),
    ("hasMember", "Has members"),
    ("ownerOf", "Owner of"),
];

/// Facet values listed per facet; chosen values are always listed.
const FACET_VALUES_SHOWN: usize = 20;
/// Targets listed per relation type on an entity page.
const TARGETS_SHOWN: usize = 100;
/// How far, and how large, the relation graph on an entity page is.
const GRAPH_DEPTH: usize = 2;
const GRAPH_NODES: usize = 40;

fn failed(context: &'static str) -> impl Fn(CatalogError) -> AppError {
    move |e| AppError::internal(context, &e)
}

pub async fn listing(portal: &Portal, params: &CatalogParams) -> Result<CatalogListing, AppError> {
    let catalog = portal.catalog();
    let fail = failed("catalog page");
    let full_text = Some(params.q.trim())
        .filter(|q| !q.is_empty())
        .map(|q| FullText {
            term: q.to_owned(),
            fields: Vec::new(),
        });
    // The filter of the page; `except` leaves one facet out, to count its values.
    let filter = |except: Option<&str>| {
        let mut conditions = Vec::new();
        if params.kind_tab() != ALL_KINDS {
            conditions.push(Condition {
                key: "kind".into(),
                values: vec![params.kind_tab().to_lowercase()],
            });
        }
        for (param, key, _) in FACETS {
            let values = params.values(param);
            if Some(*param) != except && !values.is_empty() {
                conditions.push(Condition {
                    key: (*key).into(),
                    values: values.iter().map(|v| v.to_lowercase()).collect(),
                });
            }
        }
        Filter {
            any_of: if conditions.is_empty() {
                Vec::new()
            } else {
                vec![conditions]
            },
        }
    };
    let offset = params
        .cursor
        .as_deref()
        .and_then(|cursor| Query::from_cursor(cursor).ok())
        .map_or(0, |q| q.offset);
    let order = params
        .sort_order()
        .and_then(|(column, descending)| {
            let field = SORTS.iter().find(|(s, _)| *s == column)?.1;
            Some(Order {
                field: field.into(),
                descending,
            })
        })
        .into_iter()
        .collect();
    let query = Query {
        filter: filter(None),
        order,
        full_text: full_text.clone(),
        offset,
        limit: PAGE_SIZE,
    };
    let page = catalog.query(&query).await.map_err(&fail)?;

    let kinds: Vec<FacetCount> = catalog
        .facets(&["kind".to_owned()], &Filter::default(), full_text.as_ref())
        .await
        .map_err(&fail)?
        .pop()
        .map(|(_, values)| values)
        .unwrap_or_default()
        .into_iter()
        .map(|f| FacetCount {
            value: f.value,
            count: f.count,
        })
        .collect();
    let mut facets = Vec::with_capacity(FACETS.len());
    for (param, key, label) in FACETS {
        let chosen = params.values(param);
        let values = catalog
            .facets(
                &[(*key).to_owned()],
                &filter(Some(param)),
                full_text.as_ref(),
            )
            .await
            .map_err(&fail)?
            .pop()
            .map(|(_, values)| values)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .filter(|(i, f)| {
                *i < FACET_VALUES_SHOWN || chosen.iter().any(|c| c.eq_ignore_ascii_case(&f.value))
            })
            .map(|(_, f)| FacetCount {
                value: f.value,
                count: f.count,
            })
            .collect();
        facets.push(FacetGroup {
            param: (*param).to_owned(),
            label: (*label).to_owned(),
            values,
        });
    }

    let total = page.total;
    let next = (offset + PAGE_SIZE < total as u64).then(|| {
        Query {
            offset: offset + PAGE_SIZE,
            ..query.clone()
        }
        .to_cursor()
    });
    let previous = (offset > 0).then(|| {
        Query {
            offset: offset.saturating_sub(PAGE_SIZE),
            ..query.clone()
        }
        .to_cursor()
    });
    let catalog_size = match full_text {
        // Without a search, the kind counts already add up to the whole catalog.
        None => kinds.iter().map(|k| k.count).sum(),
        Some(_) => catalog.count().await.map_err(&fail)?,
    };
    Ok(CatalogListing {
        kinds,
        facets,
        rows: page.items.iter().filter_map(row).collect(),
        total,
        catalog_size,
        offset,
        next,
        previous,
    })
}

fn text(body: &Value, pointer: &str) -> Option<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn tags(body: &Value) -> Vec<String> {
    body["metadata"]["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn row(entity: &StoredEntity) -> Option<CatalogRow> {
    let reference = Entity::reference_of(&entity.body)?;
    let body = &entity.body;
    let written = |pointer: &str, default_kind: &'static str| {
        text(body, pointer).and_then(|t| link_to_written(&t, default_kind, &reference.namespace))
    };
    Some(CatalogRow {
        link: link_to(&reference, text(body, "/metadata/title"), true),
        name: reference.name.clone(),
        description: text(body, "/metadata/description"),
        owner: written("/spec/owner", "Group"),
        system: written("/spec/system", "System"),
        spec_type: text(body, "/spec/type"),
        lifecycle: text(body, "/spec/lifecycle"),
        tags: tags(body),
        orphan: entity.orphan,
    })
}

pub(crate) fn link_to(reference: &EntityRef, title: Option<String>, resolved: bool) -> RefLink {
    RefLink {
        kind: reference.kind.clone(),
        label: title.unwrap_or_else(|| reference.name.clone()),
        reference: reference.to_string(),
        href: entity_href(&reference.kind, &reference.namespace, &reference.name),
        resolved,
    }
}

/// A link for a reference as a spec writes it (`team-a`, `group:platform/team-a`).
fn link_to_written(text: &str, default_kind: &str, namespace: &str) -> Option<RefLink> {
    let context = RefContext {
        default_kind: Some(default_kind),
        default_namespace: namespace,
    };
    let reference = EntityRef::parse(text, context).ok()?;
    Some(link_to(&reference, None, true))
}

/// The page of one entity; `None` when there is no such entity.
pub async fn details(
    portal: &Portal,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<Option<EntityDetails>, AppError> {
    let catalog = portal.catalog();
    let fail = failed("entity page");
    let reference = EntityRef::new(kind, namespace, name);
    let Some(stored) = catalog.entity(&reference).await.map_err(&fail)? else {
        return Ok(None);
    };
    let body = &stored.body;
    let reference = Entity::reference_of(body).unwrap_or(reference);

    // Every relation target shown, looked up at once to tell resolved from missing.
    let mut by_type: Vec<(String, Vec<EntityRef>, usize)> = Vec::new();
    let context = RefContext::STANDALONE;
    for (relation_type, target) in &stored.relations {
        let Ok(target) = EntityRef::parse(target, context) else {
            continue;
        };
        let index = match by_type.iter().position(|(t, _, _)| t == relation_type) {
            Some(i) => i,
            None => {
                by_type.push((relation_type.clone(), Vec::new(), 0));
                by_type.len() - 1
            }
        };
        let (_, targets, more) = &mut by_type[index];
        if targets.len() < TARGETS_SHOWN {
            targets.push(target);
        } else {
            *more += 1;
        }
    }
    let wanted: Vec<EntityRef> = by_type
        .iter()
        .flat_map(|(_, t, _)| t.iter().cloned())
        .collect();
    let found: HashMap<String, RefLink> = catalog
        .entities(&wanted)
        .await
        .map_err(&fail)?
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let r = Entity::reference_of(&e.body)?;
            Some((r.key(), link_to(&r, text(&e.body, "/metadata/title"), true)))
        })
        .collect();
    let resolve = |target: &EntityRef| {
        found
            .get(&target.key())
            .cloned()
            .unwrap_or_else(|| link_to(target, None, false))
    };
    let mut relations: Vec<RelationGroup> = by_type
        .iter()
        .map(|(relation_type, targets, more)| {
            let mut links: Vec<RefLink> = targets.iter().map(resolve).collect();
            links.sort_by_key(|a| a.label.to_lowercase());
            RelationGroup {
                relation_type: relation_type.clone(),
                label: RELATION_LABELS
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(relation_type))
                    .map_or_else(|| relation_type.clone(), |(_, label)| (*label).to_owned()),
                targets: links,
                more: *more,
            }
        })
        .collect();
    let rank = |t: &str| {
        RELATION_LABELS
            .iter()
            .position(|(known, _)| known.eq_ignore_ascii_case(t))
            .unwrap_or(usize::MAX)
    };
    relations.sort_by_key(|g| rank(&g.relation_type));
    let first = |relation_type: &str, kind: Option<&str>| {
        relations
            .iter()
            .find(|g| g.relation_type == relation_type)
            .and_then(|g| {
                g.targets
                    .iter()
                    .find(|t| kind.is_none_or(|k| t.kind.eq_ignore_ascii_case(k)))
                    .cloned()
            })
    };

    let graph = catalog
        .graph(&stored, GRAPH_DEPTH, GRAPH_NODES)
        .await
        .map_err(&fail)?;
    let links = body["metadata"]["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|l| {
                    let url = l["url"].as_str()?.to_owned();
                    Some(ExternalLink {
                        title: l["title"].as_str().unwrap_or(&url).to_owned(),
                        icon: l["icon"].as_str().map(str::to_owned),
                        url,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let pairs = |pointer: &str| -> Vec<(String, String)> {
        body.pointer(pointer)
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Some(EntityDetails {
        kind: reference.kind.clone(),
        namespace: reference.namespace.clone(),
        name: reference.name.clone(),
        reference: reference.to_string(),
        title: text(body, "/metadata/title"),
        description: text(body, "/metadata/description"),
        spec_type: text(body, "/spec/type"),
        lifecycle: text(body, "/spec/lifecycle"),
        owner: first("ownedBy", None),
        system: first("partOf", Some("System")),
        domain: first("partOf", Some("Domain")),
        parent: first("childOf", None),
        display_name: text(body, "/spec/profile/displayName"),
        email: text(body, "/spec/profile/email"),
        tags: tags(body),
        links,
        annotations: pairs("/metadata/annotations"),
        labels: pairs("/metadata/labels"),
        relations,
        graph_svg: super::graph::render(&graph, &reference.to_string()),
        graph_nodes: graph.nodes.len(),
        graph_omitted: graph.omitted,
        yaml: to_yaml(body),
        problems: stored.problems.clone(),
        orphan: stored.orphan,
    }))
}
