//! Fields that come and go with the values: `dependencies` (property lists, schemas, and
//! `oneOf` branches picked by a value), `if`/`then`/`else`, and the order they are shown in.

mod common;

use common::{errors, pairs};
use portico_forms::{visible_fields, Field};
use serde_json::{json, Value};

/// The react-jsonschema-form idiom: a choice whose every option brings its own fields.
fn database_page() -> Value {
    json!({
        "title": "Database",
        "required": ["database"],
        "properties": {
            "database": {
                "title": "Database",
                "type": "string",
                "enum": ["none", "postgres", "mongodb"],
                "default": "none"
            }
        },
        "dependencies": {
            "database": {
                "oneOf": [
                    {"properties": {"database": {"enum": ["none"]}}},
                    {
                        "properties": {
                            "database": {"enum": ["postgres"]},
                            "postgresVersion": {
                                "title": "PostgreSQL version",
                                "type": "string",
                                "enum": ["15", "16"],
                                "default": "16"
                            },
                            "storageGb": {
                                "title": "Storage (GB)",
                                "type": "integer",
                                "minimum": 10,
                                "maximum": 500,
                                "default": 20
                            }
                        },
                        "required": ["postgresVersion", "storageGb"]
                    },
                    {
                        "properties": {
                            "database": {"const": "mongodb"},
                            "mongoCluster": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}
                        },
                        "required": ["mongoCluster"]
                    }
                ]
            }
        }
    })
}

/// `(name, required)` of each visible field, in order.
fn shown(page: &Value, values: &Value) -> Vec<(String, bool)> {
    visible_fields(page, values)
        .into_iter()
        .map(|Field { name, required, .. }| (name, required))
        .collect()
}

fn names(fields: &[(&str, bool)]) -> Vec<(String, bool)> {
    fields.iter().map(|(n, r)| (n.to_string(), *r)).collect()
}

#[test]
fn a_choice_shows_the_fields_of_its_branch() {
    let page = database_page();
    assert_eq!(shown(&page, &json!({})), names(&[("database", true)]));
    assert_eq!(
        shown(&page, &json!({"database": "none"})),
        names(&[("database", true)])
    );
    assert_eq!(
        shown(&page, &json!({"database": "postgres"})),
        names(&[
            ("database", true),
            ("postgresVersion", true),
            ("storageGb", true)
        ])
    );
    assert_eq!(
        shown(&page, &json!({"database": "mongodb"})),
        names(&[("database", true), ("mongoCluster", true)])
    );
    // A value no branch accepts brings nothing in; the enum reports it.
    assert_eq!(
        shown(&page, &json!({"database": "oracle"})),
        names(&[("database", true)])
    );
}

#[test]
fn the_choice_keeps_all_its_options() {
    let fields = visible_fields(&database_page(), &json!({"database": "postgres"}));
    assert_eq!(
        fields[0].schema["enum"],
        json!(["none", "postgres", "mongodb"])
    );
    assert_eq!(fields[1].schema["title"], "PostgreSQL version");
}

#[test]
fn a_choice_validates_the_fields_of_its_branch() {
    let page = database_page();
    assert_eq!(
        errors(&page, &json!({})),
        pairs(&[("database", "is required")])
    );
    assert_eq!(errors(&page, &json!({"database": "none"})), pairs(&[]));
    assert_eq!(
        errors(&page, &json!({"database": "postgres", "storageGb": 5})),
        pairs(&[
            ("postgresVersion", "is required"),
            ("storageGb", "must be at least 10"),
        ])
    );
    assert_eq!(
        errors(
            &page,
            &json!({"database": "postgres", "postgresVersion": "16", "storageGb": 100})
        ),
        pairs(&[])
    );
    assert_eq!(
        errors(
            &page,
            &json!({"database": "mongodb", "mongoCluster": "Bad_Name"})
        ),
        pairs(&[("mongoCluster", "must match ^[a-z][a-z0-9-]*$")])
    );
    // Values of a branch not chosen are not this page's business.
    assert_eq!(
        errors(
            &page,
            &json!({"database": "mongodb", "mongoCluster": "orders", "storageGb": 1})
        ),
        pairs(&[])
    );
    assert_eq!(
        errors(&page, &json!({"database": "oracle"})),
        pairs(&[("database", "must be one of: none, postgres, mongodb")])
    );
}

#[test]
fn a_boolean_choice() {
    let page = json!({
        "properties": {"monitoring": {"type": "boolean"}},
        "dependencies": {"monitoring": {"oneOf": [
            {
                "properties": {
                    "monitoring": {"const": true},
                    "alertEmail": {"type": "string", "format": "email"}
                },
                "required": ["alertEmail"]
            },
            {"properties": {"monitoring": {"const": false}}}
        ]}}
    });
    assert_eq!(
        shown(&page, &json!({"monitoring": false})),
        names(&[("monitoring", false)])
    );
    assert_eq!(
        shown(&page, &json!({"monitoring": true})),
        names(&[("monitoring", false), ("alertEmail", true)])
    );
    assert_eq!(
        errors(&page, &json!({"monitoring": true, "alertEmail": "ops"})),
        pairs(&[("alertEmail", "must be an email address")])
    );
}

