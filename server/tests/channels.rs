//! The live channel over a real socket: Phoenix v2 protocol, authorisation per topic,
//! replay across reconnects and restarts, slow consumers, revocation, presence.

mod support;

use std::time::Duration;

use portico_core::events::NewEvent;
use portico_core::identity::Role;
use serde_json::{json, Value};
use support::channel::{socket_url, Channel};
use support::{databases, TestServer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Records `n` events on `topic` through the server's own portal, in one transaction.
async fn record(server: &TestServer, topic: &str, n: usize) -> Vec<i64> {
    record_sized(server, topic, n, 0).await
}

async fn record_sized(server: &TestServer, topic: &str, n: usize, padding: usize) -> Vec<i64> {
    let events = server.portal.events();
    let new: Vec<NewEvent> = (0..n)
        .map(|i| {
            NewEvent::new(
                topic,
                "test.happened",
                json!({ "n": i, "pad": "x".repeat(padding) }),
            )
        })
        .collect();
    let mut tx = server.portal.db().pool().begin().await.unwrap();
    let appended = events.append_all(&mut tx, &new).await.unwrap();
    tx.commit().await.unwrap();
    events.committed();
    appended.iter().map(|e| e.id).collect()
}

/// Waits until the hub has sent out event `id` (a join's reply says where it stands).
async fn until_sent_out(probe: &mut Channel, id: i64) {
    for _ in 0..500 {
        let reply = probe.join("catalog", json!({})).await;
        if reply["response"]["last_id"].as_i64() >= Some(id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("event {id} was never sent out");
}

fn ids(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .map(|f| f[4]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_socket_speaks_phoenix_v2() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let (token, _) = server.token(Role::Viewer).await;
    let mut socket = Channel::connect(server.addr, &token).await;

    // Heartbeat on `phoenix`.
    let reference = socket.push(None, "phoenix", "heartbeat", json!({})).await;
    let heartbeat = socket.find(|f| f[1] == reference.as_str()).await;
    assert_eq!(
        heartbeat,
        json!([null, reference, "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    );

    // Join: the reply echoes join_ref and ref, and says where the log stands.
    let join_ref = "7";
    socket
        .send_text(json!([join_ref, "8", "catalog", "phx_join", {}]).to_string())
        .await;
    let reply = socket.find(|f| f[1] == "8").await;
    assert_eq!(reply[0], "7");
    assert_eq!(reply[2], "catalog");
    assert_eq!(reply[3], "phx_reply");
    assert_eq!(reply[4]["status"], "ok");
    assert!(reply[4]["response"]["last_id"].is_i64(), "{reply}");

    // Pushes are [null, null, topic, event, payload] with the log id in the payload.
    let recorded = record(&server, "catalog", 1).await;
    let event = socket.event("catalog").await;
    assert_eq!(event[0], Value::Null);
    assert_eq!(event[1], Value::Null);
    assert_eq!(event[3], "test.happened");
    assert_eq!(event[4]["id"], recorded[0]);
    assert_eq!(event[4]["n"], 0);

    // Events the channel does not take, and topics not joined, are answered with errors.
    let reference = socket
        .push(Some(join_ref), "catalog", "shout", json!({}))
        .await;
    let refused = socket.reply(&reference).await;
    assert_eq!(refused["status"], "error");
    assert!(refused["response"]["reason"]
        .as_str()
        .unwrap()
        .contains("only pushes"));
    let reference = socket.push(None, "health", "anything", json!({})).await;
    assert_eq!(
        socket.reply(&reference).await,
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );

    // Unknown topics and bad `since` are refused with a reason; the socket stays open.
    let refused = socket.join("weather", json!({})).await;
    assert_eq!(refused["status"], "error");
    assert!(refused["response"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("unknown topic"));
    let refused = socket.join("health", json!({"since": "yesterday"})).await;
    assert_eq!(refused["status"], "error");
    let refused = socket.join("entity:Component:default/Web", json!({})).await;
    assert_eq!(
        refused["response"]["reason"],
        "join \"entity:component:default/web\": entity topics use the lower-case reference"
    );

    // Leave: an ok reply, then phx_close; events stop.
    let reference = socket
        .push(Some(join_ref), "catalog", "phx_leave", json!({}))
        .await;
    assert_eq!(socket.reply(&reference).await["status"], "ok");
    let closed = socket.find(|f| f[3] == "phx_close").await;
    assert_eq!(
        closed,
        json!([join_ref, join_ref, "catalog", "phx_close", {}])
    );
    record(&server, "catalog", 1).await;
    assert!(socket.quiet("catalog", Duration::from_millis(300)).await);

    // A malformed frame closes the socket with a reason; the server carries on.
    socket.send_text("{\"not\": \"a frame\"}").await;
    let close = socket.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1007);
    assert!(close.reason.contains("malformed frame"));
    let mut again = Channel::connect(server.addr, &token).await;
    assert_eq!(again.join("catalog", json!({})).await["status"], "ok");
    again.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn opening_a_socket_needs_credentials_and_the_v2_format() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let anonymous = format!("ws://{}/socket/websocket?vsn=2.0.0", server.addr);
    assert_eq!(Channel::open(anonymous).await.err(), Some(401));
    let wrong = socket_url(server.addr, "portico_not-a-real-token");
    assert_eq!(Channel::open(wrong).await.err(), Some(401));
    let (token, _) = server.token(Role::Viewer).await;
    let v1 = format!(
        "ws://{}/socket/websocket?vsn=1.0.0&token={token}",
        server.addr
    );
    assert_eq!(Channel::open(v1).await.err(), Some(400));
    // A session cookie from another site's page is refused before the upgrade.
    let mut request = format!("ws://{}/socket/websocket?vsn=2.0.0", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.test".parse().unwrap());
    request
        .headers_mut()
        .insert("cookie", "portico_session=whatever".parse().unwrap());
    assert_eq!(Channel::open_request(request).await.err(), Some(403));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn each_join_is_authorised_like_reading_over_http() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let (viewer, _) = server.token(Role::Viewer).await;
    let (developer, _) = server.token(Role::Developer).await;
    let mut socket = Channel::connect(server.addr, &viewer).await;
    for topic in [
        "catalog",
        "entity:component:default/web",
        "environment:production",
        "deployments",
        "health",
        "approvals",
    ] {
        assert_eq!(
            socket.join(topic, json!({})).await["status"],
            "ok",
            "{topic}"
        );
    }
    let refused = socket.join("task:42", json!({})).await;
    assert_eq!(
        refused,
        json!({"status": "error", "response": {"reason": "task:42 needs the developer role"}})
    );
    let refused = socket.join("user:someone-else", json!({})).await;
    assert_eq!(refused["status"], "error");
    // One socket follows a bounded number of topics.
    for i in 0..(portico_server::events::socket::MAX_TOPICS - 6) {
        let topic = format!("environment:env-{i}");
        assert_eq!(socket.join(&topic, json!({})).await["status"], "ok");
    }
    let refused = socket.join("environment:one-too-many", json!({})).await;
    assert!(
        refused["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("leave one first"),
        "{refused}"
    );
    let mut socket = Channel::connect(server.addr, &developer).await;
    assert_eq!(socket.join("task:42", json!({})).await["status"], "ok");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_rejoin_with_since_gets_exactly_what_it_missed() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        let (token, _) = server.token(Role::Viewer).await;
        let topic = "entity:component:default/web";

        let mut socket = Channel::connect(server.addr, &token).await;
        assert_eq!(socket.join(topic, json!({})).await["status"], "ok");
        let first = record(&server, topic, 2).await;
        let seen = ids(&socket.events(topic, 2).await);
        assert_eq!(seen, first);
        socket.close().await;

        // Missed while away: three on the topic, others elsewhere.
        let missed = record(&server, topic, 3).await;
        record(&server, "catalog", 2).await;

        let mut socket = Channel::connect(server.addr, &token).await;
        let reply = socket.join(topic, json!({"since": seen[1]})).await;
        assert_eq!(reply["status"], "ok");
        assert_eq!(reply["response"]["replayed"], 3);
        assert_eq!(ids(&socket.events(topic, 3).await), missed);
        // Then live events, with no duplicate of the replay.
        let live = record(&server, topic, 1).await;
        assert_eq!(ids(&socket.events(topic, 1).await), live);
        assert!(socket.quiet(topic, Duration::from_millis(300)).await);
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn replay_survives_a_server_restart() {
    for db in databases().await {
        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        let (token, _) = server.token(Role::Viewer).await;
        let mut socket = Channel::connect(server.addr, &token).await;
        socket.join("health", json!({})).await;
        let before = record(&server, "health", 1).await;
        assert_eq!(ids(&socket.events("health", 1).await), before);
        // Written while no server runs the live channel: the next one replays it.
        let missed = record(&server, "health", 2).await;
        server.stop().await.unwrap();
        let close = socket.closed().await.expect("a close frame");
        assert_eq!(u16::from(close.code), 1012, "service restart");

        let server = TestServer::start(&db.url, false).await;
        server.wait_for_readyz(200).await;
        let mut socket = Channel::connect(server.addr, &token).await;
        let reply = socket.join("health", json!({"since": before[0]})).await;
        assert_eq!(reply["response"]["replayed"], 2, "{reply}");
        assert_eq!(ids(&socket.events("health", 2).await), missed);
        let live = record(&server, "health", 1).await;
        assert_eq!(ids(&socket.events("health", 1).await), live);
        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_resync() {
    let db = &databases().await[0];
    let server = TestServer::start_with(&db.url, |config| config.channels.replay_window = 5).await;
    server.wait_for_readyz(200).await;
    let (token, _) = server.token(Role::Viewer).await;
    let ids = record(&server, "deployments", 8).await;
    // Events committed but not yet sent out when a socket joins reach it live (they are
    // news to it): wait until the hub has sent these, so that only the join's own
    // answer is tested.
    let mut probe = Channel::connect(server.addr, &token).await;
    until_sent_out(&mut probe, ids[7]).await;
    let mut socket = Channel::connect(server.addr, &token).await;
    let reply = socket
        .join("deployments", json!({"since": ids[0] - 1}))
        .await;
    assert_eq!(reply["status"], "ok");
    assert_eq!(reply["response"]["resync"], true);
    assert!(
        socket
            .quiet("deployments", Duration::from_millis(300))
            .await,
        "nothing replayed"
    );
    // Within the window: replayed.
    let reply = socket.join("deployments", json!({"since": ids[3]})).await;
    assert_eq!(reply["response"]["replayed"], 4);
    // Live events still arrive after a resync.
    let live = record(&server, "deployments", 1).await;
    let events = socket.events("deployments", 5).await;
    assert_eq!(events[4][4]["id"], live[0]);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_slow_consumer_is_closed_and_never_holds_back_the_others() {
    let db = &databases().await[0];
    let server = TestServer::start_with(&db.url, |config| config.channels.queue = 32).await;
    server.wait_for_readyz(200).await;
    let (token, _) = server.token(Role::Viewer).await;
    // One client that never reads (and whose receive buffer is tiny) and one that does.
    let mut slow = Channel::connect_small_buffer(server.addr, &token).await;
    assert_eq!(slow.join("catalog", json!({})).await["status"], "ok");
    let mut fast = Channel::connect(server.addr, &token).await;
    assert_eq!(fast.join("catalog", json!({})).await["status"], "ok");

    // Enough bytes to fill the kernel's buffers and the slow socket's queue, in
    // bursts the reading client keeps up with.
    for _ in 0..40 {
        let recorded = record_sized(&server, "catalog", 25, 16 * 1024).await;
        let received = ids(&fast.events("catalog", recorded.len()).await);
        assert_eq!(
            received, recorded,
            "the reading client gets everything, in order"
        );
    }

    let close = slow.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4002);
    assert!(close.reason.contains("too slow"), "{}", close.reason);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("portico_channel_closed_total{reason=\"slow\"} 1"),
        "{metrics}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_token_closes_its_sockets() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let (token, id) = server.token_with_id(Role::Viewer).await;
    let (other, _) = server.token(Role::Viewer).await;
    let mut socket = Channel::connect(server.addr, &token).await;
    socket.join("catalog", json!({})).await;
    let mut unaffected = Channel::connect(server.addr, &other).await;
    unaffected.join("catalog", json!({})).await;

    let revoked = server
        .client
        .delete(server.url(&format!("/api/admin/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let close = socket.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4001);
    // Reconnecting with it is refused; the other token's socket still works.
    assert_eq!(
        Channel::open(socket_url(server.addr, &token)).await.err(),
        Some(401)
    );
    let live = record(&server, "catalog", 1).await;
    assert_eq!(ids(&unaffected.events("catalog", 1).await), live);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_idle_socket_is_closed() {
    let db = &databases().await[0];
    let server = TestServer::start_with(&db.url, |config| {
        config.channels.idle = Duration::from_millis(500)
    })
    .await;
    server.wait_for_readyz(200).await;
    let (token, _) = server.token(Role::Viewer).await;
    let mut socket = Channel::connect(server.addr, &token).await;
    // Heartbeats keep it open past the limit...
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let reference = socket.push(None, "phoenix", "heartbeat", json!({})).await;
        socket.reply(&reference).await;
    }
    // ...silence closes it.
    let close = socket.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4000);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn presence_shows_one_entry_per_person_and_one_meta_per_tab() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let (alice, _) = server.token(Role::Viewer).await;
    let (bob, _) = server.token(Role::Viewer).await;
    let topic = "entity:component:default/web";
    let mut first_tab = Channel::connect(server.addr, &alice).await;
    assert_eq!(first_tab.join(topic, json!({})).await["status"], "ok");
    let state = first_tab.find(|f| f[3] == "presence_state").await;
    assert_eq!(state[4].as_object().unwrap().len(), 1);

    let mut second_tab = Channel::connect(server.addr, &alice).await;
    second_tab.join(topic, json!({})).await;
    let state = second_tab.find(|f| f[3] == "presence_state").await;
    let people = state[4].as_object().unwrap();
    assert_eq!(people.len(), 1, "one entry per person: {state}");
    let metas = people.values().next().unwrap()["metas"].as_array().unwrap();
    assert_eq!(metas.len(), 2, "one meta per tab: {state}");

    let mut other = Channel::connect(server.addr, &bob).await;
    other.join(topic, json!({})).await;
    let state = other.find(|f| f[3] == "presence_state").await;
    assert_eq!(state[4].as_object().unwrap().len(), 2);
    // The first tab is told of the other person's join (joins arriving together come
    // as one diff), then of their leave.
    let alice_key = people.keys().next().unwrap().clone();
    first_tab
        .find(|f| {
            f[3] == "presence_diff"
                && f[4]["joins"]
                    .as_object()
                    .is_some_and(|j| j.keys().any(|k| *k != alice_key))
        })
        .await;
    other.close().await;
    let left = first_tab
        .find(|f| f[3] == "presence_diff" && !f[4]["leaves"].as_object().unwrap().is_empty())
        .await;
    assert_eq!(left[4]["leaves"].as_object().unwrap().len(), 1);
    // Topics that are not pages get no presence.
    let reply = first_tab.join("catalog", json!({})).await;
    assert_eq!(reply["status"], "ok");
    assert!(first_tab.quiet("catalog", Duration::from_millis(200)).await);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_browser_session_opens_a_socket_and_signing_out_closes_it() {
    let db = &databases().await[0];
    let server = TestServer::start(&db.url, false).await;
    server.wait_for_readyz(200).await;
    let origin = format!("http://{}", server.addr);
    let signed_in = server
        .anonymous
        .post(server.url("/auth/demo"))
        .header("origin", &origin)
        .form(&[("person", "karen.sparck-jones"), ("return_to", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let request = |origin: &str| {
        let mut request = format!("ws://{}/socket/websocket?vsn=2.0.0", server.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        request
    };
    // The same cookie from another site's page is refused.
    assert_eq!(
        Channel::open_request(request("http://evil.test"))
            .await
            .err(),
        Some(403)
    );
    let mut socket = Channel::open_request(request(&origin)).await.unwrap();
    assert_eq!(socket.join("health", json!({})).await["status"], "ok");

    let signed_out = server
        .anonymous
        .post(server.url("/auth/logout"))
        .header("origin", &origin)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_redirection());
    let close = socket.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4001);
    assert_eq!(
        Channel::open_request(request(&origin)).await.err(),
        Some(401)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let db = &databases().await[0];
    let server = TestServer::start_with(&db.url, |config| {
        config.channels.write_timeout = Duration::from_millis(500)
    })
    .await;
    server.wait_for_readyz(200).await;
    let (token, _) = server.token(Role::Viewer).await;
    let mut stuck = Channel::connect_small_buffer(server.addr, &token).await;
    assert_eq!(stuck.join("catalog", json!({})).await["status"], "ok");
    // More bytes than the kernel buffers hold, fewer frames than the queue: writes
    // stall, the queue never fills, and only the write limit notices.
    record_sized(&server, "catalog", 600, 16 * 1024).await;
    let mut dropped = false;
    for _ in 0..200 {
        let metrics = server.get("/metrics").await.text().await.unwrap();
        if metrics.contains("portico_channel_closed_total{reason=\"slow\"} 1")
            && metrics.contains("portico_channel_sockets 0")
        {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dropped, "the stalled socket was dropped and forgotten");
    server.stop().await.unwrap();
}
