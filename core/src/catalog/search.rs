//! The flattened key/value rows that answer filters and facets (Backstage's approach):
//! `kind=component`, `spec.type=service`, `metadata.tags=java`, `relations.ownedby=group:default/team-a`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Entity, Relation};

/// Longer values are not indexed: filters compare short identifying values, and an API
/// definition or a long description would only bloat the index.
const MAX_VALUE_LEN: usize = 200;

/// One row of the search index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchRow {
    /// The field path, lower-cased: `spec.type`.
    pub key: String,
    /// The value lower-cased, as filters compare it.
    pub value: String,
    /// The value as written, as facets show it.
    pub original: String,
}

/// The rows for one entity, without duplicates.
pub fn search_rows(entity: &Entity, uid: &str, relations: &[Relation]) -> Vec<SearchRow> {
    let mut rows = BTreeSet::new();
    for (key, value) in entity.as_map() {
        flatten(key, value, &mut rows);
    }
    rows.insert(row("metadata.uid".to_owned(), uid.to_owned()));
    let source = entity.reference();
    for relation in relations.iter().filter(|r| r.source == source) {
        rows.insert(row(
            format!("relations.{}", relation.relation_type.to_ascii_lowercase()),
            relation.target.key(),
        ));
    }
    rows.into_iter().collect()
}

fn row(key: String, original: String) -> SearchRow {
    SearchRow {
        key: key.to_lowercase(),
        value: original.to_lowercase(),
        original,
    }
}

fn flatten(key: &str, value: &Value, rows: &mut BTreeSet<SearchRow>) {
    let scalar = match value {
        Value::Null => return,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            // A list gives one row per item under the same key: `metadata.tags=java`.
            for item in items {
                flatten(key, item, rows);
            }
            return;
        }
        Value::Object(map) => {
            for (child, value) in map {
                flatten(&format!("{key}.{child}"), value, rows);
            }
            return;
        }
    };
    if scalar.len() <= MAX_VALUE_LEN {
        rows.insert(row(key.to_owned(), scalar));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::relations::relations;

    #[test]
    fn entities_flatten_to_lowercase_rows() {
        let entity = Entity::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "Web", "tags": ["java", "web"], "labels": {"Tier": "Front"},
                         "description": "x".repeat(300)},
            "spec": {"type": "website", "lifecycle": "production", "owner": "team-a"},
        }))
        .unwrap();
        let rows = search_rows(&entity, "UID-1", &relations(&entity));
        let has = |k: &str, v: &str| rows.iter().any(|r| r.key == k && r.value == v);
        assert!(rows
            .iter()
            .any(|r| r.key == "kind" && r.original == "Component"));
        assert!(has("kind", "component"));
        assert!(has("metadata.name", "web"));
        assert!(has("metadata.namespace", "default"));
        assert!(has("metadata.tags", "java") && has("metadata.tags", "web"));
        assert!(has("metadata.labels.tier", "front"));
        assert!(has("spec.owner", "team-a"));
        assert!(has("metadata.uid", "uid-1"));
        assert!(has("relations.ownedby", "group:default/team-a"));
        assert!(
            !rows.iter().any(|r| r.key == "metadata.description"),
            "long values are skipped"
        );
        assert!(
            !rows.iter().any(|r| r.key == "relations.ownerof"),
            "only the entity's own relations"
        );
    }
}
