//! Template runs ("tasks"), kept in the database.
//!
//! A task is created `open` and claimed at once by the instance that received it: the
//! secrets given with it live only in that instance's memory, never in the database.
//! That instance runs it (`processing`) as soon as one of its slots is free, refreshing
//! a heartbeat meanwhile, and ends it `completed`, `failed` or `cancelled`.
//!
//! Every log line and step change is an event on `task:<id>` in the event log: the API
//! reads a task's events from there, and the live channel publishes them.
//!
//! A task whose instance stopped (its heartbeat went stale; on SQLite, any unfinished
//! task at start-up, as only one process uses the file) is failed with the reason, or,
//! when its template asks for `EXPERIMENTAL_recovery: startOver`, put back `open` and
//! unclaimed: any instance's worker claims it with a compare-and-set, so one task never
//! runs twice.

mod store;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};
use sqlx::Row;
use tokio::sync::{mpsc, watch, Semaphore};

use super::actions::RunUser;
use super::expression::Expressions;
use super::model::TemplateSpec;
use super::runner::{Outcome, Progress, Redactor, Run, StepState, StepStatus};
use super::workspace::Workspace;
use super::{TemplateError, TemplateSettings, Templates};
use crate::events::NewEvent;
use crate::storage::sql::{from_millis, now_millis};
use crate::storage::Backend;

/// How often a running instance says its tasks are alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// A task whose heartbeat is older than this lost its instance.
const STALE_AFTER_MS: i64 = 60_000;
/// Why a task whose instance stopped failed.
const INTERRUPTED: &str =
    "interrupted: the server stopped while this task ran; run the template again";
/// Tasks one instance runs at once; more wait `open`.
const SLOTS: usize = 4;
/// The most tasks one page lists.
pub const MAX_PAGE: i64 = 100;

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Open,
            Self::Processing,
            Self::Completed,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task as stored.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub template_ref: String,
    pub spec: TemplateSpec,
    pub parameters: Value,
    pub created_by: String,
    pub user_ref: Option<String>,
    pub status: TaskStatus,
    pub steps: Vec<StepState>,
    pub output: Value,
    pub error: Option<String>,
    pub heartbeat_at: Option<i64>,
    pub cancel_requested_at: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

