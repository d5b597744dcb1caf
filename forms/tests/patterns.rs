//! `pattern` through a matcher: the `regex` crate as the server uses it, and a broken
//! pattern in a template.

mod common;

use common::{errors, messages, pairs};
use portico_forms::{validate_page, FieldError};
use serde_json::json;

#[test]
fn patterns_with_the_regex_crate() {
    let name = json!({"type": "string", "pattern": "^[a-z][a-z0-9-]{1,62}$"});
    for good in ["web", "payments-api", "a1"] {
        assert_eq!(
            messages(&name, &json!(good)),
            Vec::<String>::new(),
            "{good}"
        );
    }
    for bad in ["Web", "1web", "w", "web_api", "web\n"] {
        assert_eq!(
            messages(&name, &json!(bad)),
            ["must match ^[a-z][a-z0-9-]{1,62}$"],
            "{bad:?}"
        );
    }
}

#[test]
fn patterns_are_not_anchored() {
    // JSON Schema (and RegExp.test) searches: `[0-9]` accepts any text with a digit.
    let schema = json!({"pattern": "[0-9]"});
    assert_eq!(messages(&schema, &json!("v2-beta")), Vec::<String>::new());
    assert_eq!(messages(&schema, &json!("beta")), ["must match [0-9]"]);
}

#[test]
fn an_invalid_pattern_is_reported_on_its_field() {
    let page = json!({
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z"},
            "team": {"type": "string", "pattern": "^[a-z]+$"}
        }
    });
    let found = errors(&page, &json!({"name": "web", "team": "Core"}));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "name");
    assert!(
        found[0].1.starts_with("has an invalid pattern ^[a-z: "),
        "{}",
        found[0].1
    );
    assert_eq!(
        found[1],
        ("team".to_owned(), "must match ^[a-z]+$".to_owned())
    );
    // Without a value there is nothing to match, and nothing to report but the absence.
    assert_eq!(errors(&page, &json!({})), pairs(&[("name", "is required")]));
}

#[test]
fn a_closure_is_a_matcher() {
    let calls = std::cell::Cell::new(0);
    let prefix = |pattern: &str, text: &str| -> Result<bool, String> {
        calls.set(calls.get() + 1);
        Ok(text.starts_with(pattern.trim_start_matches('^')))
    };
    let page = json!({"properties": {"id": {"pattern": "^svc-"}}});
    assert_eq!(validate_page(&page, &json!({"id": "svc-web"}), &prefix), []);
    assert_eq!(
        validate_page(&page, &json!({"id": "web"}), &prefix),
        [FieldError::new("id", "must match ^svc-")]
    );
    assert_eq!(calls.get(), 2);
}

#[test]
fn conditions_do_not_consult_the_matcher() {
    // Which fields show must not depend on the regular-expression engine, so the browser
    // and the server agree: a pattern inside `if` or a dependency branch always holds.
    let refuse = |_: &str, _: &str| -> Result<bool, String> { Err("no patterns".into()) };
    let page = json!({
        "properties": {"id": {"type": "string"}},
        "if": {"properties": {"id": {"pattern": "^svc-"}}},
        "then": {"required": ["port"], "properties": {"port": {"type": "integer"}}}
    });
    assert_eq!(
        validate_page(&page, &json!({"id": "web"}), &refuse),
        [FieldError::new("port", "is required")]
    );
}
