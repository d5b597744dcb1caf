use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The state of this Portico instance, as the System status page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub ready: bool,
    /// Why the instance is or is not ready, in one line.
    pub readiness: String,
    /// Round trip of the readiness query, when the database answered.
    pub database_latency_ms: Option<f64>,
    /// The migrations this binary ships; empty when the database could not be asked.
    pub migrations: Vec<MigrationRow>,
    /// Events in the log and the newest id; `None` when the database could not be asked.
    pub events: Option<EventLogSummary>,
    pub uptime_seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationRow {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLogSummary {
    pub count: i64,
    pub last_id: Option<i64>,
}

/// Reads the instance's status. Public like `/readyz`: it shows no data, only health.
#[server(output = crate::codec::JsonText)]
pub async fn system_status() -> Result<InstanceStatus, AppError> {
    let portal = crate::context::portal()?;
    Ok(ssr::system_status(&portal).await)
}

/// The System status page: database, migrations, event log, uptime.
#[component]
pub fn StatusPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    let (refreshing, set_refreshing) = signal(false);
    view! {
        <Title text="System status" />
        <div class="page-header">
            <h1>"System status"</h1>
            <button
                type="button"
                class="button"
                disabled=refreshing
                on:click=move |_| status.refetch()
            >
                {move || if refreshing.get() { "Refreshing…" } else { "Refresh" }}
            </button>
        </div>
        <Transition
            fallback=|| view! { <p class="loading" role="status">"Loading status…"</p> }
            set_pending=set_refreshing
        >
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    status.await.map(|status| view! { <StatusDetails status /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn StatusDetails(status: InstanceStatus) -> impl IntoView {
    let state_class = if status.ready {
        "pill pill-ok"
    } else {
        "pill pill-bad"
    };
    let state_label = if status.ready { "Ready" } else { "Not ready" };
    let latency = status
        .database_latency_ms
        .map(|ms| format!("{ms:.1} ms"))
        .unwrap_or_else(|| "—".to_owned());
    let events = match &status.events {
        Some(log) => format!(
            "{} recorded, newest #{}",
            log.count,
            log.last_id
                .map_or_else(|| "—".to_owned(), |id| id.to_string())
        ),
        None => "unavailable".to_owned(),
    };
    view! {
        <section class="card" aria-labelledby="instance-heading">
            <h2 id="instance-heading">
                "This instance " <span class=state_class data-testid="readiness">{state_label}</span>
            </h2>
            <p class="muted">{status.readiness.clone()}</p>
            <dl class="facts">
                <dt>"Version"</dt>
                <dd>{status.version.clone()}</dd>
                <dt>"Database"</dt>
                <dd>{backend_label(&status.backend)}</dd>
                <dt>"Database round trip"</dt>
                <dd>{latency}</dd>
                <dt>"Event log"</dt>
                <dd>{events}</dd>
                <dt>"Up for"</dt>
                <dd>{format_duration(status.uptime_seconds)}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="migrations-heading">
            <h2 id="migrations-heading">"Migrations"</h2>
            <MigrationTable migrations=status.migrations />
        </section>
    }
}

#[component]
fn MigrationTable(migrations: Vec<MigrationRow>) -> impl IntoView {
    if migrations.is_empty() {
        return view! {
            <p class="empty">"The database could not be asked which migrations it has."</p>
        }
        .into_any();
    }
    let rows = migrations
        .into_iter()
        .map(|m| {
            let (class, label) = if m.applied {
                ("pill pill-ok", "applied")
            } else {
                ("pill pill-warn", "pending")
            };
            view! {
                <tr>
                    <td class="mono">{m.version}</td>
                    <td>{m.description}</td>
                    <td><span class=class>{label}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr><th scope="col">"Version"</th><th scope="col">"Description"</th><th scope="col">"State"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Lists the errors an `ErrorBoundary` caught.
#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <p><strong>"This could not be loaded."</strong></p>
            <ul>
                {move || {
                    errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()
                }}
            </ul>
        </div>
    }
}

pub fn backend_label(backend: &str) -> &'static str {
    match backend {
        "postgres" => "PostgreSQL",
        "sqlite" => "SQLite (embedded)",
        _ => "unknown",
    }
}

/// `3725` → `1 h 2 min`: coarse, as people read uptimes.
pub fn format_duration(seconds: u64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use portico_core::storage::Readiness;
    use portico_core::Portal;

    use super::{EventLogSummary, InstanceStatus, MigrationRow};

    pub async fn system_status(portal: &Portal) -> InstanceStatus {
        let db = portal.db();
        let readiness = db.readiness().await;
        let database_latency_ms = match readiness {
            Readiness::Ready { latency } => Some(latency.as_secs_f64() * 1000.0),
            _ => None,
        };
        // Each part is best effort: the page is most needed when the database is down.
        let migrations = match db.migration_state().await {
            Ok(state) => state
                .migrations
                .into_iter()
                .map(|m| MigrationRow {
                    version: m.version,
                    description: m.description,
                    applied: m.applied,
                })
                .collect(),
            Err(e) => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "status: migration state"
                );
                Vec::new()
            }
        };
        let events = match portal.events().head().await {
            Ok(head) => Some(EventLogSummary {
                count: head.count,
                last_id: head.last_id,
            }),
            Err(e) => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "status: event log head"
                );
                None
            }
        };
        InstanceStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: db.backend().as_str().to_owned(),
            ready: readiness.is_ready(),
            readiness: readiness.describe(),
            database_latency_ms,
            migrations,
            events,
            uptime_seconds: portal.uptime().as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_duration;

    #[test]
    fn durations_read_like_uptimes() {
        assert_eq!(format_duration(42), "42 s");
        assert_eq!(format_duration(125), "2 min");
        assert_eq!(format_duration(3725), "1 h 2 min");
        assert_eq!(format_duration(2 * 86_400 + 5 * 3600 + 7), "2 d 5 h");
    }
}
