//! Two `portico` processes on one PostgreSQL database: an event committed by either
//! reaches the sockets of both; one of them runs the health probes, and the other takes
//! over when it goes away.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portico_core::storage::Backend;
use portico_core::testing::TestDb;
use serde_json::{json, Value};
use support::channel::Channel;
use support::client_with_token;

/// A `portico serve` process, killed when dropped.
struct Replica {
    addr: SocketAddr,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn portico(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portico"));
    command
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTICO_CONFIG");
    command
}

async fn start(db: &TestDb, roots: &std::path::Path) -> Replica {
    let addr = free_addr();
    let child = portico(db)
        .args(["serve", "--addr", &addr.to_string()])
        .env("PORTICO_CATALOG_ROOTS", roots)
        .env("PORTICO_ENVIRONMENTS", "production")
        .stdout(Stdio::null())
        .spawn()
        .expect("portico serve starts");
    let replica = Replica { addr, child };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("http://{addr}/readyz")).send().await {
            if response.status() == 200 {
                return replica;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("replica on {addr} never became ready");
}

fn entities(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The names in a presence state or a diff's joins or leaves.
fn names(entries: &Value) -> Vec<String> {
    entries
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, entry)| entry["metas"].as_array().cloned().unwrap_or_default())
        .filter_map(|meta| meta["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn every_replica_delivers_every_event() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        eprintln!("skipping: TEST_DATABASE_URL is not set");
        return;
    };
    let roots = tempfile::tempdir().unwrap();
    let a = start(&db, roots.path()).await;
    let b = start(&db, roots.path()).await;
    let created = portico(&db)
        .args(["token", "create", "--name", "replicas", "--role", "admin"])
        .output()
        .unwrap();
    assert!(created.status.success());
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();

    let mut on_a = Channel::connect(a.addr, &token).await;
    let mut on_b = Channel::connect(b.addr, &token).await;
    assert_eq!(on_a.join("catalog", json!({})).await["status"], "ok");
    assert_eq!(on_b.join("catalog", json!({})).await["status"], "ok");

    // A change through replica A.
    let file = roots.path().join("catalog-info.yaml");
    std::fs::write(&file, entities(&["alpha", "beta", "gamma"])).unwrap();
    let client = client_with_token(&token);
    let registered = client
        .post(format!("http://{}/api/catalog/locations", a.addr))
        .json(&json!({"type": "file", "target": file}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201, "{:?}", registered.text().await);

    let from_a: Vec<Value> = on_a.events("catalog", 3).await;
    let from_b: Vec<Value> = on_b.events("catalog", 3).await;
    let refs = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e[4]["ref"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(refs(&from_b), refs(&from_a), "same events, same order");
    assert_eq!(
        from_b.iter().map(|e| &e[4]["id"]).collect::<Vec<_>>(),
        from_a.iter().map(|e| &e[4]["id"]).collect::<Vec<_>>()
    );

    // A change through replica B reaches A.
    let uid = from_a[0][4]["uid"].as_str().unwrap().to_owned();
    let deleted = client
        .delete(format!(
            "http://{}/api/catalog/entities/by-uid/{uid}",
            b.addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let event = on_a.event("catalog").await;
    assert_eq!(event[3], "entity.deleted");
    assert_eq!(event[4]["uid"], uid.as_str());
    let event = on_b.event("catalog").await;
    assert_eq!(event[3], "entity.deleted");
    // Exactly once on each.
    assert!(on_a.quiet("catalog", Duration::from_millis(500)).await);
    assert!(on_b.quiet("catalog", Duration::from_millis(500)).await);

    // Presence: people on the same page through different replicas see each other.
    let created = portico(&db)
        .args(["token", "create", "--name", "visitor", "--role", "viewer"])
        .output()
        .unwrap();
    let visitor = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let topic = "entity:component:default/beta";
    let mut here = Channel::connect(a.addr, &token).await;
    assert_eq!(here.join(topic, json!({})).await["status"], "ok");
    let mut there = Channel::connect(b.addr, &visitor).await;
    assert_eq!(there.join(topic, json!({})).await["status"], "ok");
    // B's socket learns of A's person (in its presence_state, or in a diff just after).
    there
        .find(|f| {
            (f[3] == "presence_state" && names(&f[4]).contains(&"replicas".to_owned()))
                || (f[3] == "presence_diff"
                    && names(&f[4]["joins"]).contains(&"replicas".to_owned()))
        })
        .await;
    // A's socket sees the visitor come, and go.
    here.find(|f| f[3] == "presence_diff" && names(&f[4]["joins"]).contains(&"visitor".to_owned()))
        .await;
    there.close().await;
    here.find(|f| {
        f[3] == "presence_diff" && names(&f[4]["leaves"]).contains(&"visitor".to_owned())
    })
    .await;

    // A token revoked from the command line (a third process) closes its sockets on
    // every replica at once, not at the next periodic check.
    let created = portico(&db)
        .args(["token", "create", "--name", "doomed", "--role", "viewer"])
        .output()
        .unwrap();
    let doomed = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let mut doomed_on_b = Channel::connect(b.addr, &doomed).await;
    assert_eq!(doomed_on_b.join("health", json!({})).await["status"], "ok");
    let listed = client
        .get(format!("http://{}/api/admin/tokens", a.addr))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let id = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "doomed")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .unwrap();
    let revoked = portico(&db)
        .args(["token", "revoke", &id])
        .output()
        .unwrap();
    assert!(revoked.status.success(), "{revoked:?}");
    let started = std::time::Instant::now();
    let close = doomed_on_b.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4001);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed by the announcement, not by the 10 s periodic check"
    );

    drop((a, b));
    db.cleanup().await;
}

/// A health endpoint that counts the checks it answers.
async fn counted_health_endpoint() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let count = std::sync::Arc::new(AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&count);
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let counter = std::sync::Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, count)
}

/// How many probes a replica schedules (the gauge only the probing instance sets).
async fn probes_scheduled(client: &reqwest::Client, replica: &Replica) -> u64 {
    let text = client
        .get(format!("http://{}/metrics", replica.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("portico_health_probes "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn one_replica_probes_and_another_takes_over_when_it_stops() {
    use std::sync::atomic::Ordering;
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let (target, checks) = counted_health_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: probed\n  annotations:\n    portico.dev/health-url.production: http://{target}/healthz\n    portico.dev/health-interval: 1s\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team\n"
        ),
    )
    .unwrap();
    let a = start(&db, dir.path()).await;
    let b = start(&db, dir.path()).await;
    let created = portico(&db)
        .args(["token", "create", "--name", "prober", "--role", "admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let client = client_with_token(&token);
    let registered = client
        .post(format!("http://{}/api/catalog/locations", a.addr))
        .json(&json!({"type": "file", "target": file}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    // Probing starts; then, over four seconds, checks come from one instance only.
    for _ in 0..100 {
        if checks.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = checks.load(Ordering::SeqCst);
    assert!(before >= 2, "the probe never ran");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let made = checks.load(Ordering::SeqCst) - before;
    assert!(
        (2..=6).contains(&made),
        "{made} checks in 4 s at a 1 s interval"
    );
    let (on_a, on_b) = (
        probes_scheduled(&client, &a).await,
        probes_scheduled(&client, &b).await,
    );
    assert_eq!(
        on_a + on_b,
        1,
        "exactly one instance schedules the probe ({on_a}, {on_b})"
    );

    // The prober stops: the other takes over and the checks go on.
    let survivor = if on_a == 1 {
        drop(a);
        b
    } else {
        drop(b);
        a
    };
    let mut taken_over = false;
    for _ in 0..150 {
        if probes_scheduled(&client, &survivor).await == 1 {
            taken_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(taken_over, "no instance took the probes over");
    let resumed = checks.load(Ordering::SeqCst);
    for _ in 0..50 {
        if checks.load(Ordering::SeqCst) > resumed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        checks.load(Ordering::SeqCst) > resumed,
        "the survivor never checked"
    );
    drop(survivor);
    db.cleanup().await;
}
