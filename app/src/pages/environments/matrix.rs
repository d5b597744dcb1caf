//! `/environments`: every component × every environment, problems first, with the
//! unhealthy count per environment and what changed in the last hour.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

use super::{
    ago, clock, CellView, ChangeView, ComponentView, EnvironmentColumn, StatusBadge, VersionLink,
};
use crate::components::viewers::Viewers;
use crate::error::AppError;
use crate::live::use_live_refresh;
use crate::pages::catalog::EntityLink;
use crate::pages::status::ErrorList;

/// The matrix's filters, as they live in the URL (`?owner=…&system=…&tier=…&mine=1`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixFilter {
    /// An owner's reference key.
    pub owner: String,
    /// A system's reference key.
    pub system: String,
    /// Only environments of this tier.
    pub tier: String,
    /// Only what the signed-in person's groups own.
    pub mine: bool,
}

impl MatrixFilter {
    pub fn parse(search: &str) -> Self {
        let mut filter = Self::default();
        let search = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in form_urlencoded::parse(search.as_bytes()) {
            let value = value.trim().to_owned();
            match key.as_ref() {
                "owner" => filter.owner = value,
                "system" => filter.system = value,
                "tier" => filter.tier = value,
                "mine" => filter.mine = matches!(value.as_str(), "1" | "true" | "on"),
                _ => {}
            }
        }
        filter
    }

    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRowView {
    pub component: ComponentView,
    /// One per column, in column order.
    pub cells: Vec<Option<CellView>>,
}

/// Everything `/environments` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixData {
    /// When the data was read (Unix milliseconds), for "4 min ago".
    pub now: i64,
    pub environments: Vec<EnvironmentColumn>,
    pub rows: Vec<MatrixRowView>,
    /// Rows before the filters: tells "nothing deployed yet" from "nothing matches".
    pub unfiltered: usize,
    /// Deployments and health changes of the last hour, newest first.
    pub changes: Vec<ChangeView>,
    /// `(reference key, label)` of the owners and systems there are, for the filters.
    pub owners: Vec<(String, String)>,
    pub systems: Vec<(String, String)>,
    /// Whether "mine" means anything (a signed-in person who owns something).
    pub has_owners: bool,
}

/// The matrix for a query string.
#[server(output = crate::codec::JsonText)]
pub async fn get_environment_matrix(search: String) -> Result<MatrixData, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::principal();
    super::server::matrix(&portal, principal.as_ref(), &MatrixFilter::parse(&search)).await
}

