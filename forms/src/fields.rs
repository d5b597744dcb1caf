//! Which properties an object schema (a page, or a nested object) shows for the current
//! values.
//!
//! A schema's `properties` are always shown. These keywords add more, depending on what
//! has been entered, the way react-jsonschema-form resolves them:
//! - `dependencies`: `{ "a": ["b"] }` makes `b` required once `a` has a value;
//!   `{ "a": { "properties": …, "required": …, "oneOf": [...] } }` adds the schema's
//!   properties once `a` has a value and, from `oneOf`, the one branch whose
//!   `properties.a` accepts that value (its `enum` or `const` names it);
//! - `if`/`then`/`else` (when `if` is a schema, not Backstage's `${{ }}` page condition):
//!   the properties and `required` of the branch the values select;
//! - `allOf`: the properties of every branch, so several `if`/`then` pairs can sit side
//!   by side.
//!
//! `ui:order` (a list of names with an optional `*` for the rest) orders the result;
//! otherwise properties come in the order of the schema's object, then those added. That
//! is the template's order only when serde_json's `preserve_order` feature is on: without
//! it a JSON object keeps its keys sorted by name.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::json;
use crate::validate;

/// A property a form shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    /// The property's schema, merged with what dependencies and conditions add to it (on
    /// a clash the later one wins), for showing the field. For a nested object, pass it
    /// back to [`visible_fields`] with the object's value. Validation holds the value to
    /// each contributing schema in full.
    pub schema: Value,
    /// Whether the schema's `required` (or a dependency or condition in force) names it.
    pub required: bool,
}

/// The properties `schema` (one page of `spec.parameters`, or a nested object's schema)
/// shows for `values` (the whole form's values), in order.
///
/// Conditions are evaluated without `pattern` (a pattern inside a condition always
/// matches): the browser and the server then agree on the fields without sharing a
/// regular-expression engine.
pub fn visible_fields(schema: &Value, values: &Value) -> Vec<Field> {
    let empty = Map::new();
    let values = values.as_object().unwrap_or(&empty);
    let Some(schema) = schema.as_object() else {
        return Vec::new();
    };
    resolve(schema, values)
        .fields
        .into_iter()
        .map(|field| Field {
            name: field.name.to_owned(),
            schema: field.schema(),
            required: field.required,
        })
        .collect()
}

/// The fields of an object schema for some values.
pub(crate) struct Resolved<'s> {
    pub fields: Vec<ResolvedField<'s>>,
    /// Names required without a property schema anywhere: a template mistake, still
    /// reported as missing.
    pub required_without_schema: Vec<&'s str>,
}

pub(crate) struct ResolvedField<'s> {
    pub name: &'s str,
    /// Every schema given for the property, the base one first.
    pub parts: Vec<&'s Value>,
    pub required: bool,
}

impl ResolvedField<'_> {
    /// The parts merged into one schema.
    pub fn schema(&self) -> Value {
        let mut parts = self.parts.iter();
        let mut schema = parts
            .next()
            .map_or(Value::Bool(true), |&first| first.clone());
        for part in parts {
            merge(&mut schema, part);
        }
        schema
    }
}

pub(crate) fn resolve<'s>(
    schema: &'s Map<String, Value>,
    values: &Map<String, Value>,
) -> Resolved<'s> {
    let mut found = Collected::default();
    found.collect(schema, values, None);

    let Collected {
        properties,
        required,
    } = found;
    let required_without_schema = required
        .iter()
        .filter(|name| !properties.iter().any(|(p, _)| p == *name))
        .copied()
        .collect();
    let mut fields: Vec<ResolvedField> = properties
        .into_iter()
        .map(|(name, parts)| ResolvedField {
            required: required.contains(&name),
            name,
            parts,
        })
        .collect();
    if let Some(order) = schema.get("ui:order").and_then(Value::as_array) {
        fields = in_ui_order(fields, order);
    }
    Resolved {
        fields,
        required_without_schema,
    }
}

#[derive(Default)]
struct Collected<'s> {
    /// In order of first appearance.
    properties: Vec<(&'s str, Vec<&'s Value>)>,
    required: Vec<&'s str>,
}

