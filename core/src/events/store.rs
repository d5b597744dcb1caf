//! The SQL behind the event log.

use sqlx::{AnyConnection, AnyPool, Row};

use super::feed::CHANNEL;
use super::{Event, EventError, NewEvent};
use crate::storage::sql::{from_millis, now_millis, Placeholders};
use crate::storage::Backend;

/// Any constant works: it names the one lock that orders appends (see [`insert`]).
const APPEND_LOCK_KEY: i64 = 0x0070_6f72_7469_636f; // "portico" in ASCII

/// Serialises appends until the transaction ends, on PostgreSQL.
///
/// PostgreSQL hands out identity values at insert, not at commit: without this lock,
/// id 11 may commit before id 10, and a client that replays "after 11" would never see
/// 10. Holding a transaction-scoped lock until commit makes ids visible in order. SQLite
/// has a single writer, so its ids are ordered already.
///
/// The same statement queues a notification on [`CHANNEL`], delivered to every
/// listening process when the transaction commits (and never if it rolls back);
/// PostgreSQL folds a transaction's identical notifications into one.
async fn lock_for_append(conn: &mut AnyConnection, backend: Backend) -> Result<(), EventError> {
    if backend == Backend::Postgres {
        sqlx::query(
            "SELECT 1 FROM (SELECT pg_advisory_xact_lock($1), pg_notify($2, '')) AS ordered_append",
        )
        .bind(APPEND_LOCK_KEY)
        .bind(CHANNEL)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts an event on `conn`, which should be inside the transaction of the change the
/// event records.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    event: &NewEvent,
) -> Result<Event, EventError> {
    lock_for_append(conn, backend).await?;
    let created_at = now_millis();
    let payload = event.payload.to_string();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (topic, event_type, payload, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&event.topic)
    .bind(&event.event_type)
    .bind(&payload)
    .bind(created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Event {
        id,
        topic: event.topic.clone(),
        event_type: event.event_type.clone(),
        payload: event.payload.clone(),
        created_at: from_millis(created_at),
    })
}

/// Inserts many events in as few statements as possible, in order. Same transaction
/// rules as [`insert`].
pub(super) async fn insert_all(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[NewEvent],
) -> Result<Vec<Event>, EventError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    lock_for_append(conn, backend).await?;
    let created_at = now_millis();
    let mut out = Vec::with_capacity(events.len());
    for chunk in events.chunks(200) {
        let sql = Placeholders::of(conn).values(
            "INSERT INTO events (topic, event_type, payload, created_at) VALUES ",
            chunk.len(),
            4,
        ) + " RETURNING id";
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for event in chunk {
            query = query
                .bind(&event.topic)
                .bind(&event.event_type)
                .bind(event.payload.to_string())
                .bind(created_at);
        }
        // Appends are serialised (one writer in SQLite, the lock in PostgreSQL), so a
        // statement's ids are consecutive in row order; RETURNING's own order is not
        // guaranteed, hence the sort.
        let mut ids = query.fetch_all(&mut *conn).await?;
        ids.sort_unstable();
        out.extend(chunk.iter().zip(ids).map(|(event, id)| Event {
            id,
            topic: event.topic.clone(),
            event_type: event.event_type.clone(),
            payload: event.payload.clone(),
            created_at: from_millis(created_at),
        }));
    }
    Ok(out)
}

/// Events with an id greater than `after`, oldest first.
pub(super) async fn select_since(
    pool: &AnyPool,
    after: i64,
    topic: Option<&str>,
    limit: u32,
) -> Result<Vec<Event>, EventError> {
    const COLUMNS: &str = "SELECT id, topic, event_type, payload, created_at FROM events";
    let rows = match topic {
        Some(topic) => {
            sqlx::query(&format!(
                "{COLUMNS} WHERE topic = $1 AND id > $2 ORDER BY id LIMIT $3"
            ))
            .bind(topic)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(&format!("{COLUMNS} WHERE id > $1 ORDER BY id LIMIT $2"))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(event_from_row).collect()
}

/// The id of the newest event and how many events there are.
pub(super) async fn head(pool: &AnyPool) -> Result<(Option<i64>, i64), EventError> {
    let row = sqlx::query("SELECT MAX(id), COUNT(*) FROM events")
        .fetch_one(pool)
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<Event, EventError> {
    let id: i64 = row.try_get("id")?;
    let payload: String = row.try_get("payload")?;
    let payload = serde_json::from_str(&payload)
        .map_err(|source| EventError::CorruptPayload { id, source })?;
    Ok(Event {
        id,
        topic: row.try_get("topic")?,
        event_type: row.try_get("event_type")?,
        payload,
        created_at: from_millis(row.try_get("created_at")?),
    })
}
