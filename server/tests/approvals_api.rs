//! The approvals API over HTTP on both backends, as a pipeline and approvers use it:
//! the four-eyes rule with tokens, approvers only, the decision read back with who and
//! why, the long-poll woken by the decision, field errors, and the signed-out caller.

mod support;

use std::time::{Duration, Instant};

use portico_core::identity::Role;
use serde_json::{json, Value};
use support::{databases, get_with as get, post_with as post, status_and_json as json, TestServer};

#[tokio::test]
async fn a_release_gate_needs_a_second_admin() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        let (_, pipeline) = server.token(Role::Admin).await;
        let (_, second_admin) = server.token(Role::Admin).await;
        let (_, developer) = server.token(Role::Developer).await;

        let (status, asked) = post(
            &pipeline,
            &server,
            "/api/v1/approvals",
            &json!({
                "title": "Release payments 1.4.0 to production",
                "description": "Refunds in one step.",
                "approvers": ["role:admin"],
                "expires_in": "2h",
                "subject": {"kind": "environment", "name": "production"},
                "context": {"version": "1.4.0"}
            }),
        )
        .await;
        assert_eq!(status, 201, "{asked}");
        assert_eq!(asked["status"], "pending");
        let id = asked["id"].as_str().unwrap().to_owned();
        assert!(asked["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/approvals/{id}")));

        // Not by the admin (token) that asked, nor by a developer.
        let decision = format!("/api/v1/approvals/{id}/decision");
        let approve = json!({"decision": "approve", "comment": "LGTM"});
        let (status, body) = post(&pipeline, &server, &decision, &approve).await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("four eyes"),
            "{body}"
        );
        let (status, body) = post(&developer, &server, &decision, &approve).await;
        assert_eq!(status, 403, "{body}");

        // A pipeline waiting with a long-poll hears the decision at once.
        let waiting = {
            let pipeline = pipeline.clone();
            let url = server.url(&format!("/api/v1/approvals/{id}?wait=30s"));
            tokio::spawn(async move {
                let started = Instant::now();
                let body: Value = pipeline
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                (body, started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, decided) = post(&second_admin, &server, &decision, &approve).await;
        assert_eq!(status, 200, "{decided}");
        assert_eq!(decided["status"], "approved");
        let (woken, waited) = waiting.await.unwrap();
        assert_eq!(woken["status"], "approved", "{woken}");
        assert!(waited < Duration::from_secs(25), "{waited:?}");

        // The requester reads who decided and why.
        let (status, read) = get(&pipeline, &server, &format!("/api/v1/approvals/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(read["status"], "approved");
        assert_eq!(read["min_approvals"], 1);
        assert_eq!(read["approvers"], json!(["role:admin"]));
        assert_eq!(read["context"]["version"], "1.4.0");
        let decisions = read["decisions"].as_array().unwrap();
        assert_eq!(decisions.len(), 1);
        assert!(decisions[0]["by"]
            .as_str()
            .unwrap()
            .starts_with("token:test-"));
        assert_eq!(decisions[0]["decision"], "approve");
        assert_eq!(decisions[0]["comment"], "LGTM");
        assert!(decisions[0]["at"].as_str().unwrap().ends_with('Z'));

        // Decided once.
        let (status, body) = post(
            &second_admin,
            &server,
            &decision,
            &json!({"decision": "reject", "comment": "late"}),
        )
        .await;
        assert_eq!(status, 409, "{body}");

        // Lists: everything, and the caller's own.
        let (status, mine) = get(
            &pipeline,
            &server,
            "/api/v1/approvals?mine=true&status=approved",
        )
        .await;
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine["total"], 1);
        let (_, theirs) = get(&developer, &server, "/api/v1/approvals?mine=true").await;
        assert_eq!(theirs["total"], 0);
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_requests_name_their_field_and_strangers_are_turned_away() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        let (_, developer) = server.token(Role::Developer).await;
        let (_, viewer) = server.token(Role::Viewer).await;
        for (body, field) in [
            (json!({"title": "", "approvers": ["role:admin"]}), "title"),
            (json!({"title": "x", "approvers": []}), "approvers"),
            (
                json!({"title": "x", "approvers": ["component:web"]}),
                "approvers",
            ),
            (
                json!({"title": "x", "approvers": ["role:admin"], "expires_in": "forever"}),
                "expires_in",
            ),
            (
                json!({"title": "x", "approvers": ["role:admin"], "callback_url": "file:///etc"}),
                "callback_url",
            ),
        ] {
            let (status, refused) = post(&developer, &server, "/api/v1/approvals", &body).await;
            assert_eq!(status, 400, "{refused}");
            let message = refused["error"]["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("{field}:")), "{message}");
        }
        let (status, body) = post(
            &developer,
            &server,
            "/api/v1/approvals",
            &json!({"title": "x", "approvers": ["role:admin"], "colour": "red"}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("colour"),
            "{body}"
        );

        // Asking needs a developer; reading, someone signed in.
        let ask = json!({"title": "x", "approvers": ["role:admin"]});
        let (status, _) = post(&viewer, &server, "/api/v1/approvals", &ask).await;
        assert_eq!(status, 403);
        let (status, _) = json(
            server
                .anonymous
                .get(server.url("/api/v1/approvals"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);
        let (status, _) = get(&viewer, &server, "/api/v1/approvals/no-such-request").await;
        assert_eq!(status, 404);
        let (status, asked) = post(&developer, &server, "/api/v1/approvals", &ask).await;
        assert_eq!(status, 201);
        let id = asked["id"].as_str().unwrap();
        let (status, body) = post(
            &viewer,
            &server,
            &format!("/api/v1/approvals/{id}/decision"),
            &json!({"decision": "maybe"}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        // The requester may cancel; then nobody decides it.
        let (status, cancelled) = post(
            &developer,
            &server,
            &format!("/api/v1/approvals/{id}/cancel"),
            &json!({"reason": "wrong build"}),
        )
        .await;
        assert_eq!(status, 200, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

/// What the receiver got: each call's headers and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A pipeline's endpoint: fails the first call (500), takes the next ones.
async fn receiver() -> (String, Received) {
    use axum::routing::post as route_post;
    let received: Received = Default::default();
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        route_post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let mut calls = kept.lock().unwrap();
                calls.push((headers, body));
                if calls.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), received)
}

/// Waits for the receiver's second call (the first one is failed on purpose).
async fn second_call(received: &Received) {
    let started = Instant::now();
    while received.lock().unwrap().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no second call"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_decided_request_calls_its_pipeline_back_signed_and_again_after_a_failure() {
    for db in databases().await {
        let server = TestServer::start_with(&db.url, |config| {
            config.approvals.signing_secret = Some("pipeline-shared-secret".into());
            config.approvals.callback_backoff = vec![Duration::from_millis(200); 3];
        })
        .await;
        server.wait_for_readyz(200).await;
        let (_, pipeline) = server.token(Role::Developer).await;
        let (_, admin) = server.token(Role::Admin).await;
        let (hook, received) = receiver().await;

        let (status, asked) = post(
            &pipeline,
            &server,
            "/api/v1/approvals",
            &json!({"title": "Deploy 2.0", "approvers": ["role:admin"], "callback_url": hook}),
        )
        .await;
        assert_eq!(status, 201, "{asked}");
        let id = asked["id"].as_str().unwrap();
        let (status, _) = post(
            &admin,
            &server,
            &format!("/api/v1/approvals/{id}/decision"),
            &json!({"decision": "reject", "comment": "Freeze"}),
        )
        .await;
        assert_eq!(status, 200);

        // The first call fails; the second, a moment later, is taken.
        second_call(&received).await;
        let calls = received.lock().unwrap().clone();
        for (headers, body) in &calls {
            let signed = headers["x-portico-signature-256"].to_str().unwrap();
            assert_eq!(
                signed,
                portico_core::approvals::callbacks::signature(
                    b"pipeline-shared-secret",
                    body.as_bytes()
                )
            );
            assert_eq!(headers["x-portico-event"], "approval.decided");
            let body: Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["approval"]["id"], id);
            assert_eq!(body["approval"]["status"], "rejected");
            assert_eq!(body["approval"]["decisions"][0]["comment"], "Freeze");
        }
        assert_eq!(calls[0].1, calls[1].1, "the same call, tried again");
        // Delivered once: no third call.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(received.lock().unwrap().len(), 2);
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_approver_group_s_channel_hears_of_each_request_signed_and_in_slack_s_format() {
    for db in databases().await {
        let (hook, received) = receiver().await;
        let server = TestServer::start_with(&db.url, |config| {
            config.approvals.signing_secret = Some("chat-secret".into());
            config.approvals.callback_backoff = vec![Duration::from_millis(200); 3];
            config.approvals.webhooks =
                portico_core::approvals::Webhook::parse_list(&format!("role:admin={hook}"))
                    .unwrap();
        })
        .await;
        server.wait_for_readyz(200).await;
        let (_, pipeline) = server.token(Role::Developer).await;

        let (status, asked) = post(
            &pipeline,
            &server,
            "/api/v1/approvals",
            &json!({"title": "Deploy <2.0> & more", "approvers": ["role:admin"]}),
        )
        .await;
        assert_eq!(status, 201, "{asked}");
        // The receiver fails the first call; the message comes again.
        second_call(&received).await;
        let (headers, body) = received.lock().unwrap()[1].clone();
        assert_eq!(headers["x-portico-event"], "approval.requested");
        assert_eq!(
            headers["x-portico-signature-256"].to_str().unwrap(),
            portico_core::approvals::callbacks::signature(b"chat-secret", body.as_bytes())
        );
        let message: Value = serde_json::from_str(&body).unwrap();
        let text = message["text"].as_str().unwrap();
        assert!(text.starts_with("Approval requested by token:"), "{text}");
        assert!(
            text.ends_with(&format!(
                "/approvals/{}|Deploy &lt;2.0&gt; &amp; more>",
                asked["id"].as_str().unwrap()
            )),
            "{text}"
        );
        assert_eq!(message["blocks"][0]["text"]["type"], "mrkdwn");

        // A token has no inbox; what to mark read must be said.
        let (status, inbox) = get(&pipeline, &server, "/api/v1/notifications").await;
        assert_eq!(status, 200, "{inbox}");
        assert_eq!(
            inbox,
            json!({"notifications": [], "unread": 0, "next_before": null})
        );
        let (status, error) =
            post(&pipeline, &server, "/api/v1/notifications/read", &json!({})).await;
        assert_eq!(status, 400, "{error}");
        let (status, marked) = post(
            &pipeline,
            &server,
            "/api/v1/notifications/read",
            &json!({"all": true}),
        )
        .await;
        assert_eq!((status, marked), (200, json!({"marked": 0, "unread": 0})));
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}
