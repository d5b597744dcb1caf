//! Running a template's steps in order: `if`, `each`, inputs rendered and checked
//! against the action's schema, outputs kept for the steps after, and the template's
//! output rendered at the end. Used alike by tasks and dry runs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, watch};

use super::actions::{self, ActionContext, LogLine, RunUser, Services};
use super::expression::Expressions;
use super::model::{Step, TemplateSpec};
use super::workspace::Workspace;
use super::ServerPatterns;

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Open,
    Processing,
    Completed,
    Failed,
    Skipped,
    Cancelled,
}

impl StepStatus {
    /// How the log says it.
    pub fn word(self) -> &'static str {
        match self {
            Self::Open => "waiting",
            Self::Processing => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A step's progress, as kept with the task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub id: String,
    pub name: String,
    pub action: String,
    pub status: StepStatus,
    #[serde(rename = "startedAt", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(rename = "endedAt", skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// What a completed step gave (secrets taken out): a run that goes on after a
    /// restart gives it to the steps after, as if the step had just run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

impl StepState {
    pub fn open(step: &Step) -> Self {
        Self {
            id: step.id.clone(),
            name: step.name.clone(),
            action: step.action.clone(),
            status: StepStatus::Open,
            started_at: None,
            ended_at: None,
            output: None,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    Cancelled,
}

/// What a run gave.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    /// The template's rendered output (completed runs).
    pub output: Value,
    /// Why it failed, for people (secrets redacted).
    pub error: Option<String>,
}

/// Something the runner reports as it goes: a log line, or a step's new status.
#[derive(Clone, Debug)]
pub enum Progress {
    Log(LogLine),
    Step(StepState),
}

/// One run of a template.
pub struct Run<'a> {
    pub task_id: &'a str,
    pub spec: &'a TemplateSpec,
    pub parameters: &'a Value,
    pub secrets: &'a Map<String, Value>,
    pub user: &'a RunUser,
    pub services: &'a Services,
    pub workspace: &'a Workspace,
    pub template_dir: Option<PathBuf>,
    pub dry_run: bool,
    pub expressions: &'a Expressions,
    pub cancelled: watch::Receiver<bool>,
    /// The steps as a run before this one left them: those completed or skipped are
    /// not run again (their outputs are given to the steps after). Empty for a new run.
    pub earlier: &'a [StepState],
}

impl Run<'_> {
    /// Runs every step; progress goes to `progress` as it happens.
    pub async fn execute(self, progress: mpsc::UnboundedSender<Progress>) -> RunResult {
        let redactor = Redactor::new(self.secrets);
        let mut context = json!({
            "parameters": self.parameters,
            "steps": {},
            "secrets": self.secrets,
            "user": {
                "entity": self.user.entity.clone().unwrap_or(Value::Null),
                "ref": self.user.entity_ref.clone().unwrap_or_default(),
            },
        });
        // Log lines and step changes share one channel, so they are recorded in the
        // order they happened.
        let log = |step: Option<&str>, message: String| {
            let _ = progress.send(Progress::Log(LogLine {
                step_id: step.map(str::to_owned),
                message,
            }));
        };
        let mut states: Vec<StepState> = self.spec.steps.iter().map(StepState::open).collect();
        let mut failure = None;
        let mut cancelled = false;
        for (i, step) in self.spec.steps.iter().enumerate() {
            if *self.cancelled.borrow() {
                cancelled = true;
                break;
            }
            let before = self.earlier.iter().find(|s| s.id == step.id);
            if let Some(done) =
                before.filter(|s| matches!(s.status, StepStatus::Completed | StepStatus::Skipped))
            {
                states[i] = done.clone();
                context["steps"][&step.id] =
                    json!({ "output": done.output.clone().unwrap_or_else(|| json!({})) });
                continue;
            }
            let set = |states: &mut Vec<StepState>, status: StepStatus| {
                let now = crate::storage::sql::now_millis();
                let state = &mut states[i];
                state.status = status;
                match status {
                    StepStatus::Processing => state.started_at = Some(now),
                    _ => state.ended_at = Some(now),
                }
                let _ = progress.send(Progress::Step(state.clone()));
            };
            let run_it = match &step.condition {
                Some(condition) => match self.expressions.is_truthy(condition, &context) {
                    Ok(run_it) => run_it,
                    Err(e) => {
                        set(&mut states, StepStatus::Failed);
                        failure = Some(format!("step {}: if: {e}", step.name));
                        break;
                    }
                },
                None => true,
            };
            if !run_it {
                log(
                    Some(&step.id),
                    format!("skipping {}: its if is false", step.name),
                );
                set(&mut states, StepStatus::Skipped);
                continue;
            }
            set(&mut states, StepStatus::Processing);
            match self.step(step, &mut context, &progress).await {
                Ok(()) => {
                    let output = context["steps"][&step.id]["output"].clone();
                    states[i].output = Some(redactor.value(output));
                    set(&mut states, StepStatus::Completed);
                }
                Err(_) if *self.cancelled.borrow() => {
                    set(&mut states, StepStatus::Cancelled);
                    cancelled = true;
                    break;
                }
                Err(e) => {
                    let message = redactor.text(&e);
                    log(
                        Some(&step.id),
                        format!("step {} failed: {message}", step.name),
                    );
                    set(&mut states, StepStatus::Failed);
                    failure = Some(format!("step {} failed: {message}", step.name));
                    break;
                }
            }
        }
        let result = if cancelled {
            RunResult {
                outcome: Outcome::Cancelled,
                output: Value::Null,
                error: Some("cancelled".into()),
            }
        } else if let Some(error) = failure {
            RunResult {
                outcome: Outcome::Failed,
                output: Value::Null,
                error: Some(error),
            }
        } else {
            match render_output(self.expressions, &self.spec.output, &context) {
                Ok(output) => RunResult {
                    outcome: Outcome::Completed,
                    output: redactor.value(output),
                    error: None,
                },
                Err(e) => RunResult {
                    outcome: Outcome::Failed,
                    output: Value::Null,
                    error: Some(redactor.text(&format!("output: {e}"))),
                },
            }
        };
        result
    }

    /// One step: every iteration of `each` (or just one), its input rendered and checked.
    async fn step(
        &self,
        step: &Step,
        context: &mut Value,
        log: &mpsc::UnboundedSender<Progress>,
    ) -> Result<(), String> {
        let info = actions::find(&step.action).ok_or_else(|| {
            format!(
                "there is no action {:?} (GET /api/scaffolder/v2/actions lists them)",
                step.action
            )
        })?;
        let iterations: Vec<Option<(Value, Value)>> = match &step.each {
            None => vec![None],
            Some(each) => {
                let items = self
                    .expressions
                    .render_value(each, context)
                    .map_err(|e| format!("each: {e}"))?;
                match items {
                    Value::Array(items) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| Some((json!(i), v)))
                        .collect(),
                    Value::Object(map) => {
                        map.into_iter().map(|(k, v)| Some((json!(k), v))).collect()
                    }
                    other => {
                        return Err(format!("each: must give a list or a mapping, not {other}"))
                    }
                }
            }
        };
        let mut output = Map::new();
        for iteration in iterations {
            let mut scope = context.clone();
            if let Some((key, value)) = &iteration {
                scope["each"] = json!({ "key": key, "value": value });
            }
            let input = self
                .expressions
                .render_value(&step.input, &scope)
                .map_err(|e| format!("input: {e}"))?;
            let problems =
                portico_forms::validate_page(&info.schema.input, &input, &ServerPatterns);
            if !problems.is_empty() {
                let problems: Vec<String> = problems
                    .iter()
                    .map(|p| format!("input.{}: {}", p.field, p.message))
                    .collect();
                return Err(problems.join("; "));
            }
            let ctx = ActionContext {
                task_id: self.task_id,
                step_id: &step.id,
                workspace: self.workspace,
                template_dir: self.template_dir.as_ref(),
                expressions: self.expressions,
                services: self.services,
                user: self.user,
                dry_run: self.dry_run,
                log,
                cancelled: self.cancelled.clone(),
            };
            let result = actions::run(&step.action, &ctx, &input)
                .await
                .map_err(|e| e.to_string())?;
            if let Value::Object(map) = result {
                output.extend(map);
            }
        }
        context["steps"][&step.id] = json!({ "output": output });
        Ok(())
    }
}

