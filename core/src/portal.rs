use std::sync::Arc;
use std::time::Instant;

use crate::approvals::{ApprovalSettings, Approvals};
use crate::catalog::locations::LocationPolicy;
use crate::catalog::Catalog;
use crate::environments::Environments;
use crate::events::{EventBus, Events};
use crate::identity::{Identity, RoleMapping};
use crate::notifications::Notifications;
use crate::storage::{Database, StorageError};
use crate::templates::{tasks::Runtime, TemplateSettings, Templates};

/// The portal: one cheap-to-clone handle on the database and the event bus.
///
/// Created once at start-up and cloned into the HTTP state and the UI context, so every
/// entry point reaches the same services and no globals are needed.
#[derive(Clone)]
pub struct Portal {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    locations: Arc<LocationPolicy>,
    roles: Arc<RoleMapping>,
    /// Template runs under way on this instance, shared by every handle.
    templates: Arc<Runtime>,
    approvals: ApprovalSettings,
    started_at: Instant,
}

/// What an operator decides about the portal's behaviour (the rest of the
/// configuration belongs to the HTTP edge).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Where registered catalog locations may point (by default nowhere: only
    /// `portico import` adds locations).
    pub locations: LocationPolicy,
    /// Which groups give which role.
    pub roles: RoleMapping,
    /// Where templates may publish repositories, and where their workspaces go.
    pub templates: TemplateSettings,
    /// Whether rejecting needs a comment.
    pub approvals: ApprovalSettings,
}

impl Portal {
    /// Opens the portal on the database at `url` (`sqlite:…` or `postgres:…`).
    ///
    /// Connections are made lazily: a database that is down at start-up makes the portal
    /// not ready (see [`Database::readiness`]) rather than failing the process.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let db = Database::connect_lazy(url)?;
        Ok(Self::with_database(db))
    }

    /// Wraps an already connected database.
    pub fn with_database(db: Database) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                bus: EventBus::new(),
                locations: Arc::default(),
                roles: Arc::default(),
                templates: Templates::runtime(TemplateSettings::default()),
                approvals: ApprovalSettings::default(),
                started_at: Instant::now(),
            }),
        }
    }

    /// The portal with `settings`. Call it before the portal is shared; handles cloned
    /// earlier keep the previous settings.
    pub fn with_settings(self, settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                db: self.inner.db.clone(),
                bus: self.inner.bus.clone(),
                locations: Arc::new(settings.locations),
                roles: Arc::new(settings.roles),
                templates: Templates::runtime(settings.templates),
                approvals: settings.approvals,
                started_at: self.inner.started_at,
            }),
        }
    }

    /// The database the portal stores everything in.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The event log and its live bus.
    pub fn events(&self) -> Events {
        Events::new(self.inner.db.clone(), self.inner.bus.clone())
    }

    /// The service catalog.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(
            self.inner.db.clone(),
            self.events(),
            Arc::clone(&self.inner.locations),
        )
    }

    /// Environments, deployments and health.
    pub fn environments(&self) -> Environments {
        Environments::new(self.inner.db.clone(), self.catalog(), self.events())
    }

    /// Golden paths: templates and their runs.
    pub fn templates(&self) -> Templates {
        Templates::new(
            self.inner.db.clone(),
            self.catalog(),
            self.events(),
            Arc::clone(&self.inner.templates),
            self.approvals(),
        )
    }

    /// Approval requests and their decisions.
    pub fn approvals(&self) -> Approvals {
        Approvals::new(
            self.inner.db.clone(),
            self.events(),
            self.identity(),
            self.notifications(),
            self.inner.approvals.clone(),
        )
    }

    /// In-app notifications.
    pub fn notifications(&self) -> Notifications {
        Notifications::new(self.inner.db.clone(), self.events(), self.catalog())
    }

    /// Users, API tokens, sessions and the audit log.
    pub fn identity(&self) -> Identity {
        Identity::new(
            self.inner.db.clone(),
            self.catalog(),
            self.events(),
            Arc::clone(&self.inner.roles),
        )
    }

    /// How long this portal has been running.
    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started_at.elapsed()
    }
}
