use serde::Serialize;
use serde_json::{Map, Value};

use super::kinds::{self, Shape};
use super::problem::FieldProblem;
use super::reference::{EntityRef, RefContext, DEFAULT_NAMESPACE};
use super::rules::{self, violation};
use crate::templates::{
    self,
    model::{api_version_problem, is_template_kind},
};

/// Root fields an author writes.
const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
/// Root fields the catalog computes; any value written in a file is dropped, as Backstage does.
const OUTPUT_ROOT_FIELDS: &[&str] = &["relations", "status"];
/// Metadata the catalog manages; written values are dropped.
const SERVER_METADATA: &[&str] = &["uid", "etag", "generation"];

/// An entity that passed validation: envelope, metadata rules and, for built-in kinds,
/// the spec. Holds the document as written (minus output-only fields), with the
/// namespace filled in; unknown metadata and spec fields are kept.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Entity {
    value: Map<String, Value>,
}

impl Entity {
    /// Validates a parsed document. Every problem is reported, not only the first.
    pub fn from_value(value: Value) -> Result<Self, Vec<FieldProblem>> {
        Self::from_value_ignoring(value, &[])
    }

    /// Like [`Entity::from_value`], but a problem at one of the `ignored` paths does not
    /// reject the entity (the caller reports those fields itself).
    pub fn from_value_ignoring(value: Value, ignored: &[&str]) -> Result<Self, Vec<FieldProblem>> {
        let Value::Object(mut root) = value else {
            return Err(vec![FieldProblem::new(
                "",
                "a document must be a mapping with apiVersion, kind, metadata and spec",
            )]);
        };
        let mut problems = Vec::new();
        for field in OUTPUT_ROOT_FIELDS {
            root.remove(*field);
        }
        for key in root.keys() {
            if !ROOT_FIELDS.contains(&key.as_str()) {
                problems.push(FieldProblem::new(
                    key.clone(),
                    "is not an entity field (allowed: apiVersion, kind, metadata, spec)",
                ));
            }
        }

        let kind = check_kind(&root, &mut problems);
        let builtin = kind.as_deref().and_then(kinds::builtin);
        check_api_version(&root, builtin, &mut problems);
        let namespace = check_metadata(&mut root, &mut problems);
        if let Some(kind_spec) = builtin {
            check_spec(
                &root,
                kind_spec,
                namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
                &mut problems,
            );
            if let (true, Some(Value::Object(spec))) =
                (is_template_kind(kind_spec.kind), root.get("spec"))
            {
                templates::model::check_spec(spec, &mut problems);
            }
        } else if root.get("spec").is_some_and(|s| !s.is_object()) {
            problems.push(FieldProblem::new("spec", "must be a mapping"));
        }

        problems.retain(|p| !ignored.contains(&p.path.as_str()));
        if problems.is_empty() {
            Ok(Self { value: root })
        } else {
            Err(problems)
        }
    }

    /// The reference the document's own fields give, when they are usable: lets an
    /// error about an invalid entity still say which entity it is.
    pub fn reference_of(value: &Value) -> Option<EntityRef> {
        let kind = value.get("kind")?.as_str()?;
        let metadata = value.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
        let namespace = match metadata.get("namespace") {
            None => DEFAULT_NAMESPACE,
            Some(ns) => ns.as_str()?,
        };
        (rules::is_valid_kind(kind)
            && rules::is_valid_name(name)
            && rules::is_valid_namespace(namespace))
        .then(|| EntityRef::new(kind, namespace, name))
    }

    pub fn api_version(&self) -> &str {
        self.text(&["apiVersion"]).unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.text(&["kind"]).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.text(&["metadata", "name"]).unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.text(&["metadata", "namespace"])
            .unwrap_or(DEFAULT_NAMESPACE)
    }

    pub fn reference(&self) -> EntityRef {
        EntityRef::new(self.kind(), self.namespace(), self.name())
    }

