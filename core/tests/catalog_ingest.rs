//! Ingesting catalog files on both backends: Backstage's examples, re-imports, edits,
//! orphans, conflicts, rejections and events.

use std::path::Path;

use portico_core::backend_tests;
use portico_core::catalog::query::{FullText, Query};
use portico_core::catalog::reader::read_location;
use portico_core::catalog::{Catalog, EntityRef, IngestSummary};
use portico_core::testing::TestDb;
use portico_core::Portal;

backend_tests!(
    backstage_examples_are_ingested_with_their_relations,
    an_unchanged_reimport_changes_nothing,
    edits_update_in_place_and_removed_entities_become_orphans,
    an_entity_managed_by_another_location_is_not_taken_over,
    an_invalid_file_is_rejected_and_stores_nothing,
    full_text_search_is_ranked_and_follows_edits_and_deletes,
);

use portico_core::testing::backstage_examples as examples;

async fn import(portal: &Portal, path: &Path) -> IngestSummary {
    let origin = format!("file:{}", path.display());
    portal
        .catalog()
        .ingest(&origin, read_location(path))
        .await
        .unwrap()
}

fn reference(kind: &str, namespace: &str, name: &str) -> EntityRef {
    EntityRef::new(kind, namespace, name)
}

async fn backstage_examples_are_ingested_with_their_relations(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let all = import(&portal, &examples().join("all.yaml")).await;
    let org = import(&portal, &examples().join("acme-corp.yaml")).await;
    assert_eq!((all.added, org.added), (36, 27));
    assert!(
        all.rejected.is_empty() && org.rejected.is_empty(),
        "{:?} {:?}",
        all.rejected,
        org.rejected
    );
    assert_eq!(portal.catalog().count().await.unwrap(), 63);

    let warnings: Vec<String> = all.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "all.yaml#1 location:default/example-all spec.targets[0]: ./all-ai-resources.yaml: target not found"
        )),
        "{warnings:#?}"
    );
    let remote: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("host \"github.com\" is not allowed for url locations"))
        .collect();
    assert_eq!(remote.len(), 3, "{warnings:#?}");

    // The APIs whose definition is remote are stored, with the problem in their status.
    let catalog = portal.catalog();
    let spotify = catalog
        .entity(&reference("API", "default", "spotify"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spotify.problems.len(), 1);
    assert!(
        spotify.problems[0].contains("spec.definition: $text https://"),
        "{:?}",
        spotify.problems
    );
    // A local placeholder is resolved into the entity.
    let webhook = catalog
        .entity(&reference("API", "default", "petstore-webhook"))
        .await
        .unwrap()
        .unwrap();
    assert!(webhook.body["spec"]["definition"]
        .as_str()
        .unwrap()
        .contains("webhooks"));
    assert!(webhook.problems.is_empty());

    // Names match ignoring case; relations are stored in both directions.
    let lookup = catalog
        .entity(&reference("COMPONENT", "Default", "Artist-Lookup"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.body["metadata"]["name"], "artist-lookup");
    assert_eq!(lookup.generation, 1);
    assert!(
        lookup.body["metadata"]["annotations"]["backstage.io/managed-by-location"]
            .as_str()
            .unwrap()
            .ends_with("components/artist-lookup-component.yaml")
    );
    assert!(lookup
        .relations
        .contains(&("ownedBy".into(), "group:default/team-a".into())));
    assert!(lookup.relations.contains(&(
        "partOf".into(),
        "system:default/artist-engagement-portal".into()
    )));

    let guest = catalog
        .entity(&reference("User", "development", "guest"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        guest.relations,
        vec![("memberOf".to_owned(), "group:default/team-a".to_owned())]
    );
    let team_a = catalog
        .entity(&reference("Group", "default", "team-a"))
        .await
        .unwrap()
        .unwrap();
    for expected in [
        ("hasMember", "user:development/guest"),
        ("hasMember", "user:default/breanna.davison"),
        ("childOf", "group:default/backstage"),
        ("ownerOf", "component:default/artist-lookup"),
    ] {
        assert!(
            team_a
                .relations
                .contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "team-a lacks {expected:?}: {:?}",
            team_a.relations
        );
    }

    // Two events per entity: `catalog` and `entity:<ref>`.
    let events = portal
        .events()
        .read_since(0, Some("catalog"), 1000)
        .await
        .unwrap();
    assert_eq!(events.len(), 63);
    let own = portal
        .events()
        .read_since(0, Some("entity:api:default/spotify"), 10)
        .await
        .unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].event_type, "entity.added");
}

