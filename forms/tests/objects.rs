//! Whole pages: required fields, what counts as no value, nested paths, and which values
//! a page checks.

mod common;

use common::{errors, pairs};
use serde_json::json;

// Properties are written in alphabetical order where the order of errors is checked: a
// JSON object keeps its keys sorted unless serde_json's `preserve_order` is on, and these
// tests must pass either way.

#[test]
fn required_fields_without_a_value() {
    let page = json!({
        "required": ["name", "owner", "replicas", "public", "tags"],
        "properties": {
            "name": {"type": "string"},
            "owner": {"type": "string"},
            "public": {"type": "boolean"},
            "replicas": {"type": "integer"},
            "tags": {"type": "array"}
        }
    });
    // Absent, empty string and null are all "no value".
    assert_eq!(
        errors(&page, &json!({"owner": "", "replicas": null})),
        pairs(&[
            ("name", "is required"),
            ("owner", "is required"),
            ("public", "is required"),
            ("replicas", "is required"),
            ("tags", "is required"),
        ])
    );
    // `false`, `0` and an empty list are answers.
    assert_eq!(
        errors(
            &page,
            &json!({"name": "web", "owner": "team-a", "replicas": 0, "public": false, "tags": []})
        ),
        pairs(&[])
    );
}

#[test]
fn null_is_a_value_where_the_type_allows_it() {
    let page = json!({
        "required": ["parent"],
        "properties": {"parent": {"type": ["string", "null"]}}
    });
    assert_eq!(errors(&page, &json!({"parent": null})), pairs(&[]));
    assert_eq!(
        errors(&page, &json!({})),
        pairs(&[("parent", "is required")])
    );
}

#[test]
fn optional_fields_without_a_value_are_not_checked() {
    let page = json!({
        "properties": {
            "description": {"type": "string", "minLength": 10},
            "port": {"type": "integer", "minimum": 1024}
        }
    });
    assert_eq!(errors(&page, &json!({})), pairs(&[]));
    assert_eq!(
        errors(&page, &json!({"description": "", "port": null})),
        pairs(&[])
    );
    assert_eq!(
        errors(&page, &json!({"description": "short", "port": 80})),
        pairs(&[
            ("description", "must be at least 10 characters"),
            ("port", "must be at least 1024"),
        ])
    );
}

#[test]
fn a_required_name_without_a_property_is_still_required() {
    let page = json!({"required": ["name", "ghost"], "properties": {"name": {"type": "string"}}});
    assert_eq!(
        errors(&page, &json!({"name": "web"})),
        pairs(&[("ghost", "is required")])
    );
}

#[test]
fn only_this_pages_fields_are_checked() {
    let page = json!({"properties": {"name": {"type": "string", "maxLength": 5}}});
    // `repoUrl` belongs to another page: neither its value nor its absence matters here.
    assert_eq!(
        errors(
            &page,
            &json!({"name": "web", "repoUrl": 42, "extra": {"x": 1}})
        ),
        pairs(&[])
    );
}

#[test]
fn values_that_are_not_an_object_are_an_empty_form() {
    let page = json!({"required": ["name"], "properties": {"name": {"type": "string"}}});
    for values in [json!(null), json!("web"), json!([1])] {
        assert_eq!(
            errors(&page, &values),
            pairs(&[("name", "is required")]),
            "{values}"
        );
    }
}

#[test]
fn nested_paths() {
    let page = json!({
        "required": ["db"],
        "properties": {
            "db": {
                "type": "object",
                "required": ["engine", "size"],
                "properties": {
                    "engine": {"type": "string", "enum": ["postgres", "mysql"]},
                    "replicas": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "pattern": "^[a-z]+$"},
                                "zone": {"type": "string"}
                            }
                        }
                    },
                    "size": {"type": "integer", "minimum": 10}
                }
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}}
        }
    });
    assert_eq!(errors(&page, &json!({})), pairs(&[("db", "is required")]));
    assert_eq!(
        errors(
            &page,
            &json!({
                "db": {
                    "engine": "oracle",
                    "size": 5,
                    "replicas": [{"name": "east"}, {"zone": "b"}, {"name": "West"}]
                },
                "tags": ["web", "backend", 7]
            })
        ),
        pairs(&[
            ("db.engine", "must be one of: postgres, mysql"),
            ("db.replicas[1].name", "is required"),
            ("db.replicas[2].name", "must match ^[a-z]+$"),
            ("db.size", "must be at least 10"),
            ("tags[1]", "must be at most 3 characters"),
            ("tags[2]", "must be a string"),
        ])
    );
    assert_eq!(
        errors(&page, &json!({"db": {"size": 20}})),
        pairs(&[("db.engine", "is required")])
    );
    assert_eq!(
        errors(&page, &json!({"db": "postgres"})),
        pairs(&[("db", "must be an object")])
    );
}

#[test]
fn positional_items() {
    let page = json!({"properties": {"pair": {
        "type": "array",
        "items": [{"type": "string"}, {"type": "integer"}]
    }}});
    assert_eq!(
        errors(&page, &json!({"pair": ["a", 1, "extra"]})),
        pairs(&[])
    );
    assert_eq!(
        errors(&page, &json!({"pair": [1, "a"]})),
        pairs(&[
            ("pair[0]", "must be a string"),
            ("pair[1]", "must be an integer")
        ])
    );
}

#[test]
fn items_that_are_not_allowed() {
    let page = json!({"properties": {"none": {"type": "array", "items": false}}});
    assert_eq!(errors(&page, &json!({"none": []})), pairs(&[]));
    assert_eq!(
        errors(&page, &json!({"none": [1]})),
        pairs(&[("none[0]", "is not allowed")])
    );
}

#[test]
fn every_field_is_reported() {
    let page = json!({
        "required": ["name", "owner"],
        "properties": {
            "name": {"type": "string", "maxLength": 3},
            "owner": {"type": "string"},
            "port": {"type": "integer", "maximum": 65535}
        }
    });
    assert_eq!(
        errors(&page, &json!({"name": "too long", "port": 70000})),
        pairs(&[
            ("name", "must be at most 3 characters"),
            ("owner", "is required"),
            ("port", "must be at most 65535"),
        ])
    );
}

#[test]
fn field_errors_serialize_for_the_browser() {
    let error = portico_forms::FieldError::new("db.size", "must be at least 10");
    let json = serde_json::to_value(&error).unwrap();
    assert_eq!(
        json,
        json!({"field": "db.size", "message": "must be at least 10"})
    );
    assert_eq!(
        serde_json::from_value::<portico_forms::FieldError>(json).unwrap(),
        error
    );
}

#[test]
fn long_lists_are_checked_for_duplicates_quickly() {
    let page = json!({"properties": {"ids": {"type": "array", "uniqueItems": true}}});
    let mut ids: Vec<u64> = (0..200_000).collect();
    assert_eq!(errors(&page, &json!({ "ids": ids })), pairs(&[]));
    ids.push(199_999);
    assert_eq!(
        errors(&page, &json!({ "ids": ids })),
        pairs(&[("ids", "must not contain duplicates")])
    );
}
