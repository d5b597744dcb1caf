//! Form values checked against a page's schema.
//!
//! Keywords (JSON Schema draft-07 as react-jsonschema-form forms use it):
//! - any value: `type` (one name or a list), `enum`, `const`, `allOf`, `anyOf`, `oneOf`,
//!   and `if`/`then`/`else` (for objects, the branch's properties join the fields, see
//!   [`crate::fields`]);
//! - strings: `minLength`, `maxLength` (in characters), `pattern`, `format` (`email`,
//!   `uri`/`url`, `date`);
//! - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (a number, or
//!   draft-04's `true` beside `minimum`/`maximum`), `multipleOf`;
//! - arrays: `items` (one schema, or one per position), `minItems`, `maxItems`,
//!   `uniqueItems`;
//! - objects: `properties`, `required`, `dependencies`; a field's value answers to every
//!   schema that the page, its dependencies and its conditions give the field.
//!
//! A property with no value (absent, `null`, or an empty string) is checked only for
//! being required. Every field is checked and each failing keyword gives one
//! [`FieldError`], so a form can show all its problems at once.

use std::collections::HashSet;

use serde_json::{Map, Number, Value};

use crate::json::{self, item_path, property_path};
use crate::{fields, format, FieldError, PatternMatcher};

/// The problems of `values` (the whole form's values, one JSON object) on one page of
/// `spec.parameters`. Only this page's fields are checked: its `properties` and those its
/// `dependencies` and conditions bring in for these values. An empty list means the page
/// may be submitted.
pub fn validate_page(
    page: &Value,
    values: &Value,
    patterns: &dyn PatternMatcher,
) -> Vec<FieldError> {
    let empty = Value::Object(Map::new());
    let values = if values.is_object() { values } else { &empty };
    let mut validator = Validator::new(patterns);
    validator.value(page, values, "");
    // The same rule can reach a field twice (an `allOf` branch checked as a whole and as a
    // source of fields, or repeating its parent): say it once.
    let mut seen = HashSet::new();
    validator
        .errors
        .into_iter()
        .filter(|error| seen.insert(error.clone()))
        .collect()
}

/// Whether `value` satisfies `schema`, with every `pattern` taken as matching. Used for
/// conditions (`if`, the branch of a dependency), which must come out the same in the
/// browser and on the server.
pub(crate) fn holds(schema: &Value, value: &Value) -> bool {
    let mut validator = Validator::new(&IgnorePatterns);
    validator.value(schema, value, "");
    validator.errors.is_empty()
}

struct IgnorePatterns;

impl PatternMatcher for IgnorePatterns {
    fn is_match(&self, _pattern: &str, _text: &str) -> Result<bool, String> {
        Ok(true)
    }
}

struct Validator<'a> {
    patterns: &'a dyn PatternMatcher,
    errors: Vec<FieldError>,
}

