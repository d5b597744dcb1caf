//! The audit log: who did what, when, to what, and whether it was allowed. Written by
//! the services themselves, so every way in (HTTP, CLI, UI) is recorded alike.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::{Identity, IdentityError};
use crate::storage::sql::now_millis;
use crate::storage::sql::{escape_like, Sql};

/// How an audited attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// Refused: not allowed, or credentials not accepted.
    Denied,
    /// Tried and went wrong (the identity provider failed, for example).
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// An entry to record.
#[derive(Clone, Debug)]
pub struct NewAudit {
    /// `user:<name>`, `token:<name>`, `anonymous`, `system`.
    pub actor: String,
    /// Dotted, general first: `sign-in`, `token.create`, `catalog.location.create`.
    pub action: &'static str,
    /// What it was done to (a token's name, an entity reference); may be empty.
    pub target: String,
    pub outcome: Outcome,
    /// Anything else worth keeping (never a secret).
    pub detail: Value,
}

/// A recorded entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix time in milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: Value,
}

/// Which entries to list: all conditions must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Part of the actor's name (`ada` matches `user:ada`), case-insensitive.
    pub who: Option<String>,
    /// An action or a family of them (`token` matches `token.create`).
    pub what: Option<String>,
    /// Unix milliseconds, inclusive.
    pub since: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until: Option<i64>,
    /// Only entries older than this id (the cursor of the next page).
    pub before: Option<i64>,
}

/// The most entries one page holds.
pub const MAX_PAGE: u32 = 200;

impl Identity {
    /// Appends an entry. Failing to audit is logged, never hidden: the caller decides
    /// whether the action may go on without it.
    pub async fn audit(&self, entry: NewAudit) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_millis())
        .bind(&entry.actor)
        .bind(entry.action)
        .bind(&entry.target)
        .bind(entry.outcome.as_str())
        .bind(entry.detail.to_string())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Entries matching `filter`, newest first, at most `limit` (capped at
    /// [`MAX_PAGE`]), and the cursor of the next page when there is one.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<(Vec<AuditEntry>, Option<i64>), IdentityError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut sql = Sql::default();
        let mut conditions = Vec::new();
        if let Some(who) = filter.who.as_deref().filter(|w| !w.is_empty()) {
            let pattern = format!("%{}%", escape_like(&who.to_lowercase()));
            conditions.push(format!(
                "LOWER(actor) LIKE {} ESCAPE '\\'",
                sql.bind(pattern)
            ));
        }
        if let Some(what) = filter.what.as_deref().filter(|w| !w.is_empty()) {
            let family = format!("{}.%", escape_like(what));
            conditions.push(format!(
                "(action = {} OR action LIKE {} ESCAPE '\\')",
                sql.bind(what),
                sql.bind(family)
            ));
        }
        if let Some(since) = filter.since {
            conditions.push(format!("at >= {}", sql.bind(since)));
        }
        if let Some(until) = filter.until {
            conditions.push(format!("at < {}", sql.bind(until)));
        }
        if let Some(before) = filter.before {
            conditions.push(format!("id < {}", sql.bind(before)));
        }
        sql.text = format!(
            "SELECT id, at, actor, action, target, outcome, detail FROM audit_log{} \
             ORDER BY id DESC LIMIT {}",
            if conditions.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conditions.join(" AND "))
            },
            limit + 1
        );
        let mut entries = Vec::new();
        for row in sql.query().fetch_all(self.db.pool()).await? {
            let detail: String = row.try_get("detail")?;
            entries.push(AuditEntry {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                outcome: row.try_get("outcome")?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            });
        }
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let cursor = more.then(|| entries.last().map(|e| e.id)).flatten();
        Ok((entries, cursor))
    }
}
