//! Who is asking, and what they may do.
//!
//! - [`role`]: `viewer` < `developer` < `sre` < `admin`, and how groups map to them.
//! - [`principal`]: a signed-in person or an API token, with role and ownership.
//! - [`users`]: sign-in: the user row, the role, the linked catalog User entity.
//! - [`tokens`]: API tokens: created once, stored hashed, revocable, expiring.
//! - [`audit`]: the audit log, written by the services themselves.
//! - [`sessions`]: browser session records, kept in the database.

pub mod audit;
mod error;
pub mod principal;
pub mod role;
mod sessions;
pub mod tokens;
pub mod users;

use std::sync::Arc;

pub use audit::{AuditEntry, AuditFilter, NewAudit, Outcome};
pub use error::IdentityError;
pub use principal::{Principal, PrincipalKind};
pub use role::{Role, RoleMapping};
pub use tokens::{ApiToken, NewToken, TokenRefused};
pub use users::{SignIn, User};

use crate::catalog::Catalog;
use crate::events::{Events, NewEvent};
use crate::storage::Database;

/// Where ended credentials (a revoked token, a session signed out) are announced, so
/// that every instance closes the live-channel sockets opened with them at once. Not a
/// topic clients may join.
pub const CREDENTIALS_TOPIC: &str = "credentials";

/// The identity service: users, tokens, sessions and the audit log. Cheap to clone.
#[derive(Clone)]
pub struct Identity {
    db: Database,
    catalog: Catalog,
    events: Events,
    roles: Arc<RoleMapping>,
}

impl Identity {
    pub fn new(db: Database, catalog: Catalog, events: Events, roles: Arc<RoleMapping>) -> Self {
        Self {
            db,
            catalog,
            events,
            roles,
        }
    }

    /// Announces that a credential ended (see [`CREDENTIALS_TOPIC`]).
    async fn announce_ended(
        &self,
        event_type: &str,
        payload: serde_json::Value,
    ) -> Result<(), IdentityError> {
        self.events
            .record(NewEvent::new(CREDENTIALS_TOPIC, event_type, payload))
            .await?;
        Ok(())
    }

    /// How groups map to roles here.
    pub fn roles(&self) -> &RoleMapping {
        &self.roles
    }
}
