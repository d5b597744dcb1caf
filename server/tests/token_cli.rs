//! `portico token create|list|revoke`, run as operators run it.

use std::process::Command;

use portico_core::storage::Backend;
use portico_core::testing::TestDb;

fn portico(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTICO_CONFIG")
        .output()
        .expect("portico runs")
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_from_the_command_line() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let created = portico(
        &db,
        &[
            "token",
            "create",
            "--name",
            "ci-deploy",
            "--role",
            "developer",
            "--expires",
            "30",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let secret = String::from_utf8(created.stdout).unwrap();
    let secret = secret.trim();
    assert!(
        secret.starts_with("portico_") && !secret.contains('\n'),
        "only the secret on stdout: {secret:?}"
    );
    let note = String::from_utf8(created.stderr).unwrap();
    assert!(note.contains("printed once"), "{note}");

    let identity = portico_core::Portal::with_database(db.db.clone()).identity();
    let principal = identity.authenticate_token(secret).await.unwrap().unwrap();
    assert_eq!(principal.name, "ci-deploy");

    // The same name again, and a role that does not exist, are refused with the reason.
    let again = portico(
        &db,
        &["token", "create", "--name", "ci-deploy", "--role", "viewer"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already named"));
    let bad = portico(&db, &["token", "create", "--name", "x", "--role", "owner"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--role: \"owner\" is not a role"));

    let listed = String::from_utf8(portico(&db, &["token", "list"]).stdout).unwrap();
    assert!(!listed.contains(secret), "never the secret");
    let line = listed
        .lines()
        .find(|l| l.contains("ci-deploy"))
        .expect(&listed);
    assert!(
        line.contains("developer") && line.contains("expires"),
        "{line}"
    );
    let id = line.split_whitespace().next().unwrap();

    let revoked = portico(&db, &["token", "revoke", id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(identity.authenticate_token(secret).await.unwrap().is_err());
    let listed = String::from_utf8(portico(&db, &["token", "list"]).stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.contains("ci-deploy") && l.contains("revoked")),
        "{listed}"
    );
    let unknown = portico(&db, &["token", "revoke", "no-such-id"]);
    assert_eq!(unknown.status.code(), Some(1));
    db.cleanup().await;
}
