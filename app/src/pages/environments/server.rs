//! The server side of the environment dashboards: reads the environments service and
//! shapes what the pages show.

use std::collections::BTreeMap;

use portico_core::catalog::reference::RefContext;
use portico_core::catalog::EntityRef;
use portico_core::environments::views::{
    Change, ComponentInfo, ComponentState, Counts, HISTORY_SPAN_MS,
};
use portico_core::environments::{Deployment, EnvironmentError, Health};
use portico_core::identity::Principal;
use portico_core::storage::sql::now_millis;
use portico_core::Portal;

use super::charts::Slot;
use super::detail::{EnvironmentData, EnvironmentRow, TimelineEntry};
use super::history::{CheckView, DeploymentHistory, EnvironmentHistoryView};
use super::matrix::{MatrixData, MatrixFilter, MatrixRowView};
use super::{CellView, ChangeView, ComponentView, DeploymentView, EnvironmentColumn, HealthView};
use crate::error::AppError;
use crate::pages::catalog::server::link_to;
use crate::pages::catalog::RefLink;

const HOUR: i64 = 3_600_000;
/// Deployments on an environment's timeline, and per environment on a component's tab.
const TIMELINE: u32 = 25;
const HISTORY: u32 = 15;
const CHECKS: u32 = 10;
/// Changes in a feed.
const CHANGES: u32 = 50;

fn failed(context: &'static str) -> impl Fn(EnvironmentError) -> AppError {
    move |e| AppError::internal(context, &e)
}

/// A link to the entity with reference key `key`.
fn link(key: &str, title: Option<String>, resolved: bool) -> RefLink {
    match EntityRef::parse(key, RefContext::STANDALONE) {
        Ok(reference) => link_to(&reference, title, resolved),
        Err(_) => RefLink {
            kind: String::new(),
            label: key.to_owned(),
            reference: key.to_owned(),
            href: "/catalog".into(),
            resolved: false,
        },
    }
}

fn component(info: &ComponentInfo) -> ComponentView {
    ComponentView {
        link: link(&info.entity, info.title.clone(), info.in_catalog),
        owner: info.owner.as_deref().map(|o| link(o, None, true)),
        system: info.system.as_deref().map(|s| link(s, None, true)),
    }
}

fn deployment(d: &Deployment) -> DeploymentView {
    DeploymentView {
        id: d.id.clone(),
        version: d.version.clone(),
        status: d.status.as_str().to_owned(),
        commit: d.commit.clone(),
        url: d.url.clone(),
        started_at: d.started_at,
        finished_at: d.finished_at,
        actor: d.actor.clone(),
        reported_by: d.reported_by.clone(),
    }
}

fn health(h: &Health) -> HealthView {
    HealthView {
        status: h.status.as_str().to_owned(),
        since: h.since,
        checked_at: h.checked_at,
        latency_ms: h.latency_ms,
        message: h.message.clone(),
        source: h.source.clone(),
    }
}

fn cell(state: &ComponentState) -> CellView {
    CellView {
        deployment: state.deployment.as_ref().map(deployment),
        health: state.health.as_ref().map(health),
        probed: state.probed,
    }
}

fn change(c: &Change) -> ChangeView {
    let (kind, status, summary, detail) = match (&c.deployment, &c.health) {
        (Some(d), _) => (
            "deployment",
            d.status.as_str().to_owned(),
            if c.kind == "deployment.reported" {
                format!("{} reported", d.version)
            } else {
                format!("{} is now", d.version)
            },
            d.actor.clone().map(|a| format!("by {a}")),
        ),
        (None, Some(h)) => (
            "health",
            h.status.as_str().to_owned(),
            match c.previous {
                Some(previous) => format!("{previous} →"),
                None => "first check:".to_owned(),
            },
            h.message.clone(),
        ),
        (None, None) => ("other", String::new(), c.kind.clone(), None),
    };
    ChangeView {
        id: c.id,
        at: c.at,
        component: link(&c.entity, None, true),
        environment: c.environment.clone(),
        kind: kind.to_owned(),
        status,
        summary,
        detail,
    }
}

/// The last part of a reference key: `group:default/payments` → `payments`.
fn short(key: &str) -> String {
    key.rsplit(['/', ':']).next().unwrap_or(key).to_owned()
}

