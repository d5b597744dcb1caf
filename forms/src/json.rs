//! Small functions on JSON values shared by the validator, the field resolver and defaults.

use serde_json::Value;

/// Whether a property counts as not filled in. Form libraries turn an emptied text box
/// into "no value", so an empty string is missing too; `null` is missing unless the
/// property's schema allows the `null` type.
pub(crate) fn is_missing(value: Option<&Value>, schema: &Value) -> bool {
    match value {
        None => true,
        Some(Value::Null) => !types(schema).is_some_and(|types| types.contains(&"null")),
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    }
}

/// The names in a schema's `type`, whether it is one name or a list; `None` when the
/// schema has no `type`.
pub(crate) fn types(schema: &Value) -> Option<Vec<&str>> {
    type_names(schema.get("type"))
}

/// The names in a `type` keyword's value.
pub(crate) fn type_names(keyword: Option<&Value>) -> Option<Vec<&str>> {
    match keyword? {
        Value::String(name) => Some(vec![name.as_str()]),
        Value::Array(names) => Some(names.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// Whether `value` is of the JSON Schema type `name`; `None` for a name draft-07 does not
/// define, which the validator ignores.
pub(crate) fn has_type(value: &Value, name: &str) -> Option<bool> {
    Some(match name {
        "string" => value.is_string(),
        "number" => value.is_number(),
        // Draft-06 onwards: 1.0 is an integer.
        "integer" => value
            .as_f64()
            .is_some_and(|n| n.is_finite() && n.fract() == 0.0),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => return None,
    })
}

/// JSON equality as JSON Schema means it for `enum`, `const` and `uniqueItems`: numbers
/// compare by value, so `1` equals `1.0`.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| equal(x, y)))
        }
        _ => a == b,
    }
}

/// Text that is the same for values [`equal`] takes as equal (keys sorted, `1.0` as `1`),
/// for finding repeated items without comparing every pair.
pub(crate) fn canonical(value: &Value) -> String {
    let mut text = String::new();
    write_canonical(value, &mut text);
    text
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                out.push_str(&n.to_string());
            } else if let Some(n) = number.as_u64() {
                out.push_str(&n.to_string());
            } else {
                let n = number.as_f64().unwrap_or(f64::NAN);
                // Whole numbers within i64 print as integers, so 2.0 and 2 meet.
                if n.fract() == 0.0 && n.abs() < 9.2e18 {
                    out.push_str(&(n as i64).to_string());
                } else {
                    out.push_str(&n.to_string());
                }
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&object[key], out);
            }
            out.push('}');
        }
        // Strings (escaped), booleans and null as JSON.
        other => out.push_str(&other.to_string()),
    }
}

/// A value as a person reads it in a message: strings without quotes, the rest as JSON.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `a, b, c` for a list of values.
pub(crate) fn show_list<'a>(values: impl IntoIterator<Item = &'a Value>) -> String {
    values.into_iter().map(show).collect::<Vec<_>>().join(", ")
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The path of a property of the object at `path`.
pub(crate) fn property_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The path of an item of the array at `path`.
pub(crate) fn item_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(equal(&json!(1), &json!(1.0)));
        assert!(equal(&json!([1, {"a": 2}]), &json!([1.0, {"a": 2.0}])));
        assert!(!equal(&json!(1), &json!("1")));
        assert!(!equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn canonical_text_agrees_with_equality() {
        let same = [
            (json!(1), json!(1.0)),
            (json!(-3), json!(-3.0)),
            (json!({"a": 1, "b": [2.0]}), json!({"b": [2], "a": 1.0})),
            (json!("x"), json!("x")),
        ];
        for (a, b) in same {
            assert!(equal(&a, &b));
            assert_eq!(canonical(&a), canonical(&b), "{a} {b}");
        }
        let different = [
            (json!(1), json!("1")),
            (json!(1.5), json!(1)),
            (json!("a,b"), json!(["a", "b"])),
            (json!({"a": 1}), json!({"a": 1, "b": null})),
            (json!(null), json!("null")),
            (json!(true), json!("true")),
        ];
        for (a, b) in different {
            assert!(!equal(&a, &b));
            assert_ne!(canonical(&a), canonical(&b), "{a} {b}");
        }
    }

    #[test]
    fn missing_values() {
        let text = json!({"type": "string"});
        let nullable = json!({"type": ["string", "null"]});
        assert!(is_missing(None, &text));
        assert!(is_missing(Some(&json!("")), &text));
        assert!(is_missing(Some(&json!(null)), &text));
        assert!(!is_missing(Some(&json!(null)), &nullable));
        assert!(!is_missing(Some(&json!(false)), &text));
        assert!(!is_missing(Some(&json!([])), &text));
    }

    #[test]
    fn lists_read_as_prose() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(or_list(&words(&["a string"])), "a string");
        assert_eq!(or_list(&words(&["a string", "null"])), "a string or null");
        assert_eq!(
            or_list(&words(&["a string", "a number", "null"])),
            "a string, a number or null"
        );
        assert_eq!(
            show_list(&[json!("a"), json!(1), json!(true)]),
            "a, 1, true"
        );
    }
}
