//! `/create`: the golden paths there are, searchable and filtered by tag with a plain
//! GET form (it works before the bundle loads), and the caller's recent runs.
//!
//! Nothing on this page changes once shown, so the server renders it as HTML and the
//! browser inserts it: the bundle carries no code for its markup (see `render`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use super::page_frame;
use crate::error::AppError;

/// The gallery's search, as it lives in the URL (`?q=…&tag=…`).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GallerySearch {
    pub q: String,
    pub tag: String,
}

#[cfg(feature = "ssr")]
impl GallerySearch {
    pub fn parse(search: &str) -> Self {
        let mut parsed = Self::default();
        let search = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in form_urlencoded::parse(search.as_bytes()) {
            match key.as_ref() {
                "q" => parsed.q = value.trim().to_owned(),
                "tag" => parsed.tag = value.trim().to_owned(),
                _ => {}
            }
        }
        parsed
    }

    /// The gallery's address with this search and `tag` instead of the current one.
    pub fn with_tag(&self, tag: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if !tag.is_empty() {
            query.append_pair("tag", tag);
        }
        let query = query.finish();
        if query.is_empty() {
            "/create".to_owned()
        } else {
            format!("/create?{query}")
        }
    }
}

/// The gallery for a URL query string, as HTML.
#[server(output = crate::codec::JsonText)]
pub async fn list_golden_paths(search: String) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let gallery =
        super::server::gallery(&portal, &principal, &GallerySearch::parse(&search)).await?;
    Ok(render::gallery(gallery, GallerySearch::parse(&search)))
}

/// `/create`.
#[component]
pub fn CreatePage() -> impl IntoView {
    let location = use_location();
    let key = Signal::derive(move || vec![location.search.get()]);
    view! {
        <Title text="Create something new" />
        <div class="page-header">
            <div>
                <h1>"Create something new"</h1>
                <p class="muted">
                    "Golden paths set up a new service, site or library the way your platform team recommends: repository, CI and catalog entry included."
                </p>
            </div>
        </div>
        {page_frame(
            key,
            |key| Box::pin(list_golden_paths(key[0].clone())),
            |_, html| view! { <div class="gallery" inner_html=html></div> }.into_any(),
            "Loading the golden paths…",
            |_| None,
        )}
    }
}

/// A template as the gallery shows it.
#[cfg(feature = "ssr")]
pub struct TemplateCard {
    /// Where its wizard is.
    pub href: String,
    pub title: String,
    pub description: Option<String>,
    pub spec_type: Option<String>,
    pub tags: Vec<String>,
    /// `(label, href)` of the owner's catalog page.
    pub owner: Option<(String, String)>,
}

/// A run in "Your recent runs".
#[cfg(feature = "ssr")]
pub struct RunRow {
    pub id: String,
    pub title: String,
    pub status: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Everything `/create` shows.
#[cfg(feature = "ssr")]
pub struct Gallery {
    pub now: i64,
    pub templates: Vec<TemplateCard>,
    /// Tags of the templates matching the search, with how many have each.
    pub tags: Vec<(String, i64)>,
    /// Templates in the whole catalog: tells "none registered" from "none match".
    pub registered: i64,
    /// The caller's latest runs, newest first; `None` when the caller may not run
    /// templates.
    pub runs: Option<Vec<RunRow>>,
}

#[cfg(feature = "ssr")]
mod render {
    use leptos::prelude::*;

    use super::{Gallery, GallerySearch, RunRow, TemplateCard};
    use crate::pages::create::{run_label, run_tone, Fragment};
    use crate::pages::environments::{ago, clock};

    pub fn gallery(gallery: Gallery, search: GallerySearch) -> String {
        let Gallery {
            now,
            templates,
            tags,
            registered,
            runs,
        } = gallery;
        let body = if registered == 0 {
            no_templates().into_any()
        } else {
            view! {
                {search_form(&search)}
                {tag_filter(tags, &search)}
                {cards(templates, &search)}
            }
            .into_any()
        };
        view! {
            {body}
            {runs.map(|runs| recent_runs(runs, now))}
        }
        .fragment()
    }

    fn search_form(search: &GallerySearch) -> impl IntoView {
        let tag = (!search.tag.is_empty())
            .then(|| view! { <input type="hidden" name="tag" value=search.tag.clone() /> });
        view! {
            <form class="search gallery-search" role="search" method="get" action="/create">
                <label for="template-search" class="visually-hidden">"Search the golden paths"</label>
                <input
                    id="template-search"
                    type="search"
                    name="q"
                    value=search.q.clone()
                    placeholder="Search titles, descriptions, tags…"
                    autocomplete="off"
                />
                {tag}
                <button type="submit" class="button">"Search"</button>
            </form>
        }
    }

