//! `portico import <file-or-dir>...`: reads catalog files into the database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use portico_core::catalog::place::Place;
use portico_core::catalog::IngestSummary;
use portico_core::Portal;

use crate::config::Config;
use crate::startup::StartupError;

/// Imports each path as a registered file location. Succeeds when every document was
/// accepted; rejected documents (and paths that cannot be read) give exit code 1.
/// Warnings (a listed target that is missing, an unreadable placeholder) are printed but
/// reject nothing.
pub async fn run(config: &Config, paths: &[PathBuf]) -> Result<ExitCode, StartupError> {
    let portal =
        Portal::open(config.database_url.expose())?.with_settings(config.portal_settings());
    portal.db().migrate().await?;
    let catalog = portal.catalog();
    let mut all_accepted = true;
    for path in paths {
        let root = match path.canonicalize() {
            Ok(root) => root,
            Err(e) => {
                eprintln!("error: {}: {}", path.display(), describe(&e));
                all_accepted = false;
                continue;
            }
        };
        let origin = format!("file:{}", root.display());
        let started = Instant::now();
        let read = catalog.read(Place::File(root.clone())).await;
        let read_in = started.elapsed();
        catalog
            .register_location("file", &root.display().to_string())
            .await?;
        let summary = catalog.ingest(&origin, read).await?;
        report(path, &summary, read_in, started.elapsed() - read_in);
        all_accepted &= summary.rejected.is_empty();
    }
    portal.db().close().await;
    Ok(if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report(path: &Path, summary: &IngestSummary, read_in: Duration, stored_in: Duration) {
    println!(
        "{}: {} added, {} updated, {} unchanged, {} orphaned, {} rejected, {} warnings \
         (read in {:.2} s, stored in {:.2} s)",
        path.display(),
        summary.added,
        summary.updated,
        summary.unchanged,
        summary.orphaned,
        summary.rejected.len(),
        summary.warnings.len(),
        read_in.as_secs_f64(),
        stored_in.as_secs_f64()
    );
    for problem in &summary.rejected {
        eprintln!("error: {problem}");
    }
    for problem in &summary.warnings {
        eprintln!("warning: {problem}");
    }
}

fn describe(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        _ => error.to_string(),
    }
}
