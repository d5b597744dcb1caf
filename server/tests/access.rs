//! Deny by default over HTTP: declared routes, the role matrix, tokens, sessions (demo
//! sign-in), the origin check, the audit log and the sign-in pages.

mod support;

use portico_core::identity::Role;
use portico_server::access::Need;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, ORIGIN, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{json, Value};
use support::{databases, TestServer};

/// What may be reached without signing in: probes, signing in, and the server function
/// that tells the header whether anyone is signed in (the 404 page has a header too),
/// and GitHub's webhook, whose signature is its credential.
fn is_public_path(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/login" | "/api/v1/webhooks/github"
    ) || path.starts_with("/auth/")
        || path.starts_with("/api/current_user")
}

#[tokio::test]
async fn only_the_public_routes_are_open_and_every_api_route_is_declared() {
    let db = sqlite().await;
    let server = TestServer::start(&db.url, false).await;
    assert!(server.access.len() > 20, "{:?}", server.access);
    for (method, path, need) in &server.access {
        if *need == Need::Public {
            assert!(is_public_path(path), "{method} {path} is open to anyone");
        }
    }
    // Every operation of the OpenAPI document is a declared route.
    let document: Value = server.get("/api/openapi.json").await.json().await.unwrap();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            assert!(
                server
                    .access
                    .iter()
                    .any(|(m, p, _)| *m == method && p == path),
                "{method} {path} has no access declaration"
            );
        }
    }
    server.stop().await.unwrap();
    db.cleanup().await;
}

/// `(method, path, body, the least role that may)`.
fn matrix() -> Vec<(&'static str, &'static str, Value, Role)> {
    vec![
        ("GET", "/api/me", Value::Null, Role::Viewer),
        (
            "GET",
            "/api/catalog/entities/by-query?limit=1",
            Value::Null,
            Role::Viewer,
        ),
        (
            "GET",
            "/api/catalog/entity-facets?facet=kind",
            Value::Null,
            Role::Viewer,
        ),
        (
            "POST",
            "/api/catalog/entities/by-refs",
            json!({"entityRefs": []}),
            Role::Viewer,
        ),
        ("GET", "/api/openapi.json", Value::Null, Role::Viewer),
        ("GET", "/metrics", Value::Null, Role::Viewer),
        (
            "POST",
            "/api/catalog/refresh",
            json!({"entityRef": "component:default/nope"}),
            Role::Developer,
        ),
        (
            "DELETE",
            "/api/catalog/entities/by-uid/nope",
            Value::Null,
            Role::Developer,
        ),
        (
            "DELETE",
            "/api/catalog/locations/nope",
            Value::Null,
            Role::Admin,
        ),
        ("GET", "/api/admin/tokens", Value::Null, Role::Admin),
        ("GET", "/api/admin/audit", Value::Null, Role::Admin),
        ("GET", "/api/v1/environments", Value::Null, Role::Viewer),
        ("GET", "/api/v1/deployments", Value::Null, Role::Viewer),
        ("GET", "/api/v1/probes", Value::Null, Role::Viewer),
        ("POST", "/api/v1/deployments", json!({}), Role::Sre),
        ("POST", "/api/v1/health", json!({}), Role::Sre),
        ("PUT", "/api/v1/probes", json!({}), Role::Sre),
        (
            "PUT",
            "/api/v1/environments/qa",
            json!({"tier": "nonsense"}),
            Role::Admin,
        ),
    ]
}

