//! Draws an entity's relation graph as SVG: columns left to right as the core laid
//! them out, one box per entity coloured by kind, a link on every box.

use std::fmt::Write;

use portico_core::catalog::graph::Graph;

use super::entity_href;

const NODE_WIDTH: usize = 190;
const NODE_HEIGHT: usize = 46;
const COLUMN_GAP: usize = 90;
const ROW_GAP: usize = 14;
const MARGIN: usize = 8;
/// Longer names are cut (the full reference is in the box's tooltip).
const LABEL_CHARS: usize = 24;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cut(text: &str) -> String {
    if text.chars().count() <= LABEL_CHARS {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(LABEL_CHARS - 1).collect();
        format!("{kept}…")
    }
}

fn position(column: usize, row: usize) -> (usize, usize) {
    (
        MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
        MARGIN + row * (NODE_HEIGHT + ROW_GAP),
    )
}

/// The SVG document for `graph`; `title` names what it shows, for assistive technology.
pub fn render(graph: &Graph, title: &str) -> String {
    let columns = graph.nodes.iter().map(|n| n.column + 1).max().unwrap_or(1);
    let rows = graph.nodes.iter().map(|n| n.row + 1).max().unwrap_or(1);
    let (width, height) = (
        2 * MARGIN + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP,
        2 * MARGIN + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP,
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" aria-label="Relations of {}">"#,
        escape(title)
    );
    svg.push_str(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/></marker></defs>"#,
    );
    for edge in &graph.edges {
        let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
        let (fx, fy) = position(from.column, from.row);
        let (tx, ty) = position(to.column, to.row);
        let (x1, y1) = (fx + NODE_WIDTH, fy + NODE_HEIGHT / 2);
        let (x2, y2) = (tx, ty + NODE_HEIGHT / 2);
        // Same column (a node reached both ways): a loop out to the right and back.
        let bend = if to.column > from.column {
            (x2 as i64 - x1 as i64) / 2
        } else {
            COLUMN_GAP as i64 / 2
        };
        let (c1, c2) = (x1 as i64 + bend, x2 as i64 - bend);
        let _ = write!(
            svg,
            r#"<path class="edge" d="M {x1} {y1} C {c1} {y1}, {c2} {y2}, {x2} {y2}" marker-end="url(#arrow)"><title>{}</title></path>"#,
            escape(&edge.relation_type)
        );
    }
    for (index, node) in graph.nodes.iter().enumerate() {
        let (x, y) = position(node.column, node.row);
        let mut class = format!("node kind-{}", node.kind.to_lowercase());
        if index == 0 {
            class.push_str(" root");
        }
        if !node.resolved {
            class.push_str(" unresolved");
        }
        let label = node.title.clone().unwrap_or_else(|| node.name.clone());
        let reference = format!(
            "{}:{}/{}",
            node.kind.to_lowercase(),
            node.namespace,
            node.name
        );
        let _ = write!(
            svg,
            r#"<a href="{href}" class="{class}"><title>{reference}{missing}</title><rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6"/><text x="{tx}" y="{ky}" class="node-kind">{kind}</text><text x="{tx}" y="{ly}" class="node-label">{label}</text></a>"#,
            href = escape(&entity_href(&node.kind, &node.namespace, &node.name)),
            reference = escape(&reference),
            missing = if node.resolved {
                ""
            } else {
                " (not in the catalog)"
            },
            tx = x + 10,
            ky = y + 17,
            ly = y + 35,
            kind = escape(&node.kind),
            label = escape(&cut(&label)),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use portico_core::catalog::graph::GraphBuilder;
    use portico_core::catalog::EntityRef;

    use super::*;

    #[test]
    fn boxes_link_to_entities_and_text_is_escaped() {
        let root = EntityRef::new("Component", "default", "web");
        let mut builder = GraphBuilder::new(&root, Some("Web <shop> & co".into()), 10);
        builder.add_relations(
            "component:default/web",
            &[(
                "ownedBy".to_owned(),
                "group:default/a-very-long-team-name-that-goes-on".to_owned(),
            )],
        );
        let svg = render(&builder.finish(), "component:default/web");
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains(
            r#"<a href="/catalog/default/component/web" class="node kind-component root">"#
        ));
        assert!(svg.contains(r#"class="node kind-group unresolved""#));
        assert!(svg.contains("Web &lt;shop&gt; &amp; co"));
        assert!(svg.contains("a-very-long-team-name-t…"));
        assert_eq!(svg.matches("<path class=\"edge\"").count(), 1);
        // Two columns: the owner is to the right.
        assert!(svg.contains(&format!(
            r#"<rect x="{}""#,
            MARGIN + NODE_WIDTH + COLUMN_GAP
        )));
    }
}
