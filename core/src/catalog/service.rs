use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::columns::IndexedFields;
use super::entity::insert_annotation;
use super::graph::{Graph, GraphBuilder};
use super::locations::LocationPolicy;
use super::place::Place;
use super::query::{self, Filter, FullText, Query};
use super::reader::LocationRead;
use super::reference::RefContext;
use super::relations::relations;
use super::search::search_rows;
use super::store::{self, EntityRow, StoredVersion};
use super::text::{self, EntityText};
use super::{CatalogError, Entity, EntityRef, Problem};
use crate::events::{Events, NewEvent};
use crate::storage::sql::now_millis;
use crate::storage::Database;

pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
pub const ORPHAN: &str = "backstage.io/orphan";

/// Event types of catalog changes, also used to sort an ingestion's rows.
const ADDED: &str = "entity.added";
const UPDATED: &str = "entity.updated";

/// After a change this large the query planner's statistics are refreshed at once: with
/// the old ones, PostgreSQL plans a freshly imported catalog as if it were empty (seconds
/// instead of milliseconds until autovacuum catches up).
const ANALYZE_AFTER: usize = 1000;

/// The catalog: ingestion and reads.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub(super) db: Database,
    events: Events,
    /// Where registered locations may point, and the reader for URLs.
    pub(super) locations: Arc<LocationPolicy>,
}

/// What one ingestion did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub orphaned: usize,
    /// Documents that were not stored, and why.
    pub rejected: Vec<Problem>,
    /// Problems that rejected nothing (a missing target, an unreadable placeholder).
    pub warnings: Vec<Problem>,
}

/// A page of query results.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub items: Vec<StoredEntity>,
    /// How many entities match the query in all.
    pub total: i64,
}

/// One value of a facet and how many entities have it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Facet {
    pub value: String,
    pub count: i64,
}

/// An entity as stored, with what the catalog knows of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredEntity {
    pub uid: String,
    pub etag: String,
    pub generation: i64,
    pub orphan: bool,
    /// The entity as written, with the namespace and the location annotations filled in.
    pub body: Value,
    /// Processing problems (unreadable placeholders), as messages.
    pub problems: Vec<String>,
    /// `(type, target ref)` for every relation from this entity.
    pub relations: Vec<(String, String)>,
}

impl StoredEntity {
    /// The references of its owners (`ownedBy` targets), lower case.
    pub fn owners(&self) -> impl Iterator<Item = &str> {
        self.relations
            .iter()
            .filter(|(kind, _)| kind == super::kinds::OWNED_BY.forward)
            .map(|(_, target)| target.as_str())
    }
}

impl Catalog {
    pub fn new(db: Database, events: Events, locations: Arc<LocationPolicy>) -> Self {
        Self {
            db,
            events,
            locations,
        }
    }

