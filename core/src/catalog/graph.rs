//! The neighbourhood of an entity as a graph laid out left to right: owners, systems,
//! dependencies and APIs to the right of what points at them, what points at the entity
//! to its left. Pages draw it; the layout is computed here, once, where it can be tested.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::kinds::{self, RelationPair};
use super::reference::{EntityRef, RefContext};

/// The relations, named in the direction that points "rightwards" (towards what an
/// entity depends on, belongs to or is owned by). An edge is always drawn that way,
/// whichever side stated it.
const RIGHTWARDS: &[RelationPair] = &[
    kinds::OWNED_BY,
    kinds::PART_OF,
    kinds::DEPENDS_ON,
    kinds::PROVIDES_API,
    kinds::CONSUMES_API,
    kinds::CHILD_OF,
    kinds::MEMBER_OF,
];

/// `(forward type, true)` for a forward type, `(forward type, false)` for an inverse;
/// `None` for types the graph does not draw.
fn direction(relation_type: &str) -> Option<(&'static str, bool)> {
    RIGHTWARDS.iter().find_map(|pair| {
        if relation_type.eq_ignore_ascii_case(pair.forward) {
            Some((pair.forward, true))
        } else if relation_type.eq_ignore_ascii_case(pair.reverse) {
            Some((pair.forward, false))
        } else {
            None
        }
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The lower-cased reference: what identifies the node.
    pub key: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    /// `false` when no entity with this reference exists.
    pub resolved: bool,
    /// Left to right, 0 being the leftmost column.
    pub column: usize,
    /// Top to bottom within the column.
    pub row: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub relation_type: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// The first node is the entity the graph is about.
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Neighbours left out to keep the drawing readable.
    pub omitted: usize,
}

/// Builds a graph breadth first: `add_relations` for each node that is expanded.
pub struct GraphBuilder {
    nodes: Vec<GraphNode>,
    /// Signed column of each node relative to the root, before normalising.
    offsets: Vec<i64>,
    index: HashMap<String, usize>,
    edges: Vec<GraphEdge>,
    max_nodes: usize,
    omitted: usize,
}

impl GraphBuilder {
    pub fn new(root: &EntityRef, title: Option<String>, max_nodes: usize) -> Self {
        let mut builder = Self {
            nodes: Vec::new(),
            offsets: Vec::new(),
            index: HashMap::new(),
            edges: Vec::new(),
            max_nodes: max_nodes.max(1),
            omitted: 0,
        };
        builder.push(root, title, true, 0);
        builder
    }

    fn push(
        &mut self,
        reference: &EntityRef,
        title: Option<String>,
        resolved: bool,
        offset: i64,
    ) -> usize {
        let index = self.nodes.len();
        self.nodes.push(GraphNode {
            key: reference.key(),
            kind: reference.kind.clone(),
            namespace: reference.namespace.clone(),
            name: reference.name.clone(),
            title,
            resolved,
            column: 0,
            row: 0,
        });
        self.offsets.push(offset);
        self.index.insert(reference.key(), index);
        index
    }

    /// Adds the relations of the node `from` (a key already in the graph); returns the
    /// keys of nodes this added, which a caller may expand next.
    ///
    /// A neighbour is expanded away from the entity only: to the right of it, what it
    /// depends on, belongs to or is owned by; to the left, what depends on it. Otherwise
    /// an owner would pull in everything else it owns, and the drawing would be about it.
    pub fn add_relations(&mut self, from: &str, relations: &[(String, String)]) -> Vec<String> {
        let Some(&source) = self.index.get(from) else {
            return Vec::new();
        };
        let side = self.offsets[source].signum();
        let context = RefContext::STANDALONE;
        let mut added = Vec::new();
        for (relation_type, target) in relations {
            let Some((forward, is_forward)) = direction(relation_type) else {
                continue;
            };
            if (side > 0 && !is_forward) || (side < 0 && is_forward) {
                continue;
            }
            let Ok(reference) = EntityRef::parse(target, context) else {
                continue;
            };
            let key = reference.key();
            let other = match self.index.get(&key) {
                Some(&i) => i,
                None if self.nodes.len() >= self.max_nodes => {
                    self.omitted += 1;
                    continue;
                }
                None => {
                    let offset = self.offsets[source] + if is_forward { 1 } else { -1 };
                    added.push(key);
                    // Resolved or not is settled by `resolve`, once the caller looked.
                    self.push(&reference, None, false, offset)
                }
            };
            let (from, to) = if is_forward {
                (source, other)
            } else {
                (other, source)
            };
            let edge = GraphEdge {
                from,
                to,
                relation_type: forward.to_owned(),
            };
            if from != to && !self.edges.contains(&edge) {
                self.edges.push(edge);
            }
        }
        added
    }

    /// Marks a node as an existing entity, with the kind, name and title it is written with.
    pub fn resolve(&mut self, reference: &EntityRef, title: Option<String>) {
        if let Some(&i) = self.index.get(&reference.key()) {
            let node = &mut self.nodes[i];
            node.kind = reference.kind.clone();
            node.namespace = reference.namespace.clone();
            node.name = reference.name.clone();
            node.title = title;
            node.resolved = true;
        }
    }

    /// The graph with columns counted from 0 and rows assigned in the order nodes came.
    pub fn finish(mut self) -> Graph {
        let min = self.offsets.iter().copied().min().unwrap_or(0);
        let mut rows: HashMap<usize, usize> = HashMap::new();
        for (node, offset) in self.nodes.iter_mut().zip(&self.offsets) {
            node.column = (offset - min) as usize;
            let row = rows.entry(node.column).or_default();
            node.row = *row;
            *row += 1;
        }
        Graph {
            nodes: self.nodes,
            edges: self.edges,
            omitted: self.omitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relations(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(t, r)| (t.to_string(), r.to_string()))
            .collect()
    }

    #[test]
    fn neighbours_are_placed_left_and_right_by_direction() {
        let root = EntityRef::new("Component", "default", "web");
        let mut builder = GraphBuilder::new(&root, Some("Web".into()), 10);
        let added = builder.add_relations(
            "component:default/web",
            &relations(&[
                ("ownedBy", "group:default/team-a"),
                ("dependencyOf", "component:default/shop"),
                ("providesApi", "api:default/web-api"),
                ("ownedBy", "group:default/team-a"),
                ("someOtherType", "component:default/x"),
            ]),
        );
        assert_eq!(added.len(), 3);
        // Left of the entity, only what points further left is followed.
        let further = builder.add_relations(
            "component:default/shop",
            &relations(&[
                ("dependsOn", "component:default/web"),
                ("partOf", "system:default/store"),
                ("dependencyOf", "component:default/checkout"),
            ]),
        );
        assert_eq!(further, ["component:default/checkout"]);
        // Right of it, only what points further right: not the owner's other entities.
        let owned = builder.add_relations(
            "group:default/team-a",
            &relations(&[
                ("ownerOf", "component:default/other"),
                ("childOf", "group:default/department"),
            ]),
        );
        assert_eq!(owned, ["group:default/department"]);
        builder.resolve(
            &EntityRef::new("Group", "default", "team-a"),
            Some("Team A".into()),
        );
        let graph = builder.finish();

        let at = |key: &str| graph.nodes.iter().find(|n| n.key == key).unwrap();
        // shop depends on web: shop left of web; web's owner and API right of it.
        assert_eq!(at("component:default/checkout").column, 0);
        assert_eq!(at("component:default/shop").column, 1);
        assert_eq!(at("component:default/web").column, 2);
        assert_eq!(at("group:default/team-a").column, 3);
        assert_eq!(at("api:default/web-api").column, 3);
        assert_eq!(at("group:default/department").column, 4);
        assert!(!graph
            .nodes
            .iter()
            .any(|n| n.name == "store" || n.name == "other"));
        assert_eq!(
            (
                at("group:default/team-a").row,
                at("api:default/web-api").row
            ),
            (0, 1)
        );

        assert!(at("group:default/team-a").resolved);
        assert_eq!(at("group:default/team-a").kind, "Group");
        assert!(!at("api:default/web-api").resolved);
        // Both directions of one relation give one edge, drawn forward.
        let shop_web: Vec<_> = graph
            .edges
            .iter()
            .filter(|e| graph.nodes[e.from].name == "shop" && graph.nodes[e.to].name == "web")
            .collect();
        assert_eq!(shop_web.len(), 1);
        assert_eq!(shop_web[0].relation_type, "dependsOn");
        assert_eq!(graph.edges.len(), 5);
    }

    #[test]
    fn large_neighbourhoods_are_cut_and_say_so() {
        let root = EntityRef::new("Group", "default", "platform");
        let mut builder = GraphBuilder::new(&root, None, 3);
        let owned: Vec<(String, String)> = (0..10)
            .map(|i| ("ownerOf".to_owned(), format!("component:default/c{i}")))
            .collect();
        builder.add_relations("group:default/platform", &owned);
        let graph = builder.finish();
        assert_eq!(graph.nodes.len(), 3);
        assert_eq!(graph.omitted, 8);
        assert!(graph.nodes[1..].iter().all(|n| n.column == 0));
        assert_eq!(graph.nodes[0].column, 1);
    }
}
