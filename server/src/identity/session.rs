//! Browser sessions: tower-sessions records kept in the portal's database, and what a
//! signed-in session holds.

use async_trait::async_trait;
use portico_core::identity::{Identity, Principal};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::AuthConfig;

/// The session cookie.
pub const COOKIE: &str = "portico_session";

/// Session keys.
pub const SIGNED_IN: &str = "signed_in";
pub const PENDING_LOGIN: &str = "pending_login";
/// The minute the session was last seen in: rewritten when it changes, which slides the
/// idle expiry with at most one write a minute per session.
pub const ACTIVE_MINUTE: &str = "active_minute";

/// What a signed-in session holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub principal: Principal,
    /// Unix seconds: the absolute expiry counts from here.
    pub at: i64,
    /// The provider's id_token, sent back as `id_token_hint` when signing out there.
    pub id_token: Option<String>,
}

/// The session layer: the cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when the
/// public URL is https, and expires after the idle time.
pub fn layer(identity: Identity, auth: &AuthConfig) -> SessionManagerLayer<DatabaseStore> {
    SessionManagerLayer::new(DatabaseStore { identity })
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(auth.public_url.scheme() == "https")
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(auth.session_idle))
}

/// Session records as rows of the `sessions` table.
#[derive(Clone)]
pub struct DatabaseStore {
    identity: Identity,
}

impl std::fmt::Debug for DatabaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseStore")
    }
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DatabaseStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id that happens to be taken gets another one, never the other's data.
        loop {
            let data = encode(record)?;
            let created = self
                .identity
                .create_session(
                    &record.id.to_string(),
                    &data,
                    record.expiry_date.unix_timestamp(),
                )
                .await
                .map_err(backend)?;
            if created {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.identity
            .save_session(
                &record.id.to_string(),
                &encode(record)?,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let data = self
            .identity
            .load_session(&id.to_string(), now)
            .await
            .map_err(backend)?;
        data.map(|data| {
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.identity
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// Whether session `id` is still signed in: it exists, has not expired, holds a
/// sign-in, and is within the absolute expiry. Open websockets ask this again while
/// they stay open.
pub async fn still_signed_in(
    identity: &Identity,
    id: &str,
    session_max: time::Duration,
) -> Result<bool, portico_core::identity::IdentityError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let Some(data) = identity.load_session(id, now).await? else {
        return Ok(false);
    };
    let signed_in = serde_json::from_str::<Record>(&data)
        .ok()
        .and_then(|record| record.data.get(SIGNED_IN).cloned())
        .and_then(|value| serde_json::from_value::<SignedIn>(value).ok());
    Ok(signed_in.is_some_and(|s| now - s.at < session_max.whole_seconds()))
}