    /// Stores what one location gave, in one transaction: new entities are added,
    /// changed ones updated (`generation` goes up only when the spec changed; the etag
    /// whenever anything did), unchanged ones left alone, and entities this location
    /// produced before but no longer lists become orphans. Each change appends events on
    /// `catalog` and `entity:<ref>`, published after the commit.
    ///
    /// An entity already managed by another location is not taken over: it is rejected
    /// with the name of that location.
    ///
    /// Work is done in bulk (one look-up for all existing rows, multi-row writes), so
    /// the cost per entity is a few rows, not a few round trips.
    pub async fn ingest(
        &self,
        origin: &str,
        read: LocationRead,
    ) -> Result<IngestSummary, CatalogError> {
        let mut summary = IngestSummary {
            rejected: read.rejected,
            warnings: read.warnings,
            ..IngestSummary::default()
        };
        let now = now_millis();

        // 1. Everything that needs no database: bodies, etags, relations.
        let mut seen = HashSet::new();
        let mut prepared = Vec::with_capacity(read.entities.len());
        for item in read.entities {
            let reference = item.entity.reference();
            let key = reference.key();
            if !seen.insert(key.clone()) {
                summary.rejected.push(locate(&item.file, item.document, &reference, format!(
                    "{reference} is defined more than once in this location; the first definition is kept"
                )));
                continue;
            }
            summary.warnings.extend(item.problems.iter().cloned());
            let body = annotated(item.entity, &item.file.origin(), origin);
            let problems: Vec<String> = item.problems.iter().map(ToString::to_string).collect();
            let problems = serde_json::to_string(&problems).unwrap_or_else(|_| "[]".into());
            let body_json = Value::Object(body.as_map().clone()).to_string();
            prepared.push(Prepared {
                etag: etag(&body_json, &problems, false),
                edges: relations(&body),
                body_json,
                problems,
                reference,
                key,
                body,
                file: item.file,
                document: item.document,
            });
        }

        let mut tx = self.db.begin_write().await?;
        // 2. What exists already: versions first (no bodies), then the full rows of the
        // entities that changed. Reading a large location again that changed little
        // touches little.
        let keys: Vec<String> = prepared.iter().map(|p| p.key.clone()).collect();
        let versions: HashMap<String, StoredVersion> = store::versions_by_ref_keys(&mut tx, &keys)
            .await?
            .into_iter()
            .map(|v| (v.ref_key.clone(), v))
            .collect();
        let mut fresh = Vec::with_capacity(prepared.len());
        for item in prepared {
            match versions.get(&item.key) {
                Some(stored) if stored.origin != origin => {
                    summary.rejected.push(locate(
                        &item.file,
                        item.document,
                        &item.reference,
                        format!(
                            "{} is already managed by {}; remove it there first",
                            item.reference, stored.origin
                        ),
                    ));
                }
                Some(stored) if stored.etag == item.etag => summary.unchanged += 1,
                _ => fresh.push(item),
            }
        }
        let changed_keys: Vec<String> = fresh
            .iter()
            .filter(|item| versions.contains_key(&item.key))
            .map(|item| item.key.clone())
            .collect();
        let mut existing: HashMap<String, EntityRow> = store::by_ref_keys(&mut tx, &changed_keys)
            .await?
            .into_iter()
            .map(|row| (row.ref_key.clone(), row))
            .collect();

        // 3. Sort into added and updated.
        let mut changed: Vec<(EntityRow, Prepared, &'static str)> = Vec::new();
        for item in fresh {
            let row = match existing.remove(&item.key) {
                Some(row) => {
                    let old_spec = serde_json::from_str::<Value>(&row.body)
                        .ok()
                        .and_then(|b| b.get("spec").cloned());
                    let spec_changed = old_spec.as_ref() != item.body.as_map().get("spec");
                    let row = EntityRow {
                        kind: item.reference.kind.clone(),
                        namespace: item.reference.namespace.clone(),
                        name: item.reference.name.clone(),
                        body: item.body_json.clone(),
                        etag: item.etag.clone(),
                        generation: row.generation + i64::from(spec_changed),
                        problems: item.problems.clone(),
                        orphan: false,
                        updated_at: now,
                        fields: IndexedFields::of(&item.body),
                        ..row
                    };
                    changed.push((row, item, UPDATED));
                    continue;
                }
                None => EntityRow {
                    id: new_uid(),
                    ref_key: item.key.clone(),
                    kind: item.reference.kind.clone(),
                    namespace: item.reference.namespace.clone(),
                    name: item.reference.name.clone(),
                    body: item.body_json.clone(),
                    etag: item.etag.clone(),
                    generation: 1,
                    origin: origin.to_owned(),
                    problems: item.problems.clone(),
                    orphan: false,
                    created_at: now,
                    updated_at: now,
                    fields: IndexedFields::of(&item.body),
                },
            };
            changed.push((row, item, ADDED));
        }
        let rows = |change: &str| -> Vec<&EntityRow> {
            changed
                .iter()
                .filter(|c| c.2 == change)
                .map(|c| &c.0)
                .collect()
        };
        let (added, updated) = (rows(ADDED), rows(UPDATED));
        summary.added = added.len();
        summary.updated = updated.len();

        // 4. Write: rows, then what the changed entities state (relations, search rows).
        store::insert_all(&mut tx, &added).await?;
        for row in &updated {
            store::update(&mut tx, row).await?;
        }
        let updated_ids: Vec<String> = updated.iter().map(|r| r.id.clone()).collect();
        store::delete_stated(&mut tx, &updated_ids).await?;
        let mut stated_relations = Vec::new();
        let mut stated_search = Vec::new();
        let mut stated_text = Vec::new();
        let mut events = Vec::new();
        for (row, item, event_type) in &changed {
            stated_relations.extend(item.edges.iter().map(|edge| (row.id.as_str(), edge)));
            stated_search.extend(
                search_rows(&item.body, &row.id, &item.edges)
                    .into_iter()
                    .map(|r| (row.id.as_str(), r)),
            );
            stated_text.push((row.id.as_str(), EntityText::of(&item.body)));
            events.extend(change_events(&item.reference, row, event_type));
        }
        store::insert_relations(&mut tx, &stated_relations).await?;
        store::insert_search(&mut tx, &stated_search).await?;
        text::insert_all(&mut tx, self.db.backend(), &stated_text).await?;

        // 5. Entities this location no longer lists become orphans.
        let gone: Vec<String> = store::versions_by_origin(&mut tx, origin)
            .await?
            .into_iter()
            .filter(|v| !v.orphan && !seen.contains(&v.ref_key))
            .map(|v| v.ref_key)
            .collect();
        for mut row in store::by_ref_keys(&mut tx, &gone).await? {
            let mut body: Map<String, Value> =
                serde_json::from_str(&row.body).map_err(|source| CatalogError::Corrupt {
                    reference: row.ref_key.clone(),
                    source,
                })?;
            insert_annotation(&mut body, ORPHAN, "true");
            row.body = Value::Object(body).to_string();
            row.orphan = true;
            row.etag = etag(&row.body, &row.problems, true);
            row.updated_at = now;
            store::update(&mut tx, &row).await?;
            summary.orphaned += 1;
            let reference =
                EntityRef::new(row.kind.clone(), row.namespace.clone(), row.name.clone());
            events.extend(change_events(&reference, &row, "entity.orphaned"));
        }

        // 6. The events, then the commit, then the announcement.
        self.events.append_all(&mut tx, &events).await?;
        tx.commit().await?;
        if summary.added + summary.updated + summary.orphaned >= ANALYZE_AFTER {
            self.db
                .analyze(&[
                    "catalog_entities",
                    "catalog_relations",
                    "catalog_search",
                    "catalog_text",
                ])
                .await?;
        }
        if !events.is_empty() {
            self.events.committed();
        }
        Ok(summary)
    }

    /// Remembers a location (`file` or `url`) so it can be read again; returns its id.
    pub async fn register_location(
        &self,
        kind: &str,
        target: &str,
    ) -> Result<String, CatalogError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(store::upsert_location(&mut conn, &new_uid(), kind, target, now_millis()).await?)
    }

