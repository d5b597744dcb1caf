//! One table per keyword: a property's schema, a value, and the messages expected (none
//! when the value is accepted).

mod common;

use common::messages;
use serde_json::{json, Value};

fn table(cases: &[(Value, Value, &[&str])]) {
    for (schema, value, expected) in cases {
        assert_eq!(
            messages(schema, value),
            *expected,
            "schema {schema} with value {value}"
        );
    }
}

#[test]
fn type_names() {
    table(&[
        (json!({"type": "string"}), json!("x"), &[]),
        (json!({"type": "string"}), json!(1), &["must be a string"]),
        (json!({"type": "number"}), json!(1.5), &[]),
        (json!({"type": "number"}), json!(2), &[]),
        (json!({"type": "number"}), json!("2"), &["must be a number"]),
        (json!({"type": "integer"}), json!(2), &[]),
        (json!({"type": "integer"}), json!(2.0), &[]),
        (
            json!({"type": "integer"}),
            json!(2.5),
            &["must be an integer"],
        ),
        (json!({"type": "boolean"}), json!(false), &[]),
        (
            json!({"type": "boolean"}),
            json!("false"),
            &["must be a boolean"],
        ),
        (json!({"type": "array"}), json!([]), &[]),
        (json!({"type": "array"}), json!({}), &["must be an array"]),
        (json!({"type": "object"}), json!({}), &[]),
        (json!({"type": "object"}), json!([]), &["must be an object"]),
        (json!({"type": "null"}), json!(null), &[]),
        (json!({"type": "null"}), json!(0), &["must be null"]),
    ]);
}

#[test]
fn type_lists() {
    table(&[
        (json!({"type": ["string", "null"]}), json!("x"), &[]),
        (json!({"type": ["string", "null"]}), json!(null), &[]),
        (
            json!({"type": ["string", "null"]}),
            json!(3),
            &["must be a string or null"],
        ),
        (
            json!({"type": ["string", "integer", "boolean"]}),
            json!(1.5),
            &["must be a string, an integer or a boolean"],
        ),
        // Names draft-07 does not define are ignored, alone or in a list.
        (json!({"type": "text"}), json!(1), &[]),
        (
            json!({"type": ["text", "string"]}),
            json!(1),
            &["must be a string"],
        ),
    ]);
}

#[test]
fn enum_and_const() {
    let clouds = json!({"type": "string", "enum": ["AWS", "GCP", "Azure"]});
    table(&[
        (clouds.clone(), json!("GCP"), &[]),
        (clouds, json!("gcp"), &["must be one of: AWS, GCP, Azure"]),
        (json!({"enum": [1, 2, 3]}), json!(2.0), &[]),
        (
            json!({"enum": [1, "two", true]}),
            json!(4),
            &["must be one of: 1, two, true"],
        ),
        (json!({"enum": [{"a": 1}, [1, 2]]}), json!([1, 2]), &[]),
        (json!({"const": "Yes"}), json!("Yes"), &[]),
        (
            json!({"const": "Yes"}),
            json!("No"),
            &["must be equal to Yes"],
        ),
        (json!({"const": 42}), json!(41), &["must be equal to 42"]),
        (
            json!({"const": true}),
            json!(false),
            &["must be equal to true"],
        ),
    ]);
}

#[test]
fn string_lengths_count_characters() {
    let name = json!({"type": "string", "minLength": 3, "maxLength": 5});
    table(&[
        (name.clone(), json!("abc"), &[]),
        (name.clone(), json!("abcde"), &[]),
        (
            name.clone(),
            json!("ab"),
            &["must be at least 3 characters"],
        ),
        (
            name.clone(),
            json!("abcdef"),
            &["must be at most 5 characters"],
        ),
        // Five characters, ten bytes.
        (name.clone(), json!("ééééé"), &[]),
        (name.clone(), json!("日本語"), &[]),
        // One character outside the Basic Multilingual Plane counts once.
        (name.clone(), json!("ab🚀"), &[]),
        (name, json!("ab🚀🚀🚀🚀"), &["must be at most 5 characters"]),
        (json!({"minLength": 1}), json!(" "), &[]),
        (
            json!({"maxLength": 1}),
            json!("ab"),
            &["must be at most 1 character"],
        ),
        (
            json!({"maxLength": 63}),
            json!("a".repeat(64)),
            &["must be at most 63 characters"],
        ),
        // String keywords leave other types alone.
        (json!({"minLength": 3}), json!(12), &[]),
    ]);
}

