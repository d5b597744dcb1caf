//! The probe engine: runs every probe on its own jittered schedule with bounded
//! concurrency, judges the results with hysteresis, and writes them in batches.
//!
//! - **Catalog changes** are picked up without a restart: the engine follows the event
//!   bus and re-reads the annotations of each entity that changed (and everything after
//!   it fell behind).
//! - **Supervision**: each check runs as its own task; one that panics is logged and its
//!   probe scheduled again, and the engine goes on. The engine itself runs under the
//!   server's supervisor, which restarts it if it fails.
//! - **One engine per database**: on PostgreSQL, replicas elect the instance that
//!   probes through an advisory lock held on a connection of its own; if that
//!   instance goes away, its connection closes, the lock is released, and another
//!   takes over.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::check::{check, client, Observation};
use super::hysteresis::{Thresholds, Tracker};
use super::{declared, ProbeDefaults, ProbeSpec};
use crate::catalog::reference::RefContext;
use crate::catalog::EntityRef;
use crate::environments::health::CheckResult;
use crate::environments::{EnvironmentError, Environments, HealthStatus, PROBES_TOPIC};
use crate::events::Event;
use crate::storage::sql::now_millis;
use crate::storage::Backend;

/// The advisory lock whose holder probes, on PostgreSQL.
const LEADER_LOCK: i64 = 0x706f_7274_6963_6f01;
/// How often a replica that does not probe tries to take over.
const FOLLOWER_RETRY: Duration = Duration::from_secs(5);
/// How often the leader checks that its lock connection is alive.
const LEADER_CHECK: Duration = Duration::from_secs(10);
/// Results are written at least this often, or once this many are waiting.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
const FLUSH_AT: usize = 500;
/// Attempts to write a batch before it is given up (about a minute: longer than a
/// blip, shorter than holding results that can never be written).
const GIVE_UP_AFTER: u32 = 10;
/// How often old checks are rolled up and dropped.
const COMPACT_EVERY: Duration = Duration::from_secs(600);
/// Share of an interval by which each run is moved, so probes started together drift
/// apart.
const JITTER: f64 = 0.1;

/// How the engine works.
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    /// Checks in flight at once, at most.
    pub concurrency: usize,
    pub thresholds: Thresholds,
    pub defaults: ProbeDefaults,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            thresholds: Thresholds::default(),
            defaults: ProbeDefaults::default(),
        }
    }
}

/// Told about every check (for metrics): how late it started, and what it saw.
pub trait ProbeObserver: Send + Sync + 'static {
    fn checked(&self, lag: Duration, outcome: HealthStatus);
    /// A check task panicked.
    fn panicked(&self);
    /// The number of probes scheduled changed.
    fn scheduled(&self, probes: usize);
}

/// Tells nobody.
pub struct Unobserved;

impl ProbeObserver for Unobserved {
    fn checked(&self, _: Duration, _: HealthStatus) {}
    fn panicked(&self) {}
    fn scheduled(&self, _: usize) {}
}

type Key = (String, String);

/// One scheduled probe.
struct Scheduled {
    spec: ProbeSpec,
    tracker: Tracker,
    due: Instant,
    /// A check is in flight (a probe never overlaps itself).
    running: bool,
}

/// The probes and when each is next due.
#[derive(Default)]
struct Schedule {
    probes: HashMap<Key, Scheduled>,
    /// `(due, key)`; entries whose due no longer matches the probe's are stale.
    queue: BinaryHeap<Reverse<(Instant, Key)>>,
}

impl Schedule {
    fn set_due(&mut self, key: &Key, due: Instant) {
        if let Some(probe) = self.probes.get_mut(key) {
            probe.due = due;
            self.queue.push(Reverse((due, key.clone())));
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((due, _))| *due)
    }

    /// The probes due by `now` that are not running.
    fn take_due(&mut self, now: Instant) -> Vec<Key> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.queue.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.queue.pop() else {
                break;
            };
            if let Some(probe) = self.probes.get_mut(&key) {
                if probe.due == at && !probe.running {
                    probe.running = true;
                    due.push(key);
                }
            }
        }
        due
    }
}

/// A random time within `0..span`.
fn random_within(span: Duration) -> Duration {
    span.mul_f64(fastrand::f64())
}

