//! Environments, deployments and health on both backends: definitions, idempotent and
//! forward-only deployment reports, health changes as events, history, and the probe
//! engine against real local HTTP servers that go up, down and slow.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portico_core::backend_tests;
use portico_core::catalog::reader::read_location;
use portico_core::environments::definitions::Source;
use portico_core::environments::deployments::{
    DeploymentCursor, DeploymentFilter, DeploymentReport, ReportOutcome,
};
use portico_core::environments::health::{CheckResult, HealthPush};
use portico_core::environments::probes::engine::{
    ProbeEngine, ProbeObserver, ProbeSettings, Unobserved,
};
use portico_core::environments::probes::{ProbeDefaults, ProbeRequest, Thresholds};
use portico_core::environments::{
    DeploymentStatus, EnvironmentError, EnvironmentSpec, Environments, HealthStatus, Tier,
};
use portico_core::storage::sql::now_millis;
use portico_core::testing::TestDb;
use portico_core::Portal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

backend_tests!(
    environments_are_defined_in_order_and_removed_with_their_history,
    deployment_reports_are_idempotent_and_only_move_forward,
    bad_reports_name_the_field_and_change_nothing,
    what_runs_is_the_deployment_started_last,
    deployments_are_listed_newest_first_in_pages,
    health_changes_are_announced_only_when_the_status_changes,
    history_is_counted_per_minute_and_rolled_up,
    probes_follow_annotations_and_judge_with_hysteresis,
    a_check_that_panics_is_scheduled_again,
    a_long_health_url_is_found_at_start,
);

const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: payments }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: checkout }
spec: { owner: payments }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments-api, title: Payments API }
spec: { type: service, lifecycle: production, owner: payments, system: checkout }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: payments }
"#;

async fn setup(t: &TestDb, catalog: &str) -> (Portal, Environments) {
    let portal = Portal::with_database(t.db.clone());
    ingest(&portal, catalog, "catalog").await;
    let environments = portal.environments();
    let specs: Vec<EnvironmentSpec> = ["dev", "staging", "production"]
        .iter()
        .map(|n| EnvironmentSpec::parse(n).unwrap())
        .collect();
    environments
        .define_all(&specs, Source::Config)
        .await
        .unwrap();
    (portal, environments)
}

async fn ingest(portal: &Portal, yaml: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let summary = portal
        .catalog()
        .ingest(&format!("file:{name}"), read_location(Path::new(&file)))
        .await
        .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
}

fn report(
    id: &str,
    entity: &str,
    environment: &str,
    version: &str,
    status: &str,
) -> DeploymentReport {
    DeploymentReport {
        id: id.into(),
        entity: entity.into(),
        environment: environment.into(),
        version: version.into(),
        status: status.into(),
        ..DeploymentReport::default()
    }
}

/// Deployment and health events on `topic` (environments defined are announced too).
async fn event_count(portal: &Portal, topic: &str) -> usize {
    portal
        .events()
        .read_since(0, Some(topic), 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type.starts_with("deployment.") || e.event_type.starts_with("health."))
        .count()
}

async fn environments_are_defined_in_order_and_removed_with_their_history(t: &TestDb) {
    let (_, environments) = setup(t, CATALOG).await;
    let listed: Vec<(String, Tier)> = environments
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.tier))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("dev".into(), Tier::Development),
            ("staging".into(), Tier::Staging),
            ("production".into(), Tier::Production)
        ]
    );
    // Through the API: after the others unless ordered.
    let mut spec = EnvironmentSpec::parse("eu-west:production").unwrap();
    spec.title = Some("EU West".into());
    let defined = environments.define(&spec, Source::Api).await.unwrap();
    assert_eq!((defined.title.as_str(), defined.order), ("EU West", 30));
    environments
        .report(
            "token:ci",
            &report("d1", "payments-api", "eu-west", "1.0.0", "succeeded"),
        )
        .await
        .unwrap();
    environments.remove("eu-west").await.unwrap();
    assert!(environments.get("eu-west").await.unwrap().is_none());
    assert!(environments.deployment("d1").await.unwrap().is_none());
    // Configured ones are removed from the configuration.
    let refused = environments.remove("staging").await.unwrap_err();
    assert!(
        matches!(refused, EnvironmentError::Conflict(_)),
        "{refused}"
    );
    assert!(matches!(
        environments.remove("nowhere").await.unwrap_err(),
        EnvironmentError::NotFound(_)
    ));
}