pub async fn matrix(
    portal: &Portal,
    principal: Option<&Principal>,
    filter: &MatrixFilter,
) -> Result<MatrixData, AppError> {
    let environments = portal.environments();
    let fail = failed("environment matrix");
    let matrix = environments.matrix().await.map_err(&fail)?;
    let now = now_millis();
    let changes = environments
        .changes(now - HOUR, None, CHANGES)
        .await
        .map_err(&fail)?;
    let columns: Vec<_> = matrix
        .environments
        .iter()
        .filter(|e| filter.tier.is_empty() || e.tier.as_str() == filter.tier)
        .collect();
    let mut owners = BTreeMap::new();
    let mut systems = BTreeMap::new();
    for row in &matrix.rows {
        if let Some(owner) = &row.component.owner {
            owners.insert(owner.clone(), short(owner));
        }
        if let Some(system) = &row.component.system {
            systems.insert(system.clone(), short(system));
        }
    }
    let keeps = |info: &ComponentInfo| {
        (filter.owner.is_empty() || info.owner.as_deref() == Some(filter.owner.as_str()))
            && (filter.system.is_empty() || info.system.as_deref() == Some(filter.system.as_str()))
            && (!filter.mine
                || principal.is_some_and(|p| info.owner.as_deref().is_some_and(|o| p.owns(o))))
    };
    let kept: Vec<_> = matrix
        .rows
        .iter()
        .filter(|row| keeps(&row.component))
        .filter(|row| columns.iter().any(|c| row.cells.contains_key(&c.name)))
        .collect();
    let environments = columns
        .iter()
        .map(|column| {
            let counts = Counts::of(kept.iter().filter_map(|row| row.cells.get(&column.name)));
            EnvironmentColumn {
                name: column.name.clone(),
                title: column.title.clone(),
                tier: column.tier.as_str().to_owned(),
                components: counts.components,
                unhealthy: counts.unhealthy,
                failing: counts.failing,
            }
        })
        .collect();
    let rows: Vec<MatrixRowView> = kept
        .iter()
        .map(|row| MatrixRowView {
            component: component(&row.component),
            cells: columns
                .iter()
                .map(|c| row.cells.get(&c.name).map(cell))
                .collect(),
        })
        .collect();
    Ok(MatrixData {
        now,
        environments,
        unfiltered: matrix.rows.len(),
        rows,
        changes: changes.iter().map(change).collect(),
        owners: owners.into_iter().collect(),
        systems: systems.into_iter().collect(),
        has_owners: principal.is_some_and(|p| !p.owners.is_empty()),
    })
}

pub async fn environment(portal: &Portal, name: &str) -> Result<Option<EnvironmentData>, AppError> {
    let environments = portal.environments();
    let fail = failed("environment page");
    let Some(view) = environments.environment_view(name).await.map_err(&fail)? else {
        return Ok(None);
    };
    let now = now_millis();
    let timeline = environments
        .deployments(&portico_core::environments::deployments::DeploymentFilter {
            environment: Some(view.environment.name.clone()),
            limit: TIMELINE,
            ..Default::default()
        })
        .await
        .map_err(&fail)?;
    let changes = environments
        .changes(now - 24 * HOUR, Some(&view.environment.name), CHANGES)
        .await
        .map_err(&fail)?
        .iter()
        .filter(|c| c.health.is_some())
        .map(change)
        .collect();
    Ok(Some(EnvironmentData {
        now,
        name: view.environment.name.clone(),
        title: view.environment.title.clone(),
        tier: view.environment.tier.as_str().to_owned(),
        rows: view
            .components
            .iter()
            .map(|state| EnvironmentRow {
                component: component(&state.component),
                cell: cell(state),
            })
            .collect(),
        timeline: timeline
            .items
            .iter()
            .map(|d| TimelineEntry {
                component: link(&d.entity, None, true),
                deployment: deployment(d),
            })
            .collect(),
        changes,
    }))
}

pub async fn history(portal: &Portal, reference: &str) -> Result<DeploymentHistory, AppError> {
    let fail = failed("deployment history");
    let key = EntityRef::parse(reference, RefContext::STANDALONE)
        .map(|r| r.key())
        .map_err(|e| AppError::Refused(format!("{reference:?} is not an entity reference: {e}")))?;
    let now = now_millis();
    let histories = portal
        .environments()
        .history(&key, HISTORY, CHECKS)
        .await
        .map_err(&fail)?;
    // 96 quarter-hours ending with the current one.
    let last = now - now.rem_euclid(HISTORY_SPAN_MS);
    let first = last - 95 * HISTORY_SPAN_MS;
    let environments = histories
        .into_iter()
        .map(|h| {
            let mut slots: Vec<Slot> = (0..96)
                .map(|i| Slot {
                    start: first + i * HISTORY_SPAN_MS,
                    checks: 0,
                    up: 0,
                    latency_avg_ms: None,
                    latency_max_ms: None,
                })
                .collect();
            let (mut checks, mut up) = (0, 0);
            for bucket in &h.uptime {
                checks += bucket.checks;
                up += bucket.healthy + bucket.degraded;
                let index = (bucket.start - first).div_euclid(HISTORY_SPAN_MS);
                if let Some(slot) = usize::try_from(index).ok().and_then(|i| slots.get_mut(i)) {
                    slot.checks = bucket.checks;
                    slot.up = bucket.healthy + bucket.degraded;
                    slot.latency_avg_ms = bucket.latency_avg_ms;
                    slot.latency_max_ms = bucket.latency_max_ms;
                }
            }
            EnvironmentHistoryView {
                name: h.environment.name.clone(),
                title: h.environment.title.clone(),
                tier: h.environment.tier.as_str().to_owned(),
                current: h.current.as_ref().map(deployment),
                health: h.health.as_ref().map(health),
                probe_url: h.probe_url.clone(),
                deployments: h.deployments.iter().map(deployment).collect(),
                slots,
                uptime: (checks > 0).then(|| up as f64 / checks as f64),
                checks: h
                    .checks
                    .iter()
                    .map(|c| CheckView {
                        at: c.at,
                        outcome: c.outcome.as_str().to_owned(),
                        latency_ms: c.latency_ms,
                        message: c.message.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(DeploymentHistory { now, environments })
}
