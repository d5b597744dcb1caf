//! The SQL behind tasks.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Task, TaskStatus};
use crate::storage::sql::Sql;
use crate::templates::TemplateError;

const COLUMNS: &str = "id, template_ref, spec, parameters, created_by, user_ref, status, steps, \
                       output, error, heartbeat_at, cancel_requested_at, created_at, started_at, finished_at";

pub struct NewTask<'a> {
    pub id: &'a str,
    pub template_ref: &'a str,
    pub spec: String,
    pub parameters: String,
    pub created_by: &'a str,
    pub user_ref: Option<&'a str>,
    pub steps: String,
    pub claimed_by: &'a str,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, task: &NewTask<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO scaffolder_tasks (id, template_ref, spec, parameters, created_by, user_ref, \
         status, steps, claimed_by, heartbeat_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $9)",
    )
    .bind(task.id)
    .bind(task.template_ref)
    .bind(&task.spec)
    .bind(&task.parameters)
    .bind(task.created_by)
    .bind(task.user_ref)
    .bind(&task.steps)
    .bind(task.claimed_by)
    .bind(task.now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Task>, TemplateError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM scaffolder_tasks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(task_from_row).transpose()
}

/// Tasks newest first, optionally only one principal's or one status.
pub async fn list(
    conn: &mut AnyConnection,
    created_by: Option<&str>,
    status: Option<TaskStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Task>, i64), TemplateError> {
    let mut sql = Sql::default();
    let mut conditions = Vec::new();
    if let Some(who) = created_by {
        conditions.push(format!("created_by = {}", sql.bind(who)));
    }
    if let Some(status) = status {
        conditions.push(format!("status = {}", sql.bind(status.as_str())));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    sql.text = format!("SELECT COUNT(*) FROM scaffolder_tasks{filter}");
    let total: i64 = sql.query().fetch_one(&mut *conn).await?.try_get(0)?;
    let limit_at = sql.bind(limit);
    let offset_at = sql.bind(offset);
    sql.text = format!(
        "SELECT {COLUMNS} FROM scaffolder_tasks{filter} ORDER BY created_at DESC, id DESC \
         LIMIT {limit_at} OFFSET {offset_at}"
    );
    let rows = sql.query().fetch_all(&mut *conn).await?;
    let tasks = rows.iter().map(task_from_row).collect::<Result<_, _>>()?;
    Ok((tasks, total))
}

fn task_from_row(row: &AnyRow) -> Result<Task, TemplateError> {
    let id: String = row.try_get("id")?;
    let json = |column: &str| -> Result<Value, TemplateError> {
        let text: Option<String> = row.try_get(column)?;
        match text {
            None => Ok(Value::Null),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                tracing::error!(task = %id, column, error = %e, "a stored task does not parse");
                TemplateError::Corrupt(format!("task {id}: {column}"))
            }),
        }
    };
    let status: String = row.try_get("status")?;
    Ok(Task {
        template_ref: row.try_get("template_ref")?,
        spec: serde_json::from_value(json("spec")?)
            .map_err(|e| TemplateError::Corrupt(format!("task {id}: spec: {e}")))?,
        parameters: json("parameters")?,
        created_by: row.try_get("created_by")?,
        user_ref: row.try_get("user_ref")?,
        status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Failed),
        steps: serde_json::from_value(json("steps")?).unwrap_or_default(),
        output: json("output")?,
        error: row.try_get("error")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
        cancel_requested_at: row.try_get("cancel_requested_at")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        id,
    })
}