#[test]
fn numeric_bounds() {
    let percent = json!({"type": "integer", "minimum": 50, "maximum": 100});
    table(&[
        (percent.clone(), json!(50), &[]),
        (percent.clone(), json!(100), &[]),
        (percent.clone(), json!(40), &["must be at least 50"]),
        (percent.clone(), json!(101), &["must be at most 100"]),
        (percent, json!(75.5), &["must be an integer"]),
        (
            json!({"minimum": 0.5}),
            json!(0.25),
            &["must be at least 0.5"],
        ),
        (json!({"maximum": -1}), json!(0), &["must be at most -1"]),
        (json!({"exclusiveMinimum": 0}), json!(0.001), &[]),
        (
            json!({"exclusiveMinimum": 0}),
            json!(0),
            &["must be greater than 0"],
        ),
        (json!({"exclusiveMaximum": 10}), json!(9.99), &[]),
        (
            json!({"exclusiveMaximum": 10}),
            json!(10),
            &["must be less than 10"],
        ),
        (
            json!({"minimum": 1, "maximum": 3, "exclusiveMinimum": 0, "exclusiveMaximum": 5}),
            json!(7),
            &["must be at most 3", "must be less than 5"],
        ),
        // Draft-04's boolean form, still found in older templates.
        (
            json!({"minimum": 1, "exclusiveMinimum": true}),
            json!(1),
            &["must be greater than 1"],
        ),
        (
            json!({"maximum": 9, "exclusiveMaximum": true}),
            json!(9),
            &["must be less than 9"],
        ),
        (
            json!({"minimum": 1, "exclusiveMinimum": false}),
            json!(1),
            &[],
        ),
        // Numeric keywords leave other types alone.
        (json!({"minimum": 5}), json!("1"), &[]),
    ]);
}

#[test]
fn multiple_of() {
    table(&[
        (json!({"multipleOf": 5}), json!(15), &[]),
        (json!({"multipleOf": 5}), json!(0), &[]),
        (json!({"multipleOf": 5}), json!(-10), &[]),
        (
            json!({"multipleOf": 5}),
            json!(12),
            &["must be a multiple of 5"],
        ),
        (json!({"multipleOf": 0.01}), json!(19.99), &[]),
        (json!({"multipleOf": 0.01}), json!(0.07), &[]),
        (
            json!({"multipleOf": 0.01}),
            json!(0.075),
            &["must be a multiple of 0.01"],
        ),
        // A non-positive multipleOf is a broken schema, not a reason to refuse the value.
        (json!({"multipleOf": 0}), json!(3), &[]),
    ]);
}

#[test]
fn formats() {
    table(&[
        (json!({"format": "email"}), json!("ops@example.com"), &[]),
        (
            json!({"format": "email"}),
            json!("x"),
            &["must be an email address"],
        ),
        (
            json!({"format": "email"}),
            json!("ops@example"),
            &["must be an email address"],
        ),
        (
            json!({"format": "uri"}),
            json!("https://github.com/org/repo"),
            &[],
        ),
        (
            json!({"format": "uri"}),
            json!("github.com/org/repo"),
            &["must be a URL"],
        ),
        (
            json!({"format": "url"}),
            json!("http://localhost:3000"),
            &[],
        ),
        (
            json!({"format": "url"}),
            json!("https://"),
            &["must be a URL"],
        ),
        (json!({"format": "date"}), json!("2024-02-29"), &[]),
        (
            json!({"format": "date"}),
            json!("2023-02-29"),
            &["must be a date (YYYY-MM-DD)"],
        ),
        (
            json!({"format": "date"}),
            json!("29/02/2024"),
            &["must be a date (YYYY-MM-DD)"],
        ),
        (json!({"format": "hostname"}), json!("not a host name"), &[]),
        (json!({"format": "email"}), json!(7), &[]),
    ]);
}

#[test]
fn arrays() {
    let tags = json!({
        "type": "array",
        "items": {"type": "string", "minLength": 2},
        "minItems": 1,
        "maxItems": 3,
        "uniqueItems": true
    });
    table(&[
        (tags.clone(), json!(["web", "api"]), &[]),
        (tags.clone(), json!([]), &["must have at least 1 item"]),
        (
            tags.clone(),
            json!(["a1", "b2", "c3", "d4"]),
            &["must have at most 3 items"],
        ),
        (
            tags.clone(),
            json!(["web", "web"]),
            &["must not contain duplicates"],
        ),
        (
            json!({"uniqueItems": true}),
            json!([1, 1.0]),
            &["must not contain duplicates"],
        ),
        (
            json!({"uniqueItems": true}),
            json!([{"a": 1}, {"a": 2}]),
            &[],
        ),
        (json!({"uniqueItems": false}), json!([1, 1]), &[]),
        (
            json!({"minItems": 2}),
            json!([1]),
            &["must have at least 2 items"],
        ),
        (
            json!({"maxItems": 1}),
            json!([1, 2]),
            &["must have at most 1 item"],
        ),
        // Array keywords leave other types alone.
        (json!({"minItems": 2}), json!("ab"), &[]),
    ]);
}