    pub fn metadata(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.value
            .get("metadata")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    pub fn spec(&self) -> Option<&Map<String, Value>> {
        self.value.get("spec").and_then(Value::as_object)
    }

    /// A string at `path` (`["spec", "type"]`), if there is one.
    pub fn text(&self, path: &[&str]) -> Option<&str> {
        let (first, rest) = path.split_first()?;
        let mut value = self.value.get(*first)?;
        for key in rest {
            value = value.get(*key)?;
        }
        value.as_str()
    }

    /// Sets `metadata.annotations[key]`. Callers pass keys that follow the key rule
    /// (Backstage's own `backstage.io/…` annotations), so the entity stays valid.
    pub fn set_annotation(&mut self, key: &str, value: &str) {
        insert_annotation(&mut self.value, key, value);
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.value
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.value)
    }
}

/// Sets `metadata.annotations[key]` on an entity document.
pub(crate) fn insert_annotation(entity: &mut Map<String, Value>, key: &str, value: &str) {
    if let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(key.to_owned(), Value::from(value));
        }
    }
}

fn check_kind(root: &Map<String, Value>, problems: &mut Vec<FieldProblem>) -> Option<String> {
    match root.get("kind") {
        None => problems.push(FieldProblem::new("kind", "is required")),
        Some(Value::String(kind)) if rules::is_valid_kind(kind) => return Some(kind.clone()),
        Some(Value::String(kind)) => problems.push(FieldProblem::new(
            "kind",
            violation(kind, "kind", rules::KIND_RULE),
        )),
        Some(_) => problems.push(FieldProblem::new("kind", "must be a string")),
    }
    None
}

fn check_api_version(
    root: &Map<String, Value>,
    builtin: Option<&kinds::KindSpec>,
    problems: &mut Vec<FieldProblem>,
) {
    match root.get("apiVersion") {
        None => problems.push(FieldProblem::new("apiVersion", "is required")),
        Some(Value::String(version)) if !rules::is_valid_api_version(version) => {
            problems.push(FieldProblem::new(
                "apiVersion",
                violation(version, "apiVersion", rules::API_VERSION_RULE),
            ))
        }
        Some(Value::String(version)) => {
            if builtin.is_some_and(|k| is_template_kind(k.kind)) {
                if let Some(why) = api_version_problem(version) {
                    problems.push(FieldProblem::new("apiVersion", why));
                }
            } else if let Some(kind) = builtin {
                if !kinds::BUILTIN_API_VERSIONS.contains(&version.as_str()) {
                    problems.push(FieldProblem::new(
                        "apiVersion",
                        format!(
                            "{version:?} is not supported for kind {}: use backstage.io/v1alpha1",
                            kind.kind
                        ),
                    ));
                }
            }
        }
        Some(_) => problems.push(FieldProblem::new("apiVersion", "must be a string")),
    }
}

/// Checks `metadata`, fills in the default namespace and drops server-managed fields.
/// Returns the namespace when it is valid.
fn check_metadata(
    root: &mut Map<String, Value>,
    problems: &mut Vec<FieldProblem>,
) -> Option<String> {
    let Some(metadata) = root.get_mut("metadata") else {
        problems.push(FieldProblem::new("metadata", "is required"));
        return None;
    };
    let Value::Object(metadata) = metadata else {
        problems.push(FieldProblem::new("metadata", "must be a mapping"));
        return None;
    };
    for field in SERVER_METADATA {
        metadata.remove(*field);
    }

    match metadata.get("name") {
        None => problems.push(FieldProblem::new("metadata.name", "is required")),
        Some(Value::String(name)) if !rules::is_valid_name(name) => problems.push(
            FieldProblem::new("metadata.name", violation(name, "name", rules::NAME_RULE)),
        ),
        Some(Value::String(_)) => {}
        Some(_) => problems.push(FieldProblem::new("metadata.name", "must be a string")),
    }

    let namespace = match metadata.get("namespace") {
        None => {
            metadata.insert("namespace".into(), Value::from(DEFAULT_NAMESPACE));
            Some(DEFAULT_NAMESPACE.to_owned())
        }
        Some(Value::String(ns)) if rules::is_valid_namespace(ns) => Some(ns.clone()),
        Some(Value::String(ns)) => {
            problems.push(FieldProblem::new(
                "metadata.namespace",
                violation(ns, "namespace", rules::NAMESPACE_RULE),
            ));
            None
        }
        Some(_) => {
            problems.push(FieldProblem::new("metadata.namespace", "must be a string"));
            None
        }
    };

    for field in ["title", "description"] {
        if metadata.get(field).is_some_and(|v| !v.is_string()) {
            problems.push(FieldProblem::new(
                format!("metadata.{field}"),
                "must be a string",
            ));
        }
    }
    check_string_map(metadata.get("labels"), "metadata.labels", true, problems);
    check_string_map(
        metadata.get("annotations"),
        "metadata.annotations",
        false,
        problems,
    );
    check_tags(metadata.get("tags"), problems);
    check_links(metadata.get("links"), problems);
    namespace
}

