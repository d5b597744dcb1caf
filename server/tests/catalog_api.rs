//! The catalog REST API over HTTP, on both databases, with Backstage's example catalog.

mod support;

use portico_core::catalog::reader::read_location;
use portico_core::Portal;
use serde_json::{json, Value};
use support::{databases, TestServer};

use portico_core::testing::backstage_examples as examples;

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

async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    json(server.get(path).await).await
}

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap_or("?"),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn queries_pages_facets_and_the_list() {
    for db in databases().await {
        let server = with_examples(&db.url).await;
        let api = "/api/catalog";

        // Filter, order and cursor pagination: every component once, in name order.
        let (status, first) = get_json(
            &server,
            &format!("{api}/entities/by-query?filter=kind=component&limit=5&orderField=metadata.name,asc&fields=kind,metadata.name"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(first["totalItems"], 13);
        assert!(first["pageInfo"].get("prevCursor").is_none());
        let mut seen = names(&first["items"]);
        let mut cursor = first["pageInfo"]["nextCursor"].as_str().map(str::to_owned);
        let mut pages = 1;
        while let Some(next) = cursor {
            let (_, page) = get_json(
                &server,
                &format!("{api}/entities/by-query?cursor={next}&fields=kind,metadata.name"),
            )
            .await;
            assert!(page["pageInfo"]["prevCursor"].is_string());
            seen.extend(names(&page["items"]));
            cursor = page["pageInfo"]["nextCursor"].as_str().map(str::to_owned);
            pages += 1;
        }
        assert_eq!(pages, 3);
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen, sorted, "in order, each once");
        assert_eq!(seen.len(), 13);
        assert!(seen.iter().all(|n| n.starts_with("Component:")));

        // Several `filter` parameters are alternatives; `limit=0` counts without a next page.
        let (_, either) = get_json(
            &server,
            &format!("{api}/entities/by-query?filter=kind=system&filter=kind=domain&limit=0"),
        )
        .await;
        assert_eq!(either["totalItems"], 6);
        assert_eq!(either["pageInfo"], json!({}));

        // Relations are filterable; the list endpoint returns a plain array.
        let (status, owned) = get_json(
            &server,
            &format!("{api}/entities?filter=relations.ownedby=group:default/team-a&fields=kind,metadata.name&order=asc:metadata.name"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(owned.as_array().unwrap().len(), 12);
        assert!(names(&owned).contains(&"System:artist-engagement-portal".to_owned()));
        let (_, window) = get_json(&server, &format!("{api}/entities?filter=kind=domain&order=desc:metadata.name&offset=1&limit=1&fields=kind,metadata.name")).await;
        assert_eq!(names(&window), vec!["Domain:audio"]);

        // Full text: every word must start a token in one of the fields.
        let (_, text) = get_json(&server, &format!("{api}/entities/by-query?fullTextFilterTerm=wayback%20arch&fields=kind,metadata.name")).await;
        let mut found = names(&text["items"]);
        found.sort();
        assert_eq!(
            found,
            vec![
                "API:wayback-archive",
                "Component:wayback-archive",
                "Component:wayback-archive-ingestion",
                "Component:wayback-archive-storage"
            ]
        );

        // Facets, with the values as written and counts, restricted by a filter.
        let (status, facets) = get_json(
            &server,
            &format!("{api}/entity-facets?facet=kind&facet=spec.type&filter=kind=component"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            facets["facets"]["kind"],
            json!([{"value": "Component", "count": 13}])
        );
        assert_eq!(
            facets["facets"]["spec.type"],
            json!([{"value": "service", "count": 10}, {"value": "website", "count": 2}, {"value": "library", "count": 1}])
        );
        let (_, all_kinds) = get_json(&server, &format!("{api}/entity-facets?facet=kind")).await;
        let total: i64 = all_kinds["facets"]["kind"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["count"].as_i64().unwrap())
            .sum();
        assert_eq!(total, 63);

        // Bad parameters name themselves.
        for (path, message) in [
            (
                format!("{api}/entities/by-query?limit=many"),
                "limit: \"many\" is not a whole number",
            ),
            (
                format!("{api}/entities/by-query?cursor=garbage"),
                "cursor: is not a cursor this catalog issued",
            ),
            (
                format!("{api}/entities/by-query?orderField=metadata.name,up"),
                "orderField: \"up\" is not a direction (asc or desc)",
            ),
            (
                format!("{api}/entity-facets"),
                "facet: at least one facet is required",
            ),
            (
                format!("{api}/entities?filter==x"),
                "filter: \"=x\" has no key (expected key=value or key)",
            ),
        ] {
            let (status, body) = get_json(&server, &path).await;
            assert_eq!(status, 400, "{path}");
            assert_eq!(body["error"]["message"], message, "{path}");
        }

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}
