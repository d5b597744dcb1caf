//! The environment dashboards: the matrix of components × environments
//! (`/environments`), one environment (`/environments/{name}`), and the Deployments tab
//! of a component's page. All live: they reload their data when a deployment or a
//! health change arrives on the channel, and cells that changed flash.

pub mod charts;
pub mod detail;
pub mod history;
pub mod matrix;
#[cfg(feature = "ssr")]
mod server;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::catalog::RefLink;

/// A deployment as the pages show it. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentView {
    pub id: String,
    pub version: String,
    /// `started`, `succeeded`, `failed`, `rolled_back`.
    pub status: String,
    pub commit: Option<String>,
    pub url: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub actor: Option<String>,
    pub reported_by: String,
}

/// Health as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// `healthy`, `degraded`, `down`, `unknown`.
    pub status: String,
    pub since: i64,
    pub checked_at: i64,
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
    /// `probe` or `api`.
    pub source: String,
}

/// A component in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellView {
    pub deployment: Option<DeploymentView>,
    pub health: Option<HealthView>,
    pub probed: bool,
}

impl CellView {
    /// What changes when the cell should flash.
    pub fn signature(&self) -> String {
        format!(
            "{}|{}|{}",
            self.deployment.as_ref().map_or("", |d| d.version.as_str()),
            self.deployment.as_ref().map_or("", |d| d.status.as_str()),
            self.health.as_ref().map_or("", |h| h.status.as_str()),
        )
    }
}

/// A component as the dashboards list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentView {
    pub link: RefLink,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
}

/// A column of the matrix, with its counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentColumn {
    pub name: String,
    pub title: String,
    pub tier: String,
    pub components: usize,
    /// Components degraded or down there.
    pub unhealthy: usize,
    /// Components whose deployment there failed or was rolled back.
    pub failing: usize,
}

/// A deployment reported or moved on, or a health status changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub id: i64,
    pub at: i64,
    pub component: RefLink,
    pub environment: String,
    /// `deployment` or `health`.
    pub kind: String,
    /// The new status (`succeeded`, `down`…), as a badge shows it.
    pub status: String,
    /// What happened, in words: `2.4.0 succeeded`, `healthy → down`.
    pub summary: String,
    pub detail: Option<String>,
}

/// The tone of a status: `ok`, `warn`, `bad` or `idle`, which colours badges and cells.
pub fn tone(status: &str) -> &'static str {
    match status {
        "healthy" | "succeeded" => "ok",
        "degraded" | "started" => "warn",
        "down" | "failed" | "rolled_back" => "bad",
        _ => "idle",
    }
}

/// A status as people read it: `rolled_back` → `rolled back`.
pub fn status_label(status: &str) -> String {
    status.replace('_', " ")
}

/// A coloured badge for a deployment or health status.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("status-badge tone-{}", tone(&status));
    view! { <span class=class>{status_label(&status)}</span> }
}

/// How long ago `at` was, seen at `now` (both Unix milliseconds): `just now`, `4 min
/// ago`, `3 h ago`, `2 d ago`.
pub fn ago(now: i64, at: i64) -> String {
    let seconds = (now - at).max(0) / 1000;
    match seconds {
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// A time of day in UTC, `14:05 UTC`, or with the date when it is not today.
pub fn clock(now: i64, at: i64) -> String {
    const DAY: i64 = 86_400_000;
    let minutes = at.rem_euclid(DAY) / 60_000;
    let time = format!("{:02}:{:02} UTC", minutes / 60, minutes % 60);
    if now.div_euclid(DAY) == at.div_euclid(DAY) {
        time
    } else {
        let days_ago = now.div_euclid(DAY) - at.div_euclid(DAY);
        format!("{time}, {days_ago} d ago")
    }
}

/// A link to a version's deployment (its CI run) when the report gave one.
#[component]
pub fn VersionLink(deployment: DeploymentView) -> impl IntoView {
    match deployment.url.clone() {
        Some(url) => view! {
            <a class="version mono" href=url rel="noopener noreferrer" target="_blank">{deployment.version}</a>
        }
        .into_any(),
        None => view! { <span class="version mono">{deployment.version}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally() {
        assert_eq!(ago(100_000, 95_000), "just now");
        assert_eq!(ago(100_000, 40_000), "1 min ago");
        assert_eq!(ago(7_200_000, 0), "2 h ago");
        assert_eq!(clock(3_600_000, 3_540_000), "00:59 UTC");
        assert_eq!(
            clock(86_400_000 * 3, 86_400_000 + 60_000),
            "00:01 UTC, 2 d ago"
        );
        assert_eq!(tone("rolled_back"), "bad");
        assert_eq!(status_label("rolled_back"), "rolled back");
    }
}
