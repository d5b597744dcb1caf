//! Browser sessions as rows of the portal's database, so they survive restarts and are
//! shared by every replica. The HTTP layer keeps its session records here.

use sqlx::Row;

use super::{Identity, IdentityError};

impl Identity {
    /// Stores (or replaces) session `id`: `data` is the record as JSON, `expires_at`
    /// Unix seconds.
    pub async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Stores session `id` only if no session has that id yet; false when one has.
    pub async fn create_session(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<bool, IdentityError> {
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(inserted > 0)
    }

    /// The record of session `id` if it has not expired by `now` (Unix seconds).
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<String>, IdentityError> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get("data")).transpose()?)
    }

    /// Ends a session (signing out). Announced without its id, which is a credential.
    pub async fn delete_session(&self, id: &str) -> Result<(), IdentityError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        if deleted > 0 {
            self.announce_ended("session.ended", serde_json::json!({}))
                .await?;
        }
        Ok(())
    }

    /// Removes the sessions expired by `now` (Unix seconds); returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, IdentityError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.db.pool())
            .await?
            .rows_affected())
    }
}
