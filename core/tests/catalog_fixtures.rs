//! Backstage's own example catalog (shared/fixtures/backstage) read by Portico's model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use portico_core::catalog::document::{entities_in, FileContents};
use portico_core::catalog::relations::relations;

use portico_core::testing::backstage_examples as examples;

/// Every entity file of the examples (the `.oas.yaml` file is an API definition, read
/// through `$text`, not a catalog file), keyed by path relative to the examples folder.
fn read_all() -> BTreeMap<String, FileContents> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the fixtures are beside the repository") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && !path.to_string_lossy().ends_with(".oas.yaml")
            {
                out.push(path);
            }
        }
    }
    let root = examples();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let read = entities_in(&name, &text);
            (name, read)
        })
        .collect()
}

#[test]
fn the_invalid_component_is_refused_naming_its_name_and_tag() {
    let all = read_all();
    let FileContents { entities, problems } = &all["components/invalid-component.yaml"];
    assert!(entities.is_empty());
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "components/invalid-component.yaml#1 metadata.name: \"invalid component\" is not a valid name: \
             1-63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            "components/invalid-component.yaml#1 metadata.tags[1]: \"go 1.15.3\" is not a valid tag: \
             lowercase letters, digits, ':', '+', '#' separated by '-', at most 63",
        ]
    );
}

#[test]
fn every_other_example_is_valid_once_its_text_placeholders_are_resolved() {
    let mut entities = 0;
    let mut waiting_for_placeholders = Vec::new();
    for (
        file,
        FileContents {
            entities: found,
            problems,
        },
    ) in read_all()
    {
        if file == "components/invalid-component.yaml" {
            continue;
        }
        entities += found.len();
        for problem in problems {
            // `definition: {$text: …}` is resolved by ingestion; before that it is not a string.
            assert_eq!(
                problem.field.to_string(),
                "spec.definition: must be a non-empty string",
                "unexpected problem: {problem}"
            );
            waiting_for_placeholders.push(problem.entity.clone().unwrap());
        }
    }
    waiting_for_placeholders.sort();
    assert_eq!(
        waiting_for_placeholders,
        vec![
            "api:default/petstore-webhook",
            "api:default/spotify",
            "api:default/wayback-archive",
            "api:default/wayback-search",
        ]
    );
    // 63 entities are reachable from all.yaml and acme-corp.yaml (Locations included);
    // acme/team-e-big-name-group.yaml holds 1 more that no Location lists.
    assert_eq!(entities + waiting_for_placeholders.len(), 63 + 1);
}

#[test]
fn relations_follow_what_the_yaml_says() {
    let all = read_all();
    let mut edges = Vec::new();
    for contents in all.values() {
        for located in &contents.entities {
            for r in relations(&located.entity) {
                edges.push(format!("{} {} {}", r.source, r.relation_type, r.target));
            }
        }
    }
    let expected = [
        // The user in namespace `development`, member of a group in `default`.
        "user:development/guest memberOf group:default/team-a",
        "group:default/team-a hasMember user:development/guest",
        // Group hierarchy.
        "group:default/team-a childOf group:default/backstage",
        "group:default/backstage parentOf group:default/team-a",
        // Owners, systems, domains and sub-domains.
        "component:default/artist-lookup ownedBy group:default/team-a",
        "system:default/artist-engagement-portal hasPart component:default/artist-lookup",
        "domain:default/audio hasPart domain:default/artists",
        // Sub-components and APIs.
        "component:default/wayback-archive-ingestion partOf component:default/wayback-archive",
        "api:default/wayback-archive apiProvidedBy component:default/wayback-archive",
    ];
    for edge in expected {
        assert!(edges.iter().any(|e| e == edge), "missing relation: {edge}");
    }
}
