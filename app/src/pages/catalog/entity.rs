use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};
use serde::{Deserialize, Serialize};

use super::{kind_class, EntityLink, KindBadge, RefLink};
use crate::components::viewers::Viewers;
use crate::error::AppError;
use crate::live::use_live_refresh;
use crate::pages::environments::history::DeploymentsTab;
use crate::pages::status::ErrorList;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    pub url: String,
    pub title: String,
    pub icon: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationGroup {
    pub relation_type: String,
    pub label: String,
    pub targets: Vec<RefLink>,
    /// Targets beyond those listed.
    pub more: usize,
}

/// Everything an entity page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDetails {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `kind:namespace/name`.
    pub reference: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
    pub domain: Option<RefLink>,
    pub parent: Option<RefLink>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub links: Vec<ExternalLink>,
    pub annotations: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub relations: Vec<RelationGroup>,
    /// The neighbourhood to depth 2, drawn on the server.
    pub graph_svg: String,
    pub graph_nodes: usize,
    pub graph_omitted: usize,
    pub yaml: String,
    pub problems: Vec<String>,
    pub orphan: bool,
}

impl EntityDetails {
    fn related(&self, relation_type: &str) -> Option<&RelationGroup> {
        self.relations
            .iter()
            .find(|g| g.relation_type == relation_type)
    }
}

/// One entity's page; `None` when the catalog has no such entity.
#[server(output = crate::codec::JsonText)]
pub async fn get_entity_details(
    namespace: String,
    kind: String,
    name: String,
) -> Result<Option<EntityDetails>, AppError> {
    let portal = crate::context::portal()?;
    let details = super::server::details(&portal, &namespace, &kind, &name).await?;
    if details.is_none() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    Ok(details)
}

