use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use super::StorageError;

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Tells the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(StorageError::UnsupportedUrl(redact_url(url))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A handle on the database pool (cheap to clone).
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// Kept for connections outside the pool (PostgreSQL's LISTEN needs its own).
    url: Arc<str>,
}

impl Database {
    /// Builds the pool without connecting: the first query connects.
    ///
    /// For SQLite the file (and its directory) is created when missing, so the
    /// embedded default needs no set-up.
    pub fn connect_lazy(url: &str) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_dir(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(StorageError::InvalidUrl)?;
        let pool = pool_options(backend).connect_lazy_with(options);
        Ok(Self {
            pool,
            backend,
            url: url.into(),
        })
    }

    /// Connects and applies the migrations: for tools and tests that need a ready database.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let db = Self::connect_lazy(url)?;
        db.migrate().await?;
        Ok(db)
    }

    /// A PostgreSQL connection of its own, listening on `channel` (`None` on SQLite,
    /// where every writer is in this process).
    pub async fn listen(
        &self,
        channel: &str,
    ) -> Result<Option<sqlx::postgres::PgListener>, StorageError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(channel).await?;
        Ok(Some(listener))
    }

    /// Sends `payload` to every connection listening on `channel` (PostgreSQL's
    /// `NOTIFY`; nothing on SQLite, where there is one instance).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StorageError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS sent")
                .bind(channel)
                .bind(payload)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round-trips a trivial query: proves the database answers now.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Refreshes PostgreSQL's planner statistics and visibility map for `tables` after
    /// bulk changes: without statistics the planner picks poor plans for the new rows,
    /// and without the visibility map counts read the table instead of the index alone
    /// (filtered pages at 100k entities: p99 55 ms before, see BENCHMARKS.md).
    /// SQLite is left alone: measured on the catalog, its plans got slower with
    /// statistics (facets p99 47 ms → 117 ms at 10k entities) and `ANALYZE` cost a second.
    pub async fn analyze(&self, tables: &[&str]) -> Result<(), StorageError> {
        if self.backend == Backend::Postgres {
            // VACUUM runs outside a transaction: a statement of its own on the pool.
            // (With `synchronous_commit = off` the rows just committed cannot be marked
            // all-visible until the WAL writer has flushed them; autovacuum does it later.)
            sqlx::raw_sql(&format!("VACUUM (ANALYZE) {}", tables.join(", ")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout for another writer): a plain
    /// `BEGIN` reads first and fails with "database is locked", without waiting, when it
    /// then tries to write while another transaction holds the lock.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Closes every connection; queries after this fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn pool_options(backend: Backend) -> AnyPoolOptions {
    // A short acquire timeout: when the database is down, requests and readiness
    // checks should fail in seconds, not hang for the default 30 s.
    let options = AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(3))
        .idle_timeout(Duration::from_secs(600));
    match backend {
        // SQLite serialises writers; WAL lets readers proceed beside the writer, and
        // `synchronous = NORMAL` is durable in WAL mode except across power loss. The
        // page cache may grow to 64 MiB per connection (the default is 2 MiB): a bulk
        // import maintains several indexes over hundreds of thousands of rows, and
        // spilling pages mid-transaction dominated its time. It is only used as filled.
        Backend::Sqlite => options.max_connections(8).after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                )
                .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(16),
    }
}

/// Makes sure the directory of a SQLite file exists and that the file is created on
/// first connect (`mode=rwc`), unless the URL already says how to open it.
fn sqlite_url_creating_dir(url: &str) -> Result<String, StorageError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    if !in_memory {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| StorageError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
    }
    Ok(if query.contains("mode=") || in_memory {
        url.to_owned()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
}

/// A URL fit for logs and errors: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_told_from_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite:data/p.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://root:secret@h/db").unwrap_err();
        assert!(matches!(err, StorageError::UnsupportedUrl(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn sqlite_files_are_created_on_first_connect() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/deeper/p.db");
        let url = format!("sqlite://{}", file.display());
        assert_eq!(
            sqlite_url_creating_dir(&url).unwrap(),
            format!("{url}?mode=rwc")
        );
        assert!(file.parent().unwrap().is_dir());
        // An explicit mode is respected, and in-memory databases touch no disk.
        assert_eq!(
            sqlite_url_creating_dir("sqlite:x.db?mode=ro").unwrap(),
            "sqlite:x.db?mode=ro"
        );
        assert_eq!(
            sqlite_url_creating_dir("sqlite::memory:").unwrap(),
            "sqlite::memory:"
        );
    }

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:pw@db:5432/p"),
            "postgres://app:***@db:5432/p"
        );
        assert_eq!(redact_url("postgres://app@db/p"), "postgres://app@db/p");
        assert_eq!(redact_url("sqlite:data/p.db"), "sqlite:data/p.db");
    }
}