    /// The entity with this reference (matched ignoring case), if there is one.
    pub async fn entity(
        &self,
        reference: &EntityRef,
    ) -> Result<Option<StoredEntity>, CatalogError> {
        Ok(self
            .entities(std::slice::from_ref(reference))
            .await?
            .pop()
            .flatten())
    }

    /// The entities with these references, in the same order; `None` where none exists.
    pub async fn entities(
        &self,
        references: &[EntityRef],
    ) -> Result<Vec<Option<StoredEntity>>, CatalogError> {
        let keys: Vec<String> = references.iter().map(EntityRef::key).collect();
        let mut conn = self.db.pool().acquire().await?;
        let rows = store::by_ref_keys(&mut conn, &keys).await?;
        let found: HashMap<String, StoredEntity> =
            load(&mut conn, rows).await?.into_iter().collect();
        // `get`, not `remove`: a reference asked for twice is answered twice.
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    /// The entity with this uid, if there is one.
    pub async fn entity_by_uid(&self, uid: &str) -> Result<Option<StoredEntity>, CatalogError> {
        let mut conn = self.db.pool().acquire().await?;
        let rows = store::by_uid(&mut conn, uid).await?.into_iter().collect();
        Ok(load(&mut conn, rows).await?.pop().map(|(_, entity)| entity))
    }

    /// Deletes the entity with this uid and what it stated; `false` when there was none.
    /// Its location may bring it back on the next read, as in Backstage.
    pub async fn delete(&self, uid: &str) -> Result<bool, CatalogError> {
        let mut tx = self.db.begin_write().await?;
        let Some(row) = store::by_uid(&mut tx, uid).await? else {
            return Ok(false);
        };
        store::delete(&mut tx, uid).await?;
        let reference = EntityRef::new(row.kind.clone(), row.namespace.clone(), row.name.clone());
        self.events
            .append_all(&mut tx, &change_events(&reference, &row, "entity.deleted"))
            .await?;
        tx.commit().await?;
        self.events.committed();
        Ok(true)
    }

    /// A page of entities matching `query`, and how many match in all.
    pub async fn query(&self, query: &Query) -> Result<Page, CatalogError> {
        let mut conn = self.db.pool().acquire().await?;
        let (ids, total) = query::page_ids(&mut conn, self.db.backend(), query).await?;
        let rows = store::by_ids(&mut conn, &ids).await?;
        let mut loaded: HashMap<String, StoredEntity> = load(&mut conn, rows)
            .await?
            .into_iter()
            .map(|(_, entity)| (entity.uid.clone(), entity))
            .collect();
        let items = ids.iter().filter_map(|id| loaded.remove(id)).collect();
        Ok(Page { items, total })
    }

    /// For each of `keys`, the values the entities matching `filter` (and `full_text`)
    /// have, with counts.
    pub async fn facets(
        &self,
        keys: &[String],
        filter: &Filter,
        full_text: Option<&FullText>,
    ) -> Result<Vec<(String, Vec<Facet>)>, CatalogError> {
        let mut conn = self.db.pool().acquire().await?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let counts =
                query::facet_counts(&mut conn, self.db.backend(), key, filter, full_text).await?;
            let facets = counts
                .into_iter()
                .map(|(value, count)| Facet { value, count })
                .collect();
            out.push((key.clone(), facets));
        }
        Ok(out)
    }

