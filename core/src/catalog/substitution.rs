//! `$text`, `$json` and `$yaml` placeholders: a field whose value is `{$text: ./file}`
//! takes the contents of that file (relative to the catalog file), as text or parsed.
//! Reading the target is the caller's job, so the same rules apply here as to the
//! catalog file itself (files next to it, URLs on allowed hosts).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::problem::FieldProblem;

/// Replaces every placeholder in `value`, reading each target with `read` (which says
/// why it could not). A placeholder that cannot be resolved becomes `null` and yields a
/// problem at its path; the rest of the document is still resolved.
pub fn resolve(
    value: &mut Value,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    walk(value, read, &mut String::new(), &mut problems);
    problems
}

fn walk(
    value: &mut Value,
    read: &mut dyn FnMut(&str) -> Result<String, String>,
    path: &mut String,
    problems: &mut Vec<FieldProblem>,
) {
    if let Some((kind, target)) = placeholder(value) {
        *value = match read(&target).and_then(|text| parse(kind, text)) {
            Ok(loaded) => loaded,
            Err(reason) => {
                problems.push(FieldProblem::new(
                    path.clone(),
                    format!("{kind} {target}: {reason}"),
                ));
                Value::Null
            }
        };
        return;
    }
    let len = path.len();
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(child, read, path, problems);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(child, read, path, problems);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `{"$text": "target"}` (exactly one key) → `("$text", "target")`.
fn placeholder(value: &Value) -> Option<(&'static str, String)> {
    let map: &Map<String, Value> = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, target) = map.iter().next()?;
    let kind = match key.as_str() {
        "$text" => "$text",
        "$json" => "$json",
        "$yaml" => "$yaml",
        _ => return None,
    };
    Some((kind, target.as_str()?.to_owned()))
}

fn parse(kind: &str, text: String) -> Result<Value, String> {
    match kind {
        "$text" => Ok(Value::String(text)),
        "$json" => serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}")),
        _ => serde_norway::Deserializer::from_str(&text)
            .next()
            .map(Value::deserialize)
            .unwrap_or(Ok(Value::Null))
            .map_err(|e| format!("not valid YAML: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Reads targets from `dir`, as the reader does for a file next to the catalog file.
    fn files_in(dir: &std::path::Path) -> impl FnMut(&str) -> Result<String, String> + '_ {
        move |target| {
            if target.contains("://") {
                return Err("host \"example.com\" is not allowed".into());
            }
            std::fs::read_to_string(dir.join(target)).map_err(|_| "file not found".into())
        }
    }

    #[test]
    fn placeholders_are_replaced_by_file_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("api.yaml"),
            "openapi: 3.0.0\ninfo: {title: X}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("data.json"), r#"{"a": [1, 2]}"#).unwrap();
        let mut value = json!({
            "spec": {
                "definition": {"$text": "./api.yaml"},
                "parsed": {"$yaml": "api.yaml"},
                "list": [{"$json": "data.json"}],
                "not_a_placeholder": {"$text": "x", "other": 1},
            }
        });
        assert!(resolve(&mut value, &mut files_in(dir.path())).is_empty());
        assert_eq!(
            value["spec"]["definition"],
            "openapi: 3.0.0\ninfo: {title: X}\n"
        );
        assert_eq!(value["spec"]["parsed"]["info"]["title"], "X");
        assert_eq!(value["spec"]["list"][0]["a"][1], 2);
        assert_eq!(value["spec"]["not_a_placeholder"]["other"], 1);
    }

    #[test]
    fn unresolvable_placeholders_are_reported_at_their_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        let mut value = json!({"spec": {
            "definition": {"$text": "https://example.com/api.yaml"},
            "missing": {"$text": "./nope.yaml"},
            "broken": [{"$json": "bad.json"}],
        }});
        let mut problems: Vec<String> = resolve(&mut value, &mut files_in(dir.path()))
            .iter()
            .map(ToString::to_string)
            .collect();
        problems.sort();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.broken[0]: $json bad.json: not valid JSON"),
            "{problems:?}"
        );
        assert_eq!(
            problems[1],
            "spec.definition: $text https://example.com/api.yaml: host \"example.com\" is not allowed"
        );
        assert!(
            problems[2] == "spec.missing: $text ./nope.yaml: file not found",
            "{problems:?}"
        );
        assert_eq!(value["spec"]["definition"], Value::Null);
    }
}