fn check_string_map(
    value: Option<&Value>,
    path: &str,
    values_are_labels: bool,
    problems: &mut Vec<FieldProblem>,
) {
    let Some(value) = value else { return };
    let Value::Object(map) = value else {
        problems.push(FieldProblem::new(path, "must be a mapping of strings"));
        return;
    };
    for (key, value) in map {
        let at = format!("{path}.{key}");
        if !rules::is_valid_key(key) {
            problems.push(FieldProblem::new(
                at.clone(),
                violation(key, "key", rules::KEY_RULE),
            ));
        }
        match value {
            Value::String(text) if values_are_labels && !rules::is_valid_label_value(text) => {
                problems.push(FieldProblem::new(
                    at,
                    violation(text, "label value", rules::LABEL_VALUE_RULE),
                ))
            }
            Value::String(_) => {}
            _ => problems.push(FieldProblem::new(at, "must be a string")),
        }
    }
}

fn check_tags(value: Option<&Value>, problems: &mut Vec<FieldProblem>) {
    let Some(value) = value else { return };
    let Value::Array(tags) = value else {
        problems.push(FieldProblem::new(
            "metadata.tags",
            "must be a list of strings",
        ));
        return;
    };
    for (i, tag) in tags.iter().enumerate() {
        let at = format!("metadata.tags[{i}]");
        match tag {
            Value::String(tag) if !rules::is_valid_tag(tag) => problems.push(FieldProblem::new(
                at,
                violation(tag, "tag", rules::TAG_RULE),
            )),
            Value::String(_) => {}
            _ => problems.push(FieldProblem::new(at, "must be a string")),
        }
    }
}

fn check_links(value: Option<&Value>, problems: &mut Vec<FieldProblem>) {
    let Some(value) = value else { return };
    let Value::Array(links) = value else {
        problems.push(FieldProblem::new(
            "metadata.links",
            "must be a list of links",
        ));
        return;
    };
    for (i, link) in links.iter().enumerate() {
        let at = format!("metadata.links[{i}]");
        let Value::Object(link) = link else {
            problems.push(FieldProblem::new(at, "must be a mapping with a url"));
            continue;
        };
        match link.get("url") {
            Some(Value::String(url)) if !url.trim().is_empty() => {}
            Some(Value::String(_)) | None => {
                problems.push(FieldProblem::new(format!("{at}.url"), "is required"))
            }
            Some(_) => problems.push(FieldProblem::new(format!("{at}.url"), "must be a string")),
        }
        for field in ["title", "icon", "type"] {
            if link.get(field).is_some_and(|v| !v.is_string()) {
                problems.push(FieldProblem::new(
                    format!("{at}.{field}"),
                    "must be a string",
                ));
            }
        }
    }
}

