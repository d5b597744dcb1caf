//! The environments API over HTTP on both backends: deployment reports with tokens
//! (idempotency, ordering, bad input, permissions), the live channel, GitHub's signed
//! webhook, environments, pushed health and probes.

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use portico_core::environments::EnvironmentSpec;
use portico_core::identity::Role;
use portico_server::config::Secret;
use serde_json::{json, Value};
use sha2::Sha256;
use support::channel::Channel;
use support::{databases, get_with as get, TestServer};

const SECRET: &str = "webhook-secret";

const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  title: Payments API
  annotations:
    github.com/project-slug: northwind/payments-api
spec: { type: service, lifecycle: production, owner: payments }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: payments }
"#;

async fn start(url: &str) -> TestServer {
    let server = TestServer::start_with(url, |config| {
        config.environments = ["dev", "staging", "production"]
            .iter()
            .map(|n| EnvironmentSpec::parse(n).unwrap())
            .collect();
        config.github_webhook_secret = Some(Secret(SECRET.into()));
    })
    .await;
    server.wait_for_readyz(200).await;
    // Environments are declared while the database is prepared.
    for _ in 0..100 {
        if server.portal.environments().list().await.unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.yaml");
    std::fs::write(&file, CATALOG).unwrap();
    server
        .portal
        .catalog()
        .ingest(
            "file:catalog",
            portico_core::catalog::reader::read_location(&file),
        )
        .await
        .unwrap();
    server
}

async fn post(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    body: Value,
) -> (u16, Value) {
    support::post_with(client, server, path, &body).await
}

fn deployment(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "entity": "payments-api",
        "environment": "staging",
        "version": "2.4.0",
        "status": status,
        "commit": "4f2a9c1",
        "actor": "ci",
    })
}

