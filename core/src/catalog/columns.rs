//! The identifying fields an entity's row keeps as indexed columns, lower-cased as
//! filters compare them. The common filters, their counts and facets read these instead
//! of joining the search rows (see the `catalog_columns` migration).

use serde_json::Value;

use super::Entity;

/// Filter keys answered by a column, and the column.
const COLUMNS: &[(&str, &str)] = &[
    ("kind", "kind_key"),
    ("metadata.namespace", "namespace_key"),
    ("metadata.name", "name_key"),
    ("spec.type", "type_key"),
    ("spec.lifecycle", "lifecycle_key"),
    ("spec.owner", "owner_key"),
    ("spec.system", "system_key"),
];

/// The column that answers a (lower-cased) filter key, if one does.
pub fn column_for(key: &str) -> Option<&'static str> {
    COLUMNS.iter().find(|(k, _)| *k == key).map(|(_, c)| *c)
}

/// The column values of one entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexedFields {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<String>,
    pub system: Option<String>,
}

impl IndexedFields {
    pub fn of(entity: &Entity) -> Self {
        let spec = |field: &str| {
            entity
                .spec()
                .and_then(|spec| spec.get(field))
                .and_then(scalar)
        };
        Self {
            kind: entity.kind().to_lowercase(),
            namespace: entity.namespace().to_lowercase(),
            name: entity.name().to_lowercase(),
            spec_type: spec("type"),
            lifecycle: spec("lifecycle"),
            owner: spec("owner"),
            system: spec("system"),
        }
    }
}

/// A single value as the search rows write it (lower-cased); `None` for lists and
/// objects. Built-in kinds require strings in these fields; only an unknown kind can
/// hold a list there, and a filter on such an entity's list does not match by column.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn identifying_fields_are_lower_cased() {
        let entity = Entity::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "Web"},
            "spec": {"type": "Website", "lifecycle": "production", "owner": "Team-A"},
        }))
        .unwrap();
        assert_eq!(
            IndexedFields::of(&entity),
            IndexedFields {
                kind: "component".into(),
                namespace: "default".into(),
                name: "web".into(),
                spec_type: Some("website".into()),
                lifecycle: Some("production".into()),
                owner: Some("team-a".into()),
                system: None,
            }
        );
        assert_eq!(column_for("spec.owner"), Some("owner_key"));
        assert_eq!(column_for("metadata.tags"), None);
    }
}