/// `interval`, moved by up to ±[`JITTER`] of itself.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + JITTER * (2.0 * fastrand::f64() - 1.0))
}

pub struct ProbeEngine {
    environments: Environments,
    settings: ProbeSettings,
    observer: Arc<dyn ProbeObserver>,
}

impl ProbeEngine {
    pub fn new(
        environments: Environments,
        settings: ProbeSettings,
        observer: Arc<dyn ProbeObserver>,
    ) -> Self {
        Self {
            environments,
            settings,
            observer,
        }
    }

    /// Probes until an error (a lost database); the caller restarts it.
    pub async fn run(self) -> Result<(), EnvironmentError> {
        let leader = self.lead().await?;
        let mut bus = self.environments.events().subscribe();
        let mut schedule = Schedule::default();
        let mut problems: HashMap<Key, String> = HashMap::new();
        self.sync_all(&mut schedule, &mut problems, true).await?;
        info!(probes = schedule.probes.len(), "probe engine started");

        let (results, pending) = mpsc::channel::<CheckResult>(FLUSH_AT * 20);
        let writer = write_results(self.environments.clone(), pending);
        tokio::pin!(writer);
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let client = client();
        let mut running: JoinSet<(Key, Observation)> = JoinSet::new();
        let mut tasks: HashMap<Id, Key> = HashMap::new();
        let mut compact = tokio::time::interval(COMPACT_EVERY);
        let mut leader_check = tokio::time::interval(LEADER_CHECK);
        let mut leader = leader;

        loop {
            let next = schedule
                .next_due()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    for key in schedule.take_due(Instant::now()) {
                        let Some(probe) = schedule.probes.get(&key) else { continue };
                        let spec = probe.spec.clone();
                        let due = probe.due;
                        let permits = Arc::clone(&permits);
                        let client = client.clone();
                        let observer = Arc::clone(&self.observer);
                        let task_key = key.clone();
                        let handle = running.spawn(async move {
                            let _permit = permits.acquire_owned().await;
                            let lag = Instant::now().saturating_duration_since(due);
                            let observation = check(&client, &spec.url, spec.timeout(), spec.slow()).await;
                            observer.checked(lag, observation.outcome);
                            (task_key, observation)
                        });
                        tasks.insert(handle.id(), key);
                    }
                }
                Some(joined) = running.join_next_with_id(), if !running.is_empty() => {
                    let (key, observation) = match joined {
                        Ok((id, done)) => {
                            tasks.remove(&id);
                            done
                        }
                        Err(e) => {
                            let key = tasks.remove(&e.id());
                            if e.is_panic() {
                                self.observer.panicked();
                                tracing::error!(probe = ?key, "a health check panicked; scheduling it again");
                            }
                            if let Some(key) = key {
                                finished(&mut schedule, &key);
                            }
                            continue;
                        }
                    };
                    let Some(probe) = schedule.probes.get_mut(&key) else { continue };
                    let status = probe.tracker.observe(observation.outcome, self.settings.thresholds);
                    finished(&mut schedule, &key);
                    let result = CheckResult {
                        entity: key.0,
                        environment: key.1,
                        at: now_millis(),
                        outcome: observation.outcome,
                        latency_ms: observation.latency_ms,
                        message: observation.message,
                        status,
                    };
                    if results.send(result).await.is_err() {
                        return Err(EnvironmentError::Conflict("the health result writer stopped".into()));
                    }
                }
                received = bus.recv() => match received {
                    Ok(event) => self.follow(&event, &mut schedule, &mut problems).await?,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        debug!(missed, "probe engine fell behind the catalog: reading it all again");
                        self.sync_all(&mut schedule, &mut problems, false).await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = compact.tick() => {
                    match self.environments.compact_history(now_millis()).await {
                        Ok(removed) if removed > 0 => debug!(removed, "health history compacted"),
                        Ok(_) => {}
                        Err(e) => warn!(error = &e as &dyn std::error::Error, "cannot compact the health history"),
                    }
                }
                _ = leader_check.tick() => {
                    if let Some(connection) = leader.as_mut() {
                        connection.ping().await.map_err(EnvironmentError::from)?;
                    }
                }
                written = &mut writer => return written,
            }
        }
    }

    /// On PostgreSQL, waits until this instance holds the probing lock, and returns
    /// the connection that holds it; on SQLite there is one process, which probes.
    async fn lead(&self) -> Result<Option<sqlx::AnyConnection>, EnvironmentError> {
        let db = self.environments.db();
        if db.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut announced = false;
        loop {
            let mut connection = db.pool().acquire().await?.detach();
            let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(LEADER_LOCK)
                .fetch_one(&mut connection)
                .await?;
            if held {
                return Ok(Some(connection));
            }
            if !announced {
                info!("another instance runs the health probes; standing by");
                announced = true;
            }
            drop(connection);
            tokio::time::sleep(FOLLOWER_RETRY).await;
        }
    }

    /// Reacts to one published event: a catalog entity changed, a probe was changed
    /// through the API, or environments were added or removed.
    async fn follow(
        &self,
        event: &Event,
        schedule: &mut Schedule,
        problems: &mut HashMap<Key, String>,
    ) -> Result<(), EnvironmentError> {
        match event.topic.as_str() {
            "catalog" if event.event_type.starts_with("entity.") => {
                let Some(reference) = event.payload["ref"]
                    .as_str()
                    .and_then(|r| EntityRef::parse(r, RefContext::STANDALONE).ok())
                else {
                    return Ok(());
                };
                let key = reference.key();
                // Most catalog changes concern no probe: one read of the entity tells.
                let scheduled = schedule.probes.keys().any(|(entity, _)| *entity == key);
                if !scheduled && !problems.keys().any(|(entity, _)| *entity == key) {
                    let declares = self
                        .environments
                        .catalog()
                        .entity(&reference)
                        .await?
                        .is_some_and(|e| {
                            !declared(&key, &e.body, &self.settings.defaults).is_empty()
                        });
                    if !declares {
                        return Ok(());
                    }
                }
                let environments = self.environment_names().await?;
                self.sync_entities(std::slice::from_ref(&key), &environments, problems)
                    .await?;
                self.reload(schedule, Some(&key)).await
            }
            PROBES_TOPIC => {
                let entity = event.payload["entity"].as_str().unwrap_or_default();
                self.reload(schedule, Some(entity)).await
            }
            "deployments" if event.event_type.starts_with("environment.") => {
                self.sync_all(schedule, problems, false).await
            }
            _ => Ok(()),
        }
    }

    async fn environment_names(&self) -> Result<HashSet<String>, EnvironmentError> {
        Ok(self
            .environments
            .list()
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect())
    }

    /// Reads every entity's annotations again and reloads the whole schedule.
    async fn sync_all(
        &self,
        schedule: &mut Schedule,
        problems: &mut HashMap<Key, String>,
        starting: bool,
    ) -> Result<(), EnvironmentError> {
        let environments = self.environment_names().await?;
        let mut keys: Vec<String> = self.environments.entities_declaring_probes().await?;
        keys.extend(self.environments.annotated_entities().await?);
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(500) {
            self.sync_entities(chunk, &environments, problems).await?;
        }
        if starting {
            // Start from the stored statuses, spread over each probe's interval.
            let statuses = self.environments.statuses().await?;
            let now = Instant::now();
            for spec in self.environments.probes(None, None).await? {
                let key = (spec.entity.clone(), spec.environment.clone());
                let status = statuses.get(&key).copied().unwrap_or(HealthStatus::Unknown);
                let due = now + random_within(spec.interval());
                schedule.probes.insert(
                    key.clone(),
                    Scheduled {
                        spec,
                        tracker: Tracker::new(status),
                        due,
                        running: false,
                    },
                );
                schedule.set_due(&key, due);
            }
            self.observer.scheduled(schedule.probes.len());
            Ok(())
        } else {
            self.reload(schedule, None).await
        }
    }

    /// Makes the stored annotation probes of `keys` what their entities declare now,
    /// and shows bad annotations as the health of what they declare.
    async fn sync_entities(
        &self,
        keys: &[String],
        environments: &HashSet<String>,
        problems: &mut HashMap<Key, String>,
    ) -> Result<(), EnvironmentError> {
        let references: Vec<EntityRef> = keys
            .iter()
            .filter_map(|k| EntityRef::parse(k, RefContext::STANDALONE).ok())
            .collect();
        let entities = self.environments.catalog().entities(&references).await?;
        let mut reports = Vec::new();
        for (key, entity) in keys.iter().zip(entities) {
            let mut specs = Vec::new();
            if let Some(entity) = entity {
                for (environment, spec) in declared(key, &entity.body, &self.settings.defaults) {
                    if !environments.contains(&environment) {
                        debug!(entity = %key, environment, "a health URL names an environment that is not defined; ignored");
                        continue;
                    }
                    let pair = (key.clone(), environment.clone());
                    match spec {
                        Ok(spec) => {
                            problems.remove(&pair);
                            specs.push(spec);
                        }
                        Err(e) => {
                            let message = e.to_string();
                            if problems.get(&pair) != Some(&message) {
                                warn!(entity = %key, environment, error = %message, "a health probe annotation is invalid");
                                reports.push(CheckResult {
                                    entity: key.clone(),
                                    environment,
                                    at: now_millis(),
                                    outcome: HealthStatus::Unknown,
                                    latency_ms: None,
                                    message: Some(format!("cannot probe: {message}")),
                                    status: HealthStatus::Unknown,
                                });
                                problems.insert(pair, message);
                            }
                        }
                    }
                }
            }
            self.environments.sync_declared(key, &specs).await?;
        }
        self.environments.record(&reports, "probe").await?;
        Ok(())
    }

    /// Reloads the stored probes (all, or one entity's) into the schedule: new ones are
    /// checked within a second, changed ones start over, removed ones stop.
    async fn reload(
        &self,
        schedule: &mut Schedule,
        entity: Option<&str>,
    ) -> Result<(), EnvironmentError> {
        let stored: BTreeMap<Key, ProbeSpec> = self
            .environments
            .probes(entity, None)
            .await?
            .into_iter()
            .map(|spec| ((spec.entity.clone(), spec.environment.clone()), spec))
            .collect();
        schedule
            .probes
            .retain(|key, _| entity.is_some_and(|e| e != key.0) || stored.contains_key(key));
        let now = Instant::now();
        for (key, spec) in stored {
            let soon = now + random_within(spec.interval().min(Duration::from_secs(1)));
            match schedule.probes.get_mut(&key) {
                Some(probe) if probe.spec == spec => {}
                Some(probe) => {
                    probe.spec = spec;
                    probe.tracker = Tracker::new(HealthStatus::Unknown);
                    schedule.set_due(&key, soon);
                }
                None => {
                    schedule.probes.insert(
                        key.clone(),
                        Scheduled {
                            spec,
                            tracker: Tracker::new(HealthStatus::Unknown),
                            due: soon,
                            running: false,
                        },
                    );
                    schedule.set_due(&key, soon);
                }
            }
        }
        self.observer.scheduled(schedule.probes.len());
        Ok(())
    }
}

