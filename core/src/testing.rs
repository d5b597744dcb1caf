//! Fresh databases for tests, on both backends.
//!
//! SQLite: a new file in a new temporary directory. PostgreSQL: a new database created
//! on the server named by `TEST_DATABASE_URL` and dropped by [`TestDb::cleanup`].
//! When `TEST_DATABASE_URL` is unset the PostgreSQL half of a test is skipped with a
//! message, unless `PORTICO_REQUIRE_POSTGRES` is set (as `make test` does), where it fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AnyPool, Executor};

use crate::storage::{Backend, Database};

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub db: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    /// A migrated database of the given backend, or `None` when PostgreSQL is not
    /// configured for tests (and not required).
    pub async fn new(backend: Backend) -> Option<Self> {
        let db = match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await?,
        };
        db.db.migrate().await.expect("migrating the test database");
        Some(db)
    }

    /// A URL for a new, empty database that nothing has connected to yet.
    pub async fn new_unmigrated(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(unique_name("portico-test"));
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        let url = format!("sqlite://{}", dir.join("portico.db").display());
        let db = Database::connect_lazy(&url).expect("opening the SQLite test database");
        Self {
            url,
            db,
            cleanup: Cleanup::Directory(dir),
        }
    }

    async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            if std::env::var_os("PORTICO_REQUIRE_POSTGRES").is_some() {
                panic!("PORTICO_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not");
            }
            eprintln!("skipping the PostgreSQL half: TEST_DATABASE_URL is not set");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = unique_name("portico_test").replace('-', "_");
        let admin = AnyPool::connect(&admin_url)
            .await
            .expect("connecting to TEST_DATABASE_URL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("creating the test database");
        admin.close().await;
        let url = with_database_name(&admin_url, &name);
        let db = Database::connect_lazy(&url).expect("opening the PostgreSQL test database");
        Some(Self {
            url,
            db,
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    /// Closes the pool and removes the database.
    pub async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = AnyPool::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Backstage's example catalog (`catalog-model-examples` of the shared fixtures): from
/// `PORTICO_FIXTURES` when set, else from `shared/fixtures/backstage` beside the repository.
pub fn backstage_examples() -> PathBuf {
    let fixtures = std::env::var_os("PORTICO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/backstage")
        });
    let examples = fixtures.join("catalog-model-examples");
    examples.canonicalize().unwrap_or_else(|e| {
        panic!(
            "Backstage's example catalog is expected at {} ({e}): check out shared/ beside the \
             repository, or set PORTICO_FIXTURES to the fixtures/backstage folder",
            examples.display()
        )
    })
}

/// `postgres://u@h:p/admin?x=y` with the database `name` instead of `admin`.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs each named `async fn(&TestDb)` once per backend, as `sqlite::name` and
/// `postgres::name` tests.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::testing::TestDb::new($crate::storage::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(db) =
                        $crate::testing::TestDb::new($crate::storage::Backend::Postgres).await
                    {
                        super::$name(&db).await;
                        db.cleanup().await;
                    }
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database_name("postgres://u@127.0.0.1:5432/postgres", "t1"),
            "postgres://u@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database_name("postgres://u@h/postgres?host=/tmp", "t1"),
            "postgres://u@h/t1?host=/tmp"
        );
        assert_eq!(
            with_database_name("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
