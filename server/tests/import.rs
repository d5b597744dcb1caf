//! `portico import`, run as the real binary on Backstage's example catalog.

use std::path::Path;
use std::process::Command;

use portico_core::testing::backstage_examples as examples;

fn portico(database: &Path, args: &[&Path]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portico"))
        .arg("import")
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .env("RUST_LOG", "warn")
        .env_remove("PORTICO_DATABASE_URL")
        .output()
        .expect("running portico")
}

#[test]
fn the_examples_import_with_a_summary_and_the_missing_target_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portico.db");
    let output = portico(
        &db,
        &[
            &examples().join("all.yaml"),
            &examples().join("acme-corp.yaml"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "all.yaml: 36 added, 0 updated, 0 unchanged, 0 orphaned, 0 rejected, 4 warnings"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "acme-corp.yaml: 27 added, 0 updated, 0 unchanged, 0 orphaned, 0 rejected, 0 warnings"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: all.yaml#1 location:default/example-all spec.targets[0]: ./all-ai-resources.yaml: target not found"),
        "{stderr}"
    );

    // A second run finds everything unchanged.
    let again = portico(&db, &[&examples().join("acme-corp.yaml")]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("27 unchanged"));
}

#[test]
fn an_invalid_file_exits_non_zero_naming_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let output = portico(
        &dir.path().join("portico.db"),
        &[&examples().join("components/invalid-component.yaml")],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: invalid-component.yaml#1 metadata.name: \"invalid component\" is not a valid name"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "error: invalid-component.yaml#1 metadata.tags[1]: \"go 1.15.3\" is not a valid tag"
        ),
        "{stderr}"
    );
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = portico(
        &dir.path().join("portico.db"),
        &[&dir.path().join("nope.yaml")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("nope.yaml: no such file or directory")
    );
}
