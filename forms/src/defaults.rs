//! A page's `default`s filled into the form's values.

use serde_json::{Map, Value};

use crate::fields;

/// Fills in the `default` of each field of `page` that has no value yet (absent or
/// `null`), also inside nested objects and the object items of arrays. Values already
/// there, empty strings included, are kept: an emptied field is the person's answer.
///
/// A `null` `values` becomes an object; any other non-object is left alone.
pub fn apply_defaults(page: &Value, values: &mut Value) {
    if values.is_null() {
        *values = Value::Object(Map::new());
    }
    if let Value::Object(values) = values {
        fill_object(page, values);
    }
}

/// Returns whether anything was added.
fn fill_object(schema: &Value, values: &mut Map<String, Value>) -> bool {
    let Some(schema) = schema.as_object() else {
        return false;
    };
    let mut changed = false;
    // A default can bring in more fields (a default `database` selects a dependency branch
    // whose fields have defaults of their own), so go again until nothing is added. Values
    // are only ever added, never changed, so this ends within one pass per property.
    loop {
        let mut added = false;
        let fields: Vec<(String, Value)> = fields::resolve(schema, values)
            .fields
            .iter()
            .map(|field| (field.name.to_owned(), field.schema()))
            .collect();
        for (name, schema) in &fields {
            added |= fill_field(schema, values, name);
        }
        if !added {
            return changed;
        }
        changed = true;
    }
}

fn fill_field(schema: &Value, values: &mut Map<String, Value>, name: &str) -> bool {
    match values.get_mut(name) {
        None | Some(Value::Null) => {
            let Some(value) = default_value(schema) else {
                return false;
            };
            let added = values.get(name) != Some(&value);
            values.insert(name.to_owned(), value);
            added
        }
        Some(Value::Object(nested)) => fill_object(schema, nested),
        Some(Value::Array(items)) => {
            let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) else {
                return false;
            };
            let mut added = false;
            for item in items.iter_mut() {
                if let Value::Object(item) = item {
                    added |= fill_object(item_schema, item);
                }
            }
            added
        }
        Some(_) => false,
    }
}

/// What a field without a value starts as: its `default`, and for an object the defaults
/// of its own fields too. `None` when that would be nothing (an empty object included, so
/// an optional nested object without defaults stays absent).
fn default_value(schema: &Value) -> Option<Value> {
    let default = schema.get("default").cloned();
    let is_object = schema.get("properties").is_some()
        || crate::json::types(schema).is_some_and(|types| types == ["object"]);
    if !is_object {
        return default;
    }
    let mut object = match default {
        Some(Value::Object(object)) => object,
        None => Map::new(),
        Some(other) => return Some(other),
    };
    fill_object(schema, &mut object);
    (schema.get("default").is_some() || !object.is_empty()).then_some(Value::Object(object))
}
