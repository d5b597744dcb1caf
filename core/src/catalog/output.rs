//! Entities as Backstage's API returns them, and `fields` projections of them.

use serde_json::{json, Map, Value};

use super::StoredEntity;

impl StoredEntity {
    /// The entity as Backstage's catalog API shapes it: the body with `metadata.uid`,
    /// `metadata.etag` and `metadata.generation`, `relations` with `targetRef` and
    /// `target`, and `status.items` for processing problems.
    pub fn to_backstage(&self) -> Value {
        let mut entity = self.body.clone();
        if let Some(metadata) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("uid".into(), Value::from(self.uid.clone()));
            metadata.insert("etag".into(), Value::from(self.etag.clone()));
            metadata.insert("generation".into(), Value::from(self.generation));
        }
        let relations: Vec<Value> = self
            .relations
            .iter()
            .map(|(relation_type, target)| {
                let (kind, rest) = target.split_once(':').unwrap_or(("", target));
                let (namespace, name) = rest.split_once('/').unwrap_or(("", rest));
                json!({
                    "type": relation_type,
                    "targetRef": target,
                    "target": {"kind": kind, "namespace": namespace, "name": name},
                })
            })
            .collect();
        if let Some(map) = entity.as_object_mut() {
            map.insert("relations".into(), Value::Array(relations));
            if !self.problems.is_empty() {
                let items: Vec<Value> = self
                    .problems
                    .iter()
                    .map(|message| {
                        json!({
                            "type": "backstage.io/catalog-processing",
                            "level": "error",
                            "message": message,
                            "error": {"name": "InputError", "message": message},
                        })
                    })
                    .collect();
                map.insert("status".into(), json!({ "items": items }));
            }
        }
        entity
    }
}

/// Keeps only the given dotted paths of `entity` (Backstage's `fields` parameter).
/// Keys may themselves contain dots (`metadata.annotations.backstage.io/techdocs-ref`):
/// at each level the longest key that matches the rest of the path is taken.
pub fn project(entity: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return entity.clone();
    }
    let mut out = Map::new();
    for field in fields {
        if let Some((keys, value)) = walk(entity, field) {
            insert(&mut out, &keys, value.clone());
        }
    }
    Value::Object(out)
}

/// The value at `path`, and the keys walked to reach it.
fn walk<'a>(value: &'a Value, path: &str) -> Option<(Vec<&'a str>, &'a Value)> {
    let mut keys = Vec::new();
    let mut current = value;
    let mut rest = path;
    while !rest.is_empty() {
        let map = current.as_object()?;
        let (key, child) = map
            .iter()
            .filter(|(k, _)| rest == k.as_str() || rest.starts_with(&format!("{k}.")))
            .max_by_key(|(k, _)| k.len())?;
        keys.push(key.as_str());
        current = child;
        rest = rest[key.len()..].trim_start_matches('.');
    }
    Some((keys, current))
}

/// Sets `value` at the key path `keys` in `out`, creating the parents.
fn insert(out: &mut Map<String, Value>, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut current = out;
    for key in parents {
        let next = current
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(map) = next.as_object_mut() else {
            return;
        };
        current = map;
    }
    current.insert((*last).to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_only_the_named_paths() {
        let entity = json!({
            "kind": "Component",
            "metadata": {"name": "web", "namespace": "default",
                         "annotations": {"backstage.io/techdocs-ref": "dir:.", "other": "x"}},
            "spec": {"type": "website"},
        });
        let fields = [
            "kind",
            "metadata.name",
            "metadata.annotations.backstage.io/techdocs-ref",
            "spec.nothing",
        ]
        .map(String::from);
        assert_eq!(
            project(&entity, &fields),
            json!({"kind": "Component", "metadata": {"name": "web",
                   "annotations": {"backstage.io/techdocs-ref": "dir:."}}})
        );
        assert_eq!(project(&entity, &[]), entity);
    }

    #[test]
    fn stored_entities_render_like_backstage() {
        let stored = StoredEntity {
            uid: "u1".into(),
            etag: "e1".into(),
            generation: 2,
            orphan: false,
            body: json!({"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "x"}, "spec": {}}),
            problems: vec!["apis/x.yaml#1 spec.definition: unreadable".into()],
            relations: vec![("ownedBy".into(), "group:default/team-a".into())],
        };
        let out = stored.to_backstage();
        assert_eq!(out["metadata"]["uid"], "u1");
        assert_eq!(out["metadata"]["generation"], 2);
        assert_eq!(
            out["relations"][0],
            json!({"type": "ownedBy", "targetRef": "group:default/team-a",
                   "target": {"kind": "group", "namespace": "default", "name": "team-a"}})
        );
        assert_eq!(out["status"]["items"][0]["level"], "error");
    }
}
