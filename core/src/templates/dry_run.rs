//! Dry runs: a template run in a scratch workspace, for authors. Actions that reach
//! beyond the workspace (publishing, registering, notifying) describe what they would do
//! instead; nothing is stored, and the workspace's files come back with the log.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::actions::RunUser;
use super::model::TemplateSpec;
use super::runner::{Outcome, Progress, Redactor, Run, StepState};
use super::workspace::Workspace;
use super::{TemplateError, Templates};
use crate::catalog::FieldProblem;

/// A file of the template (skeletons) or of the result, as Backstage's dry-run API
/// carries them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryFile {
    pub path: String,
    #[serde(rename = "base64Content")]
    pub base64_content: String,
    #[serde(default)]
    pub executable: bool,
}

/// What to dry-run.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DryRunRequest {
    /// The template entity, as YAML would give it.
    pub template: Value,
    #[serde(default)]
    pub values: Value,
    #[serde(default)]
    pub secrets: Map<String, Value>,
    /// The template's own files (skeletons), relative to the template.
    #[serde(default, rename = "directoryContents")]
    pub directory_contents: Vec<DirectoryFile>,
    /// A catalog template whose directory the skeletons are read from instead.
    #[serde(default, rename = "templateRef")]
    pub template_ref: Option<String>,
}

/// One line of a dry run's log.
#[derive(Clone, Debug, Serialize)]
pub struct DryRunLog {
    pub body: Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct DryRunResult {
    pub status: &'static str,
    pub error: Option<String>,
    pub log: Vec<DryRunLog>,
    #[serde(rename = "directoryContents")]
    pub directory_contents: Vec<DirectoryFile>,
    pub output: Value,
    pub steps: Vec<StepState>,
}

/// A template as its author pastes it (YAML): the entity body, checked as the catalog
/// checks templates it ingests, or every problem found, each with where it is.
pub fn read_template(text: &str) -> Result<Value, Vec<FieldProblem>> {
    if text.trim().is_empty() {
        return Err(vec![FieldProblem::new(
            "",
            "there is no template yet: paste one, or start from a template of the catalog",
        )]);
    }
    let contents = crate::catalog::document::entities_in("template", text);
    if !contents.problems.is_empty() {
        return Err(contents.problems.into_iter().map(|p| p.field).collect());
    }
    let mut entities = contents.entities;
    if entities.len() != 1 {
        return Err(vec![FieldProblem::new(
            "",
            format!(
                "one template at a time: the text has {} documents",
                entities.len()
            ),
        )]);
    }
    let entity = entities.remove(0).entity;
    if !super::model::is_template_kind(entity.kind()) {
        return Err(vec![FieldProblem::new(
            "kind",
            format!(
                "is {}: only templates (kind Template) run here",
                entity.kind()
            ),
        )]);
    }
    let body = entity.into_value();
    TemplateSpec::from_entity(&body)?;
    Ok(body)
}

/// The most bytes of files a dry run gives back: a template that writes more is told so.
const MAX_RESULT_BYTES: usize = 16 * 1024 * 1024;

impl Templates {
    pub async fn dry_run(
        &self,
        user: RunUser,
        mut request: DryRunRequest,
    ) -> Result<DryRunResult, TemplateError> {
        // Where skeletons are read is never taken from the pasted text: only from the
        // catalog's own record of a template, or from the files sent along.
        if let Some(annotations) = request
            .template
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove(crate::catalog::MANAGED_BY_LOCATION);
        }
        if request.template.pointer("/metadata/name").is_none() {
            if let Some(metadata) = request.template.as_object_mut() {
                metadata
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .map(|m| m.insert("name".into(), "dry-run".into()));
            }
        }
        let mut spec =
            TemplateSpec::from_entity(&request.template).map_err(TemplateError::Template)?;
        let values = if request.values.is_null() {
            Value::Object(Map::new())
        } else {
            request.values.clone()
        };
        let values = self.check_values(&spec, &values)?;

        let scratch = tempfile::Builder::new()
            .prefix("portico-dry-run-")
            .tempdir()
            .map_err(|e| scratch_error(&e))?;
        let workspace =
            Workspace::new(scratch.path().join("workspace")).map_err(|e| scratch_error(&e))?;
        let template_dir = if !request.directory_contents.is_empty() {
            let files =
                Workspace::new(scratch.path().join("template")).map_err(|e| scratch_error(&e))?;
            for (i, file) in request.directory_contents.iter().enumerate() {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&file.base64_content)
                    .map_err(|e| {
                        TemplateError::invalid(
                            "directoryContents",
                            format!("[{i}] {}: base64Content is not base64: {e}", file.path),
                        )
                    })?;
                files.write_file(&file.path, &bytes).map_err(|e| {
                    TemplateError::invalid("directoryContents", format!("[{i}]: {e}"))
                })?;
            }
            Some(files.root().to_owned())
        } else if let Some(reference) = &request.template_ref {
            let (_, stored) = self.template(reference).await?;
            spec.location = stored.location.clone();
            super::tasks::template_dir(&spec)
        } else {
            None
        };

