//! Signing people in: the user row (created at first sign-in), the role their groups
//! map to, and the catalog User entity and groups they stand for.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::audit::{NewAudit, Outcome};
use super::principal::{Principal, PrincipalKind};
use super::{Identity, IdentityError, Role};
use crate::catalog::kinds::MEMBER_OF;
use crate::catalog::query::{Filter, Query};
use crate::catalog::StoredEntity;
use crate::storage::sql::now_millis;

/// What the identity provider (or the demo sign-in) says about a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignIn {
    /// Unique and stable: `issuer#sub` for OIDC, `demo#name` for the demo.
    pub subject: String,
    /// The short name (`preferred_username`, else the e-mail's local part).
    pub username: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// A role decided by the sign-in itself (the demo people) instead of the groups.
    pub role: Option<Role>,
}

/// A person who signed in, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub role: Role,
    pub entity: Option<String>,
    pub created_at: i64,
    pub last_login_at: i64,
}

impl Identity {
    /// Records a sign-in and returns who it is: the user row is created or refreshed,
    /// the role follows the groups of this sign-in, and the catalog User entity with the
    /// same e-mail (else the same name) is linked. A role that changed is audited.
    pub async fn sign_in(&self, person: &SignIn) -> Result<Principal, IdentityError> {
        let role = person
            .role
            .unwrap_or_else(|| self.roles.role_for(&person.groups));
        let entity = self.user_entity(person).await?;
        let now = now_millis();
        let groups = serde_json::to_string(&person.groups).unwrap_or_else(|_| "[]".into());
        let entity_ref = entity
            .as_ref()
            .map(|e| crate::catalog::Entity::reference_of(&e.body))
            .and_then(|r| r.map(|r| r.to_string()));

        // The previous role, read first: one UPSERT then writes without holding a read
        // lock that SQLite would have to upgrade (which fails under a concurrent write).
        let previous: Option<String> =
            sqlx::query_scalar("SELECT role FROM users WHERE subject = $1")
                .bind(&person.subject)
                .fetch_optional(self.db.pool())
                .await?;
        let id: String = sqlx::query_scalar(
            "INSERT INTO users (id, subject, name, email, groups, role, entity_ref, \
             created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (subject) DO UPDATE SET name = excluded.name, email = excluded.email, \
             groups = excluded.groups, role = excluded.role, entity_ref = excluded.entity_ref, \
             last_login_at = excluded.last_login_at \
             RETURNING id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&person.subject)
        .bind(&person.username)
        .bind(&person.email)
        .bind(&groups)
        .bind(role.as_str())
        .bind(&entity_ref)
        .bind(now)
        .fetch_one(self.db.pool())
        .await?;
        let previous = previous.and_then(|p| p.parse::<Role>().ok());

        let principal = Principal {
            kind: PrincipalKind::User,
            id,
            name: person.username.clone(),
            email: person.email.clone(),
            role,
            groups: person.groups.clone(),
            owners: owners(person, entity.as_ref()),
            entity: entity_ref,
        };
        self.audit(NewAudit {
            actor: principal.actor(),
            action: "sign-in",
            target: String::new(),
            outcome: Outcome::Ok,
            detail: json!({"role": role, "groups": person.groups, "entity": principal.entity}),
        })
        .await?;
        if let Some(previous) = previous.filter(|p| *p != role) {
            self.audit(NewAudit {
                actor: "system".into(),
                action: "role.change",
                target: principal.actor(),
                outcome: Outcome::Ok,
                detail: json!({"from": previous, "to": role, "groups": person.groups}),
            })
            .await?;
        }
        Ok(principal)
    }

    /// Everyone who signed in, most recent first.
    pub async fn users(&self) -> Result<Vec<User>, IdentityError> {
        let rows = sqlx::query(
            "SELECT id, name, email, groups, role, entity_ref, created_at, last_login_at \
             FROM users ORDER BY last_login_at DESC, id",
        )
        .fetch_all(self.db.pool())
        .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in rows {
            let groups: String = row.try_get("groups")?;
            let role: String = row.try_get("role")?;
            users.push(User {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                email: row.try_get("email")?,
                groups: serde_json::from_str(&groups).unwrap_or_default(),
                role: role.parse().unwrap_or(Role::Viewer),
                entity: row.try_get("entity_ref")?,
                created_at: row.try_get("created_at")?,
                last_login_at: row.try_get("last_login_at")?,
            });
        }
        Ok(users)
    }

    /// The catalog User entity for this person: the one whose `spec.profile.email` is
    /// their e-mail, else the one named like them.
    async fn user_entity(&self, person: &SignIn) -> Result<Option<StoredEntity>, IdentityError> {
        let mut conditions = Vec::new();
        if let Some(email) = person.email.as_deref().filter(|e| !e.contains(',')) {
            conditions.push(format!("kind=user,spec.profile.email={email}"));
        }
        if !person.username.contains(',') {
            conditions.push(format!("kind=user,metadata.name={}", person.username));
        }
        for condition in conditions {
            let Ok(filter) = Filter::parse(&[condition]) else {
                continue;
            };
            let query = Query {
                filter,
                limit: 1,
                ..Query::default()
            };
            if let Some(found) = self.catalog.query(&query).await?.items.into_iter().next() {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The owners a person stands for: their User entity, the groups it is a member of in
/// the catalog, and the groups the identity provider names (as `group:default/<name>`).
fn owners(person: &SignIn, entity: Option<&StoredEntity>) -> Vec<String> {
    let mut owners: Vec<String> = Vec::new();
    if let Some(entity) = entity {
        if let Some(reference) = crate::catalog::Entity::reference_of(&entity.body) {
            owners.push(reference.key());
        }
        owners.extend(
            entity
                .relations
                .iter()
                .filter(|(kind, _)| kind == MEMBER_OF.forward)
                .map(|(_, target)| target.to_lowercase()),
        );
    }
    owners.extend(
        person
            .groups
            .iter()
            .map(|g| format!("group:default/{}", g.to_lowercase())),
    );
    owners.sort();
    owners.dedup();
    owners
}
