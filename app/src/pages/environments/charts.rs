//! Charts drawn as SVG by the app: the 24-hour uptime strip and the latency line.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One span of the chart (a quarter-hour): its checks, if any were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Start, Unix milliseconds.
    pub start: i64,
    pub checks: i64,
    /// Checks that found it up (healthy or degraded).
    pub up: i64,
    pub latency_avg_ms: Option<i64>,
    pub latency_max_ms: Option<i64>,
}

const BAR: f64 = 5.0;
const GAP: f64 = 1.0;
const STRIP_HEIGHT: f64 = 24.0;
const CHART_HEIGHT: f64 = 80.0;

fn minutes_label(start: i64) -> String {
    let minutes = start.rem_euclid(86_400_000) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The share up as a percentage with the precision uptime figures need.
pub fn percent(share: f64) -> String {
    let value = share * 100.0;
    if (99.95..100.0).contains(&value) {
        format!("{value:.2}%")
    } else {
        format!("{value:.1}%")
    }
}

/// A bar per slot, coloured by the share of checks that were up; no checks, grey.
#[component]
pub fn UptimeStrip(slots: Vec<Slot>, label: String) -> impl IntoView {
    let width = slots.len() as f64 * (BAR + GAP);
    let bars = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let (class, text) = if slot.checks == 0 {
                ("bar bar-none", "no checks".to_owned())
            } else {
                let share = slot.up as f64 / slot.checks as f64;
                let class = if share >= 0.999 {
                    "bar bar-ok"
                } else if share >= 0.95 {
                    "bar bar-warn"
                } else {
                    "bar bar-bad"
                };
                (class, format!("{} up of {} checks", percent(share), slot.checks))
            };
            let title = format!("{} UTC: {text}", minutes_label(slot.start));
            view! {
                <rect class=class x=format!("{}", i as f64 * (BAR + GAP)) y="0" width=format!("{BAR}") height=format!("{STRIP_HEIGHT}") rx="1">
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="uptime-strip" viewBox=format!("0 0 {width} {STRIP_HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label>
            {bars}
        </svg>
    }
}

/// Average latency per slot as a line, the slowest check per slot as a fainter one.
#[component]
pub fn LatencyChart(slots: Vec<Slot>, label: String) -> impl IntoView {
    let width = slots.len() as f64 * (BAR + GAP);
    let top = slots
        .iter()
        .filter_map(|s| s.latency_max_ms.or(s.latency_avg_ms))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let line = |pick: fn(&Slot) -> Option<i64>| {
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                pick(slot).map(|ms| {
                    let x = i as f64 * (BAR + GAP) + BAR / 2.0;
                    let y = CHART_HEIGHT - (ms as f64 / top) * (CHART_HEIGHT - 4.0) - 2.0;
                    format!("{x:.1},{y:.1}")
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Each average also as a dot: a lone point draws no line.
    let dots = slots
        .iter()
        .enumerate()
        .filter_map(|(i, slot)| {
            slot.latency_avg_ms.map(|ms| {
                let x = i as f64 * (BAR + GAP) + BAR / 2.0;
                let y = CHART_HEIGHT - (ms as f64 / top) * (CHART_HEIGHT - 4.0) - 2.0;
                view! { <circle class="dot-avg" cx=format!("{x:.1}") cy=format!("{y:.1}") r="1.5" /> }
            })
        })
        .collect_view();
    let average = line(|s| s.latency_avg_ms);
    let slowest = line(|s| s.latency_max_ms);
    let empty = average.is_empty();
    view! {
        <figure class="latency-chart">
            {if empty {
                view! { <p class="empty small">"No latency measured in the last 24 hours."</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {width} {CHART_HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label>
                        <polyline class="line-max" points=slowest fill="none" />
                        <polyline class="line-avg" points=average fill="none" />
                        {dots}
                    </svg>
                    <figcaption class="muted small">{format!("Latency, 24 hours: average and slowest per quarter-hour; top of the chart {top} ms")}</figcaption>
                }
                .into_any()
            }}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_shown_with_enough_precision() {
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.9996), "99.96%");
        assert_eq!(percent(0.5), "50.0%");
        assert_eq!(minutes_label(86_400_000 + 3_660_000), "01:01");
    }
}
