//! The actions a template's steps call, with the JSON Schemas of their inputs and
//! outputs (served by `GET /api/scaffolder/v2/actions` and checked before each step).
//!
//! - `fetch`: skeletons and plain files into the workspace.
//! - `files`: `fs:delete`, `fs:rename`.
//! - `approval`: `approval:request`, which waits for approvers.
//! - `debug`: `debug:log`, `debug:wait`.
//! - `catalog`: `catalog:register`, `catalog:fetch`, `catalog:write`.
//! - `notify`: `notification:send`.
//! - `publish`: `publish:git`, and Backstage's `publish:github|gitlab|bitbucketServer`
//!   on the configured git hosts.

mod approval;
mod catalog;
mod debug;
mod fetch;
mod files;
mod glob;
mod notify;
mod publish;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::expression::Expressions;
use super::git::GitHosts;
use super::runner::Progress;
use super::workspace::Workspace;
use crate::catalog::Catalog;
use crate::events::Events;
use crate::storage::Database;

/// An action as listed by the API.
#[derive(Clone, Debug, Serialize)]
pub struct ActionInfo {
    pub id: &'static str,
    pub description: &'static str,
    pub schema: ActionSchema,
    /// Whether a dry run performs it (in the scratch workspace) rather than describing
    /// what it would do.
    #[serde(rename = "supportsDryRun")]
    pub supports_dry_run: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ActionSchema {
    pub input: Value,
    pub output: Value,
}

/// A step's failure, shown in the task log and as the task's error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ActionError(pub String);

impl ActionError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<super::workspace::PathError> for ActionError {
    fn from(e: super::workspace::PathError) -> Self {
        Self(e.to_string())
    }
}

/// A line for the task log, sent by a running action.
#[derive(Clone, Debug)]
pub struct LogLine {
    pub step_id: Option<String>,
    pub message: String,
}

/// Who runs the task, as templates see them (`user.entity`, `user.ref`).
#[derive(Clone, Debug, Default)]
pub struct RunUser {
    /// `user:ada`, `token:ci`: the audit log's name for them.
    pub actor: String,
    /// The catalog User entity's reference key, when the person is linked to one.
    pub entity_ref: Option<String>,
    /// The catalog User entity, when linked.
    pub entity: Option<Value>,
    pub name: String,
    pub email: Option<String>,
}

/// What the actions reach: the catalog, notifications, the git hosts.
#[derive(Clone, Debug)]
pub struct Services {
    pub db: Database,
    pub catalog: Catalog,
    pub events: Events,
    pub git_hosts: Arc<GitHosts>,
    pub approvals: crate::approvals::Approvals,
    pub notifications: crate::notifications::Notifications,
}

/// Everything one step's action works with.
pub struct ActionContext<'a> {
    pub task_id: &'a str,
    pub step_id: &'a str,
    pub workspace: &'a Workspace,
    /// The directory the template's relative paths (`./skeleton`) resolve in, when the
    /// template lives on this machine.
    pub template_dir: Option<&'a PathBuf>,
    pub expressions: &'a Expressions,
    pub services: &'a Services,
    pub user: &'a RunUser,
    /// Dry runs change nothing outside the scratch workspace.
    pub dry_run: bool,
    pub log: &'a mpsc::UnboundedSender<Progress>,
    /// Becomes true when the task is cancelled: long actions stop waiting.
    pub cancelled: watch::Receiver<bool>,
}

impl ActionContext<'_> {
    /// Adds a line to the task log, under this step.
    pub fn log(&self, message: impl Into<String>) {
        // The receiver lives as long as the run; a send after it ended is moot.
        let _ = self.log.send(Progress::Log(LogLine {
            step_id: Some(self.step_id.to_owned()),
            message: message.into(),
        }));
    }

    /// The template's directory, or why relative template paths cannot be read.
    pub fn template_dir(&self, what: &str) -> Result<&PathBuf, ActionError> {
        self.template_dir.ok_or_else(|| {
            ActionError::new(format!(
                "{what} is relative to the template, and this template does not live in a \
                 directory on this machine (register it from a file location, or give the \
                 template's files to the dry run)"
            ))
        })
    }
}

/// Every action, in the order they are listed.
pub fn all() -> Vec<ActionInfo> {
    let mut actions = vec![
        fetch::template_info(),
        fetch::template_file_info(),
        fetch::plain_info(),
        fetch::plain_file_info(),
        files::delete_info(),
        files::rename_info(),
        debug::log_info(),
        debug::wait_info(),
        catalog::register_info(),
        catalog::fetch_info(),
        catalog::write_info(),
        notify::send_info(),
        approval::request_info(),
    ];
    actions.extend(publish::infos());
    actions
}

/// The action called `id`, if there is one.
pub fn find(id: &str) -> Option<ActionInfo> {
    all().into_iter().find(|a| a.id == id)
}

/// Runs action `id` with its rendered `input`; returns its output (an object).
pub async fn run(id: &str, ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    match id {
        "fetch:template" => fetch::template(ctx, input).await,
        "fetch:template:file" => fetch::template_file(ctx, input).await,
        "fetch:plain" => fetch::plain(ctx, input).await,
        "fetch:plain:file" => fetch::plain_file(ctx, input).await,
        "fs:delete" => files::delete(ctx, input).await,
        "fs:rename" => files::rename(ctx, input).await,
        "debug:log" => debug::log(ctx, input).await,
        "debug:wait" => debug::wait(ctx, input).await,
        "catalog:register" => catalog::register(ctx, input).await,
        "catalog:fetch" => catalog::fetch(ctx, input).await,
        "catalog:write" => catalog::write(ctx, input).await,
        "notification:send" => notify::send(ctx, input).await,
        "approval:request" => approval::request(ctx, input).await,
        id if publish::is_publish(id) => publish::publish(ctx, id, input).await,
        other => Err(ActionError::new(format!("there is no action {other:?}"))),
    }
}

/// Input helpers shared by the actions. Inputs were checked against the action's schema
/// before the run, so a wrong type here is a missing optional value.
pub(crate) fn text<'v>(input: &'v Value, key: &str) -> Option<&'v str> {
    input.get(key).and_then(Value::as_str)
}

pub(crate) fn flag(input: &Value, key: &str) -> bool {
    input.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A JSON Schema object with these properties and required names.
pub(crate) fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}