/// `/environments`.
#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let location = use_location();
    let search = Memo::new(move |_| location.search.get());
    let data = Resource::new(move || search.get(), get_environment_matrix);
    // A deployment or a health change anywhere: reload (once per burst).
    use_live_refresh(|| Some("deployments".to_owned()), move || data.refetch());
    use_live_refresh(|| Some("health".to_owned()), move || data.refetch());
    // What each cell showed last, so that cells that change flash.
    let shown = StoredValue::new(HashMap::<String, String>::new());
    view! {
        <Title text="Environments" />
        <div class="page-header">
            <h1>"Environments"</h1>
            <Viewers topic=|| Some("deployments".to_owned()) />
        </div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the environments…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    data.await.map(|data| {
                        let filter = MatrixFilter::parse(&search.get_untracked());
                        view! { <Matrix data filter shown /> }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Matrix(
    data: MatrixData,
    filter: MatrixFilter,
    shown: StoredValue<HashMap<String, String>>,
) -> impl IntoView {
    if data.environments.is_empty() {
        return view! {
            <section class="card empty-state">
                <h2>"No environments yet"</h2>
                <p>
                    "Environments are declared by configuration: set "
                    <code>"PORTICO_ENVIRONMENTS=dev,staging,production"</code>
                    " (or " <code>"environments"</code> " in portico.toml), or add one with "
                    <code>"PUT /api/v1/environments/{name}"</code> " as an admin."
                </p>
            </section>
        }
        .into_any();
    }
    let now = data.now;
    let summary = data
        .environments
        .iter()
        .map(|column| {
            let class = if column.unhealthy + column.failing > 0 { "env-summary has-problems" } else { "env-summary" };
            view! {
                <a class=class href=format!("/environments/{}", column.name)>
                    <span class="env-name">{column.title.clone()}</span>
                    <span class="muted">{column.tier.clone()}</span>
                    <span class="env-count" data-testid=format!("unhealthy-{}", column.name)>
                        {format!("{} unhealthy", column.unhealthy)}
                    </span>
                    <span class="muted">{format!("{} failing · {} components", column.failing, column.components)}</span>
                </a>
            }
        })
        .collect_view();
    let previous = shown.get_value();
    let mut now_shown = HashMap::new();
    let header = data
        .environments
        .iter()
        .map(|c| {
            let label = format!("{}: {} unhealthy", c.title, c.unhealthy);
            view! {
                <th scope="col">
                    <a href=format!("/environments/{}", c.name)>{c.title.clone()}</a>
                    {(c.unhealthy > 0).then(|| view! { <span class="count-badge tone-bad" aria-label=label>{c.unhealthy}</span> })}
                </th>
            }
        })
        .collect_view();
    let rows = data
        .rows
        .iter()
        .map(|row| {
            let cells = row
                .cells
                .iter()
                .zip(&data.environments)
                .map(|(cell, column)| {
                    let key = format!("{}@{}", row.component.link.reference, column.name);
                    let signature = cell.as_ref().map(CellView::signature).unwrap_or_default();
                    let changed = previous.get(&key).is_some_and(|before| *before != signature);
                    now_shown.insert(key, signature);
                    view! { <MatrixCell cell=cell.clone() now changed environment=column.name.clone() /> }
                })
                .collect_view();
            view! {
                <tr data-entity=row.component.link.reference.to_lowercase()>
                    <th scope="row">
                        <EntityLink link=row.component.link.clone() />
                        {row.component.owner.clone().map(|o| view! { <span class="muted small">" · " {o.label}</span> })}
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    shown.set_value(now_shown);
    let table = if data.rows.is_empty() {
        let message = if data.unfiltered == 0 {
            "Nothing is deployed or probed yet. Report deployments with POST /api/v1/deployments (or GitHub's deployment_status webhook), or declare probes with the portico.dev/health-url.<environment> annotation."
        } else {
            "No component matches these filters."
        };
        view! { <p class="empty">{message}</p> }.into_any()
    } else {
        view! {
            <div class="table-scroll">
                <table class="matrix" data-testid="environment-matrix">
                    <thead><tr><th scope="col">"Component"</th>{header}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <div class="env-summaries">{summary}</div>
        <Filters data=data.clone() filter />
        <div class="dashboard-grid">
            <section class="card matrix-card" aria-label="Components by environment">{table}</section>
            <Changes changes=data.changes.clone() now title="Last hour" />
        </div>
    }
    .into_any()
}

#[component]
fn MatrixCell(
    cell: Option<CellView>,
    now: i64,
    changed: bool,
    environment: String,
) -> impl IntoView {
    let Some(cell) = cell else {
        return view! { <td class="cell cell-none"><span class="muted" aria-label="not there">"—"</span></td> }.into_any();
    };
    let health = cell
        .health
        .as_ref()
        .map_or("none", |h| h.status.as_str())
        .to_owned();
    let class = format!(
        "cell health-{health}{}",
        if changed { " changed" } else { "" }
    );
    let health_text = cell.health.as_ref().map(|h| {
        let since = ago(now, h.since);
        let title = h.message.clone().unwrap_or_else(|| format!("{} since {since}", h.status));
        view! { <span class="health-dot" title=title.clone()></span><span class="health-word">{h.status.clone()}</span> }
    });
    let deployment = cell.deployment.clone().map(|d| {
        let status = d.status.clone();
        view! { <VersionLink deployment=d /> " " <StatusBadge status /> }
    });
    view! {
        <td class=class data-environment=environment data-health=health>
            <div class="cell-line">{deployment}</div>
            <div class="cell-line small">{health_text}</div>
        </td>
    }
    .into_any()
}

/// Owner, system, tier and "mine": a plain GET form, so every view is a link and it
/// works before the page is interactive.
#[component]
fn Filters(data: MatrixData, filter: MatrixFilter) -> impl IntoView {
    let option = |value: String, label: String, selected: bool| {
        view! { <option value=value selected=selected>{label}</option> }
    };
    let owners = data
        .owners
        .iter()
        .map(|(value, label)| option(value.clone(), label.clone(), *value == filter.owner))
        .collect_view();
    let systems = data
        .systems
        .iter()
        .map(|(value, label)| option(value.clone(), label.clone(), *value == filter.system))
        .collect_view();
    let tiers = ["development", "staging", "production"]
        .into_iter()
        .map(|t| option(t.to_owned(), t.to_owned(), filter.tier == t))
        .collect_view();
    let cleared = (!filter.is_empty())
        .then(|| view! { <a class="button subtle" href="/environments">"Clear filters"</a> });
    view! {
        <form class="filters" method="get" action="/environments" aria-label="Filters">
            <label>"Owner "
                <select name="owner">
                    <option value="" selected=filter.owner.is_empty()>"Any owner"</option>
                    {owners}
                </select>
            </label>
            <label>"System "
                <select name="system">
                    <option value="" selected=filter.system.is_empty()>"Any system"</option>
                    {systems}
                </select>
            </label>
            <label>"Tier "
                <select name="tier">
                    <option value="" selected=filter.tier.is_empty()>"Every tier"</option>
                    {tiers}
                </select>
            </label>
            {data.has_owners.then(|| view! {
                <label class="check"><input type="checkbox" name="mine" value="1" checked=filter.mine />" Mine only"</label>
            })}
            <button class="button" type="submit">"Apply"</button>
            {cleared}
        </form>
    }
}

/// A feed of changes, newest first.
#[component]
pub fn Changes(changes: Vec<ChangeView>, now: i64, title: &'static str) -> impl IntoView {
    let items = changes
        .into_iter()
        .map(|change| {
            let detail = change.detail.clone();
            view! {
                <li class=format!("change change-{}", change.kind)>
                    <time class="muted small" title=clock(now, change.at)>{ago(now, change.at)}</time>
                    <span>
                        <EntityLink link=change.component.clone() />
                        " in " <a href=format!("/environments/{}", change.environment)>{change.environment.clone()}</a>
                        ": " {change.summary.clone()} " "
                        <StatusBadge status=change.status.clone() />
                    </span>
                    {detail.map(|d| view! { <span class="muted small">{d}</span> })}
                </li>
            }
        })
        .collect::<Vec<_>>();
    let empty = items.is_empty();
    view! {
        <section class="card changes" aria-labelledby="changes-heading">
            <h2 id="changes-heading">{title}</h2>
            {if empty {
                view! { <p class="empty">"No deployments or health changes."</p> }.into_any()
            } else {
                view! { <ol class="change-list" data-testid="changes">{items}</ol> }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_live_in_the_url() {
        let filter =
            MatrixFilter::parse("?owner=group%3Adefault%2Fpayments&tier=production&mine=1");
        assert_eq!(filter.owner, "group:default/payments");
        assert_eq!(filter.tier, "production");
        assert!(filter.mine);
        assert!(MatrixFilter::parse("").is_empty());
    }
}