#[test]
fn property_list_dependencies_require_once_the_property_has_a_value() {
    let page = json!({
        "required": ["name"],
        "properties": {
            "billingAddress": {"type": "string"},
            "creditCard": {"type": "number"},
            "name": {"type": "string"}
        },
        "dependencies": {"creditCard": ["billingAddress"]}
    });
    assert_eq!(
        shown(&page, &json!({})),
        names(&[
            ("billingAddress", false),
            ("creditCard", false),
            ("name", true)
        ])
    );
    assert_eq!(errors(&page, &json!({"name": "a"})), pairs(&[]));
    assert_eq!(
        errors(&page, &json!({"name": "a", "creditCard": null})),
        pairs(&[])
    );
    assert_eq!(
        shown(&page, &json!({"creditCard": 4111})),
        names(&[
            ("billingAddress", true),
            ("creditCard", false),
            ("name", true)
        ])
    );
    assert_eq!(
        errors(&page, &json!({"name": "a", "creditCard": 4111})),
        pairs(&[("billingAddress", "is required")])
    );
}

#[test]
fn schema_dependencies_add_their_properties() {
    let page = json!({
        "properties": {"repoUrl": {"type": "string"}},
        "dependencies": {"repoUrl": {
            "properties": {"branch": {"type": "string", "pattern": "^[^ ]+$", "default": "main"}},
            "required": ["branch"]
        }}
    });
    assert_eq!(
        shown(&page, &json!({"repoUrl": ""})),
        names(&[("repoUrl", false)])
    );
    assert_eq!(
        shown(&page, &json!({"repoUrl": "github.com?repo=web"})),
        names(&[("repoUrl", false), ("branch", true)])
    );
    assert_eq!(
        errors(
            &page,
            &json!({"repoUrl": "github.com?repo=web", "branch": "my branch"})
        ),
        pairs(&[("branch", "must match ^[^ ]+$")])
    );
}

#[test]
fn a_branch_can_depend_further() {
    let page = json!({
        "properties": {"kind": {"enum": ["service", "website"]}},
        "dependencies": {"kind": {"oneOf": [
            {
                "properties": {
                    "kind": {"const": "service"},
                    "exposed": {"type": "boolean"}
                },
                "dependencies": {"exposed": {"oneOf": [
                    {
                        "properties": {
                            "exposed": {"const": true},
                            "hostname": {"type": "string", "maxLength": 10}
                        },
                        "required": ["hostname"]
                    },
                    {"properties": {"exposed": {"const": false}}}
                ]}}
            },
            {"properties": {"kind": {"const": "website"}}}
        ]}}
    });
    assert_eq!(
        shown(&page, &json!({"kind": "service", "exposed": true})),
        names(&[("kind", false), ("exposed", false), ("hostname", true)])
    );
    assert_eq!(
        errors(
            &page,
            &json!({"kind": "service", "exposed": true, "hostname": "api.example.com"})
        ),
        pairs(&[("hostname", "must be at most 10 characters")])
    );
    assert_eq!(
        shown(&page, &json!({"kind": "website", "exposed": true})),
        names(&[("kind", false)])
    );
}

#[test]
fn dependencies_inside_a_nested_object() {
    let page = json!({"properties": {"storage": {
        "type": "object",
        "properties": {"kind": {"enum": ["disk", "bucket"]}},
        "dependencies": {"kind": {"oneOf": [
            {"properties": {"kind": {"const": "disk"}, "sizeGb": {"type": "integer", "minimum": 1}}},
            {
                "properties": {"kind": {"const": "bucket"}, "bucket": {"type": "string"}},
                "required": ["bucket"]
            }
        ]}}
    }}});
    assert_eq!(
        errors(&page, &json!({"storage": {"kind": "disk", "sizeGb": 0}})),
        pairs(&[("storage.sizeGb", "must be at least 1")])
    );
    assert_eq!(
        errors(&page, &json!({"storage": {"kind": "bucket"}})),
        pairs(&[("storage.bucket", "is required")])
    );
    // A nested object's fields come from its own schema and value.
    let storage = &visible_fields(&page, &json!({}))[0];
    assert_eq!(
        shown(&storage.schema, &json!({"kind": "bucket"})),
        names(&[("kind", false), ("bucket", true)])
    );
}

#[test]
fn if_then_else_on_a_page() {
    let page = json!({
        "properties": {"visibility": {"enum": ["public", "private"]}},
        "if": {
            "properties": {"visibility": {"const": "private"}},
            "required": ["visibility"]
        },
        "then": {
            "properties": {"allowedTeams": {"type": "array", "minItems": 1}},
            "required": ["allowedTeams"]
        },
        "else": {"properties": {"license": {"type": "string", "enum": ["MIT", "Apache-2.0"]}}}
    });
    assert_eq!(
        shown(&page, &json!({})),
        names(&[("visibility", false), ("license", false)])
    );
    assert_eq!(
        shown(&page, &json!({"visibility": "private"})),
        names(&[("visibility", false), ("allowedTeams", true)])
    );
    assert_eq!(
        errors(&page, &json!({"visibility": "private", "allowedTeams": []})),
        pairs(&[("allowedTeams", "must have at least 1 item")])
    );
    assert_eq!(
        errors(&page, &json!({"visibility": "public", "license": "GPL"})),
        pairs(&[("license", "must be one of: MIT, Apache-2.0")])
    );
}