fn rfc3339(millis: i64) -> String {
    from_millis(millis)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Task {
    /// The task as Backstage's scaffolder API shows it, with Portico's additions (each
    /// step's status, the output, the error, the times).
    pub fn to_api(&self) -> Value {
        json!({
            "id": self.id,
            "spec": {
                "apiVersion": super::model::TEMPLATE_API_VERSION,
                "parameters": self.parameters,
                "steps": self.spec.steps,
                "output": self.spec.output,
                "templateInfo": {"entityRef": self.template_ref, "title": self.spec.title},
                "user": {"ref": self.user_ref},
            },
            "status": self.status,
            "createdBy": self.created_by,
            "createdAt": rfc3339(self.created_at),
            "lastHeartbeatAt": self.heartbeat_at.map(rfc3339),
            "startedAt": self.started_at.map(rfc3339),
            "completedAt": self.finished_at.map(rfc3339),
            "steps": self.steps,
            "output": self.output,
            "error": self.error,
        })
    }
}

/// One entry of a task's log, as Backstage's `GET /v2/tasks/{id}/events` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskEvent {
    pub id: i64,
    #[serde(rename = "taskId")]
    pub task_id: String,
    /// `log`, `completion`, `cancelled` or `recovered`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub body: Value,
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

impl TaskEvent {
    /// The task event an event-log entry on `task:<id>` holds.
    pub fn from_event(task_id: &str, event: &crate::events::Event) -> Self {
        Self {
            id: event.id,
            task_id: task_id.to_owned(),
            event_type: event
                .event_type
                .strip_prefix("task.")
                .unwrap_or(&event.event_type)
                .to_owned(),
            body: event.payload.clone(),
            created_at: rfc3339(
                event.created_at.unix_timestamp() * 1000
                    + i64::from(event.created_at.millisecond()),
            ),
        }
    }

    /// Whether nothing follows this event in the task's log.
    pub fn is_last(&self) -> bool {
        self.event_type == "completion" || self.event_type == "cancelled"
    }
}

pub fn topic(task_id: &str) -> String {
    format!("task:{task_id}")
}

/// What an instance shares among its handles: its identity, its running tasks and
/// the secrets of the tasks it will run.
pub struct Runtime {
    pub(super) settings: TemplateSettings,
    pub(super) expressions: Expressions,
    instance: String,
    running: Mutex<HashMap<String, watch::Sender<bool>>>,
    secrets: Mutex<HashMap<String, Map<String, Value>>>,
    slots: Semaphore,
}

impl Runtime {
    pub fn new(settings: TemplateSettings) -> Self {
        Self {
            settings,
            expressions: Expressions::new(),
            instance: uuid::Uuid::new_v4().to_string(),
            running: Mutex::default(),
            secrets: Mutex::default(),
            slots: Semaphore::new(SLOTS),
        }
    }
}

/// Which tasks to list.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only this principal's (`user:ada`).
    pub created_by: Option<String>,
    pub status: Option<TaskStatus>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Templates {
    /// Starts a run of `template_ref` with the form's `values`; returns the task id.
    /// Values that do not satisfy the template's parameters are refused, every failing
    /// field named, and nothing is stored.
    pub async fn create_task(
        &self,
        user: RunUser,
        template_ref: &str,
        values: &Value,
        secrets: Map<String, Value>,
    ) -> Result<String, TemplateError> {
        let (entity, mut spec) = self.template(template_ref).await?;
        let values = self.check_values(&spec, values)?;
        if let Some((approvers, min)) =
            super::gate::required(&entity.body, &self.runtime.settings.approval_tags)
        {
            let first = super::gate::step(&spec, &user.actor, &approvers, min, &values);
            spec.steps.insert(0, first);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let steps: Vec<StepState> = spec.steps.iter().map(StepState::open).collect();
        let now = now_millis();
        let mut tx = self.db.begin_write().await?;
        store::insert(
            &mut tx,
            &store::NewTask {
                id: &id,
                template_ref: &spec.reference,
                spec: serde_json::to_string(&spec).unwrap_or_default(),
                parameters: values.to_string(),
                created_by: &user.actor,
                user_ref: user.entity_ref.as_deref(),
                steps: serde_json::to_string(&steps).unwrap_or_default(),
                claimed_by: &self.runtime.instance,
                now,
            },
        )
        .await?;
        self.events
            .append(
                &mut tx,
                &NewEvent::new(
                    topic(&id),
                    "task.log",
                    json!({"message": format!("{} started {}", user.actor, spec.title), "status": "open"}),
                ),
            )
            .await?;
        tx.commit().await?;
        self.events.committed();
        self.runtime
            .secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), secrets);
        self.spawn(id.clone(), user);
        Ok(id)
    }

    pub async fn task(&self, id: &str) -> Result<Task, TemplateError> {
        let mut conn = self.db.pool().acquire().await?;
        store::by_id(&mut conn, id)
            .await?
            .ok_or_else(|| TemplateError::NotFound(format!("no task {id}")))
    }

    /// Tasks newest first, and how many match in all.
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<(Vec<Task>, i64), TemplateError> {
        let limit = filter.limit.unwrap_or(20).clamp(1, MAX_PAGE);
        let offset = filter.offset.unwrap_or(0).max(0);
        let mut conn = self.db.pool().acquire().await?;
        store::list(
            &mut conn,
            filter.created_by.as_deref(),
            filter.status,
            limit,
            offset,
        )
        .await
    }

    /// A task's log after event `after` (0: from the start), oldest first.
    pub async fn task_events(&self, id: &str, after: i64) -> Result<Vec<TaskEvent>, TemplateError> {
        // The task must exist: an unknown id is a 404, not an empty log.
        self.task(id).await?;
        let events = self
            .events
            .read_since(after, Some(&topic(id)), 1000)
            .await?;
        Ok(events
            .iter()
            .map(|e| TaskEvent::from_event(id, e))
            .collect())
    }

    /// Asks a task to stop. An open task stops at once; a running one at its next step
    /// (or sooner, if its action waits), on whichever instance runs it.
    pub async fn cancel(&self, id: &str, by: &str) -> Result<Task, TemplateError> {
        let task = self.task(id).await?;
        if task.status.is_finished() {
            return Err(TemplateError::Conflict(format!(
                "task {id} is {} already",
                task.status.as_str()
            )));
        }
        let now = now_millis();
        sqlx::query("UPDATE scaffolder_tasks SET cancel_requested_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        self.events
            .record(NewEvent::new(
                topic(id),
                "task.log",
                json!({"message": format!("{by} asked to cancel the task")}),
            ))
            .await?;
        if let Some(cancel) = self
            .runtime
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            let _ = cancel.send(true);
        }
        // A task nobody runs yet (waiting for a slot, or unclaimed) ends here.
        let ended = sqlx::query(
            "UPDATE scaffolder_tasks SET status = 'cancelled', finished_at = $1, error = 'cancelled' \
             WHERE id = $2 AND status = 'open'",
        )
        .bind(now)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        if ended.rows_affected() == 1 {
            self.events
                .record(NewEvent::new(
                    topic(id),
                    "task.cancelled",
                    json!({"message": "cancelled before it started", "status": "cancelled"}),
                ))
                .await?;
        }
        self.task(id).await
    }

    fn spawn(&self, id: String, user: RunUser) {
        let templates = self.clone();
        tokio::spawn(async move {
            let run = tokio::spawn({
                let templates = templates.clone();
                let id = id.clone();
                async move { templates.run_claimed(&id, user).await }
            });
            // A panic inside a run must not leave the task `processing` for a minute.
            if let Err(panic) = run.await {
                tracing::error!(task = %id, error = %panic, "a template run panicked");
                let _ = templates
                    .finish(
                        &id,
                        Outcome::Failed,
                        Value::Null,
                        Some("the run stopped unexpectedly (see the server log)".into()),
                    )
                    .await;
            }
            templates.forget(&id);
        });
    }

    fn forget(&self, id: &str) {
        self.runtime
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        self.runtime
            .secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Runs a task this instance claimed, once a slot is free.
    async fn run_claimed(&self, id: &str, user: RunUser) {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        self.runtime
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned(), cancel_tx);
        let Ok(_slot) = self.runtime.slots.acquire().await else {
            return;
        };
        let task = match self.start(id).await {
            Ok(Some(task)) => task,
            Ok(None) => return, // cancelled while it waited, or claimed elsewhere
            Err(e) => {
                tracing::error!(task = %id, error = %e, "a task could not be started");
                return;
            }
        };
        let secrets = self
            .runtime
            .secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
            .unwrap_or_default();
        let (outcome, output, error) = self.execute(&task, &user, &secrets, cancel_rx).await;
        if let Err(e) = self.finish(id, outcome, output, error).await {
            tracing::error!(task = %id, error = %e, "a finished task could not be recorded");
        }
    }

    /// Moves a claimed task from open to processing; `None` if it is no longer ours
    /// to run.
    async fn start(&self, id: &str) -> Result<Option<Task>, TemplateError> {
        let now = now_millis();
        let started = sqlx::query(
            "UPDATE scaffolder_tasks SET status = 'processing', started_at = $1, heartbeat_at = $1 \
             WHERE id = $2 AND status = 'open' AND claimed_by = $3",
        )
        .bind(now)
        .bind(id)
        .bind(&self.runtime.instance)
        .execute(self.db.pool())
        .await?;
        if started.rows_affected() == 0 {
            return Ok(None);
        }
        self.events
            .record(NewEvent::new(
                topic(id),
                "task.log",
                json!({"message": "processing", "status": "processing"}),
            ))
            .await?;
        Ok(Some(self.task(id).await?))
    }

    async fn execute(
        &self,
        task: &Task,
        user: &RunUser,
        secrets: &Map<String, Value>,
        cancelled: watch::Receiver<bool>,
    ) -> (Outcome, Value, Option<String>) {
        let base = self
            .runtime
            .settings
            .work_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("portico-task-{}", task.id));
        let workspace = match Workspace::new(&dir) {
            Ok(workspace) => workspace,
            Err(e) => {
                tracing::error!(task = %task.id, dir = %dir.display(), error = %e, "no workspace");
                return (
                    Outcome::Failed,
                    Value::Null,
                    Some("the task's workspace could not be created (see the server log)".into()),
                );
            }
        };
        let services = self.services();
        let (progress_tx, progress_rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_progress(
            self.clone(),
            task.id.clone(),
            Redactor::new(secrets),
            progress_rx,
        ));
        let run = Run {
            task_id: &task.id,
            spec: &task.spec,
            parameters: &task.parameters,
            secrets,
            user,
            services: &services,
            workspace: &workspace,
            template_dir: template_dir(&task.spec),
            dry_run: false,
            expressions: &self.runtime.expressions,
            cancelled,
            earlier: &task.steps,
        };
        let result = run.execute(progress_tx).await;
        let _ = writer.await;
        if let Err(e) = std::fs::remove_dir_all(workspace.root()) {
            tracing::warn!(task = %task.id, error = %e, "the task's workspace was not removed");
        }
        (result.outcome, result.output, result.error)
    }

    /// Records how a task ended, with its last event.
    async fn finish(
        &self,
        id: &str,
        outcome: Outcome,
        output: Value,
        error: Option<String>,
    ) -> Result<(), TemplateError> {
        let (status, event_type, message) = match outcome {
            Outcome::Completed => (
                TaskStatus::Completed,
                "task.completion",
                "completed".to_owned(),
            ),
            Outcome::Failed => (
                TaskStatus::Failed,
                "task.completion",
                format!("failed: {}", error.as_deref().unwrap_or("unknown error")),
            ),
            Outcome::Cancelled => (
                TaskStatus::Cancelled,
                "task.cancelled",
                "cancelled".to_owned(),
            ),
        };
        let mut tx = self.db.begin_write().await?;
        let output_text = (!output.is_null()).then(|| output.to_string());
        // Only while it is still ours: a task given up for lost (its heartbeat went
        // stale) was recovered elsewhere, and that outcome stands.
        let ended = sqlx::query(
            "UPDATE scaffolder_tasks SET status = $1, output = $2, error = $3, finished_at = $4, \
             claimed_by = NULL WHERE id = $5 AND claimed_by = $6",
        )
        .bind(status.as_str())
        .bind(output_text)
        .bind(&error)
        .bind(now_millis())
        .bind(id)
        .bind(&self.runtime.instance)
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 0 {
            tracing::warn!(task = %id, "a task ended here after it was recovered elsewhere");
            return Ok(());
        }
        self.events
            .append(
                &mut tx,
                &NewEvent::new(
                    topic(id),
                    event_type,
                    json!({"message": message, "status": status, "output": output, "error": error}),
                ),
            )
            .await?;
        tx.commit().await?;
        self.events.committed();
        Ok(())
    }

    /// The supervised worker of this instance: heartbeats for its tasks, cancellations
    /// asked on other instances, recovery of tasks whose instance stopped, and the
    /// unclaimed tasks that recovery put back.
    pub async fn work(&self) -> Result<(), TemplateError> {
        if self.db.backend() == Backend::Sqlite {
            // One process uses a SQLite file: whatever is unfinished was interrupted.
            self.recover(i64::MAX).await?;
        }
        let mut ticker = tokio::time::interval(HEARTBEAT);
        loop {
            ticker.tick().await;
            self.sweep().await?;
        }
    }

    /// One round of the worker: heartbeats (and cancellations asked elsewhere),
    /// recovery of tasks whose instance stopped, and claiming what recovery put back.
    pub async fn sweep(&self) -> Result<(), TemplateError> {
        self.heartbeat().await?;
        self.recover(now_millis() - STALE_AFTER_MS).await?;
        self.claim_unclaimed().await
    }

    async fn heartbeat(&self) -> Result<(), TemplateError> {
        let ids: Vec<String> = self
            .runtime
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        for id in &ids {
            let row = sqlx::query(
                "UPDATE scaffolder_tasks SET heartbeat_at = $1 WHERE id = $2 AND claimed_by = $3 \
                 RETURNING cancel_requested_at",
            )
            .bind(now)
            .bind(id)
            .bind(&self.runtime.instance)
            .fetch_optional(self.db.pool())
            .await?;
            let asked: Option<i64> = row.and_then(|r| r.try_get(0).ok()).flatten();
            if asked.is_some() {
                if let Some(cancel) = self
                    .runtime
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(id)
                {
                    let _ = cancel.send(true);
                }
            }
        }
        Ok(())
    }

    /// Fails (or puts back, for `startOver` templates) unfinished tasks whose heartbeat
    /// is older than `stale_before` and that this instance does not run.
    async fn recover(&self, stale_before: i64) -> Result<(), TemplateError> {
        let rows = sqlx::query(
            "SELECT id FROM scaffolder_tasks WHERE status IN ('open', 'processing') \
             AND heartbeat_at < $1 AND (claimed_by IS NULL OR claimed_by <> $2)",
        )
        .bind(stale_before)
        .bind(&self.runtime.instance)
        .fetch_all(self.db.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            let task = self.task(&id).await?;
            // Compare-and-set on the heartbeat seen: two instances recovering at once
            // act once.
            let mut tx = self.db.begin_write().await?;
            let now = now_millis();
            let waiting = task
                .steps
                .iter()
                .any(|s| s.status == StepStatus::Processing && s.action == "approval:request");
            let (changed, event_type, body) = if waiting {
                // Waiting survives the restart: the run goes on from the step that
                // waits (the steps before it are not run again), which finds its
                // request and waits on.
                let changed = sqlx::query(
                    "UPDATE scaffolder_tasks SET status = 'open', claimed_by = NULL, heartbeat_at = $1 \
                     WHERE id = $2 AND heartbeat_at = $3",
                )
                .bind(now)
                .bind(&id)
                .bind(task.heartbeat_at)
                .execute(&mut *tx)
                .await?;
                (
                    changed,
                    "task.recovered",
                    json!({"message": "the server stopped while this task waited for approval; it goes on waiting", "status": "open"}),
                )
            } else if task.spec.start_over {
                let steps: Vec<StepState> = task.spec.steps.iter().map(StepState::open).collect();
                let changed = sqlx::query(
                    "UPDATE scaffolder_tasks SET status = 'open', claimed_by = NULL, steps = $1, \
                     started_at = NULL, heartbeat_at = $2 WHERE id = $3 AND heartbeat_at = $4",
                )
                .bind(serde_json::to_string(&steps).unwrap_or_default())
                .bind(now)
                .bind(&id)
                .bind(task.heartbeat_at)
                .execute(&mut *tx)
                .await?;
                (
                    changed,
                    "task.recovered",
                    json!({"message": "the server stopped while this task ran; it starts over (EXPERIMENTAL_recovery: startOver)", "status": "open"}),
                )
            } else {
                let changed = sqlx::query(
                    "UPDATE scaffolder_tasks SET status = 'failed', claimed_by = NULL, error = $1, \
                     finished_at = $2 WHERE id = $3 AND heartbeat_at = $4",
                )
                .bind(INTERRUPTED)
                .bind(now)
                .bind(&id)
                .bind(task.heartbeat_at)
                .execute(&mut *tx)
                .await?;
                (
                    changed,
                    "task.completion",
                    json!({"message": format!("failed: {INTERRUPTED}"), "status": "failed", "error": INTERRUPTED}),
                )
            };
            if changed.rows_affected() == 1 {
                self.events
                    .append(&mut tx, &NewEvent::new(topic(&id), event_type, body))
                    .await?;
                tx.commit().await?;
                self.events.committed();
                tracing::warn!(task = %id, start_over = task.spec.start_over, "recovered an interrupted task");
            }
        }
        Ok(())
    }

    /// Claims open tasks nobody holds (put back by recovery) and runs them.
    async fn claim_unclaimed(&self) -> Result<(), TemplateError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM scaffolder_tasks WHERE status = 'open' AND claimed_by IS NULL \
             ORDER BY created_at LIMIT 10",
        )
        .fetch_all(self.db.pool())
        .await?;
        for id in ids {
            let claimed = sqlx::query(
                "UPDATE scaffolder_tasks SET claimed_by = $1, heartbeat_at = $2 \
                 WHERE id = $3 AND status = 'open' AND claimed_by IS NULL",
            )
            .bind(&self.runtime.instance)
            .bind(now_millis())
            .bind(&id)
            .execute(self.db.pool())
            .await?;
            if claimed.rows_affected() == 1 {
                let task = self.task(&id).await?;
                let user = RunUser {
                    actor: task.created_by.clone(),
                    entity_ref: task.user_ref.clone(),
                    entity: None,
                    name: task.created_by.clone(),
                    email: None,
                };
                self.spawn(id, user);
            }
        }
        Ok(())
    }
}