#[tokio::test]
async fn deployments_are_reported_with_a_token_that_allows_it() {
    for db in databases().await {
        let server = start(&db.url).await;
        let (_, sre) = server.token(Role::Sre).await;
        let (_, developer) = server.token(Role::Developer).await;
        let (_, viewer) = server.token(Role::Viewer).await;

        let (status, _) = post(
            &server.anonymous,
            &server,
            "/api/v1/deployments",
            deployment("r1", "started"),
        )
        .await;
        assert_eq!(status, 401);
        for client in [&developer, &viewer] {
            let (status, body) = post(
                client,
                &server,
                "/api/v1/deployments",
                deployment("r1", "started"),
            )
            .await;
            assert_eq!(status, 403, "{body}");
        }

        let (status, body) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("r1", "started"),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["outcome"], "created");
        assert_eq!(
            body["deployment"]["entity"],
            "component:default/payments-api"
        );
        assert!(body["deployment"]["reported_by"]
            .as_str()
            .unwrap()
            .starts_with("token:"));
        let (status, body) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("r1", "started"),
        )
        .await;
        assert_eq!((status, &body["outcome"]), (200, &json!("unchanged")));
        let (status, body) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("r1", "succeeded"),
        )
        .await;
        assert_eq!((status, &body["outcome"]), (200, &json!("advanced")));
        let (status, body) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("r1", "started"),
        )
        .await;
        assert_eq!((status, &body["outcome"]), (200, &json!("stale")));
        assert_eq!(body["deployment"]["status"], "succeeded");
        let (status, body) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("r1", "failed"),
        )
        .await;
        assert_eq!(status, 409, "{body}");

        // Bad input: a 400 that names the field; nothing stored.
        let mut unknown_entity = deployment("r2", "started");
        unknown_entity["entity"] = json!("nobody");
        let mut unknown_environment = deployment("r2", "started");
        unknown_environment["environment"] = json!("qa");
        let mut bad_status = deployment("r2", "started");
        bad_status["status"] = json!("done");
        let mut bad_order = deployment("r2", "succeeded");
        bad_order["started_at"] = json!("2026-11-21T10:00:00Z");
        bad_order["finished_at"] = json!("2026-11-21T09:00:00Z");
        let mut bad_time = deployment("r2", "started");
        bad_time["started_at"] = json!("yesterday");
        let mut missing = deployment("r2", "started");
        missing.as_object_mut().unwrap().remove("version");
        let mut unknown_field = deployment("r2", "started");
        unknown_field["colour"] = json!("blue");
        let cases = [
            (unknown_entity, "entity: component:default/nobody is not in the catalog"),
            (unknown_environment, "environment: there is no environment \"qa\" (environments: dev, staging, production)"),
            (bad_status, "status: \"done\" is not a deployment status (started, succeeded, failed or rolled_back)"),
            (bad_order, "finished_at: is before started_at"),
            (bad_time, "started_at: \"yesterday\" is not an RFC 3339 time (e.g. 2026-11-21T09:30:00Z)"),
            (missing, "the body is not a deployment report ({id, entity, environment, version, status, …}): missing field `version`"),
            (unknown_field, "the body is not a deployment report ({id, entity, environment, version, status, …}): unknown field `colour`"),
        ];
        for (body, message) in cases {
            let (status, error) = post(&sre, &server, "/api/v1/deployments", body).await;
            assert_eq!(status, 400, "{error}");
            let text = error["error"]["message"].as_str().unwrap();
            assert!(
                text.starts_with(message),
                "{text} does not start with {message}"
            );
        }
        let (_, listed) = get(&sre, &server, "/api/v1/deployments").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        // What the dashboards read.
        let (status, staging) = get(&viewer, &server, "/api/v1/environments/staging").await;
        assert_eq!(status, 200);
        assert_eq!(staging["tier"], "staging");
        let components = staging["components"].as_array().unwrap();
        assert_eq!(components.len(), 1);
        assert_eq!(components[0]["entity"], "component:default/payments-api");
        assert_eq!(components[0]["deployment"]["version"], "2.4.0");
        assert_eq!(components[0]["deployment"]["status"], "succeeded");
        assert_eq!(components[0]["health"], Value::Null);
        let (_, all) = get(&viewer, &server, "/api/v1/environments").await;
        let names: Vec<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["dev", "staging", "production"]);
        assert_eq!(all["items"][1]["components"], 1);
        let (status, _) = get(&viewer, &server, "/api/v1/environments/nowhere").await;
        assert_eq!(status, 404);

        // Pages of deployments, filtered.
        for i in 0..3 {
            let mut body = deployment(&format!("p{i}"), "succeeded");
            body["entity"] = json!("ledger");
            body["started_at"] = json!(format!("2026-11-2{i}T10:00:00Z"));
            post(&sre, &server, "/api/v1/deployments", body).await;
        }
        let (_, first) = get(
            &viewer,
            &server,
            "/api/v1/deployments?entity=ledger&limit=2",
        )
        .await;
        assert_eq!(first["items"][0]["id"], "p2");
        let cursor = first["nextCursor"].as_str().unwrap();
        let (_, second) = get(
            &viewer,
            &server,
            &format!("/api/v1/deployments?entity=ledger&limit=2&cursor={cursor}"),
        )
        .await;
        assert_eq!(second["items"][0]["id"], "p0");
        assert!(second.get("nextCursor").is_none());
        for bad in [
            "limit=0",
            "limit=many",
            "cursor=nonsense",
            "environment=qa",
            "entity=nobody",
        ] {
            let (status, body) = get(&viewer, &server, &format!("/api/v1/deployments?{bad}")).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_reported_deployment_reaches_the_environment_channel_once() {
    for db in databases().await {
        let server = start(&db.url).await;
        let (sre_secret, sre) = server.token(Role::Sre).await;
        let mut channel = Channel::connect(server.addr, &sre_secret).await;
        let reply = channel.join("environment:staging", json!({})).await;
        assert_eq!(
            reply["response"]["status"]
                .as_str()
                .or(reply["status"].as_str()),
            Some("ok"),
            "{reply}"
        );
        let (status, _) = post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("live-1", "started"),
        )
        .await;
        assert_eq!(status, 201);
        let event = channel.event("environment:staging").await;
        assert_eq!(event[3], "deployment.reported");
        assert_eq!(event[4]["deployment"]["version"], "2.4.0");
        assert_eq!(event[4]["current"], true);
        // Reported again: nothing changes, nothing is sent.
        post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("live-1", "started"),
        )
        .await;
        assert!(
            channel
                .quiet("environment:staging", Duration::from_millis(500))
                .await
        );
        post(
            &sre,
            &server,
            "/api/v1/deployments",
            deployment("live-1", "succeeded"),
        )
        .await;
        let event = channel.event("environment:staging").await;
        assert_eq!(event[3], "deployment.updated");
        assert_eq!(event[4]["deployment"]["status"], "succeeded");

        // Pushed health: an event when the status changes, not otherwise.
        let health = json!({"entity": "payments-api", "environment": "staging", "status": "down", "message": "503 from the load balancer"});
        let (status, body) = post(&sre, &server, "/api/v1/health", health.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["status"].as_str(), body["changed"].as_bool()),
            (Some("down"), Some(true))
        );
        let event = channel.event("environment:staging").await;
        assert_eq!(event[3], "health.changed");
        let (_, body) = post(&sre, &server, "/api/v1/health", health).await;
        assert_eq!(body["changed"], false);
        assert!(
            channel
                .quiet("environment:staging", Duration::from_millis(500))
                .await
        );
        channel.close().await;
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