/// `/catalog/{namespace}/{kind}/{name}`.
#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("kind").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    };
    let details = Resource::new(key, |(namespace, kind, name)| {
        get_entity_details(namespace, kind, name)
    });
    // Events are published on the entity's reference key (lower case).
    let topic = move || {
        let (namespace, kind, name) = key();
        Some(format!("entity:{kind}:{namespace}/{name}").to_lowercase())
    };
    use_live_refresh(topic, move || details.refetch());
    let location = use_location();
    let tab = Memo::new(move |_| Tab::from_search(&location.search.get()));
    view! {
        <Viewers topic />
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the entity…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    details.await.map(|details| match details {
                        Some(details) => view! { <EntityView details tab=tab.get() /> }.into_any(),
                        None => {
                            let (namespace, kind, name) = key();
                            view! { <Missing reference=format!("{kind}:{namespace}/{name}") /> }.into_any()
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Missing(reference: String) -> impl IntoView {
    view! {
        <Title text="Not in the catalog" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"Not in the catalog"</h1>
            <p class="muted">
                "No entity is called " <code>{reference}</code>
                ". Something may refer to it without it being registered, or it was removed."
            </p>
            <p><a href="/catalog">"Back to the catalog"</a></p>
        </section>
    }
}

/// The tabs of an entity's page (`?tab=deployments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Deployments,
}

impl Tab {
    fn from_search(search: &str) -> Self {
        let search = search.strip_prefix('?').unwrap_or(search);
        let deployments = form_urlencoded::parse(search.as_bytes())
            .any(|(key, value)| key == "tab" && value == "deployments");
        if deployments {
            Self::Deployments
        } else {
            Self::Overview
        }
    }
}

/// The tab bar: links, so each tab has its URL.
#[component]
fn Tabs(base: String, tab: Tab) -> impl IntoView {
    let current = |t: Tab| (tab == t).then_some("page");
    view! {
        <nav class="tabs entity-tabs" aria-label="Entity sections">
            <a class="tab" class:selected=tab == Tab::Overview aria-current=current(Tab::Overview) href=base.clone()>"Overview"</a>
            <a class="tab" class:selected=tab == Tab::Deployments aria-current=current(Tab::Deployments) href=format!("{base}?tab=deployments")>"Deployments"</a>
        </nav>
    }
}

#[component]
fn EntityView(details: EntityDetails, tab: Tab) -> impl IntoView {
    let heading = details
        .display_name
        .clone()
        .or_else(|| details.title.clone())
        .unwrap_or_else(|| details.name.clone());
    let kind_lower = details.kind.to_lowercase();
    let kind_label = details.kind.clone();
    let sections = match kind_lower.as_str() {
        "group" => vec![
            ("hasMember", "Members"),
            ("parentOf", "Sub-groups"),
            ("ownerOf", "Owned entities"),
        ],
        "user" => vec![("memberOf", "Groups"), ("ownerOf", "Owned entities")],
        "component" => vec![
            ("providesApi", "Provided APIs"),
            ("consumesApi", "Consumed APIs"),
            ("dependsOn", "Depends on"),
            ("hasPart", "Sub-components"),
        ],
        "api" => vec![
            ("apiProvidedBy", "Provided by"),
            ("apiConsumedBy", "Consumed by"),
        ],
        "system" | "domain" => vec![("hasPart", "Contains")],
        _ => vec![],
    };
    let cards = sections
        .into_iter()
        .map(|(relation_type, title)| {
            let group = details.related(relation_type).cloned();
            view! { <RelatedCard title group /> }
        })
        .collect_view();
    let problems = (!details.problems.is_empty()).then(|| {
        let items = details
            .problems
            .iter()
            .map(|p| view! { <li>{p.clone()}</li> })
            .collect_view();
        view! {
            <section class="card problems" aria-labelledby="problems-heading" data-testid="processing-errors">
                <h2 id="problems-heading">"Processing errors"</h2>
                <ul>{items}</ul>
            </section>
        }
    });
    let graph_note = (details.graph_omitted > 0).then(|| {
        format!(
            "{} more related entities are left out of the drawing; all are listed under Relations.",
            details.graph_omitted
        )
    });
    view! {
        <Title text=heading.clone() />
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/catalog">"Catalog"</a>
            " / "
                        <a href=format!("/catalog?kind={kind_lower}")>{kind_label}</a>
            " / "
            <span aria-current="page">{details.name.clone()}</span>
        </nav>
        <div class="page-header entity-header">
            <div>
                <h1>{heading}</h1>
                <p class="muted mono">{details.reference.clone()}</p>
            </div>
            <KindBadge kind=details.kind.clone() />
        </div>
        {details.orphan.then(|| view! {
            <p class="notice warn" role="note">
                "This entity is an orphan: the location that defined it no longer lists it. Delete it, or add it back to its file."
            </p>
        })}
        <Tabs base=format!("/catalog/{}/{}/{}", details.namespace, kind_lower, details.name) tab />
        {(tab == Tab::Deployments).then(|| view! {
            <DeploymentsTab reference=details.reference.to_lowercase() />
        }.into_any())}
        {(tab == Tab::Overview).then(|| view! {
        {problems}
        <div class="entity-grid">
            <Overview details=details.clone() />
            {cards}
        </div>
        <section class="card" aria-labelledby="graph-heading">
            <h2 id="graph-heading">"Relation graph"</h2>
            {if details.graph_nodes > 1 {
                view! {
                    <div class="graph-frame" inner_html=details.graph_svg.clone()></div>
                    <p class="muted legend">"Arrows point from an entity to what it depends on, belongs to or is owned by. Select a box to open it."</p>
                    {graph_note.map(|note| view! { <p class="muted">{note}</p> })}
                }
                .into_any()
            } else {
                view! { <p class="empty">"No relations yet."</p> }.into_any()
            }}
        </section>
        <RelationsCard relations=details.relations.clone() />
        <section class="card" aria-labelledby="yaml-heading">
            <h2 id="yaml-heading">"Definition"</h2>
            <details>
                <summary>"Show the YAML"</summary>
                <pre class="yaml"><code>{details.yaml.clone()}</code></pre>
            </details>
        </section>
        }.into_any())}
    }
}

#[component]
fn Overview(details: EntityDetails) -> impl IntoView {
    let fact = |label: &'static str, value: Option<AnyView>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    let link = |l: Option<RefLink>| l.map(|l| view! { <EntityLink link=l /> }.into_any());
    let plain = |t: Option<String>| t.map(|t| t.into_any());
    let tags = (!details.tags.is_empty()).then(|| {
        details
            .tags
            .iter()
            .map(|t| view! { <span class="tag">{t.clone()}</span> })
            .collect_view()
            .into_any()
    });
    let email = details
        .email
        .clone()
        .map(|e| view! { <a href=format!("mailto:{e}")>{e.clone()}</a> }.into_any());
    let links = (!details.links.is_empty()).then(|| {
        let items = details
            .links
            .iter()
            .map(|l| {
                view! {
                    <li>
                        <span class="link-icon" aria-hidden="true">{link_icon(l.icon.as_deref())}</span>
                        <a href=l.url.clone() rel="noopener noreferrer" target="_blank">{l.title.clone()}</a>
                    </li>
                }
            })
            .collect_view();
        view! { <h3>"Links"</h3><ul class="links">{items}</ul> }
    });
    let annotations = (!details.annotations.is_empty()).then(|| {
        let rows = details
            .annotations
            .iter()
            .chain(details.labels.iter())
            .map(|(k, v)| view! { <dt class="mono">{k.clone()}</dt><dd class="mono">{v.clone()}</dd> })
            .collect_view();
        view! {
            <details class="annotations">
                <summary>"Annotations and labels"</summary>
                <dl class="facts small">{rows}</dl>
            </details>
        }
    });
    view! {
        <section class="card overview" aria-labelledby="overview-heading">
            <h2 id="overview-heading">"Overview"</h2>
            {details.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            <dl class="facts">
                {fact("Owner", link(details.owner.clone()))}
                {fact("System", link(details.system.clone()))}
                {fact("Domain", link(details.domain.clone()))}
                {fact("Parent", link(details.parent.clone()))}
                {fact("Type", plain(details.spec_type.clone()))}
                {fact("Lifecycle", plain(details.lifecycle.clone()))}
                {fact("Email", email)}
                {fact("Namespace", Some(details.namespace.clone().into_any()))}
                {fact("Tags", tags)}
            </dl>
            {links}
            {annotations}
        </section>
    }
}

/// Backstage's link icon names, drawn as characters every font has.
fn link_icon(icon: Option<&str>) -> &'static str {
    match icon.unwrap_or_default() {
        "dashboard" => "▦",
        "docs" | "techdocs" => "📄",
        "github" | "code" | "scm" => "⌥",
        "chat" | "slack" => "💬",
        "email" | "mail" => "✉",
        "help" => "?",
        "alert" | "warning" => "⚠",
        "group" | "user" | "catalog" => "◆",
        _ => "↗",
    }
}

#[component]
fn RelatedCard(title: &'static str, group: Option<RelationGroup>) -> impl IntoView {
    let content = match group {
        Some(group) => {
            let more = group.more;
            let items = group
                .targets
                .into_iter()
                .map(|t| {
                    let kind = t.kind.clone();
                    view! { <li><span class=kind_class(&kind)>{kind.clone()}</span> " " <EntityLink link=t /></li> }
                })
                .collect_view();
            view! {
                <ul class="related">{items}</ul>
                {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
            }
            .into_any()
        }
        None => view! { <p class="empty">"None."</p> }.into_any(),
    };
    view! {
        <section class="card related-card">
            <h2>{title}</h2>
            {content}
        </section>
    }
}

#[component]
fn RelationsCard(relations: Vec<RelationGroup>) -> impl IntoView {
    if relations.is_empty() {
        return view! {
            <section class="card" aria-labelledby="relations-heading">
                <h2 id="relations-heading">"Relations"</h2>
                <p class="empty">"This entity has no relations."</p>
            </section>
        }
        .into_any();
    }
    let groups = relations
        .into_iter()
        .map(|group| {
            let more = group.more;
            let links = group
                .targets
                .into_iter()
                .map(|t| view! { <li><EntityLink link=t /></li> })
                .collect_view();
            view! {
                <div class="relation-group">
                    <h3>{group.label} <span class="muted mono">{format!(" {}", group.relation_type)}</span></h3>
                    <ul class="related">{links}</ul>
                    {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="relations-heading">
            <h2 id="relations-heading">"Relations"</h2>
            <div class="relation-groups">{groups}</div>
        </section>
    }
    .into_any()
}