    /// The entity's neighbourhood to `depth` relations away, at most `max_nodes` nodes,
    /// laid out left to right.
    pub async fn graph(
        &self,
        root: &StoredEntity,
        depth: usize,
        max_nodes: usize,
    ) -> Result<Graph, CatalogError> {
        let title = |body: &Value| body["metadata"]["title"].as_str().map(str::to_owned);
        let Some(reference) = Entity::reference_of(&root.body) else {
            return Ok(Graph::default());
        };
        let mut builder = GraphBuilder::new(&reference, title(&root.body), max_nodes);
        let mut frontier = builder.add_relations(&reference.key(), &root.relations);
        for level in 1..=depth {
            let context = RefContext::STANDALONE;
            let references: Vec<EntityRef> = frontier
                .iter()
                .filter_map(|key| EntityRef::parse(key, context).ok())
                .collect();
            let mut next = Vec::new();
            for stored in self.entities(&references).await?.into_iter().flatten() {
                let Some(reference) = Entity::reference_of(&stored.body) else {
                    continue;
                };
                builder.resolve(&reference, title(&stored.body));
                if level < depth {
                    next.extend(builder.add_relations(&reference.key(), &stored.relations));
                }
            }
            frontier = next;
        }
        Ok(builder.finish())
    }

    /// How many entities the catalog holds.
    pub async fn count(&self) -> Result<i64, CatalogError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(store::count(&mut conn).await?)
    }
}

/// An entity ready to be stored: everything computed that needs no database.
struct Prepared {
    reference: EntityRef,
    key: String,
    body: Entity,
    body_json: String,
    problems: String,
    etag: String,
    edges: Vec<super::Relation>,
    file: Place,
    document: usize,
}

/// The events announcing a change: on `catalog`, and on the entity's own topic.
fn change_events(reference: &EntityRef, row: &EntityRow, event_type: &str) -> [NewEvent; 2] {
    let payload = json!({
        "ref": reference.to_string(),
        "uid": row.id,
        "etag": row.etag,
        "generation": row.generation,
    });
    [
        NewEvent::new("catalog", event_type, payload.clone()),
        NewEvent::new(format!("entity:{}", row.ref_key), event_type, payload),
    ]
}

/// Turns rows into entities, loading the relations of all of them in one query.
/// Returns `(ref key, entity)` pairs.
async fn load(
    conn: &mut sqlx::AnyConnection,
    rows: Vec<EntityRow>,
) -> Result<Vec<(String, StoredEntity)>, CatalogError> {
    let keys: Vec<String> = rows.iter().map(|r| r.ref_key.clone()).collect();
    let mut relations = store::relations_from(conn, &keys).await?;
    rows.into_iter()
        .map(|row| {
            let corrupt = |source| CatalogError::Corrupt {
                reference: row.ref_key.clone(),
                source,
            };
            let entity = StoredEntity {
                body: serde_json::from_str(&row.body).map_err(corrupt)?,
                problems: serde_json::from_str(&row.problems).map_err(corrupt)?,
                relations: relations.remove(&row.ref_key).unwrap_or_default(),
                uid: row.id,
                etag: row.etag,
                generation: row.generation,
                orphan: row.orphan,
            };
            Ok((row.ref_key, entity))
        })
        .collect()
}

/// The entity with Backstage's location annotations: which file defines it, and which
/// registered location brought it in.
fn annotated(mut entity: Entity, file: &str, origin: &str) -> Entity {
    entity.set_annotation(MANAGED_BY_LOCATION, file);
    entity.set_annotation(MANAGED_BY_ORIGIN_LOCATION, origin);
    entity
}

fn locate(file: &Place, document: usize, reference: &EntityRef, message: String) -> Problem {
    Problem {
        file: file.to_string(),
        document: Some(document),
        entity: Some(reference.to_string()),
        field: super::FieldProblem::new("", message),
    }
}

/// Deterministic: the same content gives the same etag, so an unchanged re-import
/// is recognised without comparing bodies field by field.
fn etag(body: &str, problems: &str, orphan: bool) -> String {
    let mut hasher = Sha256::new();
    hasher.update(body.as_bytes());
    hasher.update([0]);
    hasher.update(problems.as_bytes());
    hasher.update([u8::from(orphan)]);
    hasher
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}
