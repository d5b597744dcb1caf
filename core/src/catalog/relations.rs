use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::kinds::{self, Shape};
use super::reference::{EntityRef, RefContext};
use super::Entity;

/// A directed, typed edge between two entities: `source` `ownedBy` `target`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Relation {
    pub source: EntityRef,
    #[serde(rename = "type")]
    pub relation_type: &'static str,
    pub target: EntityRef,
}

/// Every relation the entity's spec states, each with its inverse: `spec.owner: team-a`
/// on a component gives `component ownedBy group:team-a` and `group:team-a ownerOf
/// component`. The target need not exist: a reference to a missing entity is kept (and
/// shown as unresolved) rather than dropped. Duplicates are removed; order follows the spec.
pub fn relations(entity: &Entity) -> Vec<Relation> {
    let Some(kind) = kinds::builtin(entity.kind()) else {
        return Vec::new();
    };
    let Some(spec) = entity.spec() else {
        return Vec::new();
    };
    let source = entity.reference();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for field in kind.fields {
        let (Some(pair), Some(value)) = (field.relation, spec.get(field.name)) else {
            continue;
        };
        let default_kind = match field.shape {
            Shape::Ref { default_kind } | Shape::RefList { default_kind } => default_kind,
            _ => continue,
        };
        let context = RefContext {
            default_kind,
            default_namespace: entity.namespace(),
        };
        let texts: Vec<&str> = match value {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        // Validation already rejected malformed references; none are left to skip here.
        for target in texts
            .into_iter()
            .filter_map(|t| EntityRef::parse(t, context).ok())
        {
            for relation in [
                Relation {
                    source: source.clone(),
                    relation_type: pair.forward,
                    target: target.clone(),
                },
                Relation {
                    source: target.clone(),
                    relation_type: pair.reverse,
                    target: source.clone(),
                },
            ] {
                if seen.insert(relation.clone()) {
                    out.push(relation);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entity(kind: &str, namespace: &str, spec: Value) -> Entity {
        Entity::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": "subject", "namespace": namespace}, "spec": spec,
        }))
        .unwrap()
    }

    fn edges(entity: &Entity) -> Vec<String> {
        relations(entity)
            .iter()
            .map(|r| format!("{} {} {}", r.source, r.relation_type, r.target))
            .collect()
    }

    #[test]
    fn each_spec_field_gives_a_relation_and_its_inverse() {
        let component = entity(
            "Component",
            "default",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a", "system": "audio",
                   "subcomponentOf": "player", "providesApis": ["tracks"], "consumesApis": ["api:search"],
                   "dependsOn": ["resource:db"], "dependencyOf": ["component:web"]}),
        );
        assert_eq!(
            edges(&component),
            vec![
                "component:default/subject ownedBy group:default/team-a",
                "group:default/team-a ownerOf component:default/subject",
                "component:default/subject partOf system:default/audio",
                "system:default/audio hasPart component:default/subject",
                "component:default/subject partOf component:default/player",
                "component:default/player hasPart component:default/subject",
                "component:default/subject providesApi api:default/tracks",
                "api:default/tracks apiProvidedBy component:default/subject",
                "component:default/subject consumesApi api:default/search",
                "api:default/search apiConsumedBy component:default/subject",
                "component:default/subject dependsOn resource:default/db",
                "resource:default/db dependencyOf component:default/subject",
                "component:default/subject dependencyOf component:default/web",
                "component:default/web dependsOn component:default/subject",
            ]
        );
    }

    #[test]
    fn groups_users_systems_and_domains() {
        let group = entity(
            "Group",
            "default",
            json!({"type": "team", "parent": "org", "children": ["squad"], "members": ["jo"]}),
        );
        assert_eq!(
            edges(&group),
            vec![
                "group:default/subject childOf group:default/org",
                "group:default/org parentOf group:default/subject",
                "group:default/subject parentOf group:default/squad",
                "group:default/squad childOf group:default/subject",
                "group:default/subject hasMember user:default/jo",
                "user:default/jo memberOf group:default/subject",
            ]
        );
        // References default to the namespace of the entity that holds them.
        let user = entity(
            "User",
            "development",
            json!({"memberOf": ["group:default/team-a", "team-b"]}),
        );
        assert_eq!(
            edges(&user),
            vec![
                "user:development/subject memberOf group:default/team-a",
                "group:default/team-a hasMember user:development/subject",
                "user:development/subject memberOf group:development/team-b",
                "group:development/team-b hasMember user:development/subject",
            ]
        );
        let system = entity(
            "System",
            "default",
            json!({"owner": "team-a", "domain": "audio"}),
        );
        assert!(edges(&system)
            .contains(&"system:default/subject partOf domain:default/audio".to_owned()));
        let domain = entity(
            "Domain",
            "default",
            json!({"owner": "team-a", "subdomainOf": "audio"}),
        );
        assert!(edges(&domain)
            .contains(&"domain:default/audio hasPart domain:default/subject".to_owned()));
    }

    #[test]
    fn repeated_references_give_one_relation_and_unknown_kinds_none() {
        let component = entity(
            "Component",
            "default",
            json!({"type": "s", "lifecycle": "l", "owner": "team-a", "consumesApis": ["x", "API:default/X"]}),
        );
        assert_eq!(relations(&component).len(), 4);
        let thing = Entity::from_value(json!({"apiVersion": "example.com/v1", "kind": "Thing",
            "metadata": {"name": "t"}, "spec": {"owner": "team-a"}}))
        .unwrap();
        assert!(relations(&thing).is_empty());
    }
}
