//! What the test files share: the server's matcher, fixtures, and short ways to ask for
//! errors.

#![allow(dead_code)] // Each test file uses its own part of this module.

use std::path::PathBuf;

use portico_forms::{validate_page, FieldError, PatternMatcher};
use serde_json::{json, Value};

/// The matcher the server uses: the `regex` crate.
pub struct RegexMatcher;

impl PatternMatcher for RegexMatcher {
    fn is_match(&self, pattern: &str, text: &str) -> Result<bool, String> {
        regex::Regex::new(pattern)
            .map(|re| re.is_match(text))
            .map_err(|e| e.to_string())
    }
}

/// `validate_page` with the regex matcher, as `(field, message)` pairs.
pub fn errors(page: &Value, values: &Value) -> Vec<(String, String)> {
    validate_page(page, values, &RegexMatcher)
        .into_iter()
        .map(|FieldError { field, message }| (field, message))
        .collect()
}

/// The messages for one property `v` of schema `schema` holding `value`.
pub fn messages(schema: &Value, value: &Value) -> Vec<String> {
    let page = json!({ "properties": { "v": schema } });
    errors(&page, &json!({ "v": value }))
        .into_iter()
        .map(|(field, message)| {
            assert_eq!(field, "v", "error on another field: {message}");
            message
        })
        .collect()
}

/// `(field, message)` pairs written briefly.
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect()
}

/// Backstage's fixtures: from `PORTICO_FIXTURES` when set, else from
/// `shared/fixtures/backstage` beside the repository.
pub fn fixtures() -> PathBuf {
    std::env::var_os("PORTICO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/backstage")
        })
}

/// A fixture template's `spec.parameters`.
pub fn parameters(path: &str) -> Value {
    let file = fixtures().join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "Backstage's fixtures are expected at {} ({e}): check out shared/ beside the \
             repository, or set PORTICO_FIXTURES to the fixtures/backstage folder",
            file.display()
        )
    });
    let template: Value = serde_norway::from_str(&text).expect("the fixture is YAML");
    template["spec"]["parameters"].clone()
}
