//! A template as Portico runs it: Backstage's `scaffolder.backstage.io/v1beta3`
//! `Template` entity, read from the catalog body into typed parts.
//!
//! The catalog checks the same rules at ingestion ([`check_spec`]), so a template that
//! is in the catalog parses here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::problem::FieldProblem;
use crate::catalog::EntityRef;

/// The one `apiVersion` of templates Portico runs.
pub const TEMPLATE_API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// Older template formats and what to do about them.
const RETIRED_API_VERSIONS: &[&str] = &[
    "backstage.io/v1beta2",
    "backstage.io/v1beta1",
    "backstage.io/v1alpha1",
    "scaffolder.backstage.io/v1beta2",
];

/// The kind, matched ignoring case as entity kinds are.
pub fn is_template_kind(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("Template")
}

/// Why a template's `apiVersion` is refused, if it is.
pub fn api_version_problem(version: &str) -> Option<String> {
    if version == TEMPLATE_API_VERSION {
        None
    } else if RETIRED_API_VERSIONS.contains(&version) {
        Some(format!(
            "{version:?} templates (Handlebars `{{{{ }}}}` expressions) are no longer supported: \
             set apiVersion to {TEMPLATE_API_VERSION} and write expressions as \
             ${{{{ parameters.name }}}} (with a dollar sign); helpers such as \
             `{{{{ parseRepoUrl x }}}}` become filters, ${{{{ x | parseRepoUrl }}}}"
        ))
    } else {
        Some(format!(
            "{version:?} is not supported for kind Template: use {TEMPLATE_API_VERSION}"
        ))
    }
}

/// One step of a template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique within the template; generated (`step-3`) when the author left it out.
    pub id: String,
    pub name: String,
    pub action: String,
    /// Rendered just before the step runs.
    #[serde(default)]
    pub input: Value,
    /// Skips the step when it renders falsy.
    #[serde(default, rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    /// Runs the step once per item of the rendered list (or object entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Value>,
}

/// What a task needs of its template: a snapshot taken when the task is created, so an
/// edit of the template in the catalog never changes a run under way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateSpec {
    /// `template:default/name`.
    pub reference: String,
    pub title: String,
    /// The parameter pages (JSON Schemas), always as a list.
    pub parameters: Vec<Value>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub output: Value,
    /// `file:/path/template.yaml` or `url:https://…`: where `./skeleton` paths resolve.
    #[serde(default)]
    pub location: Option<String>,
    /// `EXPERIMENTAL_recovery: { EXPERIMENTAL_strategy: startOver }`.
    #[serde(default)]
    pub start_over: bool,
}

impl TemplateSpec {
    /// The spec of a template entity body (as stored in the catalog), or every problem
    /// that keeps it from running.
    pub fn from_entity(body: &Value) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if let Some(why) = api_version_problem(version) {
            problems.push(FieldProblem::new("apiVersion", why));
        }
        let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
        if !is_template_kind(kind) {
            problems.push(FieldProblem::new("kind", "must be Template"));
        }
        let Some(spec) = body.get("spec").and_then(Value::as_object) else {
            problems.push(FieldProblem::new("spec", "is required for kind Template"));
            return Err(problems);
        };
        check_spec(spec, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let metadata = body.get("metadata").cloned().unwrap_or_default();
        let name = metadata.get("name").and_then(Value::as_str).unwrap_or("");
        let namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let reference = EntityRef::new("template", namespace, name).key();
        let title = metadata
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_owned();
        let location = metadata
            .get("annotations")
            .and_then(|a| a.get(crate::catalog::MANAGED_BY_LOCATION))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            reference,
            title,
            parameters: portico_forms::pages(spec.get("parameters").unwrap_or(&Value::Null)),
            steps: steps(spec),
            output: spec.get("output").cloned().unwrap_or(Value::Null),
            location,
            start_over: spec
                .get("EXPERIMENTAL_recovery")
                .and_then(|r| r.get("EXPERIMENTAL_strategy"))
                .and_then(Value::as_str)
                == Some("startOver"),
        })
    }
}

/// A parameter page's title, or the one Backstage's wizard shows for a page without.
pub fn page_title(page: &Value) -> &str {
    page.get("title")
        .and_then(Value::as_str)
        .unwrap_or("Please enter the following information")
}

