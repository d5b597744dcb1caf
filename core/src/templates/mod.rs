//! Golden paths: Backstage Software Templates (`scaffolder.backstage.io/v1beta3`) run by
//! Portico.
//!
//! - [`model`]: a template entity read into parameters, steps and output; the rules the
//!   catalog checks when it ingests one.
//! - [`expression`]: `${{ … }}` expressions and skeleton rendering (minijinja, sandboxed).
//! - [`workspace`]: paths that cannot leave a task's workspace.
//! - [`git`]: the configured git hosts, repoUrls, and publishing a new repository.
//! - [`actions`]: what steps call (`fetch:template`, `publish:git`, `catalog:register`…).
//! - [`runner`]: one run of a template's steps.
//! - [`tasks`]: runs kept in the database, their log on the `task:<id>` topic, the workers
//!   that run them, and recovery after a restart.
//! - [`dry_run`]: a run in a scratch workspace that changes nothing else.

pub mod actions;
pub mod dry_run;
mod error;
pub mod expression;
pub mod gate;
pub mod git;
pub mod model;
pub mod runner;
pub mod tasks;
pub mod workspace;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

pub use error::TemplateError;
pub use model::TemplateSpec;
pub use tasks::{Task, TaskEvent, TaskStatus};

use self::actions::{RunUser, Services};
use self::expression::Expressions;
use self::git::GitHosts;
use self::tasks::Runtime;
use crate::approvals::Approvals;
use crate::catalog::reference::RefContext;
use crate::catalog::{Catalog, EntityRef, StoredEntity};
use crate::events::Events;
use crate::identity::Principal;
use crate::storage::Database;

/// What an operator decides about template runs.
#[derive(Clone, Debug, Default)]
pub struct TemplateSettings {
    /// The hosts `publish:git` may create repositories on.
    pub git_hosts: GitHosts,
    /// Where task workspaces are made (a fresh directory per task, removed after it).
    /// `None`: the system's temporary directory.
    pub work_dir: Option<PathBuf>,
    /// Templates with these tags need an approval before their first step.
    pub approval_tags: Vec<gate::TagRule>,
}

/// Templates and their runs. Cheap to clone; every clone shares the running tasks.
#[derive(Clone)]
pub struct Templates {
    db: Database,
    catalog: Catalog,
    events: Events,
    runtime: Arc<Runtime>,
    approvals: Approvals,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// `pattern` checks of parameter and input schemas, with the `regex` crate. JSON
/// Schema patterns are ECMA-262; the common subset reads the same.
pub struct ServerPatterns;

impl portico_forms::PatternMatcher for ServerPatterns {
    fn is_match(&self, pattern: &str, text: &str) -> Result<bool, String> {
        regex::Regex::new(pattern)
            .map(|re| re.is_match(text))
            .map_err(|e| format!("the pattern {pattern:?} is not valid: {e}"))
    }
}

/// A template page as the wizard's API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ParameterStep {
    pub title: String,
    pub description: Option<String>,
    pub schema: Value,
}

impl Templates {
    pub(crate) fn new(
        db: Database,
        catalog: Catalog,
        events: Events,
        runtime: Arc<Runtime>,
        approvals: Approvals,
    ) -> Self {
        Self {
            db,
            catalog,
            events,
            runtime,
            approvals,
        }
    }

    /// What runs share, made once per portal.
    pub(crate) fn runtime(settings: TemplateSettings) -> Arc<Runtime> {
        Arc::new(Runtime::new(settings))
    }

    pub fn git_hosts(&self) -> &GitHosts {
        &self.runtime.settings.git_hosts
    }

    pub fn expressions(&self) -> &Expressions {
        &self.runtime.expressions
    }

    pub(crate) fn services(&self) -> Services {
        Services {
            db: self.db.clone(),
            catalog: self.catalog.clone(),
            events: self.events.clone(),
            git_hosts: Arc::new(self.runtime.settings.git_hosts.clone()),
            approvals: self.approvals.clone(),
            notifications: crate::notifications::Notifications::new(
                self.db.clone(),
                self.events.clone(),
                self.catalog.clone(),
            ),
        }
    }

