/// What can go wrong below the domain: reaching, configuring or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database URL names a scheme other than `sqlite:` or `postgres:`.
    #[error("unsupported database URL scheme in {0:?}: expected sqlite: or postgres:")]
    UnsupportedUrl(String),
    /// The database URL could not be parsed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// The directory for a SQLite file could not be created.
    #[error("cannot create the directory {path} for the SQLite database")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A query failed: the database is unreachable, or it refused the statement.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
}