async fn an_unchanged_reimport_changes_nothing(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    import(&portal, &examples().join("acme-corp.yaml")).await;
    let before = portal
        .catalog()
        .entity(&reference("Group", "default", "team-a"))
        .await
        .unwrap()
        .unwrap();
    let head = portal.events().head().await.unwrap();

    let again = import(&portal, &examples().join("acme-corp.yaml")).await;
    assert_eq!((again.added, again.updated, again.orphaned), (0, 0, 0));
    assert_eq!(again.unchanged, 27, "{again:?}");
    let after = portal
        .catalog()
        .entity(&reference("Group", "default", "team-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.uid, after.etag, after.generation),
        (before.uid, before.etag, before.generation)
    );
    assert_eq!(
        portal.events().head().await.unwrap(),
        head,
        "no change, no event"
    );
}

async fn edits_update_in_place_and_removed_entities_become_orphans(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    let write = |lifecycle: &str, description: &str, with_worker: bool| {
        let mut text = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  description: {description}\n\
             spec:\n  type: website\n  lifecycle: {lifecycle}\n  owner: team-a\n"
        );
        if with_worker {
            text.push_str(
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: worker\n\
                 spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
            );
        }
        std::fs::write(&file, text).unwrap();
    };
    let web = reference("Component", "default", "web");
    let catalog = portal.catalog();

    write("experimental", "first", true);
    assert_eq!(import(&portal, &file).await.added, 2);
    let first = catalog.entity(&web).await.unwrap().unwrap();

    // Metadata only: a new etag, the same generation.
    write("experimental", "second", true);
    let summary = import(&portal, &file).await;
    assert_eq!((summary.updated, summary.unchanged), (1, 1));
    let second = catalog.entity(&web).await.unwrap().unwrap();
    assert_eq!(second.uid, first.uid);
    assert_ne!(second.etag, first.etag);
    assert_eq!(second.generation, 1);
    assert_eq!(second.body["metadata"]["description"], "second");

    // The spec changed: the generation goes up.
    write("production", "second", true);
    import(&portal, &file).await;
    assert_eq!(catalog.entity(&web).await.unwrap().unwrap().generation, 2);

    // The worker disappears from the file: it becomes an orphan, still readable.
    write("production", "second", false);
    let summary = import(&portal, &file).await;
    assert_eq!((summary.orphaned, summary.unchanged), (1, 1));
    let worker = catalog
        .entity(&reference("Component", "default", "worker"))
        .await
        .unwrap()
        .unwrap();
    assert!(worker.orphan);
    assert_eq!(
        worker.body["metadata"]["annotations"]["backstage.io/orphan"],
        "true"
    );
    let events = portal
        .events()
        .read_since(0, Some("entity:component:default/worker"), 10)
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["entity.added", "entity.orphaned"]);

    // It comes back when the file lists it again.
    write("production", "second", true);
    let summary = import(&portal, &file).await;
    assert_eq!(summary.updated, 1);
    assert!(
        !catalog
            .entity(&reference("Component", "default", "worker"))
            .await
            .unwrap()
            .unwrap()
            .orphan
    );
}

