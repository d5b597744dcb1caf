//! The SQL behind approval requests.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::model::{Approval, ApprovalStatus, CheckedApproval, Decision, Verdict};
use super::ApprovalError;
use crate::storage::sql::Sql;

const COLUMNS: &str = "id, title, description, requested_by, subject, context, \
                       approvers, min_approvals, status, callback_url, version, created_at, \
                       expires_at, decided_at";

pub struct NewRow<'a> {
    pub id: &'a str,
    pub checked: &'a CheckedApproval,
    pub requested_by: &'a str,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, row: &NewRow<'_>) -> Result<(), sqlx::Error> {
    let checked = row.checked;
    sqlx::query(
        "INSERT INTO approvals (id, title, description, requested_by, subject, \
         context, approvers, min_approvals, status, callback_url, version, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, 0, $10, $11)",
    )
    .bind(row.id)
    .bind(&checked.title)
    .bind(&checked.description)
    .bind(row.requested_by)
    .bind(checked.subject.to_string())
    .bind(checked.context.to_string())
    .bind(serde_json::to_string(&checked.approvers).unwrap_or_default())
    .bind(i64::from(checked.min_approvals))
    .bind(checked.callback_url.as_deref())
    .bind(row.now)
    .bind(row.now + checked.expires_in_millis)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Approval>, ApprovalError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM approvals WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut approval = from_row(&row)?;
    approval.decisions = decisions(conn, id).await?;
    Ok(Some(approval))
}

async fn decisions(conn: &mut AnyConnection, id: &str) -> Result<Vec<Decision>, ApprovalError> {
    let mut found = decisions_of(conn, &[id]).await?;
    Ok(found.remove(id).unwrap_or_default())
}

/// The decisions of the requests `ids`, in one statement, each request's in the order
/// they were made.
async fn decisions_of(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, Vec<Decision>>, ApprovalError> {
    let mut found: HashMap<String, Vec<Decision>> = HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let mut sql = Sql::default();
    let list: Vec<String> = ids.iter().map(|id| sql.bind(*id)).collect();
    sql.text = format!(
        "SELECT approval_id, decided_by, decision, comment, decided_at FROM approval_decisions \
         WHERE approval_id IN ({}) ORDER BY decided_at, decided_by",
        list.join(", ")
    );
    for row in sql.query().fetch_all(conn).await? {
        let decision: String = row.try_get("decision")?;
        found
            .entry(row.try_get("approval_id")?)
            .or_default()
            .push(Decision {
                by: row.try_get("decided_by")?,
                decision: decision.parse()?,
                comment: row.try_get("comment")?,
                at: row.try_get("decided_at")?,
            });
    }
    Ok(found)
}

/// Which requests a list shows.
#[derive(Clone, Debug, Default)]
pub struct ApprovalFilter {
    pub status: Option<ApprovalStatus>,
    /// Only those this actor asked for.
    pub requested_by: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Requests newest first, with the number that match.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &ApprovalFilter,
) -> Result<(Vec<Approval>, i64), ApprovalError> {
    let mut sql = Sql::default();
    let mut conditions = Vec::new();
    if let Some(status) = filter.status {
        conditions.push(format!("status = {}", sql.bind(status.as_str())));
    }
    if let Some(who) = &filter.requested_by {
        conditions.push(format!("requested_by = {}", sql.bind(who.as_str())));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    sql.text = format!("SELECT COUNT(*) FROM approvals{filter_sql}");
    let total: i64 = sql.query().fetch_one(&mut *conn).await?.try_get(0)?;
    let limit_at = sql.bind(filter.limit);
    let offset_at = sql.bind(filter.offset);
    sql.text = format!(
        "SELECT {COLUMNS} FROM approvals{filter_sql} ORDER BY created_at DESC, id DESC \
         LIMIT {limit_at} OFFSET {offset_at}"
    );
    let rows = sql.query().fetch_all(&mut *conn).await?;
    let mut approvals = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<&str> = approvals.iter().map(|a| a.id.as_str()).collect();
    let mut decisions = decisions_of(conn, &ids).await?;
    for approval in &mut approvals {
        approval.decisions = decisions.remove(&approval.id).unwrap_or_default();
    }
    Ok((approvals, total))
}

/// Moves a request from `version` to the next one, and to `status`: nothing happens
/// (false) when another decision moved it first, or it is no longer pending.
pub async fn advance(
    conn: &mut AnyConnection,
    id: &str,
    version: i64,
    status: ApprovalStatus,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let decided_at = status.is_decided().then_some(now);
    let moved = sqlx::query(
        "UPDATE approvals SET version = version + 1, status = $1, decided_at = $2 \
         WHERE id = $3 AND version = $4 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(decided_at)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

pub async fn insert_decision(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    verdict: Verdict,
    comment: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_decisions (approval_id, decided_by, decision, comment, decided_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(by)
    .bind(verdict.as_str())
    .bind(comment)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Pending requests whose time has not come, without their decisions, and the ids of
/// those `actor` decided already: what counting the requests waiting for someone needs,
/// in two statements.
pub async fn open_requests(
    conn: &mut AnyConnection,
    actor: &str,
    now: i64,
) -> Result<(Vec<Approval>, Vec<String>), ApprovalError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at > $1"
    ))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let open = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    let decided = sqlx::query_scalar(
        "SELECT d.approval_id FROM approval_decisions d JOIN approvals a ON a.id = d.approval_id \
         WHERE a.status = 'pending' AND d.decided_by = $1",
    )
    .bind(actor)
    .fetch_all(conn)
    .await?;
    Ok((open, decided))
}

/// Pending requests whose time is up, oldest first.
pub async fn due(conn: &mut AnyConnection, now: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, version FROM approvals WHERE status = 'pending' AND expires_at <= $1 \
         ORDER BY expires_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("version")?)))
        .collect()
}

fn json(row: &AnyRow, column: &str) -> Result<Value, ApprovalError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text)
        .map_err(|e| ApprovalError::Corrupt(format!("approvals.{column}: {e}")))
}

fn from_row(row: &AnyRow) -> Result<Approval, ApprovalError> {
    let status: String = row.try_get("status")?;
    let approvers = json(row, "approvers")?
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let min_approvals: i64 = row.try_get("min_approvals")?;
    Ok(Approval {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        requested_by: row.try_get("requested_by")?,
        subject: json(row, "subject")?,
        context: json(row, "context")?,
        approvers,
        min_approvals: u32::try_from(min_approvals).unwrap_or(1),
        status: status.parse()?,
        callback_url: row.try_get("callback_url")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        decided_at: row.try_get("decided_at")?,
        decisions: Vec::new(),
    })
}