async fn webhook(
    server: &TestServer,
    event: &str,
    body: &Value,
    signature: Option<String>,
) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut request = server
        .anonymous
        .post(server.url("/api/v1/webhooks/github"))
        .header("x-github-event", event)
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let response = request.body(bytes).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A `deployment_status` delivery, shaped like GitHub's.
fn github_status(state: &str) -> Value {
    json!({
        "action": "created",
        "deployment_status": {
            "state": state,
            "created_at": "2026-11-21T10:05:00Z",
            "log_url": "https://github.com/northwind/payments-api/actions/runs/42",
            "creator": { "login": "octocat" }
        },
        "deployment": {
            "id": 1234567,
            "sha": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
            "ref": "v2.5.0",
            "environment": "production",
            "created_at": "2026-11-21T10:00:00Z",
            "payload": {},
            "creator": { "login": "octocat" }
        },
        "repository": { "full_name": "northwind/payments-api" }
    })
}

#[tokio::test]
async fn github_deployment_statuses_are_taken_only_when_signed() {
    for db in databases().await {
        let server = start(&db.url).await;
        let body = github_status("in_progress");
        let bytes = serde_json::to_vec(&body).unwrap();

        let (status, error) = webhook(&server, "deployment_status", &body, None).await;
        assert_eq!(status, 401, "{error}");
        let (status, error) = webhook(
            &server,
            "deployment_status",
            &body,
            Some("sha256=00".into()),
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(
            error["error"]["message"],
            "X-Hub-Signature-256 does not match the body: the secrets differ"
        );
        let mut forged = body.clone();
        forged["deployment"]["ref"] = json!("v6.6.6");
        let (status, _) = webhook(&server, "deployment_status", &forged, Some(sign(&bytes))).await;
        assert_eq!(status, 401, "a signature of another body");
        let (_, listed) = get(&server.client, &server, "/api/v1/deployments").await;
        assert!(listed["items"].as_array().unwrap().is_empty());

        let (status, created) =
            webhook(&server, "deployment_status", &body, Some(sign(&bytes))).await;
        assert_eq!(status, 201, "{created}");
        let deployment = &created["deployment"];
        assert_eq!(deployment["id"], "github:northwind/payments-api:1234567");
        assert_eq!(deployment["entity"], "component:default/payments-api");
        assert_eq!(deployment["environment"], "production");
        assert_eq!(deployment["version"], "v2.5.0");
        assert_eq!(deployment["status"], "started");
        assert_eq!(deployment["actor"], "octocat");
        assert_eq!(deployment["reported_by"], "webhook:github");
        let success = github_status("success");
        let bytes = serde_json::to_vec(&success).unwrap();
        let (status, advanced) =
            webhook(&server, "deployment_status", &success, Some(sign(&bytes))).await;
        assert_eq!(
            (status, &advanced["deployment"]["status"]),
            (200, &json!("succeeded"))
        );
        assert_eq!(
            advanced["deployment"]["finished_at"],
            "2026-11-21T10:05:00Z"
        );

        let ping = json!({"zen": "Keep it logically awesome."});
        let (status, _) = webhook(
            &server,
            "ping",
            &ping,
            Some(sign(&serde_json::to_vec(&ping).unwrap())),
        )
        .await;
        assert_eq!(status, 200);
        let inactive = github_status("inactive");
        let (status, _) = webhook(
            &server,
            "deployment_status",
            &inactive,
            Some(sign(&serde_json::to_vec(&inactive).unwrap())),
        )
        .await;
        assert_eq!(status, 202);
        let mut unknown = github_status("success");
        unknown["repository"]["full_name"] = json!("northwind/unknown");
        let (status, error) = webhook(
            &server,
            "deployment_status",
            &unknown,
            Some(sign(&serde_json::to_vec(&unknown).unwrap())),
        )
        .await;
        assert_eq!(status, 400);
        assert!(error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("github.com/project-slug: northwind/unknown"));
        server.stop().await.unwrap();

        // Without a secret configured there is no webhook.
        let plain = TestServer::start(&db.url, false).await;
        let (status, _) = webhook(
            &plain,
            "deployment_status",
            &body,
            Some(sign(&serde_json::to_vec(&body).unwrap())),
        )
        .await;
        assert_eq!(status, 404);
        plain.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn admins_define_environments_and_sres_manage_probes() {
    let db = &databases().await[0];
    let server = start(&db.url).await;
    let (_, sre) = server.token(Role::Sre).await;
    let put = |client: &reqwest::Client, path: &str, body: Value| {
        let request = client.put(server.url(path)).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, _) = put(
        &sre,
        "/api/v1/environments/eu-west",
        json!({"tier": "production"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = put(
        &server.client,
        "/api/v1/environments/eu-west",
        json!({"tier": "production", "title": "EU West"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["title"].as_str(), body["order"].as_i64()),
        (Some("EU West"), Some(30))
    );
    let (status, body) = put(&server.client, "/api/v1/environments/eu-east", json!({})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not say its tier"));
    let (status, body) = put(
        &server.client,
        "/api/v1/environments/qa",
        json!({"tier": "prod"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let probe = json!({"entity": "ledger", "environment": "eu-west", "url": "http://127.0.0.1:1/healthz", "interval": "10s"});
    let (status, body) = put(&sre, "/api/v1/probes", probe.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["interval_ms"].as_i64(),
            body["timeout_ms"].as_i64(),
            body["source"].as_str()
        ),
        (Some(10_000), Some(5_000), Some("api"))
    );
    let (status, body) = put(&sre, "/api/v1/probes", json!({"entity": "ledger", "environment": "eu-west", "url": "http://x/", "timeout": "30s", "interval": "10s"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "timeout: must be from 100ms to 60s, and no longer than the interval (10s)"
    );
    let (_, listed) = get(&sre, &server, "/api/v1/probes?environment=eu-west").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (_, view) = get(&sre, &server, "/api/v1/environments/eu-west").await;
    assert_eq!(view["components"][0]["probed"], true);
    let deleted = sre
        .delete(server.url("/api/v1/probes?entity=ledger&environment=eu-west"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let again = sre
        .delete(server.url("/api/v1/probes?entity=ledger&environment=eu-west"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 404);

    let removed = server
        .client
        .delete(server.url("/api/v1/environments/eu-west"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status().as_u16(), 204);
    let refused = server
        .client
        .delete(server.url("/api/v1/environments/staging"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 409);
    // The OpenAPI document describes the environments API.
    let document: Value = server.get("/api/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/deployments", "post"),
        ("/api/v1/environments/{name}", "get"),
        ("/api/v1/probes", "put"),
        ("/api/v1/health", "post"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    assert!(document["components"]["schemas"]["ReportBody"].is_object());
    let audit: Value = server
        .get("/api/admin/audit?action=environment.define")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("eu-west"), "{audit}");
    server.stop().await.unwrap();
}
