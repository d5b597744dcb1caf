//! The event log on both backends: append, order, read-since, transactions, the bus.

use portico_core::backend_tests;
use portico_core::demo::{self, SeedOutcome};
use portico_core::events::{EventError, Events, NewEvent, Replay};
use portico_core::testing::TestDb;
use portico_core::Portal;
use serde_json::json;

backend_tests!(
    recorded_events_come_back_in_order,
    read_since_filters_by_topic_and_limits,
    an_event_in_a_rolled_back_transaction_never_existed,
    invalid_events_are_refused_and_nothing_is_written,
    subscribers_receive_committed_events,
    the_feed_publishes_in_log_order_even_when_nobody_announced,
    a_second_portal_on_the_database_receives_the_same_events,
    replay_returns_what_a_topic_missed_or_asks_for_a_resync,
    concurrent_appends_commit_in_id_order,
    demo_data_is_seeded_once_and_never_into_a_used_database,
    migrations_are_reported_applied,
);

fn portal(t: &TestDb) -> Portal {
    Portal::with_database(t.db.clone())
}

async fn recorded_events_come_back_in_order(t: &TestDb) {
    let events = portal(t).events();
    assert_eq!(events.head().await.unwrap().last_id, None);
    let first = events
        .record(NewEvent::new("catalog", "entity.upserted", json!({"n": 1})))
        .await
        .unwrap();
    let second = events
        .record(NewEvent::new(
            "deployments",
            "deployment.reported",
            json!({"n": 2}),
        ))
        .await
        .unwrap();
    assert!(second.id > first.id);

    let all = events.read_since(0, None, 100).await.unwrap();
    assert_eq!(all, vec![first.clone(), second.clone()]);
    assert_eq!(
        events.read_since(first.id, None, 100).await.unwrap(),
        vec![second.clone()]
    );
    assert!(events
        .read_since(second.id, None, 100)
        .await
        .unwrap()
        .is_empty());

    let head = events.head().await.unwrap();
    assert_eq!((head.last_id, head.count), (Some(second.id), 2));
}