impl<'a> Validator<'a> {
    fn new(patterns: &'a dyn PatternMatcher) -> Self {
        Self {
            patterns,
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    /// The errors `value` would have against `schema`, without keeping them.
    fn trial(&self, schema: &Value, value: &Value, path: &str) -> Vec<FieldError> {
        let mut trial = Validator::new(self.patterns);
        trial.value(schema, value, path);
        trial.errors
    }

    fn value(&mut self, schema: &Value, value: &Value, path: &str) {
        let schema = match schema {
            Value::Object(schema) => schema,
            Value::Bool(false) => return self.fail(path, "is not allowed"),
            _ => return,
        };
        self.type_keyword(schema, value, path);
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.iter().any(|a| json::equal(a, value)) {
                self.fail(
                    path,
                    format!("must be one of: {}", json::show_list(allowed)),
                );
            }
        }
        if let Some(expected) = schema.get("const") {
            if !json::equal(expected, value) {
                self.fail(path, format!("must be equal to {}", json::show(expected)));
            }
        }
        match value {
            Value::String(text) => self.string(schema, text, path),
            Value::Number(number) => self.number(schema, number, path),
            Value::Array(items) => self.array(schema, items, path),
            Value::Object(object) => self.object(schema, object, path),
            _ => {}
        }
        self.combinations(schema, value, path);
        // An object's `then`/`else` properties are among its fields already.
        if !value.is_object() {
            self.condition(schema, value, path);
        }
    }

    fn type_keyword(&mut self, schema: &Map<String, Value>, value: &Value, path: &str) {
        let Some(types) = json::type_names(schema.get("type")) else {
            return;
        };
        let known: Vec<(&str, bool)> = types
            .iter()
            .filter_map(|name| Some((*name, json::has_type(value, name)?)))
            .collect();
        if known.is_empty() || known.iter().any(|(_, matches)| *matches) {
            return;
        }
        let names: Vec<String> = known.iter().map(|(name, _)| type_phrase(name)).collect();
        self.fail(path, format!("must be {}", json::or_list(&names)));
    }

    fn string(&mut self, schema: &Map<String, Value>, text: &str, path: &str) {
        let length = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if length < min {
                self.fail(path, format!("must be at least {}", characters(min)));
            }
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if length > max {
                self.fail(path, format!("must be at most {}", characters(max)));
            }
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            match self.patterns.is_match(pattern, text) {
                Ok(true) => {}
                Ok(false) => self.fail(path, format!("must match {pattern}")),
                Err(why) => self.fail(path, format!("has an invalid pattern {pattern}: {why}")),
            }
        }
        if let Some(name) = schema.get("format").and_then(Value::as_str) {
            if let Some(problem) = format::check(name, text) {
                self.fail(path, problem);
            }
        }
    }

    fn number(&mut self, schema: &Map<String, Value>, number: &Number, path: &str) {
        let Some(n) = number.as_f64() else { return };
        let limit = |key: &str| match schema.get(key) {
            Some(Value::Number(limit)) => limit.as_f64().map(|l| (l, limit)),
            _ => None,
        };
        // Draft-04 wrote exclusive bounds as `true` beside `minimum`/`maximum`.
        let old_style = |key: &str| schema.get(key) == Some(&Value::Bool(true));
        if let Some((min, shown)) = limit("minimum") {
            if old_style("exclusiveMinimum") {
                if n <= min {
                    self.fail(path, format!("must be greater than {shown}"));
                }
            } else if n < min {
                self.fail(path, format!("must be at least {shown}"));
            }
        }
        if let Some((max, shown)) = limit("maximum") {
            if old_style("exclusiveMaximum") {
                if n >= max {
                    self.fail(path, format!("must be less than {shown}"));
                }
            } else if n > max {
                self.fail(path, format!("must be at most {shown}"));
            }
        }
        if let Some((min, shown)) = limit("exclusiveMinimum") {
            if n <= min {
                self.fail(path, format!("must be greater than {shown}"));
            }
        }
        if let Some((max, shown)) = limit("exclusiveMaximum") {
            if n >= max {
                self.fail(path, format!("must be less than {shown}"));
            }
        }
        if let Some((step, shown)) = limit("multipleOf") {
            if step > 0.0 && !is_multiple(n, step) {
                self.fail(path, format!("must be a multiple of {shown}"));
            }
        }
    }

    fn array(&mut self, schema: &Map<String, Value>, items: &[Value], path: &str) {
        let count = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if count < min {
                self.fail(path, format!("must have at least {}", item_count(min)));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                self.fail(path, format!("must have at most {}", item_count(max)));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            // Through canonical text rather than pairwise: the server checks lists of any
            // length a client sends, and pairwise comparison grows with the square.
            let mut seen = HashSet::new();
            if !items.iter().all(|item| seen.insert(json::canonical(item))) {
                self.fail(path, "must not contain duplicates");
            }
        }
        match schema.get("items") {
            Some(Value::Array(positional)) => {
                for (index, (item, item_schema)) in items.iter().zip(positional).enumerate() {
                    self.value(item_schema, item, &item_path(path, index));
                }
            }
            Some(item_schema) => {
                for (index, item) in items.iter().enumerate() {
                    self.value(item_schema, item, &item_path(path, index));
                }
            }
            None => {}
        }
    }

