use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};

use super::params::{CatalogParams, ALL_KINDS, FACETS};
use super::{format_count, EntityLink, KindBadge, RefLink};
use crate::error::AppError;
use crate::live::use_live_refresh;
use crate::pages::status::ErrorList;

/// Rows per page of the table.
pub const PAGE_SIZE: u64 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetGroup {
    /// The URL parameter: `owner`.
    pub param: String,
    pub label: String,
    pub values: Vec<FacetCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRow {
    pub link: RefLink,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub tags: Vec<String>,
    pub orphan: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogListing {
    /// Entities per kind (for the tabs), with the search applied.
    pub kinds: Vec<FacetCount>,
    /// Values per facet, each counted with the other filters applied.
    pub facets: Vec<FacetGroup>,
    pub rows: Vec<CatalogRow>,
    /// Entities matching in all.
    pub total: i64,
    /// Entities in the whole catalog: tells "empty catalog" from "nothing matches".
    pub catalog_size: i64,
    pub offset: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// One page of the catalog table for a URL query string (see [`CatalogParams`]).
#[server(output = crate::codec::JsonText)]
pub async fn get_catalog_listing(search: String) -> Result<CatalogListing, AppError> {
    let portal = crate::context::portal()?;
    super::server::listing(&portal, &CatalogParams::parse(&search)).await
}

/// `/catalog`: kind tabs, facets, search as you type, sorting and pages, all in the URL.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let location = use_location();
    let search = Memo::new(move |_| location.search.get());
    let params = Memo::new(move |_| CatalogParams::parse(&search.get()));
    let listing = Resource::new(move || search.get(), get_catalog_listing);
    let (loading, set_loading) = signal(false);
    // Any entity added, changed or removed: the page shows it without a reload.
    use_live_refresh(|| Some("catalog".to_owned()), move || listing.refetch());

    view! {
        <Title text="Catalog" />
        <div class="page-header">
            <h1>"Catalog"</h1>
            <SearchBox params />
        </div>
        <Transition
            fallback=|| view! { <p class="loading" role="status">"Loading the catalog…"</p> }
            set_pending=set_loading
        >
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    listing.await.map(|listing| view! { <Listing listing params=params.get_untracked() /> })
                })}
            </ErrorBoundary>
        </Transition>
        <p class="updating" role="status" aria-live="polite">
            {move || loading.get().then_some("Updating…")}
        </p>
    }
}

/// Search as you type: the URL follows the box a moment after the last key, replacing
/// the history entry so Back leaves the catalog instead of replaying keystrokes.
/// Without JavaScript it is a plain form.
#[component]
fn SearchBox(params: Memo<CatalogParams>) -> impl IntoView {
    let navigate = use_navigate();
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let go = move |text: String, replace: bool| {
        let href = params.get_untracked().with_query(&text).href();
        navigate(
            &href,
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let on_input = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            if let Some(handle) = pending.get_value() {
                handle.clear();
            }
            let go = go.clone();
            let handle = set_timeout_with_handle(
                move || go(text, true),
                std::time::Duration::from_millis(250),
            )
            .ok();
            pending.set_value(handle);
        }
    };
    let input = NodeRef::<leptos::html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        if let Some(input) = input.get() {
            go(input.value(), false);
        }
    };
    view! {
        <form class="search" role="search" method="get" action="/catalog" on:submit=on_submit>
            {move || params.get().kind.map(|kind| view! { <input type="hidden" name="kind" value=kind /> })}
            <label for="catalog-search" class="visually-hidden">"Search the catalog"</label>
            <input
                                id="catalog-search"
                node_ref=input

                type="search"
                name="q"
                placeholder="Search names, titles, tags, owners…"
                autocomplete="off"
                prop:value=move || params.get().q
                on:input=on_input
            />
        </form>
    }
}

