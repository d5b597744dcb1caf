use std::collections::HashSet;
use std::time::{Duration, Instant};

use sqlx::migrate::{Migrate, Migrator};

use super::{Backend, Database, StorageError};

// One folder per backend: the SQL differs (identity columns, types), and an applied
// migration is never edited, so each backend keeps its own history.
static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a readiness check may take before it counts as "database not answering":
/// within the 1 s probes are usually given (Kubernetes' default `timeoutSeconds`).
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);

/// One migration shipped in this binary, and whether the database has it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// What the database has of the migrations this binary ships.
#[derive(Clone, Debug)]
pub struct MigrationState {
    pub migrations: Vec<MigrationStatus>,
}

impl MigrationState {
    pub fn pending(&self) -> impl Iterator<Item = &MigrationStatus> {
        self.migrations.iter().filter(|m| !m.applied)
    }

    pub fn is_complete(&self) -> bool {
        self.pending().next().is_none()
    }
}

/// The answer to "can this instance serve requests now?".
#[derive(Clone, Debug)]
pub enum Readiness {
    /// The database answered in `latency` and every migration is applied.
    Ready { latency: Duration },
    /// The database did not answer (or not in time).
    DatabaseUnavailable { reason: String },
    /// The database answers but lacks migrations (start-up has not finished them).
    MigrationsPending { pending: Vec<i64> },
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        matches!(self, Self::Ready { .. })
    }

    /// A one-line reason, safe to show to operators (no credentials, no SQL).
    pub fn describe(&self) -> String {
        match self {
            Self::Ready { latency } => format!(
                "ready (database answered in {:.1} ms)",
                latency.as_secs_f64() * 1000.0
            ),
            Self::DatabaseUnavailable { reason } => format!("database unavailable: {reason}"),
            Self::MigrationsPending { pending } => format!(
                "migrations not applied: {}",
                pending
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl Database {
    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    /// Applies every migration not yet applied. Safe to run concurrently from several
    /// replicas: sqlx takes a database lock for the duration.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        self.migrator().run(self.pool()).await?;
        Ok(())
    }

    /// Which of the shipped migrations the database has.
    pub async fn migration_state(&self) -> Result<MigrationState, StorageError> {
        let mut conn = self.pool().acquire().await?;
        // Before the first migration there is no bookkeeping table; creating it here would
        // make a read-only check write, so a missing table means "nothing applied".
        let applied: HashSet<i64> = match conn.list_applied_migrations().await {
            Ok(list) => list.into_iter().map(|m| m.version).collect(),
            Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(e)))
                if is_missing_table(e.message()) =>
            {
                HashSet::new()
            }
            Err(e) => return Err(e.into()),
        };
        let migrations = self
            .migrator()
            .iter()
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect();
        Ok(MigrationState { migrations })
    }

    /// Checks that the database answers and has every migration, within a short timeout.
    /// Never fails: a failure is the answer.
    pub async fn readiness(&self) -> Readiness {
        let started = Instant::now();
        let check = async {
            self.ping().await?;
            let latency = started.elapsed();
            let state = self.migration_state().await?;
            Ok::<_, StorageError>((latency, state))
        };
        match tokio::time::timeout(READINESS_TIMEOUT, check).await {
            Err(_) => Readiness::DatabaseUnavailable {
                reason: format!("no answer within {READINESS_TIMEOUT:?}"),
            },
            Ok(Err(e)) => Readiness::DatabaseUnavailable {
                reason: describe_error(&e),
            },
            Ok(Ok((latency, state))) if state.is_complete() => Readiness::Ready { latency },
            Ok(Ok((_, state))) => Readiness::MigrationsPending {
                pending: state.pending().map(|m| m.version).collect(),
            },
        }
    }
}

fn is_missing_table(message: &str) -> bool {
    // SQLite: "no such table: _sqlx_migrations"; PostgreSQL: "relation … does not exist".
    message.contains("no such table") || message.contains("does not exist")
}

/// A short, credential-free description of a storage error for operators.
fn describe_error(error: &StorageError) -> String {
    match error {
        StorageError::Database(sqlx::Error::PoolTimedOut) => {
            "no connection could be made in time".to_owned()
        }
        StorageError::Database(sqlx::Error::Io(e)) => format!("connection failed ({})", e.kind()),
        StorageError::Database(sqlx::Error::Database(e)) => {
            format!(
                "the database refused the check ({})",
                e.code().unwrap_or_default()
            )
        }
        StorageError::Database(sqlx::Error::PoolClosed) => "the pool is closed".to_owned(),
        other => other.to_string(),
    }
}
