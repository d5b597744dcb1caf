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
        let listed: Value = server
            .get("/api/catalog/locations")
            .await
            .json()
            .await
            .unwrap();
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
        let web: Value = server
            .get("/api/catalog/entities/by-name/component/default/web")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(web["metadata"]["description"], "second");

        // Removing the location orphans its entities.
        let deleted = server
            .client
            .delete(server.url(&format!("/api/catalog/locations/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        let web: Value = server
            .get("/api/catalog/entities/by-name/component/default/web")
            .await
            .json()
            .await
            .unwrap();
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