/// The directory a template's relative paths resolve in: the one its file is in.
pub(super) fn template_dir(spec: &TemplateSpec) -> Option<std::path::PathBuf> {
    let location = spec.location.as_deref()?;
    match crate::catalog::place::Place::from_origin(location)? {
        crate::catalog::place::Place::File(file) => file.parent().map(|p| p.to_owned()),
        crate::catalog::place::Place::Url(_) => None,
    }
}

/// Writes a run's progress as it comes: step states into the task row, log lines and
/// step changes as events, a batch per transaction.
async fn write_progress(
    templates: Templates,
    id: String,
    redactor: Redactor,
    mut progress: mpsc::UnboundedReceiver<Progress>,
) {
    let mut steps: Vec<StepState> = Vec::new();
    while let Some(first) = progress.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = progress.try_recv() {
            batch.push(more);
        }
        let mut events = Vec::new();
        let mut steps_changed = false;
        for item in batch {
            match item {
                Progress::Log(line) => events.push(NewEvent::new(
                    topic(&id),
                    "task.log",
                    json!({"message": redactor.text(&line.message), "stepId": line.step_id}),
                )),
                Progress::Step(state) => {
                    events.push(NewEvent::new(
                        topic(&id),
                        "task.log",
                        json!({"message": format!("{} ({}): {}", state.name, state.action, state.status.word()),
                               "stepId": state.id, "status": state.status}),
                    ));
                    match steps.iter_mut().find(|s| s.id == state.id) {
                        Some(known) => *known = state,
                        None => steps.push(state),
                    }
                    steps_changed = true;
                }
            }
        }
        if let Err(e) = templates
            .record_progress(&id, steps_changed.then_some(&steps), &events)
            .await
        {
            tracing::error!(task = %id, error = %e, "task progress could not be recorded");
        }
    }
}

impl Templates {
    async fn record_progress(
        &self,
        id: &str,
        changed: Option<&Vec<StepState>>,
        events: &[NewEvent],
    ) -> Result<(), TemplateError> {
        let mut tx = self.db.begin_write().await?;
        if let Some(changed) = changed {
            let task = store::by_id(&mut tx, id).await?;
            if let Some(task) = task {
                let mut steps = task.steps;
                for state in changed {
                    if let Some(step) = steps.iter_mut().find(|s| s.id == state.id) {
                        *step = state.clone();
                    }
                }
                sqlx::query("UPDATE scaffolder_tasks SET steps = $1 WHERE id = $2")
                    .bind(serde_json::to_string(&steps).unwrap_or_default())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.events.append_all(&mut tx, events).await?;
        tx.commit().await?;
        self.events.committed();
        Ok(())
    }
}
