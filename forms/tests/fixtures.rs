//! Backstage's own templates (shared/fixtures/backstage), page by page.

mod common;

use common::{errors, pairs, parameters, RegexMatcher};
use portico_forms::{apply_defaults, pages, validate_page, visible_fields};
use serde_json::{json, Value};

const DEFAULT_APP: &str = "default-app-examples/template/template.yaml";
const CONDITIONAL_PARAMETERS: &str = "sample-templates/conditional-parameters-demo/template.yaml";
const CONDITIONAL_OUTPUT: &str = "sample-templates/conditional-output-demo/template.yaml";
const V1BETA2: &str = "sample-templates/v1beta2-demo/template.yaml";

fn page(template: &str, title: &str) -> Value {
    pages(&parameters(template))
        .into_iter()
        .find(|page| page["title"] == title)
        .unwrap_or_else(|| panic!("{template} has a page {title:?}"))
}

#[test]
fn every_fixture_page_is_read() {
    for (template, count) in [
        (DEFAULT_APP, 2),
        (CONDITIONAL_PARAMETERS, 6),
        (CONDITIONAL_OUTPUT, 1),
        (V1BETA2, 2),
    ] {
        let pages = pages(&parameters(template));
        assert_eq!(pages.len(), count, "{template}");
        for page in &pages {
            assert!(
                !visible_fields(page, &json!({})).is_empty(),
                "{template}: {}",
                page["title"]
            );
        }
    }
}

#[test]
fn default_app_needs_a_name_then_a_repository() {
    let first = page(DEFAULT_APP, "Fill in some steps");
    assert_eq!(
        errors(&first, &json!({})),
        pairs(&[("name", "is required")])
    );
    assert_eq!(
        validate_page(&first, &json!({"name": ""}), &RegexMatcher),
        [portico_forms::FieldError::new("name", "is required")]
    );
    assert_eq!(errors(&first, &json!({"name": "web"})), pairs(&[]));

    let second = page(DEFAULT_APP, "Choose a location");
    // The first page's answer does not satisfy the second.
    assert_eq!(
        errors(&second, &json!({"name": "web"})),
        pairs(&[("repoUrl", "is required")])
    );
    assert_eq!(
        errors(
            &second,
            &json!({"name": "web", "repoUrl": "github.com?owner=acme&repo=web"})
        ),
        pairs(&[])
    );
}

#[test]
fn fields_in_the_order_of_the_json_object() {
    // The template's order survives parsing only with serde_json's `preserve_order`;
    // without it a JSON object, and so a page, lists its properties by name.
    let keeps_order = json!({"b": 1, "a": 2})
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        == "b";
    let choose = page(CONDITIONAL_PARAMETERS, "Choose Cloud Provider");
    let names: Vec<String> = visible_fields(&choose, &json!({}))
        .into_iter()
        .map(|f| f.name)
        .collect();
    if keeps_order {
        assert_eq!(names, ["name", "cloudProvider"]);
    } else {
        assert_eq!(names, ["cloudProvider", "name"]);
    }
}

#[test]
fn default_app_hints_are_not_rules() {
    let fields = visible_fields(&page(DEFAULT_APP, "Fill in some steps"), &json!({}));
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].name, "name");
    assert!(fields[0].required);
    assert_eq!(fields[0].schema["ui:options"], json!({"rows": 5}));
}

#[test]
fn monitoring_configuration_limits() {
    let monitoring = page(CONDITIONAL_PARAMETERS, "Monitoring Configuration");
    assert_eq!(
        errors(&monitoring, &json!({"alertThreshold": 40})),
        pairs(&[("alertThreshold", "must be at least 50")])
    );
    assert_eq!(
        errors(&monitoring, &json!({"alertEmail": "x"})),
        pairs(&[("alertEmail", "must be an email address")])
    );
    assert_eq!(
        errors(
            &monitoring,
            &json!({"alertEmail": "x", "alertThreshold": 101})
        ),
        pairs(&[
            ("alertEmail", "must be an email address"),
            ("alertThreshold", "must be at most 100"),
        ])
    );
    assert_eq!(
        errors(&monitoring, &json!({"alertThreshold": 90.5})),
        pairs(&[("alertThreshold", "must be an integer")])
    );
    assert_eq!(
        errors(
            &monitoring,
            &json!({"alertEmail": "ops@example.com", "alertThreshold": 90})
        ),
        pairs(&[])
    );
}

#[test]
fn cloud_provider_pages() {
    let choose = page(CONDITIONAL_PARAMETERS, "Choose Cloud Provider");
    let mut found = errors(&choose, &json!({"cloudProvider": "DigitalOcean"}));
    found.sort();
    assert_eq!(
        found,
        pairs(&[
            ("cloudProvider", "must be one of: AWS, GCP, Azure"),
            ("name", "is required"),
        ])
    );
    let aws = page(CONDITIONAL_PARAMETERS, "AWS Configuration");
    assert_eq!(
        errors(&aws, &json!({"cloudProvider": "AWS"})),
        pairs(&[("awsRegion", "is required")])
    );
    assert_eq!(
        errors(&aws, &json!({"awsRegion": "eu-central-1"})),
        pairs(&[(
            "awsRegion",
            "must be one of: us-east-1, us-west-2, eu-west-1, ap-southeast-1"
        )])
    );
}

#[test]
fn defaults_of_the_pages_shown() {
    // Which pages show is Backstage's `if: ${{ … }}`, decided by the wizard; for GCP
    // without monitoring these are the pages.
    let mut values = json!({"name": "web", "cloudProvider": "GCP"});
    for title in [
        "Choose Cloud Provider",
        "GCP Configuration",
        "Advanced Options",
    ] {
        apply_defaults(&page(CONDITIONAL_PARAMETERS, title), &mut values);
    }
    assert_eq!(
        values,
        json!({
            "name": "web",
            "cloudProvider": "GCP",
            "gcpRegion": "us-central1",
            "enableMonitoring": false
        })
    );
    let gcp = page(CONDITIONAL_PARAMETERS, "GCP Configuration");
    assert_eq!(
        errors(&gcp, &values),
        pairs(&[("gcpProjectId", "is required")])
    );

    let mut values = json!(null);
    apply_defaults(&page(CONDITIONAL_OUTPUT, "Options"), &mut values);
    assert_eq!(values, json!({"enableCI": "Yes", "showDetails": true}));
}

#[test]
fn v1beta2_boolean_required_by_the_page() {
    let location = page(V1BETA2, "Choose a location");
    let mut values = json!({"repoUrl": "github.com?owner=acme&repo=web"});
    assert_eq!(
        errors(&location, &values),
        pairs(&[("dryRun", "is required")])
    );
    apply_defaults(&location, &mut values);
    // `false` is an answer.
    assert_eq!(values["dryRun"], json!(false));
    assert_eq!(errors(&location, &values), pairs(&[]));
}

#[test]
fn parameters_as_one_object_or_a_list() {
    let list = parameters(DEFAULT_APP);
    assert_eq!(pages(&list).len(), 2);

    let single = json!({
        "title": "Everything",
        "required": ["name"],
        "properties": {"name": {"type": "string"}}
    });
    assert_eq!(pages(&single), vec![single.clone()]);
    assert_eq!(
        errors(&pages(&single)[0], &json!({})),
        pairs(&[("name", "is required")])
    );

    assert!(pages(&json!(null)).is_empty());
    assert!(pages(&json!("not parameters")).is_empty());
    assert!(pages(&json!([])).is_empty());
}