/// A check of `key` ended (or died): it is due again an interval after it was due.
fn finished(schedule: &mut Schedule, key: &Key) {
    let Some(probe) = schedule.probes.get_mut(key) else {
        return;
    };
    probe.running = false;
    let next = (probe.due + jittered(probe.spec.interval())).max(Instant::now());
    schedule.set_due(key, next);
}

/// Writes results in batches; a batch that cannot be written (the database is away)
/// is kept and tried again, so no result is lost to a blip.
async fn write_results(
    environments: Environments,
    mut pending: mpsc::Receiver<CheckResult>,
) -> Result<(), EnvironmentError> {
    let mut batch = Vec::new();
    let mut delay = Duration::from_millis(250);
    let mut attempts = 0;
    loop {
        if batch.is_empty() {
            match pending.recv().await {
                Some(result) => batch.push(result),
                None => return Ok(()),
            }
        }
        let deadline = tokio::time::sleep(FLUSH_EVERY);
        tokio::pin!(deadline);
        while batch.len() < FLUSH_AT {
            tokio::select! {
                received = pending.recv() => match received {
                    Some(result) => batch.push(result),
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        match environments.record(&batch, "probe").await {
            Ok(_) => {
                batch.clear();
                delay = Duration::from_millis(250);
                attempts = 0;
            }
            Err(e) if attempts >= GIVE_UP_AFTER => {
                tracing::error!(
                    error = &e as &dyn std::error::Error,
                    results = batch.len(),
                    "health results could not be written for a minute; dropped"
                );
                batch.clear();
                attempts = 0;
            }
            Err(e) => {
                attempts += 1;
                warn!(error = &e as &dyn std::error::Error, results = batch.len(), retry_in = ?delay, "cannot write health results yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