#[test]
fn several_conditions_side_by_side_in_all_of() {
    // One `if` per schema, so templates list their conditions under `allOf`.
    let page = json!({
        "required": ["cloud"],
        "properties": {
            "cloud": {"enum": ["aws", "gcp"]},
            "public": {"type": "boolean"}
        },
        "allOf": [
            {
                "if": {"properties": {"cloud": {"const": "aws"}}, "required": ["cloud"]},
                "then": {
                    "properties": {"awsRegion": {"enum": ["us-east-1", "eu-west-1"]}},
                    "required": ["awsRegion"]
                }
            },
            {
                "if": {"properties": {"public": {"const": true}}, "required": ["public"]},
                "then": {
                    "properties": {"hostname": {"type": "string", "format": "uri"}},
                    "required": ["hostname"]
                }
            }
        ]
    });
    assert_eq!(
        shown(&page, &json!({"cloud": "gcp"})),
        names(&[("cloud", true), ("public", false)])
    );
    assert_eq!(
        shown(&page, &json!({"cloud": "aws", "public": true})),
        names(&[
            ("cloud", true),
            ("public", false),
            ("awsRegion", true),
            ("hostname", true)
        ])
    );
    // Each problem once, though `allOf` is both checked and a source of fields.
    assert_eq!(
        errors(
            &page,
            &json!({"cloud": "aws", "public": true, "hostname": "example"})
        ),
        pairs(&[("awsRegion", "is required"), ("hostname", "must be a URL"),])
    );
    assert_eq!(
        errors(&page, &json!({"cloud": "gcp", "public": false})),
        pairs(&[])
    );
}

#[test]
fn a_value_answers_to_every_schema_of_its_field() {
    // The branch loosens the limit for showing, but the page's own limit still holds.
    let page = json!({
        "properties": {
            "kind": {"enum": ["short", "long"]},
            "name": {"type": "string", "maxLength": 10}
        },
        "dependencies": {"kind": {"oneOf": [
            {"properties": {"kind": {"const": "short"}}},
            {"properties": {"kind": {"const": "long"}, "name": {"maxLength": 20, "minLength": 2}}}
        ]}}
    });
    let fields = visible_fields(&page, &json!({"kind": "long"}));
    assert_eq!(
        fields[1].schema,
        json!({"type": "string", "maxLength": 20, "minLength": 2})
    );
    assert_eq!(
        errors(&page, &json!({"kind": "long", "name": "fifteen-letters"})),
        pairs(&[("name", "must be at most 10 characters")])
    );
    assert_eq!(
        errors(&page, &json!({"kind": "long", "name": "x"})),
        pairs(&[("name", "must be at least 2 characters")])
    );
}

#[test]
fn backstage_page_conditions_are_not_schemas() {
    // `if: ${{ … }}` on a page is Backstage's own: whether the wizard shows the page. It
    // is decided before this crate is asked, and is neither a condition nor an error here.
    let page = json!({
        "title": "AWS Configuration",
        "if": "${{ parameters.cloudProvider === 'AWS' }}",
        "required": ["awsRegion"],
        "properties": {"awsRegion": {"type": "string"}}
    });
    assert_eq!(shown(&page, &json!({})), names(&[("awsRegion", true)]));
    assert_eq!(
        errors(&page, &json!({})),
        pairs(&[("awsRegion", "is required")])
    );
}

#[test]
fn ui_order_arranges_the_fields() {
    let page = json!({
        "ui:order": ["name", "*", "notes", "unknown"],
        "properties": {
            "alpha": {"type": "string"},
            "name": {"type": "string"},
            "notes": {"type": "string"},
            "zeta": {"type": "string"}
        },
        "dependencies": {"alpha": {"properties": {"beta": {"type": "string"}}}}
    });
    let order = |values: Value| -> Vec<String> {
        visible_fields(&page, &values)
            .into_iter()
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(order(json!({})), ["name", "alpha", "zeta", "notes"]);
    assert_eq!(
        order(json!({"alpha": "a"})),
        ["name", "alpha", "zeta", "beta", "notes"]
    );
    let without_star = json!({
        "ui:order": ["zeta", "alpha"],
        "properties": {"alpha": {}, "mid": {}, "zeta": {}}
    });
    let names: Vec<String> = visible_fields(&without_star, &json!({}))
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
}

#[test]
fn no_fields_without_an_object_schema() {
    assert!(visible_fields(&json!(true), &json!({})).is_empty());
    assert!(visible_fields(&json!("page"), &json!({})).is_empty());
    assert!(visible_fields(&json!({"title": "Empty"}), &json!(null)).is_empty());
}