/// The template's `output`: `links` and `text` items whose `if` holds, everything else
/// rendered as it is.
fn render_output(
    expressions: &Expressions,
    output: &Value,
    context: &Value,
) -> Result<Value, super::expression::ExpressionError> {
    let Value::Object(output) = output else {
        return Ok(json!({}));
    };
    let mut out = Map::new();
    for (key, value) in output {
        let rendered = match (key.as_str(), value) {
            ("links" | "text", Value::Array(items)) => {
                let mut kept = Vec::new();
                for item in items {
                    if let Some(condition) = item.get("if") {
                        if !expressions.is_truthy(condition, context)? {
                            continue;
                        }
                    }
                    let mut item = item.clone();
                    if let Value::Object(map) = &mut item {
                        map.remove("if");
                    }
                    kept.push(expressions.render_value(&item, context)?);
                }
                Value::Array(kept)
            }
            _ => expressions.render_value(value, context)?,
        };
        out.insert(key.clone(), rendered);
    }
    Ok(Value::Object(out))
}

/// Takes secret values out of text and values before they are logged or stored.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: &Map<String, Value>) -> Self {
        let mut secrets: Vec<String> = secrets
            .values()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .filter(|s| !s.is_empty())
            .collect();
        // Longest first, so a secret that contains another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    pub fn value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, self.value(v))).collect())
            }
            other => other,
        }
    }
}