impl<'s> Collected<'s> {
    /// Adds what `schema` shows for `values`, leaving out the property `except`.
    fn collect(
        &mut self,
        schema: &'s Map<String, Value>,
        values: &Map<String, Value>,
        except: Option<&str>,
    ) {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if except != Some(name.as_str()) {
                    self.add_property(name, property);
                }
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            self.require(required);
        }
        if let Some(dependencies) = schema.get("dependencies").and_then(Value::as_object) {
            for (key, dependency) in dependencies {
                if !self.has_value(key, values) {
                    continue;
                }
                match dependency {
                    Value::Array(names) => self.require(names),
                    Value::Object(dependency) => self.dependency_schema(key, dependency, values),
                    _ => {}
                }
            }
        }
        if let Some(condition) = schema.get("if").filter(|c| c.is_object() || c.is_boolean()) {
            let branch = if validate::holds(condition, &Value::Object(values.clone())) {
                schema.get("then")
            } else {
                schema.get("else")
            };
            if let Some(branch) = branch.and_then(Value::as_object) {
                self.collect(branch, values, None);
            }
        }
        if let Some(branches) = schema.get("allOf").and_then(Value::as_array) {
            for branch in branches.iter().filter_map(Value::as_object) {
                self.collect(branch, values, None);
            }
        }
    }

    /// The schema form of `dependencies`, in force because `key` has a value.
    fn dependency_schema(
        &mut self,
        key: &str,
        dependency: &'s Map<String, Value>,
        values: &Map<String, Value>,
    ) {
        self.collect(dependency, values, None);
        let Some(branches) = dependency.get("oneOf").and_then(Value::as_array) else {
            return;
        };
        let value = &values[key];
        let chosen = branches.iter().filter_map(Value::as_object).find(|branch| {
            branch
                .get("properties")
                .and_then(|properties| properties.get(key))
                .is_some_and(|discriminator| validate::holds(discriminator, value))
        });
        if let Some(branch) = chosen {
            // The discriminator stays as the page defines it: merging the branch's copy
            // would narrow its choices to the one already picked.
            self.collect(branch, values, Some(key));
        }
    }

    fn add_property(&mut self, name: &'s str, schema: &'s Value) {
        match self.properties.iter_mut().find(|(p, _)| *p == name) {
            Some((_, parts)) => parts.push(schema),
            None => self.properties.push((name, vec![schema])),
        }
    }

    fn require(&mut self, names: &'s [Value]) {
        for name in names.iter().filter_map(Value::as_str) {
            if !self.required.contains(&name) {
                self.required.push(name);
            }
        }
    }

    fn has_value(&self, key: &str, values: &Map<String, Value>) -> bool {
        let value = values.get(key);
        match self.properties.iter().find(|(p, _)| *p == key) {
            Some((_, parts)) => parts.iter().any(|part| !json::is_missing(value, part)),
            None => !json::is_missing(value, &Value::Null),
        }
    }
}

/// `extra` merged into `base`: objects key by key, `required` lists united, anything else
/// taken from `extra`.
fn merge(base: &mut Value, extra: &Value) {
    let (Value::Object(base), Value::Object(extra)) = (&mut *base, extra) else {
        *base = extra.clone();
        return;
    };
    for (key, value) in extra {
        match (base.get_mut(key), value) {
            (Some(Value::Array(names)), Value::Array(more)) if key == "required" => {
                for name in more {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
            (Some(existing @ Value::Object(_)), Value::Object(_)) => merge(existing, value),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// RJSF's `ui:order`: the names listed come first, in that order, except those after a
/// `*`, which come last; `*` (or the end, without one) stands for every field not listed.
/// Names that are not fields are skipped.
fn in_ui_order<'s>(fields: Vec<ResolvedField<'s>>, order: &[Value]) -> Vec<ResolvedField<'s>> {
    let order: Vec<&str> = order.iter().filter_map(Value::as_str).collect();
    let (before, after) = match order.iter().position(|name| *name == "*") {
        Some(star) => (&order[..star], &order[star + 1..]),
        None => (&order[..], &[][..]),
    };
    let mut rest = fields;
    let mut take = |names: &[&str]| -> Vec<ResolvedField<'s>> {
        names
            .iter()
            .filter_map(|name| {
                let at = rest.iter().position(|f| f.name == *name)?;
                Some(rest.remove(at))
            })
            .collect()
    };
    let mut first = take(before);
    let last = take(after);
    first.append(&mut rest);
    first.extend(last);
    first
}