async fn deployment_reports_are_idempotent_and_only_move_forward(t: &TestDb) {
    let (portal, environments) = setup(t, CATALOG).await;
    let started = report("run-1", "payments-api", "staging", "2.0.0", "started");
    let (deployment, outcome) = environments.report("token:ci", &started).await.unwrap();
    assert_eq!(outcome, ReportOutcome::Created);
    assert_eq!(deployment.entity, "component:default/payments-api");
    assert_eq!(deployment.status, DeploymentStatus::Started);
    assert_eq!(deployment.finished_at, None);
    assert_eq!(event_count(&portal, "environment:staging").await, 1);
    assert_eq!(event_count(&portal, "deployments").await, 1);
    assert_eq!(
        event_count(&portal, "entity:component:default/payments-api").await,
        1
    );

    // The same report again changes nothing, and announces nothing.
    let (again, outcome) = environments.report("token:ci", &started).await.unwrap();
    assert_eq!(outcome, ReportOutcome::Unchanged);
    assert_eq!(again, deployment);
    assert_eq!(event_count(&portal, "deployments").await, 1);

    // Forward: succeeded, with a finish time; then a late `started` is ignored.
    let mut succeeded = report(
        "run-1",
        "component:default/payments-api",
        "staging",
        "2.0.0",
        "succeeded",
    );
    succeeded.url = Some("https://ci.example.com/run/1".into());
    let (done, outcome) = environments.report("token:ci", &succeeded).await.unwrap();
    assert_eq!(outcome, ReportOutcome::Advanced);
    assert_eq!(done.status, DeploymentStatus::Succeeded);
    assert!(done.finished_at.is_some());
    assert_eq!(done.url.as_deref(), Some("https://ci.example.com/run/1"));
    let (stale, outcome) = environments.report("token:ci", &started).await.unwrap();
    assert_eq!(outcome, ReportOutcome::Stale);
    assert_eq!(stale.status, DeploymentStatus::Succeeded);
    assert_eq!(event_count(&portal, "deployments").await, 2);

    // A finished deployment does not change its outcome; it may be rolled back.
    let failed = report("run-1", "payments-api", "staging", "2.0.0", "failed");
    let conflict = environments.report("token:ci", &failed).await.unwrap_err();
    assert_eq!(
        conflict.to_string(),
        "deployment \"run-1\" already succeeded; report rolled_back to undo it, or use a new id"
    );
    let rolled = report("run-1", "payments-api", "staging", "2.0.0", "rolled_back");
    let (rolled, outcome) = environments.report("token:ci", &rolled).await.unwrap();
    assert_eq!(outcome, ReportOutcome::Advanced);
    assert_eq!(rolled.status, DeploymentStatus::RolledBack);

    // An id names one deployment.
    let other = report("run-1", "ledger", "staging", "2.0.0", "rolled_back");
    let conflict = environments.report("token:ci", &other).await.unwrap_err();
    assert!(
        matches!(conflict, EnvironmentError::Conflict(_)),
        "{conflict}"
    );

    // Two reports of a new id at once: one creates, the other finds it.
    let racing = report("run-2", "ledger", "production", "1.0.0", "started");
    let (a, b) = tokio::join!(
        environments.report("token:ci", &racing),
        environments.report("token:ci", &racing)
    );
    let mut outcomes = vec![a.unwrap().1, b.unwrap().1];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        vec![ReportOutcome::Created, ReportOutcome::Unchanged]
    );
}

