//! `/environments/{name}`: every component in one environment, failing first, and its
//! recent deployments.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::matrix::Changes;
use super::{
    ago, clock, CellView, ChangeView, ComponentView, DeploymentView, StatusBadge, VersionLink,
};
use crate::components::viewers::Viewers;
use crate::error::AppError;
use crate::live::use_live_refresh;
use crate::pages::catalog::{EntityLink, RefLink};
use crate::pages::status::ErrorList;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRow {
    pub component: ComponentView,
    pub cell: CellView,
}

/// A deployment on the timeline, with its component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub component: RefLink,
    pub deployment: DeploymentView,
}

/// Everything `/environments/{name}` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentData {
    pub now: i64,
    pub name: String,
    pub title: String,
    pub tier: String,
    /// Problems first.
    pub rows: Vec<EnvironmentRow>,
    /// The latest deployments, newest first.
    pub timeline: Vec<TimelineEntry>,
    /// Health changes of the last day, newest first.
    pub changes: Vec<ChangeView>,
}

/// One environment's page; `None` when there is no such environment.
#[server(output = crate::codec::JsonText)]
pub async fn get_environment(name: String) -> Result<Option<EnvironmentData>, AppError> {
    let portal = crate::context::portal()?;
    let data = super::server::environment(&portal, &name).await?;
    if data.is_none() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    Ok(data)
}

/// `/environments/{name}`.
#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| p.get("name").unwrap_or_default().to_lowercase());
    let data = Resource::new(name, get_environment);
    let topic = move || Some(format!("environment:{}", name()));
    use_live_refresh(topic, move || data.refetch());
    let shown = StoredValue::new(std::collections::HashMap::<String, String>::new());
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/environments">"Environments"</a> " / " <span aria-current="page">{name}</span>
        </nav>
        <Viewers topic />
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the environment…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    data.await.map(|data| match data {
                        Some(data) => view! { <Environment data shown /> }.into_any(),
                        None => view! { <Missing name=name() /> }.into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Missing(name: String) -> impl IntoView {
    view! {
        <Title text="No such environment" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"No such environment"</h1>
            <p class="muted">"There is no environment called " <code>{name}</code> "."</p>
            <p><a href="/environments">"All environments"</a></p>
        </section>
    }
}

#[component]
fn Environment(
    data: EnvironmentData,
    shown: StoredValue<std::collections::HashMap<String, String>>,
) -> impl IntoView {
    let now = data.now;
    let previous = shown.get_value();
    let mut now_shown = std::collections::HashMap::new();
    let unhealthy = data
        .rows
        .iter()
        .filter(|r| {
            r.cell
                .health
                .as_ref()
                .is_some_and(|h| matches!(h.status.as_str(), "down" | "degraded"))
        })
        .count();
    let rows = data
        .rows
        .iter()
        .map(|row| {
            let key = row.component.link.reference.clone();
            let signature = row.cell.signature();
            let changed = previous.get(&key).is_some_and(|before| *before != signature);
            now_shown.insert(key, signature);
            let health = row.cell.health.clone();
            let health_class = format!(
                "health-{}{}",
                health.as_ref().map_or("none", |h| h.status.as_str()),
                if changed { " changed" } else { "" }
            );
            let deployment = row.cell.deployment.clone();
            view! {
                <tr class=health_class data-entity=row.component.link.reference.to_lowercase()>
                    <th scope="row">
                        <EntityLink link=row.component.link.clone() />
                        {row.component.system.clone().map(|s| view! { <span class="muted small">" · " {s.label}</span> })}
                    </th>
                    <td>{deployment.clone().map(|d| view! { <VersionLink deployment=d /> })}</td>
                    <td>{deployment.clone().map(|d| view! { <StatusBadge status=d.status /> })}</td>
                    <td class="muted small">{deployment.map(|d| ago(now, d.finished_at.unwrap_or(d.started_at)))}</td>
                    <td>{health.clone().map(|h| view! { <StatusBadge status=h.status /> })}
                        {(health.is_none() && row.cell.probed).then_some("waiting for the first check")}</td>
                    <td class="muted small">{health.clone().map(|h| ago(now, h.since))}</td>
                    <td class="num">{health.clone().and_then(|h| h.latency_ms).map(|l| format!("{l} ms"))}</td>
                    <td class="message">{health.and_then(|h| h.message)}</td>
                </tr>
            }
        })
        .collect_view();
    shown.set_value(now_shown);
    let table = if data.rows.is_empty() {
        view! { <p class="empty">"Nothing is deployed or probed in this environment yet."</p> }
            .into_any()
    } else {
        view! {
            <div class="table-scroll">
                <table class="data-table environment-table" data-testid="environment-components">
                    <thead><tr>
                        <th scope="col">"Component"</th><th scope="col">"Version"</th><th scope="col">"Deployment"</th>
                        <th scope="col">"Deployed"</th><th scope="col">"Health"</th><th scope="col">"Since"</th>
                        <th scope="col">"Latency"</th><th scope="col">"Message"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let timeline = data
        .timeline
        .iter()
        .map(|entry| {
            let d = entry.deployment.clone();
            let by = d.actor.clone().unwrap_or_else(|| d.reported_by.clone());
            view! {
                <li>
                    <time class="muted small" title=clock(now, d.started_at)>{ago(now, d.started_at)}</time>
                    <span><EntityLink link=entry.component.clone() /> " " <VersionLink deployment=d.clone() /> " "
                        <StatusBadge status=d.status.clone() /></span>
                    <span class="muted small">{format!("by {by}")}{d.commit.clone().map(|c| format!(" · {}", c.chars().take(12).collect::<String>()))}</span>
                </li>
            }
        })
        .collect::<Vec<_>>();
    let timeline_empty = timeline.is_empty();
    view! {
        <Title text=data.title.clone() />
        <div class="page-header">
            <div>
                <h1>{data.title.clone()}</h1>
                <p class="muted">{format!("{} · {} components · {unhealthy} unhealthy", data.tier, data.rows.len())}</p>
            </div>
        </div>
        <section class="card" aria-label="Components">{table}</section>
        <div class="dashboard-grid">
            <section class="card timeline" aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">"Recent deployments"</h2>
                {if timeline_empty {
                    view! { <p class="empty">"No deployments yet."</p> }.into_any()
                } else {
                    view! { <ol class="change-list">{timeline}</ol> }.into_any()
                }}
            </section>
            <Changes changes=data.changes.clone() now title="Health changes, last 24 hours" />
        </div>
    }
}
