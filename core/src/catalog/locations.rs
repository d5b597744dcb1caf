//! Registered locations: what may be registered, registering, reading again, removing.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::place::Place;
use super::reader::{read_place, LocationRead};
use super::remote::RemoteReader;
use super::store;
use super::{Catalog, CatalogError, EntityRef, IngestSummary};

/// Where locations registered through the API may point. Deny by default: with nothing
/// configured, only `portico import` (run by an operator) can add locations.
#[derive(Clone, Debug, Default)]
pub struct LocationPolicy {
    /// Directories whose files (and sub-directories) may be registered as `file` locations.
    pub file_roots: Vec<PathBuf>,
    /// Reads URLs on the hosts that may be registered as `url` locations (and that
    /// targets and placeholders may name).
    pub remote: RemoteReader,
}

/// A registered location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
}

/// Why a location cannot be registered or read.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// The request breaks a rule (`field` names what is wrong).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The location is registered already.
    #[error("location {0} is already registered")]
    Exists(String),
    /// No location has this id.
    #[error("no location with id {0}")]
    NotFound(String),
    /// The location could not be read for now (its host did not answer, or answered
    /// with an error); what is stored was kept.
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<sqlx::Error> for LocationError {
    fn from(e: sqlx::Error) -> Self {
        Self::Catalog(e.into())
    }
}

impl LocationPolicy {
    /// The canonical path of a `file` target, if the policy allows it.
    pub fn check_file(&self, target: &str) -> Result<PathBuf, LocationError> {
        let invalid = |message: String| LocationError::Invalid {
            field: "target",
            message,
        };
        if self.file_roots.is_empty() {
            return Err(invalid(
                "file locations cannot be registered here: no directory is allowed (PORTICO_CATALOG_ROOTS)".into(),
            ));
        }
        // Resolve links and `..` first: the check is on where the file really is.
        let path = Path::new(target)
            .canonicalize()
            .map_err(|_| invalid(format!("{target}: no such file or directory")))?;
        let allowed = self
            .file_roots
            .iter()
            .filter_map(|root| root.canonicalize().ok())
            .any(|root| path.starts_with(root));
        if allowed {
            Ok(path)
        } else {
            Err(invalid(format!(
                "{target} is outside the directories allowed by PORTICO_CATALOG_ROOTS"
            )))
        }
    }

    /// The place a `url` target names, if the host allow-list allows it.
    pub fn check_url(&self, target: &str) -> Result<Place, LocationError> {
        self.remote
            .check(target)
            .map(Place::Url)
            .map_err(|message| LocationError::Invalid {
                field: "target",
                message,
            })
    }

    /// The place a location of `kind` (`file` or `url`) at `target` names, if allowed.
    pub fn check(&self, kind: &str, target: &str) -> Result<Place, LocationError> {
        match kind {
            "file" => self.check_file(target).map(Place::File),
            "url" => self.check_url(target),
            other => Err(LocationError::Invalid {
                field: "type",
                message: format!("{other:?} is not a location type (file or url)"),
            }),
        }
    }
}

impl Catalog {
    /// Registers a location (`file` or `url`) the policy allows and reads it at once.
    /// With `dry_run`, only reads and reports what it would store.
    pub async fn add_location(
        &self,
        kind: &str,
        target: &str,
        dry_run: bool,
    ) -> Result<(Location, LocationRead, Option<IngestSummary>), LocationError> {
        let place = self.locations.check(kind, target)?;
        let origin = place.origin();
        let (kind, target) = origin.split_once(':').unwrap_or((kind, target));
        let mut location = Location {
            id: String::new(),
            kind: kind.to_owned(),
            target: target.to_owned(),
        };
        let mut conn = self.db.pool().acquire().await?;
        if !dry_run
            && store::location_by_target(&mut conn, kind, target)
                .await?
                .is_some()
        {
            return Err(LocationError::Exists(origin));
        }
        drop(conn);
        let read = self.read(place).await;
        if let Some(why) = &read.unreadable {
            return Err(LocationError::Invalid {
                field: "target",
                message: why.clone(),
            });
        }
        if read.incomplete {
            return Err(LocationError::Unreadable(incomplete(&read)));
        }
        if dry_run {
            return Ok((location, read, None));
        }
        location.id = self.register_location(kind, target).await?;
        let summary = self.ingest(&origin, read.clone()).await?;
        Ok((location, read, Some(summary)))
    }