#[component]
fn Listing(listing: CatalogListing, params: CatalogParams) -> impl IntoView {
    if listing.catalog_size == 0 {
        return view! {
            <section class="card empty-state">
                <h2>"The catalog is empty"</h2>
                <p>
                    "Import catalog files with " <code>"portico import <file-or-dir>"</code>
                    ", register a location with " <code>"POST /api/catalog/locations"</code>
                    ", or start the portal with " <code>"--demo"</code> " to explore a sample organisation."
                </p>
            </section>
        }
        .into_any();
    }
    let CatalogListing {
        kinds,
        facets,
        rows,
        total,
        offset,
        next,
        previous,
        ..
    } = listing;
    view! {
        <KindTabs kinds params=params.clone() />
        <div class="catalog-layout">
            <Facets facets params=params.clone() />
            <section class="catalog-results" aria-label="Entities">
                <ResultsTable rows total offset params=params.clone() />
                <Pager total offset next previous params />
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn KindTabs(kinds: Vec<FacetCount>, params: CatalogParams) -> impl IntoView {
    let current = params.kind_tab().to_owned();
    let all: i64 = kinds.iter().map(|k| k.count).sum();
    let mut tabs: Vec<(String, String, i64)> = kinds
        .into_iter()
        .map(|k| (k.value.to_lowercase(), k.value, k.count))
        .collect();
    // Components first (the default tab, even when none match), then by size.
    if !tabs.iter().any(|(key, _, _)| key == "component") {
        tabs.insert(0, ("component".into(), "Component".into(), 0));
    }
    tabs.sort_by(|a, b| {
        (a.0 != "component")
            .cmp(&(b.0 != "component"))
            .then(b.2.cmp(&a.2))
    });
    tabs.push((ALL_KINDS.into(), "All".into(), all));
    let links = tabs
        .into_iter()
        .map(|(key, label, count)| {
            let selected = key == current;
            let href = params.with_kind(&key).href();
            view! {
                <a href=href class=if selected { "tab selected" } else { "tab" } aria-current=selected.then_some("page")>
                    {label} " " <span class="tab-count">{format_count(count)}</span>
                </a>
            }
        })
        .collect_view();
    view! { <nav class="tabs" aria-label="Kinds">{links}</nav> }
}

#[component]
fn Facets(facets: Vec<FacetGroup>, params: CatalogParams) -> impl IntoView {
    let clear = params.is_filtered().then(|| {
        let href = params.without_filters().href();
        view! { <a href=href class="clear-filters">"Clear filters"</a> }
    });
    let groups = facets
        .into_iter()
        .filter(|group| !group.values.is_empty())
        .map(|group| {
            let Some(param) = FACETS.iter().map(|(p, _, _)| *p).find(|p| *p == group.param) else {
                return ().into_any();
            };
            let chosen = params.values(param).to_vec();
            let items = group
                .values
                .into_iter()
                .map(|facet| {
                    let checked = chosen.iter().any(|c| c.eq_ignore_ascii_case(&facet.value));
                    let href = params.with_toggled(param, &facet.value).href();
                    view! {
                        <li>
                            <a href=href class=if checked { "facet checked" } else { "facet" }
                                role="checkbox" aria-checked=if checked { "true" } else { "false" }>
                                <span class="facet-box" aria-hidden="true">{if checked { "☑" } else { "☐" }}</span>
                                <span class="facet-value">{facet.value}</span>
                                <span class="facet-count">{format_count(facet.count)}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view();
                        let heading = format!("facet-{param}");
            let labelled_by = heading.clone();
            view! {
                <div class="facet-group" role="group" aria-labelledby=labelled_by>
                    <h3 id=heading>{group.label}</h3>
                    <ul>{items}</ul>
                </div>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <aside class="facets" aria-label="Filters">
            {clear}
            {groups}
        </aside>
    }
}

#[component]
fn ResultsTable(
    rows: Vec<CatalogRow>,
    total: i64,
    offset: u64,
    params: CatalogParams,
) -> impl IntoView {
    if rows.is_empty() {
        let clear = params.without_filters().href();
        let message = if offset > 0 && total > 0 {
            "This page is past the end of the results."
        } else {
            "Nothing matches these filters."
        };
        return view! {
            <div class="card empty-state" data-testid="no-results">
                <p>{message}</p>
                <p><a href=clear>"Clear the search and filters"</a></p>
            </div>
        }
        .into_any();
    }
    let sort = params.sort_order();
    let header = |column: &'static str, label: &'static str| {
        let state = match sort {
            Some((c, descending)) if c == column => Some(descending),
            _ => None,
        };
        let aria = match state {
            Some(true) => "descending",
            Some(false) => "ascending",
            None => "none",
        };
        let arrow = match state {
            Some(true) => " ▼",
            Some(false) => " ▲",
            None => "",
        };
        let href = params.with_sort(column).href();
        view! {
            <th scope="col" aria-sort=aria>
                <a href=href class="sort">{label}{arrow}</a>
            </th>
        }
    };
    let show_kind = params.kind_tab() == ALL_KINDS;
    let body = rows
        .into_iter()
        .map(|row| {
            let kind = row.link.kind.clone();
            let tags = row
                .tags
                .into_iter()
                .map(|tag| view! { <span class="tag">{tag}</span> })
                .collect_view();
            view! {
                <tr>
                    <td>
                        <div class="cell-name">
                            {show_kind.then(|| view! { <KindBadge kind=kind.clone() /> })}
                            <EntityLink link=row.link />
                            {row.orphan.then(|| view! { <span class="pill pill-warn" title="Its location no longer lists it">"orphan"</span> })}
                        </div>
                        {row.description.map(|d| view! { <div class="cell-description muted">{d}</div> })}
                        <div class="cell-tags">{tags}</div>
                    </td>
                    <td>{row.owner.map(|o| view! { <EntityLink link=o /> })}</td>
                    <td>{row.spec_type}</td>
                    <td>{row.lifecycle}</td>
                    <td>{row.system.map(|s| view! { <EntityLink link=s /> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table catalog-table">
            <thead>
                <tr>
                    {header("name", "Name")}
                    {header("owner", "Owner")}
                    {header("type", "Type")}
                    {header("lifecycle", "Lifecycle")}
                    {header("system", "System")}
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Pager(
    total: i64,
    offset: u64,
    next: Option<String>,
    previous: Option<String>,
    params: CatalogParams,
) -> impl IntoView {
    if total == 0 {
        return ().into_any();
    }
    let first = offset + 1;
    let last = (offset + PAGE_SIZE).min(total as u64);
    let link = |cursor: Option<String>, label: &'static str, rel: &'static str| match cursor {
        Some(cursor) => {
            let href = params.with_cursor(Some(cursor)).href();
            view! { <a href=href class="button" rel=rel>{label}</a> }.into_any()
        }
        None => {
            view! { <span class="button disabled" aria-disabled="true">{label}</span> }.into_any()
        }
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted" data-testid="result-range">
                {format!("{}–{} of {}", format_count(first as i64), format_count(last as i64), format_count(total))}
            </span>
            {link(previous, "← Previous", "prev")}
            {link(next, "Next →", "next")}
        </nav>
    }
    .into_any()
}
