//! Prometheus metrics: requests by route and status, their latency, the database pool.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// Label for requests no route matched (static files and 404s): one label, so that
/// arbitrary paths cannot blow up the number of series.
const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// The live channel's figures, updated by the hub.
    pub channels: ChannelMetrics,
    /// The health probes' figures, updated by the probe engine.
    pub probes: ProbeMetrics,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    pool_connections: Family<PoolLabels, Gauge>,
    ready: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("portico");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests handled, by method, route and status",
            requests.clone(),
        );
        // 0.5 ms to ~16 s: page renders are expected in the low milliseconds.
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response headers, by method, route and status",
            latency.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections, by state (idle or in_use)",
            pool_connections.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when the last readiness check passed, else 0",
            ready.clone(),
        );
        let channels = ChannelMetrics::register(&mut registry);
        let probes = ProbeMetrics::register(&mut registry);
        Self {
            registry,
            channels,
            probes,
            requests,
            latency,
            pool_connections,
            ready,
        }
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    fn observe(&self, labels: RequestLabels, seconds: f64) {
        self.latency.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    fn set_pool(&self, open: u32, idle: usize) {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let open = i64::from(open);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set((open - idle).max(0));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

/// Live channel figures (cheap to clone: the counters are shared).
#[derive(Clone, Debug, Default)]
pub struct ChannelMetrics {
    /// Open sockets.
    pub sockets: Gauge,
    /// Topic joins by outcome (`ok`, `refused`, `error`).
    pub joins: Family<OutcomeLabels, Counter>,
    /// Events the hub received from the log.
    pub events_in: Counter,
    /// Event frames queued to sockets (one per subscriber per event, replays included).
    pub events_out: Counter,
    /// Sockets closed by the server, by reason (`slow`, `revoked`, `idle`, `protocol`,
    /// `restart`).
    pub closed: Family<ReasonLabels, Counter>,
}

impl ChannelMetrics {
    fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "channel_sockets",
            "Open live-channel sockets",
            metrics.sockets.clone(),
        );
        registry.register(
            "channel_joins",
            "Topic joins, by outcome",
            metrics.joins.clone(),
        );
        registry.register(
            "channel_events_in",
            "Events the live channel received from the event log",
            metrics.events_in.clone(),
        );
        registry.register(
            "channel_events_out",
            "Event frames queued to sockets",
            metrics.events_out.clone(),
        );
        registry.register(
            "channel_closed",
            "Sockets the server closed, by reason (slow = send queue full)",
            metrics.closed.clone(),
        );
        metrics
    }
}

/// Health probe figures, updated by the probe engine.
#[derive(Clone, Debug)]
pub struct ProbeMetrics {
    /// Checks made, by what they saw (`healthy`, `degraded`, `down`).
    pub checks: Family<OutcomeLabels, Counter>,
    /// How late checks started after they were due (waiting for a free slot).
    pub lag: Histogram,
    /// Probes scheduled.
    pub probes: Gauge,
    /// Check tasks that panicked (each was scheduled again).
    pub panics: Counter,
}

impl ProbeMetrics {
    fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            checks: Family::default(),
            // 1 ms to ~16 s.
            lag: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            probes: Gauge::default(),
            panics: Counter::default(),
        };
        registry.register(
            "health_checks",
            "Health checks made, by outcome",
            metrics.checks.clone(),
        );
        registry.register(
            "health_schedule_lag_seconds",
            "How late health checks started after they were due",
            metrics.lag.clone(),
        );
        registry.register(
            "health_probes",
            "Health probes scheduled",
            metrics.probes.clone(),
        );
        registry.register(
            "health_check_panics",
            "Health check tasks that panicked and were scheduled again",
            metrics.panics.clone(),
        );
        metrics
    }
}

impl portico_core::environments::probes::engine::ProbeObserver for ProbeMetrics {
    fn checked(&self, lag: std::time::Duration, outcome: portico_core::environments::HealthStatus) {
        self.lag.observe(lag.as_secs_f64());
        self.checks
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    fn panicked(&self) {
        self.panics.inc();
    }

    fn scheduled(&self, probes: usize) {
        self.probes.set(i64::try_from(probes).unwrap_or(i64::MAX));
    }
}

/// Middleware: counts and times every request under its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state
        .metrics
        .observe(labels, started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the Prometheus text exposition (OpenMetrics).
pub async fn export(State(state): State<AppState>) -> Response {
    let (open, idle) = state.portal.db().pool_usage();
    state.metrics.set_pool(open, idle);
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &state.metrics.registry) {
        tracing::error!(error = %e, "encoding metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    Response::builder()
        .header(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
        .body(Body::from(text))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
