//! The demo's golden paths: two templates written for Portico (a Rust HTTP service and
//! a static website) with real skeletons. They are built into the binary and written
//! out under the data directory at start, so their skeletons resolve next to them like
//! any template registered from files.

use std::path::{Path, PathBuf};

use crate::catalog::place::Place;
use crate::catalog::{CatalogError, IngestSummary};
use crate::Portal;

/// The host the demo's templates publish to (its repositories go under the data
/// directory).
pub const DEMO_GIT_HOST: &str = "git.northwind.test";

macro_rules! file {
    ($path:literal) => {
        ($path, include_str!(concat!("golden-paths/", $path)))
    };
}

/// Every file, by its path under the golden paths' directory.
const FILES: &[(&str, &str)] = &[
    file!("golden-paths.yaml"),
    file!("rust-service/skeleton/.github/workflows/ci.yml"),
    file!("rust-service/skeleton/.gitignore"),
    file!("rust-service/skeleton/Cargo.toml"),
    file!("rust-service/skeleton/README.md"),
    file!("rust-service/skeleton/catalog-info.yaml"),
    file!("rust-service/skeleton/src/main.rs"),
    file!("rust-service/template.yaml"),
    file!("static-site/skeleton/.github/workflows/pages.yml"),
    file!("static-site/skeleton/README.md"),
    file!("static-site/skeleton/catalog-info.yaml"),
    file!("static-site/skeleton/index.html"),
    file!("static-site/skeleton/style.css"),
    file!("static-site/template.yaml"),
];

/// The catalog file that lists the templates.
const LOCATION_FILE: &str = "golden-paths.yaml";

/// Writes the golden paths under `dir` (replacing an earlier version's files) and
/// registers them as a file location, read at once. Returns what the catalog did.
pub async fn install(portal: &Portal, dir: &Path) -> Result<IngestSummary, InstallError> {
    let dir = write_files(dir)?;
    let location = dir.join(LOCATION_FILE);
    let catalog = portal.catalog();
    let read = catalog.read(Place::File(location.clone())).await;
    catalog
        .register_location("file", &location.display().to_string())
        .await?;
    Ok(catalog
        .ingest(&format!("file:{}", location.display()), read)
        .await?)
}

fn write_files(dir: &Path) -> Result<PathBuf, InstallError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| InstallError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let dir = dir.canonicalize().map_err(io(dir))?;
    for (path, contents) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&file, contents).map_err(io(&file))?;
    }
    Ok(dir)
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot write the demo golden paths at {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::TemplateSpec;

    #[test]
    fn every_golden_path_is_a_valid_template() {
        let dir = tempfile::tempdir().unwrap();
        let dir = write_files(dir.path()).unwrap();
        let read = crate::catalog::reader::read_location(&dir.join(LOCATION_FILE));
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        let templates: Vec<_> = read
            .entities
            .iter()
            .filter(|e| e.entity.kind() == "Template")
            .collect();
        assert_eq!(templates.len(), 2);
        for template in templates {
            let body = template.entity.as_map().clone().into();
            TemplateSpec::from_entity(&body).unwrap();
        }
    }
}
