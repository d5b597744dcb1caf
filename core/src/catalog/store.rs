//! The SQL behind the catalog. Both backends run the same statements.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::columns::IndexedFields;
use super::locations::Location;
use super::search::SearchRow;
use super::Relation;
use crate::storage::sql::{insert_rows, Placeholders};

/// Rows per multi-row INSERT: few round trips, well under both backends' bind limits.
const BATCH: usize = 200;

/// What the catalog keeps of an entity, as stored.
#[derive(Clone, Debug)]
pub struct EntityRow {
    pub id: String,
    pub ref_key: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub body: String,
    pub etag: String,
    pub generation: i64,
    pub origin: String,
    pub problems: String,
    pub orphan: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub fields: IndexedFields,
}

const COLUMNS: &str = "id, ref_key, kind, namespace, name, body, etag, generation, origin, \
                       problems, orphan, created_at, updated_at, kind_key, namespace_key, name_key, \
                       type_key, lifecycle_key, owner_key, system_key";

fn from_row(row: &AnyRow) -> Result<EntityRow, sqlx::Error> {
    Ok(EntityRow {
        id: row.try_get("id")?,
        ref_key: row.try_get("ref_key")?,
        kind: row.try_get("kind")?,
        namespace: row.try_get("namespace")?,
        name: row.try_get("name")?,
        body: row.try_get("body")?,
        etag: row.try_get("etag")?,
        generation: row.try_get("generation")?,
        origin: row.try_get("origin")?,
        problems: row.try_get("problems")?,
        orphan: row.try_get::<i32, _>("orphan")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        fields: IndexedFields {
            kind: row.try_get("kind_key")?,
            namespace: row.try_get("namespace_key")?,
            name: row.try_get("name_key")?,
            spec_type: row.try_get("type_key")?,
            lifecycle: row.try_get("lifecycle_key")?,
            owner: row.try_get("owner_key")?,
            system: row.try_get("system_key")?,
        },
    })
}

pub async fn by_ref_key(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<EntityRow>, sqlx::Error> {
    // ref_key is unique: at most one row.
    Ok(select_where(conn, "ref_key", key).await?.pop())
}

/// What an ingest needs to know of a stored entity before deciding to touch it: who
/// manages it and its etag, without reading its body.
#[derive(Clone, Debug)]
pub struct StoredVersion {
    pub ref_key: String,
    pub origin: String,
    pub etag: String,
    pub orphan: bool,
}

const VERSION_COLUMNS: &str = "ref_key, origin, etag, orphan";

fn version_from_row(row: &AnyRow) -> Result<StoredVersion, sqlx::Error> {
    Ok(StoredVersion {
        ref_key: row.try_get("ref_key")?,
        origin: row.try_get("origin")?,
        etag: row.try_get("etag")?,
        orphan: row.try_get::<i32, _>("orphan")? != 0,
    })
}

/// The versions of the entities with these reference keys, in any order.
pub async fn versions_by_ref_keys(
    conn: &mut AnyConnection,
    keys: &[String],
) -> Result<Vec<StoredVersion>, sqlx::Error> {
    select_in(conn, VERSION_COLUMNS, "ref_key", keys, version_from_row).await
}

/// The versions of every entity a location brought in.
pub async fn versions_by_origin(
    conn: &mut AnyConnection,
    origin: &str,
) -> Result<Vec<StoredVersion>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM catalog_entities WHERE origin = $1"
    ))
    .bind(origin)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(version_from_row)
    .collect()
}

pub async fn by_uid(conn: &mut AnyConnection, uid: &str) -> Result<Option<EntityRow>, sqlx::Error> {
    Ok(select_where(conn, "id", uid).await?.pop())
}

