//! The catalog REST API over HTTP, on both databases, with Backstage's example catalog.

mod support;

use std::path::{Path, PathBuf};

use portico_core::catalog::reader::read_location;
use portico_core::Portal;
use serde_json::{json, Value};
use support::{databases, TestServer};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/backstage/catalog-model-examples")
        .canonicalize()
        .unwrap()
}

/// A server whose database holds the examples (all.yaml and acme-corp.yaml).
async fn with_examples(url: &str) -> TestServer {
    let server = TestServer::start(url, false).await;
    server.wait_for_readyz(200).await;
    let portal = Portal::open(url).unwrap();
    for file in ["all.yaml", "acme-corp.yaml"] {
        let path = examples().join(file);
        let origin = format!("file:{}", path.display());
        portal
            .catalog()
            .ingest(&origin, read_location(&path))
            .await
            .unwrap();
    }
    portal.db().close().await;
    server
}

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn entities_by_name_uid_and_refs() {
    for db in databases().await {
        let server = with_examples(&db.url).await;

        // By name, ignoring case, with uid, etag, generation and relations.
        let (status, entity) = json(
            server
                .get("/api/catalog/entities/by-name/Component/DEFAULT/Artist-Lookup")
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(entity["metadata"]["name"], "artist-lookup");
        assert_eq!(entity["metadata"]["generation"], 1);
        let uid = entity["metadata"]["uid"].as_str().unwrap().to_owned();
        assert!(entity["metadata"]["etag"]
            .as_str()
            .is_some_and(|e| !e.is_empty()));
        assert!(entity["relations"].as_array().unwrap().contains(&json!({
            "type": "ownedBy", "targetRef": "group:default/team-a",
            "target": {"kind": "group", "namespace": "default", "name": "team-a"},
        })));

        // An API whose remote definition could not be read carries it in its status.
        let (_, spotify) = json(
            server
                .get("/api/catalog/entities/by-name/api/default/spotify")
                .await,
        )
        .await;
        assert_eq!(spotify["status"]["items"][0]["level"], "error");

        let (status, missing) = json(
            server
                .get("/api/catalog/entities/by-name/component/default/nope")
                .await,
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(missing["error"]["name"], "NotFoundError");
        assert_eq!(
            missing["error"]["message"],
            "No entity named 'component:default/nope' found"
        );
        assert_eq!(missing["response"]["statusCode"], 404);

        // By uid.
        let (status, same) = json(
            server
                .get(&format!("/api/catalog/entities/by-uid/{uid}"))
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(same["metadata"]["name"], "artist-lookup");

        // By refs: same order, null for missing, duplicates answered twice, fields applied.
        let (status, body) = json(
            server
                .client
                .post(server.url("/api/catalog/entities/by-refs"))
                .json(&json!({
                    "entityRefs": ["group:default/team-a", "component:default/nope", "user:development/guest", "group:default/team-a"],
                    "fields": ["kind", "metadata.name", "metadata.namespace"],
                }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["items"],
            json!([
                {"kind": "Group", "metadata": {"name": "team-a", "namespace": "default"}},
                null,
                {"kind": "User", "metadata": {"name": "guest", "namespace": "development"}},
                {"kind": "Group", "metadata": {"name": "team-a", "namespace": "default"}},
            ])
        );
        let (status, bad) = json(
            server
                .client
                .post(server.url("/api/catalog/entities/by-refs"))
                .json(&json!({"entityRefs": ["team-a"]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(bad["error"]["name"], "InputError");
        assert!(bad["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("entityRefs[0]: \"team-a\""));

        // Delete by uid: 204, then gone.
        let deleted = server
            .client
            .delete(server.url(&format!("/api/catalog/entities/by-uid/{uid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(
            server
                .get(&format!("/api/catalog/entities/by-uid/{uid}"))
                .await
                .status(),
            404
        );
        let again = server
            .client
            .delete(server.url(&format!("/api/catalog/entities/by-uid/{uid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 404);

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}
