//! What these pages' server functions send the browser: JSON text, which the browser
//! reads into a `serde_json::Value` and picks apart by hand.
//!
//! serde's derived readers are generated anew for every type and every way of reading
//! (a server function's answer, a page's hydration data), and for these pages they cost
//! more of the browser bundle than the pages' own code; one `Value` reader is already
//! there for the live channel.

use serde_json::Value;

/// Reads JSON text sent by a server function of these pages (`Null` if it is not JSON:
/// the server wrote it, so that does not happen).
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The string at `key`, or empty.
pub fn string(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// The string at `key`, if there is a non-empty one.
pub fn some_string(value: &Value, key: &str) -> Option<String> {
    value[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub fn flag(value: &Value, key: &str) -> bool {
    value[key].as_bool().unwrap_or(false)
}

pub fn number(value: &Value, key: &str) -> i64 {
    value[key].as_i64().unwrap_or(0)
}

/// The items of the list at `key` (none if it is not a list).
pub fn list<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value[key].as_array().map_or(&[], Vec::as_slice)
}

/// JSON text of what a server function sends (ssr).
#[cfg(feature = "ssr")]
pub fn send(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_picked_apart_forgivingly() {
        let v = parse(r#"{"a": "x", "b": true, "n": 3, "l": [1, 2], "e": ""}"#);
        assert_eq!(string(&v, "a"), "x");
        assert_eq!(string(&v, "missing"), "");
        assert_eq!(some_string(&v, "e"), None);
        assert!(flag(&v, "b"));
        assert_eq!(number(&v, "n"), 3);
        assert_eq!(list(&v, "l").len(), 2);
        assert!(list(&v, "a").is_empty());
        assert_eq!(parse("not json"), Value::Null);
    }
}