fn check_spec(
    root: &Map<String, Value>,
    kind: &kinds::KindSpec,
    namespace: &str,
    problems: &mut Vec<FieldProblem>,
) {
    let spec = match root.get("spec") {
        None => {
            problems.push(FieldProblem::new(
                "spec",
                format!("is required for kind {}", kind.kind),
            ));
            return;
        }
        Some(Value::Object(spec)) => spec,
        Some(_) => {
            problems.push(FieldProblem::new("spec", "must be a mapping"));
            return;
        }
    };
    for field in kind.fields {
        let at = format!("spec.{}", field.name);
        match spec.get(field.name) {
            None | Some(Value::Null) if field.required => {
                problems.push(FieldProblem::new(at, "is required"))
            }
            None | Some(Value::Null) => {}
            Some(value) => check_field(value, field.shape, &at, namespace, problems),
        }
    }
    match kind.kind {
        "API" if !spec.contains_key("definition") && !spec.contains_key("remotes") => problems
            .push(FieldProblem::new(
                "spec.definition",
                "is required (unless spec.remotes is given)",
            )),
        "Location" if !spec.contains_key("target") && !spec.contains_key("targets") => problems
            .push(FieldProblem::new(
                "spec",
                "a Location needs target or targets",
            )),
        _ => {}
    }
}