async fn send(
    client: &reqwest::Client,
    server: &TestServer,
    method: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = client.request(method.parse().unwrap(), server.url(path));
    if !body.is_null() {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn each_role_reaches_what_it_may_and_nothing_more() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        for role in Role::ALL {
            let (_, client) = server.token(role).await;
            for (method, path, body, least) in matrix() {
                let status = send(&client, &server, method, path, &body).await.status();
                if role >= least {
                    assert!(
                        status != 401 && status != 403,
                        "{role} {method} {path}: {status}"
                    );
                } else {
                    assert_eq!(status, 403, "{role} {method} {path}");
                }
            }
        }
        // Anonymous: the API answers 401 with a challenge; pages send people to sign in.
        for (method, path, body, _) in matrix() {
            let response = send(&server.anonymous, &server, method, path, &body).await;
            assert_eq!(response.status(), 401, "anonymous {method} {path}");
            assert!(response.headers().contains_key(WWW_AUTHENTICATE));
        }
        for page in ["/", "/catalog?kind=api", "/status"] {
            let response = server
                .anonymous
                .get(server.url(page))
                .header(ACCEPT, "text/html,application/xhtml+xml")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303, "{page}");
            let location = response.headers()[LOCATION].to_str().unwrap();
            assert!(location.starts_with("/login?return_to=%2F"), "{location}");
        }
        // A method no route serves is 405, whoever asks.
        let put = server
            .client
            .put(server.url("/api/catalog/entities"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 405);
        for open in ["/healthz", "/readyz", "/login"] {
            let status = server
                .anonymous
                .get(server.url(open))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200, "{open}");
        }
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_revoked_or_unknown_token_is_refused_and_audited() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        let (secret, client) = server.token(Role::Developer).await;
        assert_eq!(
            client
                .get(server.url("/api/me"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let me: Value = client
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], "developer");
        assert_eq!(me["kind"], "token");

        let tokens: Value = server.get("/api/admin/tokens").await.json().await.unwrap();
        let token = tokens["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["role"] == "developer")
            .unwrap()
            .clone();
        assert!(token["last_used_at"].is_i64(), "{token}");
        assert!(
            !tokens.to_string().contains(&secret),
            "secrets are never listed"
        );
        let revoked = server
            .client
            .delete(server.url(&format!(
                "/api/admin/tokens/{}",
                token["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        let refused = client.get(server.url("/api/me")).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let challenge = refused.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        let body: Value = refused.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("was revoked"),
            "{body}"
        );
        let unknown = support::client_with_token("portico_nope");
        assert_eq!(
            unknown
                .get(server.url("/api/me"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );

        let audit: Value = server
            .get("/api/admin/audit?what=token")
            .await
            .json()
            .await
            .unwrap();
        let actions: Vec<(String, String)> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["outcome"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(actions[0], ("token.use".to_owned(), "denied".to_owned()));
        assert_eq!(actions[1], ("token.use".to_owned(), "denied".to_owned()));
        assert_eq!(actions[2], ("token.revoke".to_owned(), "ok".to_owned()));

        // Bad input names the field.
        let bad = server
            .client
            .post(server.url("/api/admin/tokens"))
            .json(&json!({"name": "x", "role": "owner"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let body: Value = bad.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("role: "),
            "{body}"
        );
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

/// `GET path` in the browser session `cookie`.
async fn get_in_session(server: &TestServer, cookie: &str, path: &str) -> reqwest::Response {
    server
        .anonymous
        .get(server.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// A new SQLite database (the tests that need only one backend).
async fn sqlite() -> portico_core::testing::TestDb {
    portico_core::testing::TestDb::new(portico_core::storage::Backend::Sqlite)
        .await
        .unwrap()
}

/// Signs in as a demo person; returns the session cookie (`name=value`).
async fn demo_sign_in(server: &TestServer, person: &str) -> String {
    let response = server
        .anonymous
        .post(server.url("/auth/demo"))
        .header(ORIGIN, format!("http://{}", server.addr))
        .form(&[("person", person), ("return_to", "/catalog")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    assert_eq!(response.headers()[LOCATION], "/catalog");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "http public URL: no Secure flag"
    );
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn demo_sessions_survive_a_restart_and_refuse_cross_origin_writes() {
    for db in databases().await {
        let server = TestServer::start(&db.url, true).await;
        server.wait_for_readyz(200).await;
        // The demo catalog is seeded in the background; sign-in links its User entity.
        for _ in 0..200 {
            let karen = server
                .get("/api/catalog/entities/by-name/user/default/karen.sparck-jones")
                .await;
            if karen.status() == 200 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let login = server
            .anonymous
            .get(server.url("/login?return_to=/catalog"))
            .send()
            .await
            .unwrap();
        let page = login.text().await.unwrap();
        assert!(
            page.contains("Demo sign-in") && page.contains("Ada Lovelace"),
            "{page}"
        );

        let cookie = demo_sign_in(&server, "karen.sparck-jones").await;
        let me: Value = get_in_session(&server, &cookie, "/api/me")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["name"], "karen.sparck-jones");
        assert_eq!(me["role"], "sre");
        assert_eq!(me["entity"], "user:default/karen.sparck-jones");

        // A write with the session from another origin is refused; from ours it goes on.
        let refresh = |origin: String| {
            server
                .anonymous
                .post(server.url("/api/catalog/refresh"))
                .header(COOKIE, &cookie)
                .header(ORIGIN, origin)
                .json(&json!({"entityRef": "component:default/nope"}))
                .send()
        };
        let forged = refresh("http://evil.test".into()).await.unwrap();
        assert_eq!(forged.status(), 403);
        let ours = refresh(format!("http://{}", server.addr)).await.unwrap();
        assert_eq!(ours.status(), 400, "past the checks: no such entity");
        let no_origin = server
            .anonymous
            .post(server.url("/api/catalog/refresh"))
            .header(COOKIE, &cookie)
            .json(&json!({"entityRef": "component:default/nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_origin.status(), 403);

        // A developer may delete what their groups own, and nothing else.
        let ada = demo_sign_in(&server, "ada.lovelace").await;
        let uid = |name: &'static str| {
            let server = &server;
            async move {
                let entity: Value = server
                    .get(&format!("/api/catalog/entities/by-name/{name}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                entity["metadata"]["uid"].as_str().unwrap().to_owned()
            }
        };
        let delete = |uid: String| {
            server
                .anonymous
                .delete(server.url(&format!("/api/catalog/entities/by-uid/{uid}")))
                .header(COOKIE, &ada)
                .header(ORIGIN, format!("http://{}", server.addr))
                .send()
        };
        let theirs = delete(uid("api/default/payment-api").await).await.unwrap();
        assert_eq!(theirs.status(), 403);
        let body: Value = theirs.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("owned by group:default/payments"),
            "{body}"
        );
        let own = delete(uid("component/default/product-service").await)
            .await
            .unwrap();
        assert_eq!(own.status(), 204);

        // The session is in the database: a new server process honours it.
        let url = db.url.clone();
        server.stop().await.unwrap();
        let again = TestServer::start(&url, false).await;
        again.wait_for_readyz(200).await;
        let me = get_in_session(&again, &cookie, "/api/me").await;
        assert_eq!(me.status(), 200);

        // Signing out ends it.
        let out = again
            .anonymous
            .post(again.url("/auth/logout"))
            .header(COOKIE, &cookie)
            .header(ORIGIN, format!("http://{}", again.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 303);
        let after = get_in_session(&again, &cookie, "/api/me").await;
        assert_eq!(after.status(), 401);

        let audit: Value = again
            .get("/api/admin/audit?who=karen")
            .await
            .json()
            .await
            .unwrap();
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["sign-out", "sign-in"]);
        again.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_expiry() {
    let db = sqlite().await;
    let server = TestServer::start_with(&db.url, |c| {
        c.auth.session_max = time::Duration::seconds(1);
    })
    .await;
    server.wait_for_readyz(200).await;
    let cookie = demo_sign_in(&server, "ada.lovelace").await;
    let me = get_in_session(&server, &cookie, "/api/me").await;
    assert_eq!(me.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let me = get_in_session(&server, &cookie, "/api/me").await;
    assert_eq!(me.status(), 401);
    server.stop().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn without_a_reachable_provider_sign_in_explains_what_happened() {
    let db = sqlite().await;
    let server = TestServer::start_with(&db.url, |c| {
        c.auth.oidc = Some(portico_server::config::OidcConfig {
            issuer: "http://127.0.0.1:9".into(),
            client_id: "portico".into(),
            client_secret: Some("s".into()),
            scopes: vec!["openid".into()],
            groups_claim: "groups".into(),
        });
    })
    .await;
    server.wait_for_readyz(200).await;
    // With a provider there is no demo sign-in.
    let page = server
        .anonymous
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Sign in with 127.0.0.1") && !page.contains("Demo sign-in"),
        "{page}"
    );
    let demo = server
        .anonymous
        .post(server.url("/auth/demo"))
        .form(&[("person", "ada.lovelace")])
        .send()
        .await
        .unwrap();
    assert_eq!(demo.status(), 404);

    let login = server
        .anonymous
        .get(server.url("/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 502);
    let page = login.text().await.unwrap();
    assert!(page.contains("could not be reached"), "{page}");

    // A callback that no sign-in started is refused with an explanation.
    let callback = server
        .anonymous
        .get(server.url("/auth/callback?code=x&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 400);
    assert!(callback
        .text()
        .await
        .unwrap()
        .contains("no sign-in was in progress"));
    server.stop().await.unwrap();
    db.cleanup().await;
}
