//! A template page's fields as HTML, and the values they stand for.
//!
//! Each property of a page gets the control Backstage's forms give it, chosen from its
//! JSON Schema and `ui:` hints ([`widget`]). The controls are written as HTML text by
//! the same code on the server (the first page, before the bundle loads) and in the
//! browser (pages after it, and fields that `dependencies` bring in). Each control names
//! its value's path (`data-path`) and how to read it (`data-kind`); the wizard listens
//! once, on the whole form, and keeps the values.
//!
//! Why text rather than Leptos views: the renderer's generic code is copied into the
//! browser bundle for every distinct view, attribute and closure. Written as views, the
//! controls alone added about 57 KB to the gzipped bundle, three quarters of what the
//! whole feature may add (the bundle must stay under 600 KB); as text, a few KB.
//!
//! Values live in one JSON object (the whole form's, as the server checks it). Secret
//! fields (`ui:field: Secret`, `ui:widget: password`) keep what is typed apart, in the
//! secrets sent with the run, and leave a mask of the same length in the values, as
//! Backstage does: length rules still apply, and the text never reaches the task's
//! stored parameters.

use std::fmt::Write;

use portico_forms::{visible_fields, FieldError};
use serde_json::{Map, Value};

use super::pickers::{offered_hosts, RepoParts};

/// Whether problem path `error` belongs to the field at `path` (itself or an item of
/// it; a nested object's own fields show their problems themselves).
pub fn belongs(error: &str, path: &str) -> bool {
    error == path
        || error
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('['))
}

/// The value at `path` (`db.size`) in the form's values.
pub fn value_at<'v>(values: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(values, |v, key| v.get(key))
}

/// Sets (or, with `None`, removes) the value at `path`, making objects on the way.
pub fn set_at(values: &mut Value, path: &str, value: Option<Value>) {
    let mut keys = path.split('.').peekable();
    let mut here = values;
    while let Some(key) = keys.next() {
        if !here.is_object() {
            *here = Value::Object(Map::new());
        }
        let Value::Object(map) = here else { return };
        if keys.peek().is_none() {
            match value {
                Some(value) => {
                    map.insert(key.to_owned(), value);
                }
                None => {
                    map.remove(key);
                }
            }
            return;
        }
        here = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// An HTML id for the field at `path`: letters, digits, `.`, `-` and `_` as they are,
/// anything else as `_` and its code, so a property name can never break out of an
/// attribute.
pub fn field_id(path: &str) -> String {
    let mut id = String::from("field-");
    for c in path.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
            id.push(c);
        } else {
            let _ = write!(id, "_{:x}", c as u32);
        }
    }
    id
}

/// A value as text, for inputs and the review.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A choice of a select, radio group or checkbox group.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub value: Value,
    pub label: String,
}

/// The control a property gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Widget {
    /// An `<input>` of this type (`text`, `email`, `url`, `date`).
    Text(&'static str),
    TextArea,
    Secret,
    Number {
        integer: bool,
    },
    Checkbox,
    Select(Vec<Choice>),
    Radio(Vec<Choice>),
    /// An array whose items are choices.
    Checkboxes(Vec<Choice>),
    /// An array of strings.
    List,
    /// A catalog entity (`OwnerPicker`: groups and users unless the options say).
    Entity {
        owner: bool,
    },
    RepoUrl,
    Object,
    /// Anything else, edited as JSON.
    Json,
}

