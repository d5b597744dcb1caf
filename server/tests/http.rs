//! The HTTP surface of a real server on loopback, on SQLite and PostgreSQL.

mod support;

use std::net::SocketAddr;

use portico_core::storage::Backend;
use portico_core::testing::TestDb;
use portico_core::Portal;
use support::proxy::Proxy;
use support::{databases, TestServer};

#[tokio::test]
async fn a_new_server_becomes_ready_and_serves_pages() {
    for db in databases().await {
        let backend = db.db.backend().as_str();
        let server = TestServer::start(&db.url, false).await;

        assert_eq!(server.get("/healthz").await.status(), 200);
        let ready = server.wait_for_readyz(200).await;
        assert_eq!(ready["status"], "ready", "{backend}");
        assert_eq!(ready["database"], backend);

        let home = server.get("/").await;
        assert_eq!(home.status(), 200);
        assert!(home
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = home.text().await.unwrap();
        assert!(html.contains("Your developer portal"), "{backend}: {html}");
        assert!(
            html.contains("/pkg/portico.wasm"),
            "the page loads the bundle"
        );
        assert!(html.contains(concat!("Portico v", env!("CARGO_PKG_VERSION"))));

        let status = server.get("/status").await;
        assert_eq!(status.status(), 200);
        let html = status.text().await.unwrap();
        assert!(html.contains("System status"));

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_paths_get_a_404_page_or_a_json_error() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start(&db.url, false).await;

    let page = server.get("/no/such/page").await;
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));

    let api = server.get("/api/no/such/thing").await;
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["name"], "NotFoundError");
    assert_eq!(body["error"]["message"], "no route GET /api/no/such/thing");
    assert_eq!(body["request"]["method"], "GET");
    assert_eq!(body["request"]["url"], "/api/no/such/thing");
    assert_eq!(body["response"]["statusCode"], 404);

    server.stop().await.unwrap();
    db.cleanup().await;
}

/// The OpenAPI document lists the JSON API, and every operation it lists is served
/// (a path the router lacks would answer "no route"; a method it lacks, 405).
#[tokio::test]
async fn the_openapi_document_describes_routes_that_exist() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start(&db.url, false).await;

    let response = server.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["components"]["schemas"]["Entity"].is_object());
    let paths = document["paths"].as_object().unwrap();
    for expected in [
        "/api/catalog/entities/by-query",
        "/api/catalog/entities",
        "/api/catalog/entities/by-name/{kind}/{namespace}/{name}",
        "/api/catalog/entities/by-uid/{uid}",
        "/api/catalog/entities/by-refs",
        "/api/catalog/entity-facets",
        "/api/catalog/locations",
        "/api/catalog/locations/{id}",
        "/api/catalog/refresh",
        "/api/catalog/validate-entity",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }

    let client = reqwest::Client::new();
    for (path, operations) in paths {
        let concrete = path
            .replace("{kind}", "component")
            .replace("{namespace}", "default")
            .replace("{name}", "x")
            .replace("{uid}", "x")
            .replace("{id}", "x");
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = client
                .request(method.clone(), server.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(!body.contains("no route"), "{method} {path}: {body}");
        }
    }

    server.stop().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    server.get("/healthz").await;
    server.get("/nothing-here").await;

    let response = server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"portico_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(text.contains("portico_http_request_duration_seconds_bucket{"));
    assert!(text.contains(r#"portico_db_pool_connections{state="idle"}"#));
    assert!(text.contains("portico_ready 1"));
    assert!(text.trim_end().ends_with("# EOF"));

    server.stop().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn demo_data_is_seeded_at_start() {
    for db in databases().await {
        let server = TestServer::start(&db.url, true).await;
        server.wait_for_readyz(200).await;
        let portal = Portal::open(&db.url).unwrap();
        // Seeding follows migrations in the same background step: wait for it.
        let mut seeded = Vec::new();
        for _ in 0..100 {
            seeded = portal
                .events()
                .read_since(0, Some("portal"), 10)
                .await
                .unwrap();
            if !seeded.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(seeded.len(), 1);
        assert_eq!(seeded[0].event_type, "demo.seeded");
        server.stop().await.unwrap();
        portal.db().close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn shutdown_waits_for_nothing_when_idle_and_returns_ok() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let addr = server.addr;
    server.stop().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is released after shutdown"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_server_started_while_postgres_is_down_becomes_ready_when_it_comes_back() {
    let Some(db) = TestDb::new_unmigrated(Backend::Postgres).await else {
        return;
    };
    let proxy = Proxy::start(postgres_addr(&db.url)).await;
    proxy.cut();
    let server = TestServer::start(&through(&db.url, proxy.addr), false).await;

    let down = server.wait_for_readyz(503).await;
    assert_eq!(down["status"], "unavailable");
    assert!(
        down["reason"]
            .as_str()
            .unwrap()
            .starts_with("database unavailable"),
        "{down}"
    );
    assert_eq!(
        server.get("/healthz").await.status(),
        200,
        "alive while not ready"
    );

    proxy.restore();
    server.wait_for_readyz(200).await;

    server.stop().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn readiness_follows_a_postgres_outage_without_a_restart() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let proxy = Proxy::start(postgres_addr(&db.url)).await;
    let server = TestServer::start(&through(&db.url, proxy.addr), false).await;
    server.wait_for_readyz(200).await;

    proxy.cut();
    let down = server.wait_for_readyz(503).await;
    assert!(down["reason"]
        .as_str()
        .unwrap()
        .starts_with("database unavailable"));
    let status_page = server.get("/status").await;
    assert_eq!(
        status_page.status(),
        200,
        "the status page renders during an outage"
    );
    assert!(status_page.text().await.unwrap().contains("Not ready"));

    proxy.restore();
    server.wait_for_readyz(200).await;

    server.stop().await.unwrap();
    db.cleanup().await;
}

/// The `host:port` of a `postgres://user@host:port/db` URL.
fn postgres_addr(url: &str) -> SocketAddr {
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    host_port
        .parse()
        .expect("TEST_DATABASE_URL names an IP address and port")
}

/// The same URL, connecting through `proxy`.
fn through(url: &str, proxy: SocketAddr) -> String {
    let original = postgres_addr(url).to_string();
    url.replacen(&original, &proxy.to_string(), 1)
}