/// The steps, with ids filled in for those that have none.
fn steps(spec: &Map<String, Value>) -> Vec<Step> {
    let Some(Value::Array(items)) = spec.get("steps") else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            let id = text("id").unwrap_or_else(|| format!("step-{}", i + 1));
            let action = text("action").unwrap_or_default();
            Step {
                name: text("name").unwrap_or_else(|| action.clone()),
                id,
                action,
                input: item
                    .get("input")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new())),
                condition: item.get("if").cloned(),
                each: item.get("each").cloned(),
            }
        })
        .collect()
}

/// Checks a template's `spec` beyond what the catalog checks of every kind: the rules of
/// Backstage's `Template.v1beta3` schema, plus Handlebars leftovers that would silently
/// render as text.
pub fn check_spec(spec: &Map<String, Value>, problems: &mut Vec<FieldProblem>) {
    match spec.get("parameters") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(Value::Array(pages)) => {
            for (i, page) in pages.iter().enumerate() {
                if !page.is_object() {
                    problems.push(FieldProblem::new(
                        format!("spec.parameters[{i}]"),
                        "must be a mapping (a JSON Schema of one form page)",
                    ));
                }
            }
        }
        Some(_) => problems.push(FieldProblem::new(
            "spec.parameters",
            "must be a mapping or a list of mappings",
        )),
    }
    let Some(steps) = spec.get("steps") else {
        problems.push(FieldProblem::new("spec.steps", "is required"));
        return;
    };
    let Value::Array(steps) = steps else {
        problems.push(FieldProblem::new("spec.steps", "must be a list"));
        return;
    };
    let mut ids = std::collections::HashSet::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("spec.steps[{i}]");
        let Value::Object(step) = step else {
            problems.push(FieldProblem::new(at, "must be a mapping"));
            continue;
        };
        match step.get("action") {
            Some(Value::String(action)) if !action.trim().is_empty() => {}
            Some(_) => problems.push(FieldProblem::new(
                format!("{at}.action"),
                "must be a non-empty string",
            )),
            None => problems.push(FieldProblem::new(format!("{at}.action"), "is required")),
        }
        for key in ["id", "name"] {
            if step.get(key).is_some_and(|v| !v.is_string()) {
                problems.push(FieldProblem::new(format!("{at}.{key}"), "must be a string"));
            }
        }
        if let Some(Value::String(id)) = step.get("id") {
            if !ids.insert(id.clone()) {
                problems.push(FieldProblem::new(
                    format!("{at}.id"),
                    format!("{id:?} is used by an earlier step: step ids must be unique"),
                ));
            }
        }
        if step.get("input").is_some_and(|v| !v.is_object()) {
            problems.push(FieldProblem::new(
                format!("{at}.input"),
                "must be a mapping",
            ));
        }
        if step
            .get("if")
            .is_some_and(|v| !(v.is_string() || v.is_boolean()))
        {
            problems.push(FieldProblem::new(
                format!("{at}.if"),
                "must be a string or a boolean",
            ));
        }
        if step.contains_key("parameters") && !step.contains_key("input") {
            problems.push(FieldProblem::new(
                format!("{at}.parameters"),
                "steps take their values from `input` in v1beta3: rename `parameters` to `input`",
            ));
        }
        for (key, value) in step {
            if matches!(key.as_str(), "input" | "if" | "each") {
                handlebars_leftovers(value, &format!("{at}.{key}"), problems);
            }
        }
    }
    match spec.get("output") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => problems.push(FieldProblem::new("spec.output", "must be a mapping")),
    }
    if let Some(output) = spec.get("output") {
        handlebars_leftovers(output, "spec.output", problems);
    }
    for key in ["type", "lifecycle"] {
        if spec.get(key).is_some_and(|v| !v.is_string()) {
            problems.push(FieldProblem::new(format!("spec.{key}"), "must be a string"));
        }
    }
}

