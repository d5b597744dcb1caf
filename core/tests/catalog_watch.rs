//! The catalog watcher: edited files are read again without anyone asking.

use std::path::Path;
use std::time::Duration;

use portico_core::backend_tests;
use portico_core::catalog::watch::CatalogWatcher;
use portico_core::catalog::{Catalog, EntityRef, StoredEntity};
use portico_core::testing::TestDb;
use portico_core::Portal;

backend_tests!(edited_and_newly_created_files_are_read_again);

fn component(name: &str, description: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: {description}\n\
         spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

/// Polls until `check` holds for the entity. The bound only stops a broken watcher from
/// hanging the suite; how fast changes arrive is measured by the benchmarks.
async fn eventually(catalog: &Catalog, name: &str, check: impl Fn(&StoredEntity) -> bool) {
    let reference = EntityRef::new("Component", "default", name);
    for _ in 0..200 {
        if let Some(entity) = catalog.entity(&reference).await.unwrap() {
            if check(&entity) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never reached the expected state");
}

fn write(path: &Path, text: &str) {
    // Like an editor: a new file renamed over the old one.
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

async fn edited_and_newly_created_files_are_read_again(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let catalog = portal.catalog();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("catalog-info.yaml");
    let location = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: team\nspec:\n  targets: [./web.yaml, ./later.yaml]\n";
    std::fs::write(&root, location).unwrap();
    write(&dir.path().join("web.yaml"), &component("web", "first"));
    catalog
        .register_location("file", &root.display().to_string())
        .await
        .unwrap();

    let watcher = tokio::spawn(CatalogWatcher::new(portal.catalog()).run());
    eventually(&catalog, "web", |e| {
        e.body["metadata"]["description"] == "first"
    })
    .await;

    write(&dir.path().join("web.yaml"), &component("web", "second"));
    eventually(&catalog, "web", |e| {
        e.body["metadata"]["description"] == "second"
    })
    .await;

    // A listed target that did not exist is read once it appears.
    write(&dir.path().join("later.yaml"), &component("later", "new"));
    eventually(&catalog, "later", |_| true).await;

    // The file a placeholder reads is watched too, in whichever directory it is.
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    write(&dir.path().join("docs/about.txt"), "from a file");
    write(
        &dir.path().join("web.yaml"),
        &component("web", "{$text: ./docs/about.txt}"),
    );
    eventually(&catalog, "web", |e| {
        e.body["metadata"]["description"] == "from a file"
    })
    .await;
    write(&dir.path().join("docs/about.txt"), "edited");
    eventually(&catalog, "web", |e| {
        e.body["metadata"]["description"] == "edited"
    })
    .await;

    watcher.abort();
}