        let (progress_tx, mut progress_rx) = mpsc::unbounded_channel();
        let (_cancel_tx, cancelled) = watch::channel(false);
        let services = self.services();
        let run = Run {
            task_id: "dry-run",
            spec: &spec,
            parameters: &values,
            secrets: &request.secrets,
            user: &user,
            services: &services,
            workspace: &workspace,
            template_dir,
            dry_run: true,
            expressions: self.expressions(),
            cancelled,
            earlier: &[],
        };
        let result = run.execute(progress_tx).await;
        let redactor = Redactor::new(&request.secrets);
        let mut log = Vec::new();
        let mut steps: Vec<StepState> = spec.steps.iter().map(StepState::open).collect();
        while let Ok(item) = progress_rx.try_recv() {
            match item {
                Progress::Log(line) => log.push(DryRunLog {
                    body: serde_json::json!({"message": redactor.text(&line.message), "stepId": line.step_id}),
                }),
                Progress::Step(state) => {
                    log.push(DryRunLog {
                        body: serde_json::json!({"message": format!("{} ({}): {}", state.name, state.action, state.status.word()),
                                                 "stepId": state.id, "status": state.status}),
                    });
                    if let Some(step) = steps.iter_mut().find(|s| s.id == state.id) {
                        *step = state;
                    }
                }
            }
        }
        let directory_contents = read_back(&workspace)?;
        request.secrets.clear();
        Ok(DryRunResult {
            status: match result.outcome {
                Outcome::Completed => "completed",
                Outcome::Failed => "failed",
                Outcome::Cancelled => "cancelled",
            },
            error: result.error,
            log,
            directory_contents,
            output: result.output,
            steps,
        })
    }
}

fn scratch_error(e: &std::io::Error) -> TemplateError {
    tracing::error!(error = %e, "no scratch directory for a dry run");
    TemplateError::invalid(
        "template",
        "the dry run's scratch directory could not be made",
    )
}

/// The workspace's files, as the dry run's result.
fn read_back(workspace: &Workspace) -> Result<Vec<DirectoryFile>, TemplateError> {
    let files = workspace
        .files(workspace.root())
        .map_err(|e| TemplateError::invalid("template", e.to_string()))?;
    let mut total = 0;
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let full = workspace.root().join(&path);
        let bytes = std::fs::read(&full)
            .map_err(|e| TemplateError::invalid("template", format!("{path}: {e}")))?;
        total += bytes.len();
        if total > MAX_RESULT_BYTES {
            return Err(TemplateError::invalid(
                "template",
                format!(
                    "the dry run wrote more than {} MiB of files",
                    MAX_RESULT_BYTES >> 20
                ),
            ));
        }
        out.push(DirectoryFile {
            executable: is_executable(&full),
            base64_content: base64::engine::general_purpose::STANDARD.encode(bytes),
            path,
        });
    }
    Ok(out)
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &std::path::Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<String> {
        read_template(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const MINIMAL: &str = "\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: t
spec:
  type: service
  steps:
    - id: hello
      action: debug:log
      input:
        message: hi
";

    #[test]
    fn a_pasted_template_reads_or_says_where_it_is_wrong() {
        let body = read_template(MINIMAL).unwrap();
        assert_eq!(body["metadata"]["name"], "t");

        assert!(messages("  \n")[0].contains("there is no template yet"));
        let syntax = messages("kind: Template\n  bad: [\n");
        assert!(syntax[0].starts_with("not valid YAML (line"), "{syntax:?}");
        let two = messages(&format!("{MINIMAL}---\n{MINIMAL}"));
        assert_eq!(two, ["one template at a time: the text has 2 documents"]);
        let component = messages(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\n\
             spec: {type: service, lifecycle: production, owner: team}\n",
        );
        assert_eq!(
            component,
            ["kind: is Component: only templates (kind Template) run here"]
        );
        let old =
            messages(&MINIMAL.replace("scaffolder.backstage.io/v1beta3", "backstage.io/v1beta2"));
        assert!(
            old[0].contains("scaffolder.backstage.io/v1beta3"),
            "{old:?}"
        );
        let no_action = messages(&MINIMAL.replace("      action: debug:log\n", ""));
        assert!(
            no_action.iter().any(|m| m.starts_with("spec.steps[0]")),
            "{no_action:?}"
        );
    }
}