fn schema_text(schema: &Value, key: &str) -> Option<String> {
    schema.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The choices of an `enum` (labelled by `enumNames` or `ui:enumNames` when given), or
/// of a `oneOf` / `anyOf` whose branches are each a `const` with a title.
fn choices(schema: &Value) -> Option<Vec<Choice>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names = schema
            .get("ui:enumNames")
            .or_else(|| schema.get("enumNames"))
            .and_then(Value::as_array);
        return Some(
            values
                .iter()
                .enumerate()
                .map(|(i, value)| Choice {
                    label: names
                        .and_then(|n| n.get(i))
                        .and_then(Value::as_str)
                        .map_or_else(|| display(value), str::to_owned),
                    value: value.clone(),
                })
                .collect(),
        );
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    branches
        .iter()
        .map(|branch| {
            let value = branch.get("const")?.clone();
            Some(Choice {
                label: schema_text(branch, "title").unwrap_or_else(|| display(&value)),
                value,
            })
        })
        .collect()
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The control for a property's schema.
pub fn widget(schema: &Value) -> Widget {
    let ui_widget = schema_text(schema, "ui:widget").unwrap_or_default();
    match schema_text(schema, "ui:field").as_deref() {
        Some("Secret") => return Widget::Secret,
        Some("OwnerPicker") => return Widget::Entity { owner: true },
        Some("EntityPicker") => return Widget::Entity { owner: false },
        Some("RepoUrlPicker") => return Widget::RepoUrl,
        Some("EntityTagsPicker") => return Widget::List,
        _ => {}
    }
    if ui_widget == "password" {
        return Widget::Secret;
    }
    let types = types(schema);
    let is = |name: &str| types.contains(&name);
    if is("array") {
        let items = schema.get("items").unwrap_or(&Value::Null);
        return match choices(items) {
            Some(choices) => Widget::Checkboxes(choices),
            None if items.is_null() || types_of_items_are_strings(items) => Widget::List,
            None => Widget::Json,
        };
    }
    if let Some(choices) = choices(schema) {
        return if ui_widget == "radio" {
            Widget::Radio(choices)
        } else {
            Widget::Select(choices)
        };
    }
    if is("boolean") {
        return Widget::Checkbox;
    }
    if is("integer") {
        return Widget::Number { integer: true };
    }
    if is("number") {
        return Widget::Number { integer: false };
    }
    if is("object") || schema.get("properties").is_some() {
        return Widget::Object;
    }
    if ui_widget == "textarea" {
        return Widget::TextArea;
    }
    match schema_text(schema, "format").as_deref() {
        Some("email") => Widget::Text("email"),
        Some("uri" | "url") => Widget::Text("url"),
        Some("date") => Widget::Text("date"),
        _ if types.is_empty() || is("string") => Widget::Text("text"),
        _ => Widget::Json,
    }
}

fn types_of_items_are_strings(items: &Value) -> bool {
    let t = types(items);
    t.is_empty() || t == ["string"]
}

/// `text` with the characters that mean something in HTML (text or a quoted attribute)
/// written as entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What `typed` stands for in a number input: a number, nothing, or (kept as typed, so
/// its problem shows) text.
pub fn number_value(typed: &str) -> Option<Value> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    // JSON's number syntax is the one number inputs use (and its reader is already in
    // the bundle).
    match serde_json::from_str::<Value>(typed) {
        Ok(number @ Value::Number(_)) => Some(number),
        _ => Some(Value::String(typed.to_owned())),
    }
}

/// A field's title: its schema's `title`, or its name.
pub fn title_of(schema: &Value, name: &str) -> String {
    schema_text(schema, "title").unwrap_or_else(|| name.to_owned())
}

/// The path of property `name` of the object at `parent` (`""` for the page).
pub fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Every field shown for `values` under the object schema `schema` at `parent`, nested
/// objects' fields included: `(path, title, schema)`.
pub fn shown_fields(schema: &Value, values: &Value, parent: &str) -> Vec<(String, String, Value)> {
    let object = if parent.is_empty() {
        values.clone()
    } else {
        value_at(values, parent).cloned().unwrap_or(Value::Null)
    };
    let mut out = Vec::new();
    for field in visible_fields(schema, &object) {
        let path = child_path(parent, &field.name);
        let nested = widget(&field.schema) == Widget::Object;
        out.push((
            path.clone(),
            title_of(&field.schema, &field.name),
            field.schema.clone(),
        ));
        if nested {
            out.extend(shown_fields(&field.schema, values, &path));
        }
    }
    out
}