async fn read_since_filters_by_topic_and_limits(t: &TestDb) {
    let events = portal(t).events();
    for i in 0..5 {
        let topic = if i % 2 == 0 { "health" } else { "catalog" };
        events
            .record(NewEvent::new(topic, "x.changed", json!({ "i": i })))
            .await
            .unwrap();
    }
    let health = events.read_since(0, Some("health"), 100).await.unwrap();
    let seen: Vec<i64> = health
        .iter()
        .map(|e| e.payload["i"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, vec![0, 2, 4]);

    let page = events.read_since(0, None, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let rest = events.read_since(page[1].id, None, 100).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(events
        .read_since(0, Some("nothing-here"), 100)
        .await
        .unwrap()
        .is_empty());
}

async fn an_event_in_a_rolled_back_transaction_never_existed(t: &TestDb) {
    let portal = portal(t);
    let events = portal.events();
    let mut rx = events.subscribe();
    let mut tx = portal.db().pool().begin().await.unwrap();
    let appended = events
        .append(
            &mut tx,
            &NewEvent::new("catalog", "entity.upserted", json!({})),
        )
        .await
        .unwrap();
    assert!(appended.id > 0);
    tx.rollback().await.unwrap();

    assert!(events.read_since(0, None, 100).await.unwrap().is_empty());
    assert!(
        rx.try_recv().is_err(),
        "nothing is published before a commit"
    );
}

async fn invalid_events_are_refused_and_nothing_is_written(t: &TestDb) {
    let events = portal(t).events();
    let err = events
        .record(NewEvent::new("has space", "entity.upserted", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EventError::Invalid { field: "topic", .. }),
        "{err:?}"
    );
    assert_eq!(events.head().await.unwrap().count, 0);
}

/// Starts publishing the log on the bus, as the server does at start.
async fn start_feed(events: &Events) {
    let feed = events.feed();
    feed.prepare().await.unwrap();
    tokio::spawn(feed.run());
}

async fn receive(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<portico_core::events::Event>>,
) -> portico_core::events::Event {
    let received = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .unwrap();
    (*received).clone()
}

async fn subscribers_receive_committed_events(t: &TestDb) {
    let events = portal(t).events();
    start_feed(&events).await;
    let mut rx = events.subscribe();
    let recorded = events
        .record(NewEvent::new(
            "health",
            "health.changed",
            json!({"status": "down"}),
        ))
        .await
        .unwrap();
    assert_eq!(receive(&mut rx).await, recorded);
}

async fn the_feed_publishes_in_log_order_even_when_nobody_announced(t: &TestDb) {
    let portal = portal(t);
    let events = portal.events();
    start_feed(&events).await;
    let mut rx = events.subscribe();
    // Appended and committed, but the writer never announces it (as when a request is
    // cancelled between its commit and its announcement): the next announcement, or the
    // feed's own polling, still delivers it, before what came after it.
    let mut tx = portal.db().pool().begin().await.unwrap();
    let silent = events
        .append(&mut tx, &NewEvent::new("catalog", "a", json!({})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let announced = events
        .record(NewEvent::new("catalog", "b", json!({})))
        .await
        .unwrap();
    assert_eq!(receive(&mut rx).await, silent);
    assert_eq!(receive(&mut rx).await, announced);
}

async fn a_second_portal_on_the_database_receives_the_same_events(t: &TestDb) {
    if t.db.backend() != portico_core::storage::Backend::Postgres {
        return; // SQLite serves one process
    }
    // Another replica: its own pool, bus and feed on the same database.
    let other = Portal::open(&t.url).unwrap();
    let theirs = other.events();
    start_feed(&theirs).await;
    let mut their_rx = theirs.subscribe();
    let ours = portal(t).events();
    let recorded = ours
        .record(NewEvent::new("health", "health.changed", json!({"n": 1})))
        .await
        .unwrap();
    assert_eq!(receive(&mut their_rx).await, recorded);
}

async fn replay_returns_what_a_topic_missed_or_asks_for_a_resync(t: &TestDb) {
    let events = portal(t).events();
    let mut on_topic = Vec::new();
    for i in 0..6 {
        let topic = if i % 2 == 0 {
            "entity:component:default/web"
        } else {
            "catalog"
        };
        let event = events
            .record(NewEvent::new(topic, "entity.updated", json!({ "i": i })))
            .await
            .unwrap();
        if i % 2 == 0 {
            on_topic.push(event);
        }
    }
    let topic = "entity:component:default/web";
    assert_eq!(
        events.replay(topic, on_topic[0].id, 10).await.unwrap(),
        Replay::Missed(on_topic[1..].to_vec())
    );
    let head = events.head().await.unwrap().last_id.unwrap();
    assert_eq!(
        events.replay(topic, head, 10).await.unwrap(),
        Replay::Missed(vec![])
    );
    // Exactly the window is fine; one more is too far behind.
    assert_eq!(
        events.replay(topic, 0, 3).await.unwrap(),
        Replay::Missed(on_topic.clone())
    );
    assert_eq!(
        events.replay(topic, 0, 2).await.unwrap(),
        Replay::TooFarBehind
    );
    // A position the log never reached: another database, or one that was reset.
    assert_eq!(
        events.replay(topic, head + 100, 10).await.unwrap(),
        Replay::TooFarBehind
    );
}

async fn concurrent_appends_commit_in_id_order(t: &TestDb) {
    // Many writers at once: whatever order they commit in, a reader that has seen id N
    // must never later find an id below N appear.
    let events = portal(t).events();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let events = events.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    events
                        .record(NewEvent::new("catalog", "x", json!({ "w": w, "i": i })))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut last_seen = 0;
    let mut seen = 0;
    while seen < 80 {
        let batch = events.read_since(last_seen, None, 1000).await.unwrap();
        for event in batch {
            assert!(event.id > last_seen);
            last_seen = event.id;
            seen += 1;
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let all = events.read_since(0, None, 1000).await.unwrap();
    assert_eq!(all.len(), 80);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
}

async fn demo_data_is_seeded_once_and_never_into_a_used_database(t: &TestDb) {
    let portal = portal(t);
    assert_eq!(demo::seed(&portal).await.unwrap(), SeedOutcome::Seeded);
    let catalog = portal.catalog().count().await.unwrap();
    assert!(catalog > 100, "{catalog}");
    assert_eq!(
        demo::seed(&portal).await.unwrap(),
        SeedOutcome::AlreadySeeded
    );
    assert_eq!(portal.catalog().count().await.unwrap(), catalog);
    let seeded = portal
        .events()
        .read_since(0, Some("portal"), 10)
        .await
        .unwrap();
    assert_eq!(seeded.len(), 1);
    assert_eq!(seeded[0].event_type, "demo.seeded");
    let web = portico_core::catalog::EntityRef::new("Component", "default", "web-shop");
    let web = portal.catalog().entity(&web).await.unwrap().unwrap();
    assert!(web
        .relations
        .contains(&("ownedBy".into(), "group:default/storefront".into())));

    // A database with a catalog of its own gets no demo data.
    let used = TestDb::new(t.db.backend()).await.unwrap();
    let used_portal = Portal::with_database(used.db.clone());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(&file, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: ours\nspec:\n  type: team\n  children: []\n").unwrap();
    let read = portico_core::catalog::reader::read_location(&file);
    used_portal
        .catalog()
        .ingest("file:ours", read)
        .await
        .unwrap();
    assert_eq!(
        demo::seed(&used_portal).await.unwrap(),
        SeedOutcome::NotEmpty
    );
    assert_eq!(used_portal.catalog().count().await.unwrap(), 1);
    used.cleanup().await;
}

async fn migrations_are_reported_applied(t: &TestDb) {
    let state = t.db.migration_state().await.unwrap();
    assert!(!state.migrations.is_empty());
    assert!(state.is_complete());
    assert!(t.db.readiness().await.is_ready());
}

/// A database nobody migrated answers, but is not ready; migrating makes it ready.
#[tokio::test]
async fn an_unmigrated_database_is_not_ready_until_migrated() {
    for backend in [
        portico_core::storage::Backend::Sqlite,
        portico_core::storage::Backend::Postgres,
    ] {
        let Some(t) = TestDb::new_unmigrated(backend).await else {
            continue;
        };
        let readiness = t.db.readiness().await;
        assert!(!readiness.is_ready());
        assert!(
            readiness.describe().starts_with("migrations not applied"),
            "{}",
            readiness.describe()
        );
        t.db.migrate().await.unwrap();
        t.db.migrate().await.unwrap(); // a second run is a no-op
        assert!(t.db.readiness().await.is_ready());
        t.cleanup().await;
    }
}

/// A database that cannot be reached is reported, with no credentials in the reason.
#[tokio::test]
async fn an_unreachable_database_is_reported_without_secrets() {
    // Port 9 (discard) on loopback: nothing listens there.
    let db = portico_core::storage::Database::connect_lazy(
        "postgres://portico:hunter2@127.0.0.1:9/portico",
    )
    .unwrap();
    let readiness = db.readiness().await;
    assert!(!readiness.is_ready());
    let reason = readiness.describe();
    assert!(reason.starts_with("database unavailable"), "{reason}");
    assert!(!reason.contains("hunter2"), "{reason}");
}

/// Bulk appends keep order and ids, and roll back with their transaction.
#[tokio::test]
async fn bulk_appends_are_ordered_on_both_backends() {
    for backend in [
        portico_core::storage::Backend::Sqlite,
        portico_core::storage::Backend::Postgres,
    ] {
        let Some(t) = TestDb::new(backend).await else {
            continue;
        };
        let portal = Portal::with_database(t.db.clone());
        let events = portal.events();
        let batch: Vec<NewEvent> = (0..450)
            .map(|i| NewEvent::new("catalog", "x", json!({ "i": i })))
            .collect();
        let mut tx = portal.db().pool().begin().await.unwrap();
        let appended = events.append_all(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(appended.len(), 450);
        let stored = events.read_since(0, None, 1000).await.unwrap();
        assert_eq!(stored, appended);
        assert!(stored.iter().enumerate().all(|(i, e)| e.payload["i"] == i));
        t.cleanup().await;
    }
}
