//! The Deployments tab of an entity's page: per environment, what runs, its health, the
//! 24-hour uptime strip and latency chart, the deployment history and the latest checks.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::charts::{percent, LatencyChart, Slot, UptimeStrip};
use super::{ago, clock, DeploymentView, HealthView, StatusBadge, VersionLink};
use crate::error::AppError;
use crate::live::use_live_refresh;
use crate::pages::status::ErrorList;

/// A recent check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub at: i64,
    pub outcome: String,
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
}

/// One environment of a component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentHistoryView {
    pub name: String,
    pub title: String,
    pub tier: String,
    pub current: Option<DeploymentView>,
    pub health: Option<HealthView>,
    pub probe_url: Option<String>,
    pub deployments: Vec<DeploymentView>,
    /// 96 quarter-hours, oldest first.
    pub slots: Vec<Slot>,
    /// Share of the last 24 hours' checks that were up.
    pub uptime: Option<f64>,
    pub checks: Vec<CheckView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentHistory {
    pub now: i64,
    pub environments: Vec<EnvironmentHistoryView>,
}

/// The deployments and health of the entity `reference` (a reference key).
#[server(output = crate::codec::JsonText)]
pub async fn get_deployment_history(reference: String) -> Result<DeploymentHistory, AppError> {
    let portal = crate::context::portal()?;
    super::server::history(&portal, &reference).await
}

/// The tab; `reference` is the entity's reference key (lower case, as topics use it).
#[component]
pub fn DeploymentsTab(reference: String) -> impl IntoView {
    let key = reference.clone();
    let history = Resource::new(move || key.clone(), get_deployment_history);
    let topic = format!("entity:{reference}");
    use_live_refresh(move || Some(topic.clone()), move || history.refetch());
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading deployments…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    history.await.map(|history| view! { <History history /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn History(history: DeploymentHistory) -> impl IntoView {
    if history.environments.is_empty() {
        return view! {
            <section class="card empty-state" data-testid="deployments-tab">
                <h2>"No deployments or health checks yet"</h2>
                <p>"Report deployments from CI/CD with " <code>"POST /api/v1/deployments"</code>
                   " (an API token with the sre role), or let GitHub send " <code>"deployment_status"</code>
                   " webhooks. Declare a health check with the annotation "
                   <code>"portico.dev/health-url.<environment>: https://…/healthz"</code> "."</p>
            </section>
        }
        .into_any();
    }
    let now = history.now;
    history
        .environments
        .into_iter()
        .map(|env| view! { <EnvironmentCard env now /> })
        .collect_view()
        .into_any()
}

#[component]
fn EnvironmentCard(env: EnvironmentHistoryView, now: i64) -> impl IntoView {
    let heading_id = format!("deployments-{}", env.name);
    let labelled_by = heading_id.clone();
    let label = format!("Uptime in {} over the last 24 hours", env.title);
    let latency_label = format!("Latency in {} over the last 24 hours", env.title);
    let deployments = env
        .deployments
        .iter()
        .map(|d| {
            let by = d.actor.clone().unwrap_or_else(|| d.reported_by.clone());
            let duration = d.finished_at.map(|f| {
                let seconds = (f - d.started_at).max(0) / 1000;
                if seconds >= 60 { format!("{} min {} s", seconds / 60, seconds % 60) } else { format!("{seconds} s") }
            });
            view! {
                <tr>
                    <td><VersionLink deployment=d.clone() /></td>
                    <td><StatusBadge status=d.status.clone() /></td>
                    <td class="small"><time title=clock(now, d.started_at)>{ago(now, d.started_at)}</time></td>
                    <td class="small num">{duration}</td>
                    <td class="small mono">{d.commit.clone().map(|c| c.chars().take(12).collect::<String>())}</td>
                    <td class="small">{by}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let checks = env
        .checks
        .iter()
        .map(|c| {
            view! {
                <li>
                    <StatusBadge status=c.outcome.clone() />
                    <time class="muted small">{ago(now, c.at)}</time>
                    <span class="small num">{c.latency_ms.map(|l| format!("{l} ms"))}</span>
                    <span class="small message">{c.message.clone()}</span>
                </li>
            }
        })
        .collect::<Vec<_>>();
    let health = env.health.clone();
    view! {
        <section class="card env-history" aria-labelledby=labelled_by data-environment=env.name.clone()>
            <div class="card-header">
                <h2 id=heading_id><a href=format!("/environments/{}", env.name)>{env.title.clone()}</a></h2>
                <span class="muted">{env.tier.clone()}</span>
            </div>
            <dl class="facts">
                <dt>"Running"</dt>
                <dd>{match env.current.clone() {
                    Some(d) => view! { <VersionLink deployment=d.clone() /> " " <StatusBadge status=d.status /> }.into_any(),
                    None => view! { <span class="muted">"nothing reported"</span> }.into_any(),
                }}</dd>
                <dt>"Health"</dt>
                <dd>{match health {
                    Some(h) => view! {
                        <StatusBadge status=h.status.clone() />
                        <span class="muted small">{format!(" since {}", ago(now, h.since))}</span>
                        {h.message.map(|m| view! { <span class="small message">" · " {m}</span> })}
                    }.into_any(),
                    None => view! { <span class="muted">"not checked"</span> }.into_any(),
                }}</dd>
                {env.probe_url.clone().map(|url| view! { <dt>"Probe"</dt><dd class="mono small">{url}</dd> })}
                <dt>"Uptime, 24 h"</dt>
                <dd data-testid="uptime">{env.uptime.map_or_else(|| "no checks".to_owned(), percent)}</dd>
            </dl>
            <UptimeStrip slots=env.slots.clone() label />
            <LatencyChart slots=env.slots.clone() label=latency_label />
            <div class="history-grid">
                <div>
                    <h3>"Deployments"</h3>
                    {if deployments.is_empty() {
                        view! { <p class="empty small">"None reported."</p> }.into_any()
                    } else {
                        view! {
                            <table class="data-table compact">
                                <thead><tr><th scope="col">"Version"</th><th scope="col">"Status"</th><th scope="col">"Started"</th>
                                    <th scope="col">"Took"</th><th scope="col">"Commit"</th><th scope="col">"By"</th></tr></thead>
                                <tbody>{deployments}</tbody>
                            </table>
                        }.into_any()
                    }}
                </div>
                <div>
                    <h3>"Latest checks"</h3>
                    {if checks.is_empty() {
                        view! { <p class="empty small">"None in the last hour."</p> }.into_any()
                    } else {
                        view! { <ol class="check-list">{checks}</ol> }.into_any()
                    }}
                </div>
            </div>
        </section>
    }
}