/// `name: must match …` as people read it: `Name must match …`, `Tags item 2 must…`.
pub fn sentence(title: &str, path: &str, error: &FieldError) -> String {
    let rest = &error.field[path.len().min(error.field.len())..];
    let item = rest
        .strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .map(|i| format!(" item {}", i + 1))
        .unwrap_or_default();
    format!("{title}{item} {}", error.message)
}

/// The HTML of the fields `schema` shows for `values`, under `parent`; `hosts` are the
/// git hosts this portal may publish to. Secret inputs are left empty: the browser fills
/// them in, so a secret is never written into a page.
pub fn fields_html(schema: &Value, values: &Value, parent: &str, hosts: &[String]) -> String {
    let object = if parent.is_empty() {
        values.clone()
    } else {
        value_at(values, parent).cloned().unwrap_or(Value::Null)
    };
    let mut html = String::new();
    for field in visible_fields(schema, &object) {
        let path = child_path(parent, &field.name);
        field_html(
            &mut html,
            &path,
            &field.name,
            &field.schema,
            field.required,
            values,
            hosts,
        );
    }
    html
}

/// One field: label, description, control, help, and the place its problems go.
fn field_html(
    html: &mut String,
    path: &str,
    name: &str,
    schema: &Value,
    required: bool,
    values: &Value,
    hosts: &[String],
) {
    let id = field_id(path);
    let kind = widget(schema);
    let title = escape(&title_of(schema, name));
    let description = schema_text(schema, "description");
    let help = schema_text(schema, "ui:help");
    let mut described_by = String::new();
    if description.is_some() {
        let _ = write!(described_by, "{id}-description ");
    }
    if help.is_some() {
        let _ = write!(described_by, "{id}-help ");
    }
    let _ = write!(described_by, "{id}-problems");
    let grouped = matches!(
        kind,
        Widget::Radio(_) | Widget::Checkboxes(_) | Widget::List | Widget::RepoUrl | Widget::Object
    );
    let mark = if required {
        r#"<span class="required-mark" aria-hidden="true"> *</span>"#
    } else {
        ""
    };
    let path_attr = escape(path);
    let _ = write!(
        html,
        r#"<div class="field" id="{id}-field" data-field="{path_attr}""#
    );
    if grouped {
        let _ = write!(html, r#" role="group" aria-labelledby="{id}-label""#);
    }
    html.push('>');
    if kind != Widget::Checkbox {
        let target = if grouped {
            String::new()
        } else {
            format!(r#" for="{id}""#)
        };
        let _ = write!(
            html,
            r#"<label class="field-label" id="{id}-label"{target}>{title}{mark}</label>"#
        );
    }
    if let Some(description) = description {
        let _ = write!(
            html,
            r#"<p class="field-description" id="{id}-description">{}</p>"#,
            escape(&description)
        );
    }
    let value = value_at(values, path).filter(|v| !v.is_null());
    // Attributes every control of this field shares.
    let mut common = format!(r#" data-path="{path_attr}" aria-describedby="{described_by}""#);
    if required {
        common.push_str(r#" aria-required="true""#);
    }
    if schema.get("ui:autofocus").and_then(Value::as_bool) == Some(true) {
        common.push_str(" autofocus");
    }
    let placeholder = schema_text(schema, "ui:placeholder");
    if let Some(placeholder) = &placeholder {
        let _ = write!(common, r#" placeholder="{}""#, escape(placeholder));
    }
    let shown = value.map(display).unwrap_or_default();
    match &kind {
        Widget::Text(input_type) => {
            let max = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .map(|m| format!(r#" maxlength="{m}""#))
                .unwrap_or_default();
            let _ = write!(
                html,
                r#"<input type="{input_type}" id="{id}" class="input" data-kind="text" autocomplete="off" spellcheck="false" value="{}"{max}{common}>"#,
                escape(&shown)
            );
        }
        Widget::Secret => {
            let _ = write!(
                html,
                r#"<input type="password" id="{id}" class="input" data-kind="secret" autocomplete="new-password"{common}>"#
            );
        }
        Widget::Number { integer } => {
            let integer = *integer;
            let mut bounds = String::new();
            for (key, attr) in [("minimum", "min"), ("maximum", "max")] {
                if let Some(bound) = schema.get(key).filter(|b| b.is_number()) {
                    let _ = write!(bounds, r#" {attr}="{bound}""#);
                }
            }
            let step = if integer { "1" } else { "any" };
            let _ = write!(
                html,
                r#"<input type="number" id="{id}" class="input input-number" data-kind="number" step="{step}" value="{}"{bounds}{common}>"#,
                escape(&shown)
            );
        }
        Widget::TextArea | Widget::Json => {
            let (data_kind, class, text) = match (&kind, value) {
                (Widget::Json, Some(v)) if !v.is_string() => ("json", "input mono", v.to_string()),
                (Widget::Json, _) => ("json", "input mono", shown),
                _ => ("text", "input", shown),
            };
            let rows = schema
                .pointer("/ui:options/rows")
                .and_then(Value::as_u64)
                .unwrap_or(3);
            let _ = write!(
                html,
                r#"<textarea id="{id}" class="{class}" data-kind="{data_kind}" rows="{rows}"{common}>{}</textarea>"#,
                escape(&text)
            );
        }
        Widget::Checkbox => {
            let checked = if value == Some(&Value::Bool(true)) {
                " checked"
            } else {
                ""
            };
            let _ = write!(
                html,
                r#"<label class="check field-label"><input type="checkbox" id="{id}" data-kind="boolean"{checked}{common}><span>{title}{mark}</span></label>"#
            );
        }
        Widget::Select(choices) => {
            let _ = write!(
                html,
                r#"<select id="{id}" class="input" data-kind="choice"{common}><option value="">Choose…</option>"#
            );
            for (i, choice) in choices.iter().enumerate() {
                let selected = if value == Some(&choice.value) {
                    " selected"
                } else {
                    ""
                };
                let _ = write!(
                    html,
                    r#"<option value="{i}"{selected}>{}</option>"#,
                    escape(&choice.label)
                );
            }
            html.push_str("</select>");
        }
        Widget::Radio(choices) | Widget::Checkboxes(choices) => {
            let multiple = matches!(kind, Widget::Checkboxes(_));
            let (input_type, data_kind, role) = if multiple {
                ("checkbox", "multi", "")
            } else {
                ("radio", "radio", r#" role="radiogroup""#)
            };
            let _ = write!(html, r#"<div class="choices"{role}>"#);
            for (i, choice) in choices.iter().enumerate() {
                let checked = match value {
                    Some(Value::Array(items)) if multiple => items.contains(&choice.value),
                    Some(v) => !multiple && *v == choice.value,
                    None => false,
                };
                let input_id = if i == 0 {
                    id.clone()
                } else {
                    format!("{id}-{i}")
                };
                let _ = write!(
                    html,
                    r#"<label class="check"><input type="{input_type}" id="{input_id}" name="{id}" data-kind="{data_kind}" data-index="{i}"{}{common}><span>{}</span></label>"#,
                    if checked { " checked" } else { "" },
                    escape(&choice.label)
                );
            }
            html.push_str("</div>");
        }
        Widget::List => {
            let items = match value {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            html.push_str(r#"<ul class="string-list" role="list">"#);
            for (i, item) in items.iter().enumerate() {
                let input_id = if i == 0 {
                    id.clone()
                } else {
                    format!("{id}-{i}")
                };
                let _ = write!(
                    html,
                    r#"<li class="list-item"><input type="text" id="{input_id}" class="input" data-kind="item" data-index="{i}" aria-label="{title} item {n}" value="{}"{common}><button type="button" class="button subtle" data-action="remove" data-path="{path_attr}" data-index="{i}" aria-label="Remove {title} item {n}">Remove</button></li>"#,
                    escape(&display(item)),
                    n = i + 1
                );
            }
            let _ = write!(
                html,
                r#"</ul><button type="button" class="button" data-action="add" data-path="{path_attr}">Add {}</button>"#,
                title.to_lowercase()
            );
        }
        Widget::Entity { owner } => {
            let placeholder = if placeholder.is_some() {
                ""
            } else if *owner {
                r#" placeholder="Start typing a team or person…""#
            } else {
                r#" placeholder="Start typing a name…""#
            };
            let _ = write!(
                html,
                r#"<div class="combobox"><input type="text" id="{id}" class="input" role="combobox" data-kind="entity" autocomplete="off" spellcheck="false" aria-autocomplete="list" aria-controls="{id}-options" aria-expanded="false" value="{}"{placeholder}{common}><ul id="{id}-options" role="listbox" class="listbox" hidden></ul></div>"#,
                escape(&shown)
            );
        }
        Widget::RepoUrl => repo_html(html, &id, schema, &shown, &common, hosts),
        Widget::Object => {
            html.push_str(r#"<div class="nested-fields">"#);
            let object = schema.clone();
            html.push_str(&fields_html(&object, values, path, hosts));
            html.push_str("</div>");
        }
    }
    if let Some(help) = help {
        let _ = write!(
            html,
            r#"<p class="field-help" id="{id}-help">{}</p>"#,
            escape(&help)
        );
    }
    let _ = write!(
        html,
        r#"<div class="field-problems" id="{id}-problems" aria-live="polite"></div></div>"#
    );
}

/// `RepoUrlPicker`: a host (the configured ones the template allows), an owner (free, or
/// from `allowedOwners`) and a repository name.
fn repo_html(
    html: &mut String,
    id: &str,
    schema: &Value,
    value: &str,
    common: &str,
    hosts: &[String],
) {
    let options = schema.get("ui:options").unwrap_or(&Value::Null);
    let offered = offered_hosts(hosts, options);
    if offered.is_empty() {
        let allowed = strings(options.get("allowedHosts")).join(", ");
        let what = if allowed.is_empty() {
            "This portal has no git host configured.".to_owned()
        } else {
            format!(
                "It publishes to {}, which this portal is not configured for.",
                escape(&allowed)
            )
        };
        let _ = write!(
            html,
            r#"<div class="notice warn" id="{id}" role="note"><strong>No git host is available for this template.</strong> {what} An operator must add it to <code>PORTICO_GIT_HOSTS</code> (<code>host=push-url-template</code>) or <code>git_hosts</code> in portico.toml.</div>"#
        );
        return;
    }
    let mut parts = RepoParts::parse(value);
    if parts.host.is_empty() {
        parts.host = offered[0].clone();
    }
    let owners = strings(options.get("allowedOwners"));
    html.push_str(r#"<div class="repo-picker">"#);
    let select = |html: &mut String,
                  control_id: &str,
                  part: &str,
                  choices: &[String],
                  current: &str,
                  empty: bool| {
        let _ = write!(
            html,
            r#"<select id="{control_id}" class="input" data-kind="repo" data-part="{part}"{common}>"#
        );
        if empty {
            html.push_str(r#"<option value="">Choose…</option>"#);
        }
        for choice in choices {
            let selected = if choice == current { " selected" } else { "" };
            let choice = escape(choice);
            let _ = write!(
                html,
                r#"<option value="{choice}"{selected}>{choice}</option>"#
            );
        }
        html.push_str("</select>");
    };
    let input = |html: &mut String,
                 control_id: &str,
                 part: &str,
                 current: &str,
                 placeholder: &str| {
        let common = common.replace(" autofocus", "");
        let _ = write!(
            html,
            r#"<input type="text" id="{control_id}" class="input" data-kind="repo" data-part="{part}" autocomplete="off" spellcheck="false" value="{}"{common} placeholder="{placeholder}">"#,
            escape(current)
        );
    };
    html.push_str(r#"<label class="sub-field"><span class="sub-label">Host</span>"#);
    select(html, id, "host", &offered, &parts.host, false);
    html.push_str(r#"</label><label class="sub-field"><span class="sub-label">Owner</span>"#);
    let owner_id = format!("{id}-owner");
    if owners.is_empty() {
        input(html, &owner_id, "owner", &parts.owner, "team-or-org");
    } else {
        select(html, &owner_id, "owner", &owners, &parts.owner, true);
    }
    html.push_str(r#"</label><span class="repo-slash" aria-hidden="true">/</span><label class="sub-field"><span class="sub-label">Repository</span>"#);
    input(
        html,
        &format!("{id}-repo"),
        "repo",
        &parts.repo,
        "new-repository",
    );
    let _ = write!(
        html,
        r#"</label></div><p class="field-help mono" id="{id}-preview">{}</p>"#,
        escape(&repo_preview(&parts))
    );
}

/// Where the repository will be, once owner and name are given.
pub fn repo_preview(parts: &RepoParts) -> String {
    if parts.owner.is_empty() || parts.repo.is_empty() {
        String::new()
    } else {
        format!("{}/{}/{}", parts.host, parts.owner, parts.repo)
    }
}

/// The strings of a `ui:options` entry that lists some.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The choices of the field whose schema is `schema` (select, radio, checkboxes).
pub fn choices_of(schema: &Value) -> Vec<Choice> {
    match widget(schema) {
        Widget::Select(c) | Widget::Radio(c) | Widget::Checkboxes(c) => c,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn widgets_follow_the_schema_and_its_hints() {
        assert_eq!(widget(&json!({"type": "string"})), Widget::Text("text"));
        assert_eq!(
            widget(&json!({"type": "string", "format": "email"})),
            Widget::Text("email")
        );
        assert_eq!(
            widget(&json!({"type": "string", "ui:widget": "textarea"})),
            Widget::TextArea
        );
        assert_eq!(
            widget(&json!({"type": "string", "ui:widget": "password"})),
            Widget::Secret
        );
        assert_eq!(
            widget(&json!({"type": "string", "ui:field": "Secret"})),
            Widget::Secret
        );
        assert_eq!(
            widget(&json!({"type": "integer"})),
            Widget::Number { integer: true }
        );
        assert_eq!(widget(&json!({"type": "boolean"})), Widget::Checkbox);
        assert_eq!(
            widget(&json!({"type": "string", "ui:field": "OwnerPicker"})),
            Widget::Entity { owner: true }
        );
        assert_eq!(
            widget(&json!({"type": "string", "ui:field": "RepoUrlPicker"})),
            Widget::RepoUrl
        );
        assert_eq!(
            widget(&json!({"type": "string", "ui:field": "EntityNamePicker"})),
            Widget::Text("text")
        );
        assert_eq!(
            widget(&json!({"type": "array", "items": {"type": "string"}})),
            Widget::List
        );
        assert_eq!(
            widget(&json!({"type": "object", "properties": {}})),
            Widget::Object
        );
        let select =
            widget(&json!({"type": "string", "enum": ["a", "b"], "enumNames": ["A", "B"]}));
        assert_eq!(
            select,
            Widget::Select(vec![
                Choice {
                    value: json!("a"),
                    label: "A".into()
                },
                Choice {
                    value: json!("b"),
                    label: "B".into()
                },
            ])
        );
        assert!(matches!(
            widget(&json!({"enum": ["x"], "ui:widget": "radio"})),
            Widget::Radio(_)
        ));
        assert!(matches!(
            widget(&json!({"type": "array", "items": {"enum": ["x", "y"]}, "uniqueItems": true})),
            Widget::Checkboxes(c) if c.len() == 2
        ));
        assert!(matches!(
            widget(&json!({"type": "string", "oneOf": [{"const": "s", "title": "Small"}]})),
            Widget::Select(c) if c[0].label == "Small"
        ));
    }

    #[test]
    fn values_are_read_and_written_by_path() {
        let mut values = json!({"name": "x"});
        set_at(&mut values, "db.size", Some(json!(3)));
        assert_eq!(value_at(&values, "db.size"), Some(&json!(3)));
        set_at(&mut values, "name", None);
        assert_eq!(values, json!({"db": {"size": 3}}));
        assert!(belongs("tags[1]", "tags"));
        assert!(belongs("tags", "tags"));
        assert!(!belongs("tagsets", "tags"));
        assert!(!belongs("db.size", "db"));
        assert_eq!(field_id("db.size"), "field-db.size");
        assert_eq!(field_id("a \"b\""), "field-a_20_22b_22");
        assert_eq!(number_value(" 42 "), Some(json!(42)));
        assert_eq!(number_value("1.5"), Some(json!(1.5)));
        assert_eq!(number_value("x"), Some(json!("x")));
        assert_eq!(number_value(""), None);
    }

    #[test]
    fn controls_are_written_as_escaped_html() {
        let page = json!({
            "required": ["name"],
            "properties": {
                "name": {"title": "Name <b>", "type": "string", "maxLength": 5, "ui:autofocus": true,
                         "description": "The \"name\"", "ui:help": "lower case"},
                "size": {"type": "integer", "minimum": 1, "maximum": 9},
                "tier": {"type": "string", "enum": ["a", "b"], "ui:widget": "radio"},
                "token": {"type": "string", "ui:field": "Secret"},
                "db": {"type": "object", "properties": {"engine": {"type": "string"}}}
            }
        });
        let values = json!({"name": "x\"y", "size": 3, "tier": "b", "token": "****", "db": {"engine": "pg"}});
        let html = fields_html(&page, &values, "", &[]);
        assert!(html.contains(r#"<label class="field-label" id="field-name-label" for="field-name">Name &lt;b&gt;<span class="required-mark""#), "{html}");
        assert!(html.contains(r#"value="x&quot;y" maxlength="5" data-path="name" aria-describedby="field-name-description field-name-help field-name-problems" aria-required="true" autofocus>"#), "{html}");
        assert!(
            html.contains(r#"data-kind="number" step="1" value="3" min="1" max="9""#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"id="field-tier-1" name="field-tier" data-kind="radio" data-index="1" checked"#
            ),
            "{html}"
        );
        assert!(!html.contains("****"), "secrets are not written: {html}");
        assert!(html.contains(r#"id="field-db.engine" class="input" data-kind="text" autocomplete="off" spellcheck="false" value="pg""#), "{html}");
        let shown: Vec<String> = shown_fields(&page, &values, "")
            .into_iter()
            .map(|(p, _, _)| p)
            .collect();
        assert_eq!(shown, ["name", "size", "tier", "token", "db", "db.engine"]);
    }

    #[test]
    fn repositories_without_a_host_say_what_to_configure() {
        let page = json!({"properties": {"repoUrl": {"type": "string", "ui:field": "RepoUrlPicker",
            "ui:options": {"allowedHosts": ["git.example.test"]}}}});
        let none = fields_html(&page, &json!({}), "", &[]);
        assert!(none.contains("PORTICO_GIT_HOSTS"), "{none}");
        assert!(none.contains("It publishes to git.example.test"), "{none}");
        let hosts = vec!["git.example.test".to_owned()];
        let some = fields_html(
            &page,
            &json!({"repoUrl": "git.example.test?owner=team&repo=svc"}),
            "",
            &hosts,
        );
        assert!(
            some.contains(r#"<option value="git.example.test" selected>"#),
            "{some}"
        );
        assert!(
            some.contains(r#"data-part="repo" autocomplete="off" spellcheck="false" value="svc""#),
            "{some}"
        );
        assert!(some.contains("git.example.test/team/svc"), "{some}");
    }
}