/// The entities with these ids, in any order.
pub async fn by_ids(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<EntityRow>, sqlx::Error> {
    select_in(conn, COLUMNS, "id", ids, from_row).await
}

/// The entities with these reference keys, in any order.
pub async fn by_ref_keys(
    conn: &mut AnyConnection,
    keys: &[String],
) -> Result<Vec<EntityRow>, sqlx::Error> {
    select_in(conn, COLUMNS, "ref_key", keys, from_row).await
}

/// `columns` of the entities whose `column` is one of `values`, each row read with
/// `read`; `columns` and `column` are this module's constants.
async fn select_in<T>(
    conn: &mut AnyConnection,
    columns: &'static str,
    column: &'static str,
    values: &[String],
    read: fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    let mut rows = Vec::with_capacity(values.len());
    for chunk in values.chunks(BATCH) {
        let sql = format!(
            "SELECT {columns} FROM catalog_entities WHERE {column} IN ({})",
            Placeholders::of(conn).list(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for value in chunk {
            query = query.bind(value);
        }
        for row in query.fetch_all(&mut *conn).await? {
            rows.push(read(&row)?);
        }
    }
    Ok(rows)
}

/// Deletes an entity, and with it the relations and search rows it stated.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    // SQLite enforces the cascades only with foreign keys on; delete explicitly so both
    // backends behave the same whatever the connection settings.
    delete_stated(conn, &[id.to_owned()]).await?;
    let deleted = sqlx::query("DELETE FROM catalog_entities WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

/// Entities whose `column` equals `value`; `column` is one of this module's constants.
async fn select_where(
    conn: &mut AnyConnection,
    column: &'static str,
    value: &str,
) -> Result<Vec<EntityRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM catalog_entities WHERE {column} = $1"
    ))
    .bind(value)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Rewrites everything but the identity and creation time.
pub async fn update(conn: &mut AnyConnection, row: &EntityRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE catalog_entities SET kind = $2, namespace = $3, name = $4, body = $5, etag = $6, \
         generation = $7, origin = $8, problems = $9, orphan = $10, updated_at = $11, \
         kind_key = $12, namespace_key = $13, name_key = $14, type_key = $15, lifecycle_key = $16, \
         owner_key = $17, system_key = $18 WHERE id = $1",
    )
    .bind(&row.id)
    .bind(&row.kind)
    .bind(&row.namespace)
    .bind(&row.name)
    .bind(&row.body)
    .bind(&row.etag)
    .bind(row.generation)
    .bind(&row.origin)
    .bind(&row.problems)
    .bind(i32::from(row.orphan))
    .bind(row.updated_at)
    .bind(&row.fields.kind)
    .bind(&row.fields.namespace)
    .bind(&row.fields.name)
    .bind(&row.fields.spec_type)
    .bind(&row.fields.lifecycle)
    .bind(&row.fields.owner)
    .bind(&row.fields.system)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts new entities, many per statement.
pub async fn insert_all(conn: &mut AnyConnection, rows: &[&EntityRow]) -> Result<(), sqlx::Error> {
    let prefix = format!("INSERT INTO catalog_entities ({COLUMNS}) VALUES ");
    // 20 values a row: 100 rows stay well under both backends' limits on bound values.
    insert_rows(conn, &prefix, 20, 100, rows, |query, row| {
        query
            .bind(&row.id)
            .bind(&row.ref_key)
            .bind(&row.kind)
            .bind(&row.namespace)
            .bind(&row.name)
            .bind(&row.body)
            .bind(&row.etag)
            .bind(row.generation)
            .bind(&row.origin)
            .bind(&row.problems)
            .bind(i32::from(row.orphan))
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(&row.fields.kind)
            .bind(&row.fields.namespace)
            .bind(&row.fields.name)
            .bind(&row.fields.spec_type)
            .bind(&row.fields.lifecycle)
            .bind(&row.fields.owner)
            .bind(&row.fields.system)
    })
    .await
}

/// Removes what these entities stated (relations in both directions, search rows), so
/// that it can be written anew.
pub async fn delete_stated(conn: &mut AnyConnection, ids: &[String]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(BATCH) {
        for table in [
            "catalog_relations WHERE originator_id",
            "catalog_search WHERE entity_id",
            "catalog_text WHERE entity_id",
        ] {
            let sql = format!(
                "DELETE FROM {table} IN ({})",
                Placeholders::of(conn).list(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query.execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Inserts relations, each with the entity that states it.
pub async fn insert_relations(
    conn: &mut AnyConnection,
    rows: &[(&str, &Relation)],
) -> Result<(), sqlx::Error> {
    let prefix = "INSERT INTO catalog_relations (originator_id, source_ref, relation_type, target_ref) VALUES ";
    insert_rows(
        conn,
        prefix,
        4,
        BATCH,
        rows,
        |query, (originator, relation)| {
            query
                .bind(*originator)
                .bind(relation.source.key())
                .bind(relation.relation_type)
                .bind(relation.target.key())
        },
    )
    .await
}

/// Inserts search rows, each with its entity.
pub async fn insert_search(
    conn: &mut AnyConnection,
    rows: &[(&str, SearchRow)],
) -> Result<(), sqlx::Error> {
    let prefix = "INSERT INTO catalog_search (entity_id, key, value, original_value) VALUES ";
    insert_rows(conn, prefix, 4, BATCH, rows, |query, (entity, row)| {
        query
            .bind(*entity)
            .bind(&row.key)
            .bind(&row.value)
            .bind(&row.original)
    })
    .await
}

/// The relations whose source is one of `keys`: source → `(type, target)`, sorted.
pub async fn relations_from(
    conn: &mut AnyConnection,
    keys: &[String],
) -> Result<HashMap<String, Vec<(String, String)>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in keys.chunks(BATCH) {
        let sql = format!(
            "SELECT DISTINCT source_ref, relation_type, target_ref FROM catalog_relations \
             WHERE source_ref IN ({}) ORDER BY source_ref, relation_type, target_ref",
            Placeholders::of(conn).list(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.entry(row.try_get(0)?)
                .or_default()
                .push((row.try_get(1)?, row.try_get(2)?));
        }
    }
    Ok(out)
}

/// Registers a location once; returns its id.
pub async fn upsert_location(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    target: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_locations (id, type, target, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (type, target) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(target)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT id FROM catalog_locations WHERE type = $1 AND target = $2")
        .bind(kind)
        .bind(target)
        .fetch_one(&mut *conn)
        .await
}

fn location_from_row(row: &sqlx::any::AnyRow) -> Result<Location, sqlx::Error> {
    Ok(Location {
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        target: row.try_get("target")?,
    })
}

pub async fn locations(conn: &mut AnyConnection) -> Result<Vec<Location>, sqlx::Error> {
    sqlx::query("SELECT id, type, target FROM catalog_locations ORDER BY created_at, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(location_from_row)
        .collect()
}

pub async fn location(conn: &mut AnyConnection, id: &str) -> Result<Option<Location>, sqlx::Error> {
    sqlx::query("SELECT id, type, target FROM catalog_locations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(location_from_row)
        .transpose()
}

pub async fn location_by_target(
    conn: &mut AnyConnection,
    kind: &str,
    target: &str,
) -> Result<Option<Location>, sqlx::Error> {
    sqlx::query("SELECT id, type, target FROM catalog_locations WHERE type = $1 AND target = $2")
        .bind(kind)
        .bind(target)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(location_from_row)
        .transpose()
}

pub async fn delete_location(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM catalog_locations WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn count(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM catalog_entities")
        .fetch_one(&mut *conn)
        .await
}
