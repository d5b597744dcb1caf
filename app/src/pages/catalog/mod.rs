//! The catalog pages: the table of entities (`/catalog`) and a page per entity
//! (`/catalog/{namespace}/{kind}/{name}`), with Group and User pages as entity pages
//! that also list members, sub-groups, groups and owned entities.

pub mod entity;
#[cfg(feature = "ssr")]
mod graph;
pub mod list;
pub mod params;
#[cfg(feature = "ssr")]
pub(crate) mod server;

use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

/// A link to an entity, which may not exist (an unresolved reference is still shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefLink {
    pub kind: String,
    /// The title when the entity has one, otherwise its name.
    pub label: String,
    /// `kind:namespace/name`, as written.
    pub reference: String,
    pub href: String,
    pub resolved: bool,
}

/// Where an entity's page is (links are built on the server).
#[cfg(feature = "ssr")]
pub fn entity_href(kind: &str, namespace: &str, name: &str) -> String {
    format!("/catalog/{namespace}/{}/{name}", kind.to_lowercase())
}

/// The class that colours a kind (the same palette in tables, badges and the graph).
pub fn kind_class(kind: &str) -> String {
    let known = [
        "component",
        "api",
        "resource",
        "system",
        "domain",
        "group",
        "user",
        "location",
        "template",
    ];
    let kind = kind.to_lowercase();
    if known.contains(&kind.as_str()) {
        format!("kind kind-{kind}")
    } else {
        "kind kind-other".to_owned()
    }
}

#[component]
pub fn KindBadge(kind: String) -> impl IntoView {
    let class = kind_class(&kind);
    view! { <span class=class>{kind}</span> }
}

/// A link to an entity; an unresolved reference is marked so and still links (its
/// page explains that nothing has that name).
#[component]
pub fn EntityLink(link: RefLink) -> impl IntoView {
    let class = if link.resolved {
        "entity-link"
    } else {
        "entity-link unresolved"
    };
    let hint = (!link.resolved).then(|| format!("{} is not in the catalog", link.reference));
    view! {
        <A href=link.href attr:class=class attr:title=hint>
            {link.label}
        </A>
        {(!link.resolved).then(|| view! { <span class="unresolved-mark" aria-label="not in the catalog">" ?"</span> })}
    }
}

/// `1234567` → `1,234,567`.
pub fn format_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_links() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(1234567), "1,234,567");
        assert_eq!(format_count(999), "999");
        assert_eq!(
            entity_href("API", "default", "pay-api"),
            "/catalog/default/api/pay-api"
        );
        assert_eq!(kind_class("Group"), "kind kind-group");
        assert_eq!(kind_class("Widget"), "kind kind-other");
    }
}