    /// The template entity `reference` names (kind defaults to Template), with its spec.
    pub async fn template(
        &self,
        reference: &str,
    ) -> Result<(StoredEntity, TemplateSpec), TemplateError> {
        let context = RefContext {
            default_kind: Some("template"),
            default_namespace: "default",
        };
        let reference = EntityRef::parse(reference, context).map_err(|e| {
            TemplateError::invalid(
                "templateRef",
                format!("{reference:?} is not a valid entity reference: {e}"),
            )
        })?;
        if !model::is_template_kind(&reference.kind) {
            return Err(TemplateError::invalid(
                "templateRef",
                format!("{reference} is not a template"),
            ));
        }
        let entity =
            self.catalog.entity(&reference).await?.ok_or_else(|| {
                TemplateError::NotFound(format!("no template {}", reference.key()))
            })?;
        let spec = TemplateSpec::from_entity(&entity.body).map_err(TemplateError::Template)?;
        Ok((entity, spec))
    }

    /// The parameter pages of a template, as Backstage's `parameter-schema` answers.
    pub async fn parameter_schema(&self, reference: &str) -> Result<Value, TemplateError> {
        let (entity, spec) = self.template(reference).await?;
        let steps: Vec<ParameterStep> = spec
            .parameters
            .iter()
            .map(|page| ParameterStep {
                title: page["title"]
                    .as_str()
                    .unwrap_or("Please enter the following information")
                    .to_owned(),
                description: page["description"].as_str().map(str::to_owned),
                schema: page.clone(),
            })
            .collect();
        Ok(json!({
            "title": spec.title,
            "description": entity.body["metadata"]["description"],
            "presentation": entity.body["spec"]["presentation"],
            "steps": steps,
        }))
    }

    /// The pages of `spec` that apply to `values`, in order, and the values with those
    /// pages' defaults filled in. A page's `if` sees the answers with the defaults of the
    /// pages before it, so the wizard and the check before a run agree on which pages
    /// count.
    pub fn applicable_pages(
        &self,
        spec: &TemplateSpec,
        values: &Value,
    ) -> Result<(Vec<usize>, Value), TemplateError> {
        let mut values = if values.is_object() {
            values.clone()
        } else {
            Value::Object(serde_json::Map::new())
        };
        let mut pages = Vec::new();
        for (i, page) in spec.parameters.iter().enumerate() {
            let applies = match page.get("if") {
                Some(condition) => self
                    .expressions()
                    .is_truthy(condition, &json!({ "parameters": values }))
                    .map_err(|e| {
                        TemplateError::invalid(
                            "parameters",
                            format!(
                                "the page {:?} has an `if` that cannot be evaluated: {e}",
                                model::page_title(page)
                            ),
                        )
                    })?,
                None => true,
            };
            if applies {
                portico_forms::apply_defaults(page, &mut values);
                pages.push(i);
            }
        }
        Ok((pages, values))
    }

    /// Checks `values` against the pages that apply to them (a page whose `if` is false
    /// is left out) and fills in defaults. Every failing field is reported.
    pub fn check_values(
        &self,
        spec: &TemplateSpec,
        values: &Value,
    ) -> Result<Value, TemplateError> {
        let Value::Object(_) = values else {
            return Err(TemplateError::invalid("values", "must be an object"));
        };
        let (pages, values) = self.applicable_pages(spec, values)?;
        let errors: Vec<_> = pages
            .into_iter()
            .flat_map(|i| {
                portico_forms::validate_page(&spec.parameters[i], &values, &ServerPatterns)
            })
            .collect();
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(TemplateError::Values(errors))
        }
    }
}

impl RunUser {
    /// The person (or token) running a template, as templates see them.
    pub async fn of(principal: &Principal, catalog: &Catalog) -> Self {
        let entity = match &principal.entity {
            Some(reference) => match EntityRef::parse(reference, RefContext::STANDALONE) {
                Ok(reference) => catalog
                    .entity(&reference)
                    .await
                    .ok()
                    .flatten()
                    .map(|e| e.body),
                Err(_) => None,
            },
            None => None,
        };
        Self {
            actor: principal.actor(),
            entity_ref: principal.entity.clone(),
            entity,
            name: principal.name.clone(),
            email: principal.email.clone(),
        }
    }
}
