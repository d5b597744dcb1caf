//! The SQL of notifications.

use sqlx::{AnyConnection, Row};

use super::{Marking, NewNotification, Notification};
use crate::storage::sql::Sql;

pub(super) async fn insert(
    conn: &mut AnyConnection,
    recipient: &str,
    notification: &NewNotification,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO notifications (recipient, title, description, link, severity, origin, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
    )
    .bind(recipient)
    .bind(&notification.title)
    .bind(&notification.description)
    .bind(&notification.link)
    .bind(notification.severity)
    .bind(&notification.origin)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The portal users a recipient key stands for (their ids): the one named by a
/// `portico-user:` key, or everyone linked to that catalog User entity.
pub(super) async fn users_addressed_as(
    conn: &mut AnyConnection,
    recipient: &str,
) -> Result<Vec<String>, sqlx::Error> {
    if let Some(id) = recipient.strip_prefix("portico-user:") {
        return Ok(vec![id.to_owned()]);
    }
    sqlx::query_scalar("SELECT id FROM users WHERE lower(entity_ref) = $1")
        .bind(recipient)
        .fetch_all(conn)
        .await
}

/// `recipient IN (…)` for `keys`, bound to `sql`.
fn addressed_to(sql: &mut Sql, keys: &[String]) -> String {
    let list: Vec<String> = keys.iter().map(|k| sql.bind(k.as_str())).collect();
    format!("recipient IN ({})", list.join(", "))
}

pub(super) async fn page(
    conn: &mut AnyConnection,
    keys: &[String],
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let mut sql = Sql::default();
    let recipients = addressed_to(&mut sql, keys);
    let before = sql.bind(before.unwrap_or(i64::MAX));
    let limit = sql.bind(limit);
    sql.text = format!(
        "SELECT seq, title, description, link, severity, origin, created_at, read_at \
         FROM notifications WHERE {recipients} AND seq < {before} ORDER BY seq DESC LIMIT {limit}"
    );
    let rows = sql.query().fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            Ok(Notification {
                id: row.try_get("seq")?,
                title: row.try_get("title")?,
                description: row.try_get("description")?,
                link: row.try_get("link")?,
                severity: row.try_get("severity")?,
                origin: row.try_get("origin")?,
                created_at: row.try_get("created_at")?,
                read: row.try_get::<Option<i64>, _>("read_at")?.is_some(),
            })
        })
        .collect()
}

pub(super) async fn unread(conn: &mut AnyConnection, keys: &[String]) -> Result<i64, sqlx::Error> {
    let mut sql = Sql::default();
    let recipients = addressed_to(&mut sql, keys);
    sql.text =
        format!("SELECT COUNT(*) AS n FROM notifications WHERE {recipients} AND read_at IS NULL");
    sql.query().fetch_one(conn).await?.try_get("n")
}

pub(super) async fn mark_read(
    conn: &mut AnyConnection,
    keys: &[String],
    marking: &Marking,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let mut sql = Sql::default();
    let now = sql.bind(now);
    let recipients = addressed_to(&mut sql, keys);
    sql.text =
        format!("UPDATE notifications SET read_at = {now} WHERE read_at IS NULL AND {recipients}");
    if let Marking::Ids(ids) = marking {
        let list: Vec<String> = ids.iter().map(|id| sql.bind(*id)).collect();
        sql.text
            .push_str(&format!(" AND seq IN ({})", list.join(", ")));
    }
    Ok(sql.query().execute(conn).await?.rows_affected())
}
