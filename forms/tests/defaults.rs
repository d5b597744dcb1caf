//! `apply_defaults`: what a form starts with, and what it never overwrites.

mod common;

use portico_forms::apply_defaults;
use serde_json::{json, Value};

fn filled(page: &Value, values: Value) -> Value {
    let mut values = values;
    apply_defaults(page, &mut values);
    values
}

#[test]
fn fills_only_what_has_no_value() {
    let page = json!({"properties": {
        "branch": {"type": "string", "default": "main"},
        "description": {"type": "string", "default": "A service"},
        "owner": {"type": "string"},
        "port": {"type": "integer", "default": 8080},
        "public": {"type": "boolean", "default": true},
        "tags": {"type": "array", "default": ["web"]}
    }});
    assert_eq!(
        filled(&page, json!({})),
        json!({
            "branch": "main",
            "description": "A service",
            "port": 8080,
            "public": true,
            "tags": ["web"]
        })
    );
    // Given answers stay, an emptied text box and `false` included; `null` is no answer.
    assert_eq!(
        filled(
            &page,
            json!({"branch": "dev", "description": "", "port": null, "public": false, "tags": []})
        ),
        json!({
            "branch": "dev",
            "description": "",
            "port": 8080,
            "public": false,
            "tags": []
        })
    );
}

#[test]
fn values_of_other_pages_are_kept() {
    let page = json!({"properties": {"region": {"default": "eu-west-1"}}});
    assert_eq!(
        filled(&page, json!({"name": "web"})),
        json!({"name": "web", "region": "eu-west-1"})
    );
}

#[test]
fn nested_objects() {
    let page = json!({"properties": {
        "db": {
            "type": "object",
            "properties": {
                "engine": {"type": "string", "default": "postgres"},
                "size": {"type": "integer", "default": 20},
                "backup": {
                    "type": "object",
                    "properties": {"daily": {"type": "boolean", "default": true}}
                }
            }
        },
        "extra": {"type": "object", "properties": {"note": {"type": "string"}}},
        "labels": {"type": "object", "default": {"team": "core"}}
    }});
    assert_eq!(
        filled(&page, json!({})),
        json!({
            "db": {"engine": "postgres", "size": 20, "backup": {"daily": true}},
            "labels": {"team": "core"}
        })
    );
    assert_eq!(
        filled(
            &page,
            json!({"db": {"size": 5, "backup": {"daily": false}}})
        ),
        json!({
            "db": {"engine": "postgres", "size": 5, "backup": {"daily": false}},
            "labels": {"team": "core"}
        })
    );
}

#[test]
fn an_object_default_gets_its_fields_defaults_too() {
    let page = json!({"properties": {"db": {
        "type": "object",
        "default": {"engine": "mysql"},
        "properties": {
            "engine": {"type": "string", "default": "postgres"},
            "size": {"type": "integer", "default": 20}
        }
    }}});
    assert_eq!(
        filled(&page, json!({})),
        json!({"db": {"engine": "mysql", "size": 20}})
    );
}

#[test]
fn object_items_of_arrays() {
    let page = json!({"properties": {"ports": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "port": {"type": "integer"},
                "protocol": {"type": "string", "default": "tcp"}
            }
        }
    }}});
    assert_eq!(
        filled(
            &page,
            json!({"ports": [{"port": 80}, {"port": 53, "protocol": "udp"}]})
        ),
        json!({"ports": [{"port": 80, "protocol": "tcp"}, {"port": 53, "protocol": "udp"}]})
    );
}

#[test]
fn a_default_choice_brings_its_branch_defaults() {
    let page = json!({
        "properties": {"database": {"enum": ["none", "postgres"], "default": "postgres"}},
        "dependencies": {"database": {"oneOf": [
            {"properties": {"database": {"const": "none"}}},
            {"properties": {
                "database": {"const": "postgres"},
                "postgresVersion": {"type": "string", "default": "16"}
            }}
        ]}}
    });
    assert_eq!(
        filled(&page, json!({})),
        json!({"database": "postgres", "postgresVersion": "16"})
    );
    assert_eq!(
        filled(&page, json!({"database": "none"})),
        json!({"database": "none"})
    );
}

#[test]
fn a_null_default_ends() {
    let page = json!({"properties": {"parent": {"type": ["string", "null"], "default": null}}});
    assert_eq!(filled(&page, json!({})), json!({"parent": null}));
    assert_eq!(
        filled(&page, json!({"parent": null})),
        json!({"parent": null})
    );
}

#[test]
fn values_that_are_not_an_object() {
    let page = json!({"properties": {"name": {"default": "web"}}});
    assert_eq!(filled(&page, json!(null)), json!({"name": "web"}));
    assert_eq!(filled(&page, json!("text")), json!("text"));
    assert_eq!(filled(&json!(true), json!({})), json!({}));
}