    fn object(&mut self, schema: &Map<String, Value>, object: &Map<String, Value>, path: &str) {
        let resolved = fields::resolve(schema, object);
        for field in &resolved.fields {
            let field_path = property_path(path, field.name);
            let value = object.get(field.name);
            match value {
                // Present if any of its schemas takes it as a value (`null` where allowed).
                Some(value)
                    if field
                        .parts
                        .iter()
                        .any(|p| !json::is_missing(Some(value), p)) =>
                {
                    for part in &field.parts {
                        self.value(part, value, &field_path);
                    }
                }
                _ if field.required => self.fail(&field_path, "is required"),
                _ => {}
            }
        }
        for name in resolved.required_without_schema {
            if json::is_missing(object.get(name), &Value::Null) {
                self.fail(&property_path(path, name), "is required");
            }
        }
    }

    fn combinations(&mut self, schema: &Map<String, Value>, value: &Value, path: &str) {
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.value(branch, value, path);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            let trials: Vec<_> = any.iter().map(|b| self.trial(b, value, path)).collect();
            if !trials.iter().any(Vec::is_empty) {
                self.no_branch(any, trials, value, path);
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let trials: Vec<_> = one.iter().map(|b| self.trial(b, value, path)).collect();
            match trials.iter().filter(|errors| errors.is_empty()).count() {
                0 => self.no_branch(one, trials, value, path),
                1 => {}
                _ => self.fail(path, "must match exactly one of the allowed options"),
            }
        }
    }

    /// Why no branch of `anyOf`/`oneOf` accepts `value`, as specifically as can be told:
    /// the list of choices for RJSF's titled-enum idiom (`oneOf` of `const`s), the branch's
    /// own errors when only one branch is of the value's type, a general message otherwise.
    fn no_branch(
        &mut self,
        branches: &[Value],
        trials: Vec<Vec<FieldError>>,
        value: &Value,
        path: &str,
    ) {
        let consts: Option<Vec<&Value>> = branches.iter().map(|b| b.get("const")).collect();
        if let Some(consts) = consts.filter(|c| !c.is_empty()) {
            return self.fail(path, format!("must be one of: {}", json::show_list(consts)));
        }
        let mut of_this_type = branches.iter().zip(trials).filter(|(branch, _)| {
            json::types(branch).is_none_or(|types| {
                types
                    .iter()
                    .any(|t| json::has_type(value, t) != Some(false))
            })
        });
        match (of_this_type.next(), of_this_type.next()) {
            (Some((_, errors)), None) => self.errors.extend(errors),
            _ => self.fail(path, "must match one of the allowed options"),
        }
    }

    fn condition(&mut self, schema: &Map<String, Value>, value: &Value, path: &str) {
        let Some(condition) = schema.get("if") else {
            return;
        };
        if !(condition.is_object() || condition.is_boolean()) {
            return;
        }
        let branch = if holds(condition, value) {
            schema.get("then")
        } else {
            schema.get("else")
        };
        if let Some(branch) = branch {
            self.value(branch, value, path);
        }
    }
}

/// `a string`, `an integer`, `null`.
fn type_phrase(name: &str) -> String {
    match name {
        "integer" | "array" | "object" => format!("an {name}"),
        "null" => "null".to_owned(),
        _ => format!("a {name}"),
    }
}

fn characters(count: u64) -> String {
    if count == 1 {
        "1 character".to_owned()
    } else {
        format!("{count} characters")
    }
}

fn item_count(count: u64) -> String {
    if count == 1 {
        "1 item".to_owned()
    } else {
        format!("{count} items")
    }
}

/// Whether `n` is a whole number of `step`s, allowing for binary floating point: a form
/// with `multipleOf: 0.01` must accept 0.07, which is 7.000000000000001 hundredths.
fn is_multiple(n: f64, step: f64) -> bool {
    let steps = n / step;
    (steps - steps.round()).abs() <= 1e-9 * steps.abs().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiples_tolerate_binary_fractions() {
        assert!(is_multiple(0.07, 0.01));
        assert!(is_multiple(0.3, 0.1));
        assert!(is_multiple(10.0, 2.5));
        assert!(is_multiple(-6.0, 3.0));
        assert!(!is_multiple(0.075, 0.01));
        assert!(!is_multiple(7.0, 2.0));
    }
}