async fn bad_reports_name_the_field_and_change_nothing(t: &TestDb) {
    let (portal, environments) = setup(t, CATALOG).await;
    let now = now_millis();
    let cases: Vec<(DeploymentReport, &str)> = vec![
        (report("", "payments-api", "dev", "1", "started"), "id: must not be empty"),
        (report("x", "payments-api", "dev", "", "started"), "version: must not be empty"),
        (
            report("x", "payments-api", "dev", "1", "done"),
            "status: \"done\" is not a deployment status (started, succeeded, failed or rolled_back)",
        ),
        (
            report("x", "nobody", "dev", "1", "started"),
            "entity: component:default/nobody is not in the catalog",
        ),
        (
            report("x", "component:", "dev", "1", "started"),
            "entity: \"component:\" is not an entity reference: the name part is empty",
        ),
        (
            report("x", "payments-api", "qa", "1", "started"),
            "environment: there is no environment \"qa\" (environments: dev, staging, production)",
        ),
        (
            DeploymentReport {
                started_at: Some(now),
                finished_at: Some(now - 1000),
                ..report("x", "payments-api", "dev", "1", "succeeded")
            },
            "finished_at: is before started_at",
        ),
        (
            DeploymentReport {
                finished_at: Some(now),
                ..report("x", "payments-api", "dev", "1", "started")
            },
            "finished_at: a deployment that has only started has not finished: leave it out, or report its outcome",
        ),
        (
            DeploymentReport {
                url: Some("javascript:alert(1)".into()),
                ..report("x", "payments-api", "dev", "1", "started")
            },
            "url: \"javascript:alert(1)\" is not an http(s) URL",
        ),
    ];
    for (bad, message) in cases {
        let error = environments.report("token:ci", &bad).await.unwrap_err();
        assert!(matches!(error, EnvironmentError::Invalid { .. }), "{error}");
        assert_eq!(error.to_string(), message);
    }
    let page = environments
        .deployments(&DeploymentFilter {
            limit: 10,
            ..DeploymentFilter::default()
        })
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(event_count(&portal, "deployments").await, 0);
}

async fn what_runs_is_the_deployment_started_last(t: &TestDb) {
    let (_, environments) = setup(t, CATALOG).await;
    let now = now_millis();
    let at = |id: &str, version: &str, started: i64| DeploymentReport {
        started_at: Some(started),
        ..report(id, "payments-api", "production", version, "succeeded")
    };
    environments
        .report("token:ci", &at("b", "1.1.0", now - 1_000))
        .await
        .unwrap();
    // Reported later, started earlier: history, not what runs.
    environments
        .report("token:ci", &at("a", "1.0.0", now - 60_000))
        .await
        .unwrap();
    let current = environments
        .current("component:default/payments-api", "production")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.version, "1.1.0");
    let view = environments
        .environment_view("production")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.components.len(), 1);
    let state = &view.components[0];
    assert_eq!(state.deployment.as_ref().unwrap().version, "1.1.0");
    assert_eq!(state.component.title.as_deref(), Some("Payments API"));
    assert_eq!(
        state.component.owner.as_deref(),
        Some("group:default/payments")
    );
    assert_eq!(
        state.component.system.as_deref(),
        Some("system:default/checkout")
    );
    assert!(state.health.is_none() && !state.probed);
}

