//! Who a notification goes to, as recipient keys: people named in the catalog (users
//! as themselves, groups as their members), everyone with a role, the person behind an
//! actor name, everyone.

use std::collections::BTreeSet;

use sqlx::{AnyConnection, Row};

use super::{person_key, NotificationError};
use crate::catalog::kinds::HAS_MEMBER;
use crate::catalog::reference::RefContext;
use crate::catalog::{Catalog, EntityRef};
use crate::identity::Role;

/// The users `written` names, and the members of the groups it names. A reference that
/// cannot be read, or a group the catalog does not have, is an error naming it.
pub async fn people(
    catalog: &Catalog,
    written: &[String],
) -> Result<BTreeSet<String>, NotificationError> {
    let context = RefContext {
        default_kind: Some("user"),
        default_namespace: "default",
    };
    let mut out = BTreeSet::new();
    for text in written {
        let reference = EntityRef::parse(text, context).map_err(|e| {
            NotificationError::Recipient(format!("{text:?} is not a valid entity reference: {e}"))
        })?;
        if reference.kind.eq_ignore_ascii_case("user") {
            out.insert(reference.key());
            continue;
        }
        let Some(entity) = catalog.entity(&reference).await? else {
            return Err(NotificationError::Recipient(format!(
                "{reference} is not in the catalog"
            )));
        };
        out.extend(
            entity
                .relations
                .iter()
                .filter(|(kind, _)| kind == HAS_MEMBER.forward)
                .map(|(_, member)| member.to_ascii_lowercase()),
        );
    }
    Ok(out)
}

/// Everyone who signed in with `role` or a higher one.
pub async fn with_role(
    conn: &mut AnyConnection,
    role: Role,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, entity_ref, role FROM users")
        .fetch_all(conn)
        .await?;
    let mut out = BTreeSet::new();
    for row in rows {
        let theirs: String = row.try_get("role")?;
        if theirs.parse::<Role>().is_ok_and(|r| r >= role) {
            out.insert(key_of_row(&row)?);
        }
    }
    Ok(out)
}

/// A portal user: their id (their live topic is `user:<id>`) and recipient key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub key: String,
}

/// The people an actor name (`user:ada`) stands for; nobody for a token (`token:ci`),
/// which has no inbox.
pub async fn behind_actor(
    conn: &mut AnyConnection,
    actor: &str,
) -> Result<Vec<Person>, sqlx::Error> {
    let Some(name) = actor.strip_prefix("user:") else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query("SELECT id, entity_ref FROM users WHERE name = $1")
        .bind(name)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Person {
                id: row.try_get("id")?,
                key: key_of_row(row)?,
            })
        })
        .collect()
}

/// Everyone who ever signed in.
pub async fn everyone(conn: &mut AnyConnection) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, entity_ref FROM users")
        .fetch_all(conn)
        .await?;
    rows.iter().map(key_of_row).collect()
}

fn key_of_row(row: &sqlx::any::AnyRow) -> Result<String, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let entity: Option<String> = row.try_get("entity_ref")?;
    Ok(person_key(&id, entity.as_deref()))
}