#[test]
fn combinations() {
    let port = json!({"oneOf": [
        {"type": "integer", "minimum": 1, "maximum": 65535},
        {"type": "string", "enum": ["auto"]}
    ]});
    let titled_enum = json!({"type": "string", "oneOf": [
        {"const": "s", "title": "Small"},
        {"const": "m", "title": "Medium"}
    ]});
    let overlapping = json!({"oneOf": [{"minimum": 0}, {"maximum": 10}]});
    table(&[
        (port.clone(), json!(8080), &[]),
        (port.clone(), json!("auto"), &[]),
        // Only one branch takes a number: its own message says what is wrong.
        (port.clone(), json!(70000), &["must be at most 65535"]),
        (port.clone(), json!("manual"), &["must be one of: auto"]),
        (
            port,
            json!(true),
            &["must match one of the allowed options"],
        ),
        (titled_enum.clone(), json!("m"), &[]),
        (titled_enum, json!("l"), &["must be one of: s, m"]),
        (overlapping.clone(), json!(-5), &[]),
        (
            overlapping,
            json!(5),
            &["must match exactly one of the allowed options"],
        ),
        (
            json!({"anyOf": [{"minimum": 0}, {"maximum": 10}]}),
            json!(5),
            &[],
        ),
        (
            json!({"anyOf": [{"type": "string", "pattern": "^v"}, {"type": "string", "minLength": 5}]}),
            json!("1.0"),
            &["must match one of the allowed options"],
        ),
        (
            json!({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]}),
            json!("abc"),
            &["must be at most 2 characters"],
        ),
        (
            json!({"allOf": [{"minLength": 2}, {"maxLength": 4}]}),
            json!("abc"),
            &[],
        ),
        (
            json!({"allOf": [{"minLength": 4}, {"pattern": "^[0-9]+$"}]}),
            json!("ab"),
            &["must be at least 4 characters", "must match ^[0-9]+$"],
        ),
        // The same failure from the property and from an allOf branch is said once.
        (
            json!({"type": "string", "allOf": [{"type": "string"}]}),
            json!(1),
            &["must be a string"],
        ),
    ]);
}

#[test]
fn if_then_else_on_a_value() {
    let version = json!({
        "type": "string",
        "if": {"pattern": "^v"},
        "then": {"minLength": 2},
        "else": {"enum": ["latest"]}
    });
    table(&[
        (version.clone(), json!("v1"), &[]),
        // A pattern inside a condition always holds: "latest" is held to `then`.
        (version.clone(), json!("latest"), &[]),
        (version, json!("v"), &["must be at least 2 characters"]),
        (
            json!({"if": {"type": "integer"}, "then": {"minimum": 1}, "else": {"minLength": 1}}),
            json!(0),
            &["must be at least 1"],
        ),
        (
            json!({"if": {"type": "integer"}, "then": {"minimum": 1}, "else": {"maxLength": 1}}),
            json!("ab"),
            &["must be at most 1 character"],
        ),
    ]);
}

#[test]
fn boolean_schemas() {
    table(&[
        (json!(true), json!("anything"), &[]),
        (json!(false), json!("anything"), &["is not allowed"]),
        (json!({"items": false}), json!([]), &[]),
    ]);
}

#[test]
fn every_failing_keyword_is_reported() {
    let schema = json!({
        "type": "string",
        "enum": ["service-a", "service-b"],
        "minLength": 12,
        "pattern": "^[a-z-]+$",
        "format": "email"
    });
    assert_eq!(
        messages(&schema, &json!("Web")),
        [
            "must be one of: service-a, service-b",
            "must be at least 12 characters",
            "must match ^[a-z-]+$",
            "must be an email address",
        ]
    );
}

#[test]
fn hints_and_unknown_keywords_are_ignored() {
    let schema = json!({
        "type": "string",
        "title": "Name",
        "description": "Unique name of the component",
        "ui:autofocus": true,
        "ui:options": {"rows": 5},
        "ui:field": "EntityNamePicker",
        "x-portico-note": "kept",
        "minProperties": 3,
        "examples": ["web"]
    });
    table(&[(schema, json!("web"), &[])]);
}