async fn deployments_are_listed_newest_first_in_pages(t: &TestDb) {
    let (_, environments) = setup(t, CATALOG).await;
    let now = now_millis();
    for i in 0..7 {
        let entity = if i % 2 == 0 { "payments-api" } else { "ledger" };
        let report = DeploymentReport {
            started_at: Some(now - 10_000 + i * 1000),
            ..report(
                &format!("d{i}"),
                entity,
                "dev",
                &format!("1.{i}.0"),
                "succeeded",
            )
        };
        environments.report("token:ci", &report).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<DeploymentCursor> = None;
    loop {
        let page = environments
            .deployments(&DeploymentFilter {
                limit: 3,
                cursor,
                ..DeploymentFilter::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|d| d.id.clone()));
        match page.next {
            Some(next) => cursor = Some(DeploymentCursor::decode(&next.encode()).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, ["d6", "d5", "d4", "d3", "d2", "d1", "d0"]);
    let ledger = environments
        .deployments(&DeploymentFilter {
            entity: Some("component:default/ledger".into()),
            limit: 10,
            ..DeploymentFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(ledger.items.len(), 3);
    assert!(DeploymentCursor::decode("nonsense").is_err());
}

async fn health_changes_are_announced_only_when_the_status_changes(t: &TestDb) {
    let (portal, environments) = setup(t, CATALOG).await;
    let push = |status: &str| HealthPush {
        entity: "payments-api".into(),
        environment: "production".into(),
        status: status.into(),
        message: None,
        latency_ms: Some(42),
    };
    let (health, changed) = environments.push_health(&push("healthy")).await.unwrap();
    assert!(changed);
    assert_eq!(health.status, HealthStatus::Healthy);
    let since = health.since;
    let (again, changed) = environments.push_health(&push("healthy")).await.unwrap();
    assert!(!changed);
    assert_eq!(
        again.since, since,
        "the status has held since the first push"
    );
    assert_eq!(event_count(&portal, "health").await, 1);
    let (down, changed) = environments.push_health(&push("down")).await.unwrap();
    assert!(changed);
    assert!(down.since >= since);
    assert_eq!(event_count(&portal, "health").await, 2);
    assert_eq!(event_count(&portal, "environment:production").await, 2);
    let events = portal
        .events()
        .read_since(0, Some("health"), 10)
        .await
        .unwrap();
    assert_eq!(events[1].event_type, "health.changed");
    assert_eq!(events[1].payload["previous"], "healthy");
    assert_eq!(events[1].payload["health"]["status"], "down");

    let error = environments
        .push_health(&push("sideways"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "status: \"sideways\" is not a health status (healthy, degraded, down or unknown)"
    );
    let changes = environments
        .changes(now_millis() - 60_000, None, 10)
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].health.as_ref().unwrap().status,
        HealthStatus::Down
    );
    assert_eq!(changes[0].previous, Some(HealthStatus::Healthy));
}

async fn history_is_counted_per_minute_and_rolled_up(t: &TestDb) {
    let (_, environments) = setup(t, CATALOG).await;
    let entity = "component:default/ledger";
    let minute = 60_000;
    let now = now_millis();
    let start = now - now.rem_euclid(minute) - 10 * minute;
    let result = |at: i64, outcome: HealthStatus, latency: i64| CheckResult {
        entity: entity.into(),
        environment: "staging".into(),
        at,
        outcome,
        latency_ms: Some(latency),
        message: None,
        status: outcome,
    };
    let results = [
        result(start, HealthStatus::Healthy, 10),
        result(start + 1000, HealthStatus::Healthy, 30),
        result(start + minute, HealthStatus::Down, 50),
        result(start + minute + 1000, HealthStatus::Degraded, 900),
    ];
    // In two batches, so counts of one minute are added up across writes.
    environments.record(&results[..1], "probe").await.unwrap();
    environments.record(&results[1..], "probe").await.unwrap();
    let buckets = environments
        .uptime(entity, "staging", start - minute, minute)
        .await
        .unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!((buckets[0].checks, buckets[0].healthy), (2, 2));
    assert_eq!(buckets[0].latency_avg_ms, Some(20));
    assert_eq!((buckets[1].down, buckets[1].degraded), (1, 1));
    assert_eq!(buckets[1].latency_max_ms, Some(900));
    assert_eq!(buckets[1].uptime(), Some(0.5));
    let quarter = environments
        .uptime(entity, "staging", start - minute, 15 * minute)
        .await
        .unwrap();
    assert_eq!(quarter.iter().map(|b| b.checks).sum::<i64>(), 4);
    let recent = environments
        .recent_checks(entity, "staging", 2)
        .await
        .unwrap();
    assert_eq!(recent[0].outcome, HealthStatus::Degraded);

    // Three days later: raw checks are gone, minutes are rolled up into hours.
    environments
        .compact_history(now + 3 * 24 * 3_600_000)
        .await
        .unwrap();
    assert!(environments
        .recent_checks(entity, "staging", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(environments
        .uptime(entity, "staging", start - minute, minute)
        .await
        .unwrap()
        .is_empty());
    let hours: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT checks, healthy FROM health_rollups WHERE resolution = 'hour' AND entity_ref = $1",
    )
    .bind(entity)
    .fetch_all(environments.db().pool())
    .await
    .unwrap();
    assert_eq!(hours.iter().map(|h| h.0).sum::<i64>(), 4);
    assert_eq!(hours.iter().map(|h| h.1).sum::<i64>(), 2);
}

/// A local HTTP service whose health endpoint can be made slow or stopped.
struct Service {
    port: u16,
    /// 0 up, 1 slow.
    mode: Arc<AtomicU8>,
    served: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Service {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut service = Self {
            port,
            mode: Arc::default(),
            served: Arc::default(),
            task: None,
        };
        service.serve(listener);
        service
    }

    fn serve(&mut self, listener: TcpListener) {
        let mode = Arc::clone(&self.mode);
        let served = Arc::clone(&self.served);
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mode = Arc::clone(&mode);
                let served = Arc::clone(&served);
                tokio::spawn(async move {
                    let mut buffer = [0u8; 2048];
                    let _ = stream.read(&mut buffer).await;
                    if mode.load(Ordering::SeqCst) == 1 {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                    }
                    served.fetch_add(1, Ordering::SeqCst);
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                });
            }
        }));
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/healthz", self.port)
    }

    /// Stops listening: connections are refused.
    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

async fn health(
    environments: &Environments,
    entity: &str,
    environment: &str,
) -> Option<HealthStatus> {
    environments
        .health_of(entity)
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.environment == environment)
        .map(|h| h.status)
}

async fn until_health(
    environments: &Environments,
    entity: &str,
    environment: &str,
    wanted: HealthStatus,
) {
    for _ in 0..300 {
        if health(environments, entity, environment).await == Some(wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{entity} in {environment} never became {wanted}: {:?}",
        health(environments, entity, environment).await
    );
}

/// The outcomes of the latest checks, oldest first.
async fn outcomes(
    environments: &Environments,
    entity: &str,
    environment: &str,
) -> Vec<HealthStatus> {
    let mut checks = environments
        .recent_checks(entity, environment, 100)
        .await
        .unwrap();
    checks.reverse();
    checks.into_iter().map(|c| c.outcome).collect()
}

async fn probes_follow_annotations_and_judge_with_hysteresis(t: &TestDb) {
    let mut service = Service::start().await;
    let annotated = format!(
        r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations:
    portico.dev/health-url.staging: {url}
    portico.dev/health-url.qa: {url}
    portico.dev/health-interval: 1s
    portico.dev/health-timeout: 1s
    portico.dev/health-slow: 200ms
spec: {{ type: service, lifecycle: production, owner: payments }}
"#,
        url = service.url()
    );
    let (portal, environments) = setup(t, &annotated).await;
    let feed = tokio::spawn(portal.events().feed().run());
    let settings = ProbeSettings {
        concurrency: 4,
        thresholds: Thresholds {
            failures: 3,
            successes: 2,
        },
        defaults: ProbeDefaults::default(),
    };
    let engine =
        tokio::spawn(ProbeEngine::new(environments.clone(), settings, Arc::new(Unobserved)).run());
    let entity = "component:default/payments-api";

    // A new probe takes its first result; `qa` is not an environment and is ignored.
    until_health(&environments, entity, "staging", HealthStatus::Healthy).await;
    assert_eq!(health(&environments, entity, "qa").await, None);
    let probes = environments.probes(Some(entity), None).await.unwrap();
    assert_eq!(probes.len(), 1);
    assert_eq!(probes[0].source, "annotation");

    // Stopped: down only after three failed checks in a row.
    service.stop();
    until_health(&environments, entity, "staging", HealthStatus::Down).await;
    let seen = outcomes(&environments, entity, "staging").await;
    let failures = seen
        .iter()
        .rev()
        .take_while(|o| **o == HealthStatus::Down)
        .count();
    assert!(failures >= 3, "down after {failures} failures: {seen:?}");

    // Slow answers: degraded after two in a row; back to normal: healthy after two.
    service.mode.store(1, Ordering::SeqCst);
    service.restart().await;
    until_health(&environments, entity, "staging", HealthStatus::Degraded).await;
    let seen = outcomes(&environments, entity, "staging").await;
    let slow = seen
        .iter()
        .rev()
        .take_while(|o| **o == HealthStatus::Degraded)
        .count();
    assert!(slow >= 2, "degraded after {slow} slow answers: {seen:?}");
    service.mode.store(0, Ordering::SeqCst);
    until_health(&environments, entity, "staging", HealthStatus::Healthy).await;

    // Every change was announced once; the checks that changed nothing were not.
    let changes: Vec<String> = portal
        .events()
        .read_since(0, Some("health"), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            e.payload["health"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(changes, ["healthy", "down", "degraded", "healthy"]);

    // Catalog changes are picked up without a restart: a new probe, then none.
    let second = Service::start().await;
    let moved = annotated.replace(
        &format!("portico.dev/health-url.qa: {}", service.url()),
        &format!("portico.dev/health-url.production: {}", second.url()),
    );
    ingest(&portal, &moved, "catalog").await;
    until_health(&environments, entity, "production", HealthStatus::Healthy).await;
    let without = moved
        .lines()
        .filter(|l| !l.contains("health-url"))
        .collect::<Vec<_>>()
        .join("\n");
    ingest(&portal, &without, "catalog").await;
    for _ in 0..100 {
        if environments
            .probes(Some(entity), None)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(environments
        .probes(Some(entity), None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(health(&environments, entity, "staging").await, None);

    // A probe through the API, and a bad annotation shown as the health it would judge.
    let api = environments
        .put_probe(
            &ProbeRequest {
                entity: "payments-api".into(),
                environment: "dev".into(),
                url: second.url(),
                interval: Some("1s".into()),
                timeout: Some("500ms".into()),
                slow: None,
            },
            &ProbeDefaults::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (api.interval_ms, api.timeout_ms, api.slow_ms),
        (1000, 500, 500)
    );
    until_health(&environments, entity, "dev", HealthStatus::Healthy).await;
    let bad = without.replace(
        "portico.dev/health-interval: 1s",
        "portico.dev/health-url.staging: http://127.0.0.1:1/\n    portico.dev/health-interval: often",
    );
    ingest(&portal, &bad, "catalog").await;
    for _ in 0..100 {
        let message = environments
            .health_of(entity)
            .await
            .unwrap()
            .into_iter()
            .find(|h| h.environment == "staging")
            .and_then(|h| h.message);
        if let Some(message) = message {
            assert_eq!(message, "cannot probe: portico.dev/health-interval: \"often\" is not a duration (a whole number and a unit: 500ms, 1s, 30s, 2m)");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        health(&environments, entity, "staging").await,
        Some(HealthStatus::Unknown)
    );
    engine.abort();
    feed.abort();
}

/// Panics in the first checks (the observer is called inside each check's task).
struct PanicsFirst {
    left: AtomicU64,
    panics_seen: AtomicU64,
}

impl ProbeObserver for PanicsFirst {
    fn checked(&self, _: Duration, _: HealthStatus) {
        if self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            panic!("a check that panics");
        }
    }

    fn panicked(&self) {
        self.panics_seen.fetch_add(1, Ordering::SeqCst);
    }

    fn scheduled(&self, _: usize) {}
}

async fn a_check_that_panics_is_scheduled_again(t: &TestDb) {
    let service = Service::start().await;
    let (portal, environments) = setup(t, CATALOG).await;
    environments
        .put_probe(
            &ProbeRequest {
                entity: "ledger".into(),
                environment: "dev".into(),
                url: service.url(),
                interval: Some("1s".into()),
                timeout: None,
                slow: None,
            },
            &ProbeDefaults::default(),
        )
        .await
        .unwrap();
    let observer = Arc::new(PanicsFirst {
        left: AtomicU64::new(2),
        panics_seen: AtomicU64::new(0),
    });
    let feed = tokio::spawn(portal.events().feed().run());
    let engine = tokio::spawn(
        ProbeEngine::new(
            environments.clone(),
            ProbeSettings::default(),
            Arc::clone(&observer) as Arc<dyn ProbeObserver>,
        )
        .run(),
    );
    until_health(
        &environments,
        "component:default/ledger",
        "dev",
        HealthStatus::Healthy,
    )
    .await;
    assert_eq!(observer.panics_seen.load(Ordering::SeqCst), 2);
    assert!(
        !engine.is_finished(),
        "the engine goes on after its checks panic"
    );
    engine.abort();
    feed.abort();
}

async fn a_long_health_url_is_found_at_start(t: &TestDb) {
    let service = Service::start().await;
    // Longer than the search index keeps: the engine reads the bodies themselves.
    let url = format!("{}?{}", service.url(), "padding=x&".repeat(30));
    assert!(url.len() > 250);
    let catalog = format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: long-url\n  annotations:\n    portico.dev/health-url.staging: \"{url}\"\n    portico.dev/health-interval: 1s\nspec: {{ type: service, lifecycle: production, owner: payments }}\n"
    );
    let (_, environments) = setup(t, &catalog).await;
    let engine = tokio::spawn(
        ProbeEngine::new(
            environments.clone(),
            ProbeSettings::default(),
            Arc::new(Unobserved),
        )
        .run(),
    );
    until_health(
        &environments,
        "component:default/long-url",
        "staging",
        HealthStatus::Healthy,
    )
    .await;
    let probes = environments
        .probes(Some("component:default/long-url"), None)
        .await
        .unwrap();
    assert_eq!(probes[0].url, url);
    engine.abort();
}