async fn an_entity_managed_by_another_location_is_not_taken_over(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let dir = tempfile::tempdir().unwrap();
    let entity = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n";
    std::fs::write(dir.path().join("one.yaml"), entity).unwrap();
    std::fs::write(
        dir.path().join("two.yaml"),
        entity.replace("team\n", "squad\n"),
    )
    .unwrap();
    assert_eq!(import(&portal, &dir.path().join("one.yaml")).await.added, 1);
    let second = import(&portal, &dir.path().join("two.yaml")).await;
    assert_eq!(second.added + second.updated, 0);
    assert_eq!(second.rejected.len(), 1);
    let message = second.rejected[0].to_string();
    assert!(
        message.contains("group:default/team-a is already managed by file:"),
        "{message}"
    );
    assert!(message.contains("one.yaml"), "{message}");
    let stored = portal
        .catalog()
        .entity(&reference("Group", "default", "team-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.body["spec"]["type"], "team");
}

async fn an_invalid_file_is_rejected_and_stores_nothing(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let summary = import(
        &portal,
        &examples().join("components/invalid-component.yaml"),
    )
    .await;
    let rejected: Vec<String> = summary
        .rejected
        .iter()
        .map(|p| p.field.path.clone())
        .collect();
    assert_eq!(rejected, vec!["metadata.name", "metadata.tags[1]"]);
    assert_eq!(summary.added, 0);
    assert_eq!(portal.catalog().count().await.unwrap(), 0);
    assert_eq!(portal.events().head().await.unwrap().count, 0);
}

async fn full_text_search_is_ranked_and_follows_edits_and_deletes(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let catalog = portal.catalog();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog-info.yaml");
    let component = |name: &str, description: &str, tags: &str| {
        format!(
            "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  \
             description: {description}\n  tags: [{tags}]\nspec:\n  type: service\n  \
             lifecycle: production\n  owner: team-a\n"
        )
    };
    std::fs::write(
        &file,
        [
            component("billing", "Sends the searchable invoices", "finance"),
            component("ledger", "Books entries", "search"),
            component("search-gateway", "Routes queries", "edge"),
            component("mailer", "Sends mail", "email"),
        ]
        .concat(),
    )
    .unwrap();
    import(&portal, &file).await;
    // A name outranks a tag, a tag outranks the description; prefixes match.
    assert_eq!(
        search(&catalog, "sear").await,
        ["search-gateway", "ledger", "billing"]
    );
    // Every word must match, in any of the fields.
    assert_eq!(search(&catalog, "search route").await, ["search-gateway"]);
    assert_eq!(search(&catalog, "SENDS").await.len(), 2);
    assert!(search(&catalog, "nothing-like-this").await.is_empty());
    // Punctuation is not syntax.
    assert_eq!(
        search(&catalog, "\"gate*way\" OR (").await,
        Vec::<String>::new()
    );
    assert_eq!(search(&catalog, "gate\"").await, ["search-gateway"]);

    // An edit replaces the old text; a removed entity is no longer found.
    std::fs::write(
        &file,
        [
            component("billing", "Sends invoices", "finance"),
            component("ledger", "Books entries", "search"),
        ]
        .concat(),
    )
    .unwrap();
    import(&portal, &file).await;
    let gateway = catalog
        .entity(&reference("Component", "default", "search-gateway"))
        .await
        .unwrap()
        .unwrap();
    assert!(catalog.delete(&gateway.uid).await.unwrap());
    assert_eq!(search(&catalog, "sear").await, ["ledger"]);
    assert_eq!(search(&catalog, "invoices").await, ["billing"]);
}

/// The names of what a full-text search finds, best first.
async fn search(catalog: &Catalog, term: &str) -> Vec<String> {
    let query = Query {
        full_text: Some(FullText {
            term: term.into(),
            fields: vec![],
        }),
        limit: 10,
        ..Query::default()
    };
    let page = catalog.query(&query).await.unwrap();
    let names: Vec<String> = page
        .items
        .iter()
        .map(|e| e.body["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page.total as usize, names.len());
    names
}