    fn tag_filter(tags: Vec<(String, i64)>, search: &GallerySearch) -> impl IntoView {
        if tags.is_empty() && search.tag.is_empty() {
            return ().into_any();
        }
        let chip = |label: String, tag: String, count: Option<i64>| {
            let selected = tag.eq_ignore_ascii_case(&search.tag);
            view! {
                <a href=search.with_tag(&tag) class=if selected { "chip selected" } else { "chip" }
                    aria-current=selected.then_some("true")>
                    {label}
                    {count.map(|c| view! { <span class="chip-count">{c}</span> })}
                </a>
            }
        };
        let mut chips = vec![chip("All".into(), String::new(), None)];
        chips.extend(
            tags.into_iter()
                .map(|(tag, count)| chip(tag.clone(), tag, Some(count))),
        );
        view! { <nav class="chips" aria-label="Filter by tag">{chips}</nav> }.into_any()
    }

    fn cards(templates: Vec<TemplateCard>, search: &GallerySearch) -> impl IntoView {
        if templates.is_empty() {
            return view! {
                <div class="card empty-state" data-testid="no-templates">
                    <p>"No golden path matches this search."</p>
                    <p><a href="/create">"Show them all"</a></p>
                </div>
            }
            .into_any();
        }
        let cards = templates
            .into_iter()
            .map(|t| {
                let tags = t
                    .tags
                    .iter()
                    .map(|tag| view! { <a class="tag" href=search.with_tag(tag)>{tag.clone()}</a> })
                    .collect_view();
                let owner = t.owner.map(|(label, href)| {
                    view! { "Owned by " <a class="entity-link" href=href>{label}</a> }
                });
                let choose = format!("Choose {}", t.title);
                view! {
                    <li class="card template-card" data-testid="template-card">
                        <div class="template-card-head">
                            <h2>{t.title}</h2>
                            {t.spec_type.map(|s| view! { <span class="kind kind-template">{s}</span> })}
                        </div>
                        <p class="template-description">{t.description}</p>
                        <div class="cell-tags">{tags}</div>
                        <div class="template-card-foot">
                            <span class="muted small">{owner}</span>
                            <a class="button primary" href=t.href aria-label=choose>"Choose"</a>
                        </div>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="template-grid" role="list">{cards}</ul> }.into_any()
    }

    fn no_templates() -> impl IntoView {
        view! {
            <section class="card empty-state" data-testid="no-templates">
                <h2>"No golden paths yet"</h2>
                <p>
                    "A golden path is a catalog entity of kind " <code>"Template"</code> " ("
                    <code>"apiVersion: scaffolder.backstage.io/v1beta3"</code>
                    "), the format of Backstage Software Templates. Register the file that holds it like any catalog file:"
                </p>
                <pre class="yaml">"curl -X POST /api/catalog/locations \\\n  -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' \\\n  -d '{\"type\": \"url\", \"target\": \"https://git.example.com/platform/templates/template.yaml\"}'"</pre>
                <p class="muted">
                    "or import it with " <code>"portico import <file-or-dir>"</code>
                    ". Start the portal with " <code>"--demo"</code> " to try two ready-made golden paths."
                </p>
            </section>
        }
    }

    fn recent_runs(runs: Vec<RunRow>, now: i64) -> impl IntoView {
        let table = if runs.is_empty() {
            view! {
                <p class="empty">"You have not run a golden path yet. Choose one above: it takes a minute."</p>
            }
            .into_any()
        } else {
            let rows = runs
                .into_iter()
                .map(|run| {
                    let badge = format!("status-badge tone-{}", run_tone(&run.status));
                    view! {
                        <tr>
                            <td><a href=format!("/create/tasks/{}", run.id)>{run.title}</a></td>
                            <td><span class=badge data-status=run.status.clone()>{run_label(&run.status)}</span></td>
                            <td class="muted small" title=clock(now, run.created_at)>{ago(now, run.created_at)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="data-table" data-testid="recent-runs">
                    <thead><tr>
                        <th scope="col">"Golden path"</th><th scope="col">"Status"</th><th scope="col">"Started"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        };
        view! {
            <section class="card recent-runs" aria-labelledby="recent-runs-heading">
                <h2 id="recent-runs-heading">"Your recent runs"</h2>
                {table}
                <p class="muted small">
                    "Writing a golden path? Try it in the " <a href="/create/edit">"template editor"</a>
                    ", without registering or publishing anything."
                </p>
            </section>
        }
    }
}