    /// Reads a location (off the async runtime: file and URL reads block the reader).
    pub async fn read(&self, place: Place) -> LocationRead {
        let remote = self.locations.remote.clone();
        tokio::task::spawn_blocking(move || read_place(&place, &remote))
            .await
            .unwrap_or_default()
    }

    pub async fn locations(&self) -> Result<Vec<Location>, LocationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(store::locations(&mut conn).await?)
    }

    pub async fn location(&self, id: &str) -> Result<Location, LocationError> {
        let mut conn = self.db.pool().acquire().await?;
        store::location(&mut conn, id)
            .await?
            .ok_or_else(|| LocationError::NotFound(id.to_owned()))
    }

    /// Removes a location; the entities it brought in become orphans.
    pub async fn remove_location(&self, id: &str) -> Result<IngestSummary, LocationError> {
        let location = self.location(id).await?;
        let summary = self
            .ingest(
                &format!("{}:{}", location.kind, location.target),
                LocationRead::default(),
            )
            .await?;
        let mut conn = self.db.pool().acquire().await?;
        store::delete_location(&mut conn, id).await?;
        Ok(summary)
    }

    /// Reads again the location that brought `reference` in, and stores the result.
    pub async fn refresh(&self, reference: &EntityRef) -> Result<IngestSummary, LocationError> {
        let mut conn = self.db.pool().acquire().await?;
        let row = store::by_ref_key(&mut conn, &reference.key())
            .await?
            .ok_or_else(|| LocationError::Invalid {
                field: "entityRef",
                message: format!("no entity {reference}"),
            })?;
        drop(conn);
        let Some(place) = Place::from_origin(&row.origin) else {
            return Err(LocationError::Invalid {
                field: "entityRef",
                message: format!(
                    "{reference} comes from {}, which cannot be read again here",
                    row.origin
                ),
            });
        };
        let read = self.read(place).await;
        if read.incomplete {
            return Err(LocationError::Unreadable(incomplete(&read)));
        }
        Ok(self.ingest(&row.origin, read).await?)
    }
}

/// What made a read incomplete, for people.
pub fn incomplete(read: &LocationRead) -> String {
    let why: Vec<String> = read.warnings.iter().map(ToString::to_string).collect();
    format!(
        "the location could not be read completely, so nothing was changed: {}",
        why.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_targets_must_be_inside_an_allowed_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("catalog-info.yaml"), "").unwrap();
        std::fs::write(outside.path().join("secret.yaml"), "").unwrap();
        let policy = LocationPolicy {
            file_roots: vec![root.path().to_owned()],
            remote: RemoteReader::default(),
        };

        assert!(policy
            .check_file(root.path().join("catalog-info.yaml").to_str().unwrap())
            .is_ok());
        let escape = root
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap())
            .join("secret.yaml");
        let err = policy
            .check_file(escape.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is outside the directories allowed by PORTICO_CATALOG_ROOTS"),
            "{err}"
        );
        #[cfg(unix)]
        {
            let link = root.path().join("link.yaml");
            std::os::unix::fs::symlink(outside.path().join("secret.yaml"), &link).unwrap();
            assert!(
                policy.check_file(link.to_str().unwrap()).is_err(),
                "links are followed before the check"
            );
        }
        let none = LocationPolicy::default();
        assert!(none
            .check_file(root.path().join("catalog-info.yaml").to_str().unwrap())
            .unwrap_err()
            .to_string()
            .contains("no directory is allowed"));
    }

    #[test]
    fn url_targets_must_name_an_allowed_host() {
        let policy = LocationPolicy {
            file_roots: vec![],
            remote: RemoteReader::new(vec!["git.example.com".into()]),
        };
        assert!(policy
            .check("url", "https://git.example.com/org/repo/catalog-info.yaml")
            .is_ok());
        for bad in [
            "https://169.254.169.254/latest",
            "http://git.example.com.evil.net/x",
            "https://user@internal/x",
            "file:///etc/passwd",
        ] {
            assert!(policy.check("url", bad).is_err(), "{bad}");
        }
        let err = policy.check("github", "x").unwrap_err().to_string();
        assert_eq!(err, "type: \"github\" is not a location type (file or url)");
    }
}
