//! Who is asking: a signed-in person or an API token, with the role and the groups
//! that decide what they may do.

use serde::{Deserialize, Serialize};

use super::Role;

/// A signed-in person or an API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user's or the token's id.
    pub id: String,
    /// Shown to people and written in the audit log.
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// The groups the identity provider said the person is in (empty for tokens).
    pub groups: Vec<String>,
    /// Reference keys (`group:default/payments`, `user:default/ada`) of the catalog
    /// owners this principal stands for: the linked User entity, the groups it is a
    /// member of, and the groups named by the identity provider. An entity whose owner
    /// is one of these is the principal's own.
    pub owners: Vec<String>,
    /// The catalog User entity linked at sign-in, as a reference.
    pub entity: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Token,
}

impl Principal {
    /// How the audit log names this principal: `user:ada`, `token:ci-deploy`.
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::User => format!("user:{}", self.name),
            PrincipalKind::Token => format!("token:{}", self.name),
        }
    }

    /// Whether this principal has at least `role`.
    pub fn has(&self, role: Role) -> bool {
        self.role >= role
    }

    /// Whether an entity owned by `owner` (a reference key, lower case) is this
    /// principal's own.
    pub fn owns(&self, owner: &str) -> bool {
        self.owners.iter().any(|o| o.eq_ignore_ascii_case(owner))
    }

    /// Whether this principal may change an entity with these owners: an admin may
    /// change anything; anyone else only what one of their groups (or they) own.
    pub fn may_change<'a>(&self, mut owners: impl Iterator<Item = &'a str>) -> bool {
        self.has(Role::Admin) || owners.any(|owner| self.owns(owner))
    }
}