/// Reports strings written with Handlebars' `{{ x }}` where v1beta3 needs `${{ x }}`:
/// they would be passed on as text, not evaluated.
fn handlebars_leftovers(value: &Value, at: &str, problems: &mut Vec<FieldProblem>) {
    match value {
        Value::String(text) if has_bare_braces(text) => problems.push(FieldProblem::new(
            at,
            format!(
                "{:?} uses Handlebars' {{{{ }}}}: v1beta3 expressions are written ${{{{ … }}}}",
                shorten(text)
            ),
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                handlebars_leftovers(item, &format!("{at}[{i}]"), problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                handlebars_leftovers(item, &format!("{at}.{key}"), problems);
            }
        }
        _ => {}
    }
}

/// Whether `text` has a `{{` that does not follow a `$`.
fn has_bare_braces(text: &str) -> bool {
    text.match_indices("{{")
        .any(|(at, _)| at == 0 || text.as_bytes()[at - 1] != b'$')
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(path: &str) -> Value {
        let text = std::fs::read_to_string(format!(
            "{}/../../shared/fixtures/backstage/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        serde_norway::from_str(&text).unwrap()
    }

    #[test]
    fn the_fixture_templates_parse() {
        let spec =
            TemplateSpec::from_entity(&fixture("default-app-examples/template/template.yaml"))
                .unwrap();
        assert_eq!(spec.reference, "template:default/example-nodejs-template");
        assert_eq!(spec.parameters.len(), 2);
        let ids: Vec<&str> = spec.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["fetch-base", "publish", "register", "notify"]);
        assert_eq!(spec.steps[1].action, "publish:github");
        for sample in ["conditional-output-demo", "conditional-parameters-demo"] {
            let spec = TemplateSpec::from_entity(&fixture(&format!(
                "sample-templates/{sample}/template.yaml"
            )))
            .unwrap();
            assert_eq!(spec.steps.len(), 1);
        }
    }

    #[test]
    fn v1beta2_is_refused_with_what_to_change() {
        let problems =
            TemplateSpec::from_entity(&fixture("sample-templates/v1beta2-demo/template.yaml"))
                .unwrap_err();
        let api = problems.iter().find(|p| p.path == "apiVersion").unwrap();
        assert!(
            api.message.contains("no longer supported"),
            "{}",
            api.message
        );
        assert!(api.message.contains(TEMPLATE_API_VERSION));
        assert!(problems.iter().any(
            |p| p.path == "spec.steps[0].input.values.name" && p.message.contains("Handlebars")
        ));
    }

    #[test]
    fn step_rules() {
        let body = json!({
            "apiVersion": TEMPLATE_API_VERSION, "kind": "Template",
            "metadata": {"name": "t"},
            "spec": {"type": "service", "steps": [
                {"id": "a", "action": "debug:log"},
                {"id": "a", "action": ""},
                {"action": "debug:log", "if": 3, "input": "x"},
                {"action": "debug:log", "parameters": {}},
                "nope"
            ]}
        });
        let problems: Vec<String> = TemplateSpec::from_entity(&body)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "spec.steps[1].action: must be a non-empty string",
                "spec.steps[1].id: \"a\" is used by an earlier step: step ids must be unique",
                "spec.steps[2].input: must be a mapping",
                "spec.steps[2].if: must be a string or a boolean",
                "spec.steps[3].parameters: steps take their values from `input` in v1beta3: rename `parameters` to `input`",
                "spec.steps[4]: must be a mapping",
            ]
        );
        let missing = json!({"apiVersion": TEMPLATE_API_VERSION, "kind": "Template",
            "metadata": {"name": "t"}, "spec": {"type": "service"}});
        assert_eq!(
            TemplateSpec::from_entity(&missing).unwrap_err()[0].to_string(),
            "spec.steps: is required"
        );
    }

    #[test]
    fn steps_without_ids_get_one_and_recovery_is_read() {
        let body = json!({
            "apiVersion": TEMPLATE_API_VERSION, "kind": "Template",
            "metadata": {"name": "t", "namespace": "ops"},
            "spec": {"type": "service", "EXPERIMENTAL_recovery": {"EXPERIMENTAL_strategy": "startOver"},
                     "parameters": {"properties": {"x": {"type": "string"}}},
                     "steps": [{"action": "debug:log", "name": "Say"}, {"action": "debug:wait"}]}
        });
        let spec = TemplateSpec::from_entity(&body).unwrap();
        assert_eq!(spec.reference, "template:ops/t");
        assert!(spec.start_over);
        assert_eq!(spec.parameters.len(), 1);
        assert_eq!(spec.steps[0].id, "step-1");
        assert_eq!(spec.steps[1].name, "debug:wait");
    }
}
