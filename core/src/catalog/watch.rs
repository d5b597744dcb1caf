//! Keeps the catalog fresh: watches the files of every registered file location and
//! reads a location again as soon as one of its files changes; reads URL locations
//! again every minute (a remote host has no change feed to follow).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::locations::Location;
use super::place::Place;
use super::Catalog;

/// Changes arriving within this window are read together: an editor's save is a burst
/// of events (write, rename, attributes) within a few milliseconds, and a `git pull`
/// touches many files at once. Short, because it adds to every change's latency.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// How often the registered locations are listed again, to watch the ones added since
/// (by the API or by `portico import` from another process).
const RESCAN: Duration = Duration::from_secs(2);

/// How often a URL location is read again. An unchanged location costs one request and
/// no write (its entities' etags are unchanged).
const URL_REFRESH: Duration = Duration::from_secs(60);

/// Watches registered file locations; see the module documentation.
pub struct CatalogWatcher {
    catalog: Catalog,
    /// Origin (`file:/path`, `url:https://…`) → the files on disk it consists of.
    locations: HashMap<String, HashSet<PathBuf>>,
    /// URL origin → when it was last read.
    remote: HashMap<String, Instant>,
    /// Directories watched, and whether recursively.
    watched: HashMap<PathBuf, RecursiveMode>,
}

impl CatalogWatcher {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            locations: HashMap::new(),
            remote: HashMap::new(),
            watched: HashMap::new(),
        }
    }

    /// Runs until the task is dropped. Every location is read once at start (files may
    /// have changed while the server was down), then again whenever its files change.
    pub async fn run(mut self) -> Result<(), notify::Error> {
        let (sender, mut changes) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Called on notify's own thread; an unbounded send never blocks it.
                let _ = sender.send(event);
            })?;
        let mut rescan = tokio::time::interval(RESCAN);
        loop {
            tokio::select! {
                _ = rescan.tick() => self.rescan(&mut watcher).await,
                Some(first) = changes.recv() => {
                    let mut paths = HashSet::new();
                    collect(first, &mut paths);
                    let window = tokio::time::sleep(DEBOUNCE);
                    tokio::pin!(window);
                    loop {
                        tokio::select! {
                            () = &mut window => break,
                            Some(more) = changes.recv() => collect(more, &mut paths),
                        }
                    }
                    let affected: Vec<String> = self
                        .locations
                        .iter()
                        .filter(|(origin, files)| paths.iter().any(|p| concerns(origin, files, p)))
                        .map(|(origin, _)| origin.clone())
                        .collect();
                    for origin in affected {
                        self.read(&origin, &mut watcher).await;
                    }
                }
            }
        }
    }

    /// Watches locations registered since the last scan (reading each once), drops
    /// the ones removed, and reads URL locations that are due.
    async fn rescan(&mut self, watcher: &mut RecommendedWatcher) {
        let registered: Vec<Location> = match self.catalog.locations().await {
            Ok(all) => all,
            Err(e) => {
                warn!(
                    error = &e as &dyn std::error::Error,
                    "catalog watcher: listing locations"
                );
                return;
            }
        };
        let origins: HashSet<String> = registered
            .iter()
            .map(|l| format!("{}:{}", l.kind, l.target))
            .collect();
        self.locations.retain(|origin, _| origins.contains(origin));
        self.remote.retain(|origin, _| origins.contains(origin));
        for origin in origins {
            let due = if origin.starts_with("url:") {
                self.remote
                    .get(&origin)
                    .is_none_or(|read| read.elapsed() >= URL_REFRESH)
            } else {
                !self.locations.contains_key(&origin)
            };
            if due {
                self.read(&origin, watcher).await;
            }
        }
        self.sync_watches(watcher);
    }

    /// Reads one location again, stores the result and updates what is watched.
    async fn read(&mut self, origin: &str, watcher: &mut RecommendedWatcher) {
        let Some(place) = Place::from_origin(origin) else {
            return;
        };
        if let Place::Url(_) = place {
            self.remote.insert(origin.to_owned(), Instant::now());
        }
        let mut files: HashSet<PathBuf> = HashSet::new();
        if let Place::File(path) = &place {
            files.insert(path.clone());
        }
        let read = self.catalog.read(place).await;
        files.extend(read.files.iter().cloned());
        if read.incomplete {
            // Keep what is stored; the next scheduled read tries again.
            warn!(origin, problems = ?read.warnings, "catalog location not read completely; kept as stored");
            self.locations.insert(origin.to_owned(), files);
            return;
        }
        match self.catalog.ingest(origin, read).await {
            Ok(summary) if summary.added + summary.updated + summary.orphaned > 0 => info!(
                origin,
                added = summary.added,
                updated = summary.updated,
                orphaned = summary.orphaned,
                rejected = summary.rejected.len(),
                "catalog location read again"
            ),
            Ok(_) => debug!(origin, "catalog location unchanged"),
            Err(e) => warn!(
                origin,
                error = &e as &dyn std::error::Error,
                "catalog watcher: storing a location"
            ),
        }
        self.locations.insert(origin.to_owned(), files);
        self.sync_watches(watcher);
    }

    /// Watches exactly the directories the locations' files are in.
    fn sync_watches(&mut self, watcher: &mut RecommendedWatcher) {
        let mut wanted: HashMap<PathBuf, RecursiveMode> = HashMap::new();
        for files in self.locations.values() {
            for file in files {
                if file.is_dir() {
                    wanted.insert(file.clone(), RecursiveMode::Recursive);
                } else if let Some(dir) = file.parent().filter(|d| d.is_dir()) {
                    wanted
                        .entry(dir.to_owned())
                        .or_insert(RecursiveMode::NonRecursive);
                }
            }
        }
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(dir, mode)| wanted.get(*dir) != Some(*mode))
            .map(|(dir, _)| dir.clone())
            .collect();
        for dir in stale {
            let _ = watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
        for (dir, mode) in wanted {
            if self.watched.contains_key(&dir) {
                continue;
            }
            match watcher.watch(&dir, mode) {
                Ok(()) => {
                    self.watched.insert(dir, mode);
                }
                Err(e) => warn!(dir = %dir.display(), error = %e, "catalog watcher: cannot watch"),
            }
        }
    }
}

fn collect(event: notify::Result<notify::Event>, paths: &mut HashSet<PathBuf>) {
    match event {
        Ok(event) => paths.extend(event.paths),
        Err(e) => warn!(error = %e, "catalog watcher: file event error"),
    }
}

/// Whether a change at `path` concerns a location: one of its files, or a YAML file
/// inside a directory location.
fn concerns(origin: &str, files: &HashSet<PathBuf>, path: &Path) -> bool {
    if files.contains(path) {
        return true;
    }
    let root = Path::new(origin.trim_start_matches("file:"));
    root.is_dir()
        && path.starts_with(root)
        && path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}
