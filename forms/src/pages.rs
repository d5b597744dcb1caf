//! `spec.parameters` as a list of pages.

use serde_json::Value;

/// The pages of a template's `spec.parameters`. Backstage accepts one schema object
/// instead of a list (a one-page form); either way the wizard gets a list. A missing
/// (`null`) or otherwise malformed `parameters` has no pages.
pub fn pages(parameters: &Value) -> Vec<Value> {
    match parameters {
        Value::Array(pages) => pages.clone(),
        Value::Object(_) => vec![parameters.clone()],
        _ => Vec::new(),
    }
}
