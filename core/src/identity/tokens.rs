//! API tokens for CI/CD and scripts: created by admins, shown once, stored as a hash,
//! revocable, optionally expiring.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::{NewAudit, Outcome};
use super::principal::{Principal, PrincipalKind};
use super::{Identity, IdentityError, Role};
use crate::storage::sql::now_millis;

/// Every secret starts with this, so a leaked one is recognisable (secret scanners,
/// logs) and cannot be mistaken for a session id.
pub const SECRET_PREFIX: &str = "portico_";

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// `last_used_at` is written at most this often per token: a busy pipeline must not
/// turn every request into a write.
const LAST_USED_EVERY_MILLIS: i64 = 60 * 1000;

/// A token as listed (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    /// Unix milliseconds, like every time below.
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// Whether it is accepted at `now`.
    pub fn live_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// `live`, `revoked` or `expired` at `now`, as lists show it.
    pub fn state_at(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.live_at(now) {
            "live"
        } else {
            "expired"
        }
    }
}

/// What a new token is for.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// Days until it expires; `None` for never.
    pub expires_in_days: Option<u32>,
}

/// Why a presented token is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("unknown token")]
    Unknown,
    #[error("token {0} was revoked")]
    Revoked(String),
    #[error("token {0} has expired")]
    Expired(String),
}

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, last_used_at, revoked_at";

fn from_row(row: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        // Written from a `Role`; anything else would be a hand edit, read as least power.
        role: role.parse().unwrap_or(Role::Viewer),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// The stored form of a secret (hex SHA-256): also a safe key for it in memory.
pub fn hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// A new secret: 256 bits from the operating system's generator, URL-safe.
fn new_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    // Two v4 UUIDs are 244 random bits from the OS generator (getrandom).
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A token name: what a person will recognise in a list and in the audit log.
fn check_name(name: &str) -> Result<(), IdentityError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(IdentityError::Invalid {
            field: "name",
            message: format!(
                "{name:?} is not a token name: 1 to 64 letters, digits, '-', '_' or '.'"
            ),
        })
    }
}

impl Identity {
    /// Creates a token; the secret is returned once and only its hash is kept.
    pub async fn create_token(
        &self,
        new: &NewToken,
        created_by: &str,
    ) -> Result<(ApiToken, String), IdentityError> {
        check_name(&new.name)?;
        if let Some(days) = new.expires_in_days {
            if !(1..=3650).contains(&days) {
                return Err(IdentityError::Invalid {
                    field: "expires",
                    message: format!("{days} days: a token expires after 1 to 3650 days"),
                });
            }
        }
        let now = now_millis();
        let token = ApiToken {
            id: uuid::Uuid::new_v4().to_string(),
            name: new.name.clone(),
            role: new.role,
            created_by: created_by.to_owned(),
            created_at: now,
            expires_at: new.expires_in_days.map(|d| now + i64::from(d) * DAY_MILLIS),
            last_used_at: None,
            revoked_at: None,
        };
        let secret = new_secret();
        // One statement: the unique index on live names decides, even between two
        // creations at the same moment.
        let inserted = sqlx::query(
            "INSERT INTO api_tokens (id, name, role, secret_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(hash(&secret))
        .bind(&token.created_by)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(IdentityError::Conflict(format!(
                    "a live token is already named {:?}; revoke it first or choose another name",
                    token.name
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(NewAudit {
            actor: created_by.to_owned(),
            action: "token.create",
            target: token.name.clone(),
            outcome: Outcome::Ok,
            detail: json!({"role": token.role, "expires_at": token.expires_at}),
        })
        .await?;
        Ok((token, secret))
    }

    /// Every token, live ones first, newest first.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>, IdentityError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_tokens \
             ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id"
        ))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Revokes a token at once; revoking it again changes nothing.
    pub async fn revoke_token(&self, id: &str, by: &str) -> Result<ApiToken, IdentityError> {
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?
        .rows_affected()
            > 0;
        let token = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .map(|row| from_row(&row))
            .transpose()?
            .ok_or_else(|| IdentityError::NotFound(format!("no token with id {id}")))?;
        if revoked {
            self.audit(NewAudit {
                actor: by.to_owned(),
                action: "token.revoke",
                target: token.name.clone(),
                outcome: Outcome::Ok,
                detail: json!({"id": token.id}),
            })
            .await?;
            self.announce_ended("token.revoked", json!({"id": token.id}))
                .await?;
        }
        Ok(token)
    }

    /// The principal a presented secret stands for. A refused token is audited.
    pub async fn authenticate_token(
        &self,
        secret: &str,
    ) -> Result<Result<Principal, TokenRefused>, IdentityError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE secret_hash = $1"
        ))
        .bind(hash(secret))
        .fetch_optional(self.db.pool())
        .await?;
        let now = now_millis();
        let refused = match row.map(|row| from_row(&row)).transpose()? {
            None => TokenRefused::Unknown,
            Some(token) if token.revoked_at.is_some() => TokenRefused::Revoked(token.name),
            Some(token) if !token.live_at(now) => TokenRefused::Expired(token.name),
            Some(token) => {
                if token
                    .last_used_at
                    .is_none_or(|at| now - at >= LAST_USED_EVERY_MILLIS)
                {
                    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                        .bind(&token.id)
                        .bind(now)
                        .execute(self.db.pool())
                        .await?;
                }
                return Ok(Ok(Principal {
                    kind: PrincipalKind::Token,
                    id: token.id,
                    name: token.name,
                    email: None,
                    role: token.role,
                    groups: Vec::new(),
                    owners: Vec::new(),
                    entity: None,
                }));
            }
        };
        let target = match &refused {
            TokenRefused::Unknown => String::new(),
            TokenRefused::Revoked(name) | TokenRefused::Expired(name) => name.clone(),
        };
        self.audit(NewAudit {
            actor: "anonymous".into(),
            action: "token.use",
            target,
            outcome: Outcome::Denied,
            detail: json!({"reason": refused.to_string()}),
        })
        .await?;
        Ok(Err(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_prefixed_and_different() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn token_names_are_checked() {
        for good in ["ci-deploy", "release_bot.v2", "a"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "has space", "ünïcode", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