fn check_field(
    value: &Value,
    shape: Shape,
    at: &str,
    namespace: &str,
    problems: &mut Vec<FieldProblem>,
) {
    let non_empty = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    match shape {
        Shape::Text if !non_empty(value) => {
            problems.push(FieldProblem::new(at, "must be a non-empty string"))
        }
        Shape::Text => {}
        Shape::Object if !value.is_object() => {
            problems.push(FieldProblem::new(at, "must be a mapping"))
        }
        Shape::Object => {}
        Shape::Ref { default_kind } => {
            check_reference(value, at, default_kind, namespace, problems)
        }
        Shape::TextList | Shape::RefList { .. } => {
            let Value::Array(items) = value else {
                problems.push(FieldProblem::new(at, "must be a list of strings"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let at = format!("{at}[{i}]");
                match shape {
                    Shape::RefList { default_kind } => {
                        check_reference(item, &at, default_kind, namespace, problems)
                    }
                    _ if !non_empty(item) => {
                        problems.push(FieldProblem::new(at, "must be a non-empty string"))
                    }
                    _ => {}
                }
            }
        }
    }
}

fn check_reference(
    value: &Value,
    at: &str,
    default_kind: Option<&str>,
    namespace: &str,
    problems: &mut Vec<FieldProblem>,
) {
    let Some(text) = value.as_str() else {
        problems.push(FieldProblem::new(
            at,
            "must be an entity reference (a string)",
        ));
        return;
    };
    let context = RefContext {
        default_kind,
        default_namespace: namespace,
    };
    if let Err(e) = EntityRef::parse(text, context) {
        problems.push(FieldProblem::new(
            at,
            format!("{text:?} is not a valid entity reference: {e}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn component(spec: Value) -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": { "name": "artist-lookup" },
            "spec": spec,
        })
    }

    fn problems(value: Value) -> Vec<String> {
        match Entity::from_value(value) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_valid_component_gets_its_namespace_and_loses_output_fields() {
        let mut value =
            component(json!({"type": "service", "lifecycle": "production", "owner": "team-a"}));
        value["status"] = json!({"items": []});
        value["relations"] = json!([]);
        value["metadata"]["uid"] = json!("forged");
        let entity = Entity::from_value(value).unwrap();
        assert_eq!(
            entity.reference().to_string(),
            "component:default/artist-lookup"
        );
        assert_eq!(entity.namespace(), "default");
        assert!(entity.as_map().get("status").is_none());
        assert!(entity.as_map().get("relations").is_none());
        assert!(entity.metadata().get("uid").is_none());
    }

    #[test]
    fn envelope_rules() {
        let cases: Vec<(Value, &str)> = vec![
            (
                json!("text"),
                "a document must be a mapping with apiVersion, kind, metadata and spec",
            ),
            (
                json!({"kind": "Component", "metadata": {"name": "x"}, "spec": {}}),
                "apiVersion: is required",
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
                "kind: is required",
            ),
            (
                json!({"apiVersion": "v1", "kind": "my-kind", "metadata": {"name": "x"}}),
                "kind: \"my-kind\" is not a valid kind",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Thing"}),
                "metadata: is required",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Thing", "metadata": {}}),
                "metadata.name: is required",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x"}, "extra": 1}),
                "extra: is not an entity field",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x"}, "spec": []}),
                "spec: must be a mapping",
            ),
            (
                json!({"apiVersion": "backstage.io/v2", "kind": "Component", "metadata": {"name": "x"},
                    "spec": {"type": "s", "lifecycle": "l", "owner": "o"}}),
                "apiVersion: \"backstage.io/v2\" is not supported for kind Component",
            ),
            (
                json!({"apiVersion": "Bad/v1", "kind": "Thing", "metadata": {"name": "x"}}),
                "apiVersion: \"Bad/v1\" is not a valid apiVersion",
            ),
        ];
        for (value, expected) in cases {
            let found = problems(value.clone());
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{value}: expected {expected:?}, got {found:?}"
            );
        }
        // Unknown kinds are kept with envelope validation only.
        assert!(problems(json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}, "spec": {"any": 1}})).is_empty());
    }

    #[test]
    fn metadata_rules() {
        let with = |metadata: Value| {
            let mut value =
                component(json!({"type": "service", "lifecycle": "production", "owner": "team-a"}));
            value["metadata"] = metadata;
            problems(value)
        };
        let cases: Vec<(Value, &str)> = vec![
            (json!({"name": "invalid component"}), "metadata.name: \"invalid component\" is not a valid name"),
            (json!({"name": 7}), "metadata.name: must be a string"),
            (json!({"name": "x", "namespace": "Dev"}), "metadata.namespace: \"Dev\" is not a valid namespace"),
            (json!({"name": "x", "title": 1}), "metadata.title: must be a string"),
            (json!({"name": "x", "tags": ["go", "go 1.15.3"]}), "metadata.tags[1]: \"go 1.15.3\" is not a valid tag: lowercase letters, digits, ':', '+', '#' separated by '-'"),
            (json!({"name": "x", "tags": "go"}), "metadata.tags: must be a list of strings"),
            (json!({"name": "x", "labels": {"tier": "front end"}}), "metadata.labels.tier: \"front end\" is not a valid label value"),
            (json!({"name": "x", "labels": {"bad key": "v"}}), "metadata.labels.bad key: \"bad key\" is not a valid key"),
            (json!({"name": "x", "labels": {"n": 1}}), "metadata.labels.n: must be a string"),
            (json!({"name": "x", "annotations": {"Example.com/x": "any value at all"}}), "metadata.annotations.Example.com/x: \"Example.com/x\" is not a valid key"),
            (json!({"name": "x", "links": [{"title": "no url"}]}), "metadata.links[0].url: is required"),
            (json!({"name": "x", "links": [{"url": "https://x", "icon": 3}]}), "metadata.links[0].icon: must be a string"),
            (json!({"name": "x", "links": ["https://x"]}), "metadata.links[0]: must be a mapping with a url"),
        ];
        for (metadata, expected) in cases {
            let found = with(metadata.clone());
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{metadata}: expected {expected:?}, got {found:?}"
            );
        }
        let fine = json!({"name": "x", "namespace": "dev", "labels": {"goVersion": "go1.15.3", "empty": ""},
            "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "free text, any characters!"},
            "tags": ["go", "c++"], "links": [{"url": "https://x", "title": "X", "icon": "dashboard", "type": "admin"}],
            "custom": {"kept": true}});
        assert!(with(fine).is_empty());
    }

    #[test]
    fn spec_rules_of_the_builtin_kinds() {
        let entity = |kind: &str, spec: Value| {
            problems(
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}),
            )
        };
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "Component",
                json!({"lifecycle": "production", "owner": "a"}),
                "spec.type: is required",
            ),
            (
                "Component",
                json!({"type": "", "lifecycle": "production", "owner": "a"}),
                "spec.type: must be a non-empty string",
            ),
            (
                "Component",
                json!({"type": "service", "lifecycle": "production"}),
                "spec.owner: is required",
            ),
            (
                "Component",
                json!({"type": "s", "lifecycle": "l", "owner": "group:"}),
                "spec.owner: \"group:\" is not a valid entity reference: the name part is empty",
            ),
            (
                "Component",
                json!({"type": "s", "lifecycle": "l", "owner": "a", "dependsOn": ["db"]}),
                "spec.dependsOn[0]: \"db\" is not a valid entity reference: it names no kind",
            ),
            (
                "Component",
                json!({"type": "s", "lifecycle": "l", "owner": "a", "providesApis": "api"}),
                "spec.providesApis: must be a list of strings",
            ),
            (
                "API",
                json!({"type": "openapi", "lifecycle": "l", "owner": "a"}),
                "spec.definition: is required (unless spec.remotes is given)",
            ),
            (
                "API",
                json!({"type": "openapi", "lifecycle": "l", "owner": "a", "definition": {"$text": "./x"}}),
                "spec.definition: must be a non-empty string",
            ),
            ("Resource", json!({"owner": "a"}), "spec.type: is required"),
            ("System", json!({}), "spec.owner: is required"),
            (
                "Domain",
                json!({"owner": "a", "subdomainOf": 3}),
                "spec.subdomainOf: must be an entity reference",
            ),
            (
                "Group",
                json!({"type": "team"}),
                "spec.children: is required",
            ),
            (
                "Group",
                json!({"type": "team", "children": [], "profile": "x"}),
                "spec.profile: must be a mapping",
            ),
            ("User", json!({}), "spec.memberOf: is required"),
            (
                "Location",
                json!({"type": "url"}),
                "spec: a Location needs target or targets",
            ),
            (
                "Location",
                json!({"targets": ["./a.yaml", ""]}),
                "spec.targets[1]: must be a non-empty string",
            ),
            ("Component", json!(null), "spec: must be a mapping"),
        ];
        for (kind, spec, expected) in cases {
            let found = entity(kind, spec.clone());
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{kind} {spec}: expected {expected:?}, got {found:?}"
            );
        }
        let valid: Vec<(&str, Value)> = vec![
            (
                "Component",
                json!({"type": "service", "lifecycle": "production", "owner": "user:guest", "system": "audio",
                "subcomponentOf": "player", "providesApis": ["a"], "consumesApis": ["b"], "dependsOn": ["resource:db"], "dependencyOf": ["component:c"]}),
            ),
            (
                "API",
                json!({"type": "mcp", "lifecycle": "l", "owner": "a", "remotes": [{"url": "https://x"}]}),
            ),
            (
                "API",
                json!({"type": "openapi", "lifecycle": "l", "owner": "a", "definition": "openapi: 3.0.0"}),
            ),
            (
                "Resource",
                json!({"type": "database", "owner": "a", "dependencyOf": ["component:x"]}),
            ),
            (
                "System",
                json!({"owner": "a", "domain": "audio", "type": "product"}),
            ),
            ("Domain", json!({"owner": "a", "subdomainOf": "audio"})),
            (
                "Group",
                json!({"type": "team", "children": [], "parent": "org", "members": ["jo"], "profile": {"email": "t@x"}}),
            ),
            (
                "User",
                json!({"memberOf": [], "profile": {"displayName": "Jo"}}),
            ),
            ("Location", json!({"target": "./x.yaml"})),
        ];
        for (kind, spec) in valid {
            assert_eq!(
                entity(kind, spec.clone()),
                Vec::<String>::new(),
                "{kind} {spec}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let found = problems(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "invalid component", "tags": ["go", "go 1.15.3"]},
            "spec": {"type": "service", "lifecycle": "production", "owner": "user:guest"},
        }));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("metadata.name: "));
        assert!(found[1].starts_with("metadata.tags[1]: "));
    }

    #[test]
    fn an_invalid_entity_can_still_be_named_when_its_identity_is_sound() {
        let value = json!({"kind": "Component", "metadata": {"name": "web", "namespace": "shop"}});
        assert_eq!(
            Entity::reference_of(&value).unwrap().to_string(),
            "component:shop/web"
        );
        assert!(Entity::reference_of(
            &json!({"kind": "Component", "metadata": {"name": "bad name"}})
        )
        .is_none());
    }
}
