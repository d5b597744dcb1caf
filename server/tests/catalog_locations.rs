//! Registering, refreshing and removing locations over HTTP; validating entities.

mod support;

use serde_json::{json, Value};
use support::{databases, TestServer};

const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web
  description: first
spec:
  type: website
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
";

async fn get_json(server: &TestServer, path: &str) -> Value {
    server.get(path).await.json().await.unwrap()
}

async fn post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let response = server
        .client
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn file_locations_inside_the_allowed_roots() {
    for db in databases().await {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let file = root.path().join("catalog-info.yaml");
        std::fs::write(&file, CATALOG).unwrap();
        std::fs::write(outside.path().join("other.yaml"), CATALOG).unwrap();
        let roots = vec![root.path().to_owned()];
        let server = TestServer::start_with(&db.url, |c| {
            c.catalog_roots = roots;
            c.catalog_url_hosts = vec!["git.example.com".into()];
        })
        .await;
        server.wait_for_readyz(200).await;
        let target = file.display().to_string();

        // A dry run reads and reports, and stores nothing.
        let (status, dry) = post(
            &server,
            "/api/catalog/locations?dryRun=true",
            json!({"type": "file", "target": target}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(dry["entities"].as_array().unwrap().len(), 2);
        assert_eq!(
            server
                .get("/api/catalog/entities/by-name/component/default/web")
                .await
                .status(),
            404
        );

        // Registered: read at once.
        let (status, created) = post(
            &server,
            "/api/catalog/locations",
            json!({"type": "file", "target": target}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["location"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["summary"]["added"], 2);
        let listed: Value = get_json(&server, "/api/catalog/locations").await;
        assert_eq!(
            listed,
            json!([{"data": {"id": id, "type": "file", "target": target}}])
        );
        let (status, again) = post(
            &server,
            "/api/catalog/locations",
            json!({"type": "file", "target": target}),
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(again["error"]["name"], "ConflictError");

        // Refused: outside the roots, unlisted hosts, unknown types.
        let outside_target = outside.path().join("other.yaml").display().to_string();
        for (body, message) in [
            (
                json!({"type": "file", "target": outside_target}),
                "is outside the directories allowed by PORTICO_CATALOG_ROOTS",
            ),
            (
                json!({"type": "url", "target": "http://169.254.169.254/latest/meta-data"}),
                "host \"169.254.169.254\" is not allowed",
            ),
            (
                json!({"type": "git", "target": "x"}),
                "type: \"git\" is not a location type",
            ),
        ] {
            let (status, refused) = post(&server, "/api/catalog/locations", body.clone()).await;
            assert_eq!(status, 400, "{body}");
            assert!(
                refused["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(message),
                "{refused}"
            );
        }

        // Refresh reads the file again.
        std::fs::write(
            &file,
            CATALOG.replace("description: first", "description: second"),
        )
        .unwrap();
        let (status, _) = post(
            &server,
            "/api/catalog/refresh",
            json!({"entityRef": "component:default/web"}),
        )
        .await;
        assert_eq!(status, 200);
        let web: Value = get_json(
            &server,
            "/api/catalog/entities/by-name/component/default/web",
        )
        .await;
        assert_eq!(web["metadata"]["description"], "second");

        // Removing the location orphans its entities.
        let deleted = server
            .client
            .delete(server.url(&format!("/api/catalog/locations/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        let web: Value = get_json(
            &server,
            "/api/catalog/entities/by-name/component/default/web",
        )
        .await;
        assert_eq!(
            web["metadata"]["annotations"]["backstage.io/orphan"],
            "true"
        );
        assert_eq!(
            server
                .get(&format!("/api/catalog/locations/{id}"))
                .await
                .status(),
            404
        );

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn no_roots_means_no_file_locations() {
    let db = portico_core::testing::TestDb::new(portico_core::storage::Backend::Sqlite)
        .await
        .unwrap();
    let server = TestServer::start(&db.url, false).await;
    let (status, body) = post(
        &server,
        "/api/catalog/locations",
        json!({"type": "file", "target": "/etc/passwd"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no directory is allowed (PORTICO_CATALOG_ROOTS)"));
    server.stop().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn entities_are_validated_with_every_problem_named() {
    let db = portico_core::testing::TestDb::new(portico_core::storage::Backend::Sqlite)
        .await
        .unwrap();
    let server = TestServer::start(&db.url, false).await;
    let (status, body) = post(
        &server,
        "/api/catalog/validate-entity",
        json!({"location": "url:https://x", "entity": {
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "invalid component", "tags": ["go 1.15.3"]},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
        }}),
    )
    .await;
    assert_eq!(status, 400);
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].starts_with("metadata.name: "));
    assert!(messages[1].starts_with("metadata.tags[0]: "));
    let (status, _) = post(
        &server,
        "/api/catalog/validate-entity",
        json!({"location": "url:https://x", "entity": {
            "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []},
        }}),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await.unwrap();
    db.cleanup().await;
}

/// A catalog repository served over HTTP, as a git host's raw-file endpoint would.
struct CatalogHost {
    dir: tempfile::TempDir,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl CatalogHost {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // `/moved` sends the reader to a host that is not allowed.
        let elsewhere = format!("http://localhost:{port}/openapi.yaml");
        let app = axum::Router::new()
            .route(
                "/moved",
                axum::routing::get(move || async move {
                    axum::response::Redirect::temporary(&elsewhere)
                }),
            )
            .fallback_service(tower_http::services::ServeDir::new(dir.path()));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            dir,
            base: format!("http://127.0.0.1:{port}"),
            task,
        }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }
}

impl Drop for CatalogHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const REMOTE_CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: remote
spec:
  targets: [./team.yaml, ./missing.yaml]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ./openapi.yaml
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: legacy
spec:
  type: openapi
  lifecycle: deprecated
  owner: team-a
  definition:
    $text: /moved
";

#[tokio::test]
async fn url_locations_on_allowed_hosts() {
    for db in databases().await {
        let mut host = CatalogHost::start().await;
        host.write("catalog-info.yaml", REMOTE_CATALOG);
        host.write(
            "team.yaml",
            &CATALOG.replace("name: web", "name: remote-web"),
        );
        host.write("openapi.yaml", "openapi: 3.0.0\ninfo: {title: Orders v1}\n");
        let server = TestServer::start_with(&db.url, |c| {
            c.catalog_url_hosts = vec!["127.0.0.1".into()];
        })
        .await;
        server.wait_for_readyz(200).await;
        let target = format!("{}/catalog-info.yaml", host.base);

        let (status, created) = post(
            &server,
            "/api/catalog/locations",
            json!({"type": "url", "target": target}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["location"]["type"], "url");
        assert_eq!(created["location"]["target"], target.as_str());
        assert_eq!(created["summary"]["added"], 5, "{created}");
        let problems = created["problems"].to_string();
        assert!(
            problems.contains("./missing.yaml: target not found")
                || problems.contains("missing.yaml: HTTP 404 Not Found"),
            "{problems}"
        );

        // Entities from the location and from the file it lists, with Backstage's
        // location annotations naming the URLs.
        let web: Value = get_json(
            &server,
            "/api/catalog/entities/by-name/component/default/remote-web",
        )
        .await;
        let annotations = &web["metadata"]["annotations"];
        assert_eq!(
            annotations["backstage.io/managed-by-location"],
            format!("url:{}/team.yaml", host.base)
        );
        assert_eq!(
            annotations["backstage.io/managed-by-origin-location"],
            format!("url:{target}")
        );
        let orders: Value =
            get_json(&server, "/api/catalog/entities/by-name/api/default/orders").await;
        assert_eq!(
            orders["spec"]["definition"],
            "openapi: 3.0.0\ninfo: {title: Orders v1}\n"
        );

        // A redirect off the allowed hosts is not followed; the API is kept with the
        // problem in its status.
        let legacy: Value =
            get_json(&server, "/api/catalog/entities/by-name/api/default/legacy").await;
        let message = legacy["status"]["items"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("$text /moved: redirected to http://localhost:")
                && message.contains("host \"localhost\" is not allowed"),
            "{message}"
        );

        // Refresh reads the URL again.
        host.write("openapi.yaml", "openapi: 3.0.0\ninfo: {title: Orders v2}\n");
        let (status, _) = post(
            &server,
            "/api/catalog/refresh",
            json!({"entityRef": "api:default/orders"}),
        )
        .await;
        assert_eq!(status, 200);
        let orders: Value =
            get_json(&server, "/api/catalog/entities/by-name/api/default/orders").await;
        assert_eq!(
            orders["spec"]["definition"],
            "openapi: 3.0.0\ninfo: {title: Orders v2}\n"
        );

        // A URL that cannot be read is refused with the reason, and nothing is registered.
        let (status, refused) = post(
            &server,
            "/api/catalog/locations",
            json!({"type": "url", "target": format!("{}/nope.yaml", host.base)}),
        )
        .await;
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nope.yaml: HTTP 404 Not Found"),
            "{refused}"
        );
        let listed: Value = get_json(&server, "/api/catalog/locations").await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

        // A host that does not answer changes nothing: the entities are not orphaned.
        host.task.abort();
        let _ = (&mut host.task).await;
        let (status, failed) = post(
            &server,
            "/api/catalog/refresh",
            json!({"entityRef": "api:default/orders"}),
        )
        .await;
        assert_eq!(status, 502, "{failed}");
        assert!(
            failed["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot connect"),
            "{failed}"
        );
        let orders: Value =
            get_json(&server, "/api/catalog/entities/by-name/api/default/orders").await;
        assert_eq!(
            orders["metadata"]["annotations"]["backstage.io/orphan"],
            Value::Null
        );

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}
