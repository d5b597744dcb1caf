//! Identity on both backends: sign-in with role mapping and catalog linking, API tokens,
//! the audit log and session records.

use portico_core::backend_tests;
use portico_core::catalog::reader::read_location;
use portico_core::identity::{
    AuditFilter, IdentityError, NewToken, PrincipalKind, Role, RoleMapping, SignIn, TokenRefused,
};
use portico_core::testing::{backstage_examples, TestDb};
use portico_core::{Portal, Settings};

backend_tests!(
    sign_in_maps_groups_to_roles_and_links_the_catalog_user,
    tokens_are_shown_once_and_stop_working_when_revoked_or_expired,
    the_audit_log_filters_and_pages_newest_first,
    sessions_are_kept_until_they_expire,
);

fn portal(t: &TestDb) -> Portal {
    Portal::with_database(t.db.clone()).with_settings(Settings {
        roles: RoleMapping {
            admin_groups: vec!["platform-admins".into()],
            sre_groups: vec!["sre".into()],
            developer_groups: vec!["engineering".into()],
            default: Role::Viewer,
        },
        ..Settings::default()
    })
}

fn person(subject: &str, username: &str, email: Option<&str>, groups: &[&str]) -> SignIn {
    SignIn {
        subject: subject.into(),
        username: username.into(),
        email: email.map(Into::into),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        role: None,
    }
}

async fn sign_in_maps_groups_to_roles_and_links_the_catalog_user(t: &TestDb) {
    let portal = portal(t);
    let org = backstage_examples().join("acme-corp.yaml");
    portal
        .catalog()
        .ingest(&format!("file:{}", org.display()), read_location(&org))
        .await
        .unwrap();
    let identity = portal.identity();

    // Linked by e-mail; owners from the catalog membership and from the SSO groups.
    let breanna = person(
        "https://idp.test#b1",
        "breanna",
        Some("Breanna-Davison@example.com"),
        &["engineering", "Payments"],
    );
    let principal = identity.sign_in(&breanna).await.unwrap();
    assert_eq!(principal.kind, PrincipalKind::User);
    assert_eq!(principal.role, Role::Developer);
    assert_eq!(
        principal.entity.as_deref(),
        Some("user:default/breanna.davison")
    );
    assert!(
        principal.owns("group:default/team-a"),
        "{:?}",
        principal.owners
    );
    assert!(principal.owns("group:default/payments"));
    assert!(principal.owns("user:default/breanna.davison"));
    assert!(!principal.owns("group:default/team-b"));

    // Linked by name when no e-mail matches; no link at all is fine.
    let janelle = person("https://idp.test#j1", "janelle.dawe", None, &[]);
    let principal = identity.sign_in(&janelle).await.unwrap();
    assert_eq!(principal.role, Role::Viewer);
    assert_eq!(
        principal.entity.as_deref(),
        Some("user:default/janelle.dawe")
    );
    let stranger = person("https://idp.test#s1", "stranger", None, &["sales"]);
    assert_eq!(identity.sign_in(&stranger).await.unwrap().entity, None);

    // The same subject signing in again is the same user; a new role is audited.
    let promoted = SignIn {
        groups: vec!["sre".into()],
        ..breanna.clone()
    };
    let again = identity.sign_in(&promoted).await.unwrap();
    assert_eq!(again.role, Role::Sre);
    let users = identity.users().await.unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0].name, "breanna");
    assert_eq!(users[0].role, Role::Sre);
    let (changes, _) = identity
        .audit_log(
            &AuditFilter {
                what: Some("role.change".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].target, "user:breanna");
    assert_eq!(changes[0].detail["from"], "developer");
    assert_eq!(changes[0].detail["to"], "sre");
}

async fn tokens_are_shown_once_and_stop_working_when_revoked_or_expired(t: &TestDb) {
    let identity = portal(t).identity();
    let new = NewToken {
        name: "ci-deploy".into(),
        role: Role::Developer,
        expires_in_days: Some(30),
    };
    let (token, secret) = identity.create_token(&new, "user:ada").await.unwrap();
    assert!(secret.starts_with("portico_"));
    assert_eq!(token.created_by, "user:ada");
    assert!(token.expires_at.unwrap() > token.created_at);

    let principal = identity.authenticate_token(&secret).await.unwrap().unwrap();
    assert_eq!(principal.kind, PrincipalKind::Token);
    assert_eq!(principal.name, "ci-deploy");
    assert_eq!(principal.role, Role::Developer);
    assert!(identity.tokens().await.unwrap()[0].last_used_at.is_some());

    // Names are unique among live tokens; bad input names the field.
    assert!(matches!(
        identity.create_token(&new, "user:ada").await,
        Err(IdentityError::Conflict(_))
    ));
    let bad = NewToken {
        name: "has space".into(),
        ..new.clone()
    };
    let err = identity.create_token(&bad, "user:ada").await.unwrap_err();
    assert!(err.to_string().starts_with("name: "), "{err}");
    let forever = NewToken {
        expires_in_days: Some(0),
        ..new.clone()
    };
    let err = identity
        .create_token(&forever, "user:ada")
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("expires: "), "{err}");

    // Revoked: refused at once, and the name is free again.
    identity.revoke_token(&token.id, "user:ada").await.unwrap();
    assert_eq!(
        identity.authenticate_token(&secret).await.unwrap(),
        Err(TokenRefused::Revoked("ci-deploy".into()))
    );
    identity.create_token(&new, "user:ada").await.unwrap();
    assert_eq!(
        identity.authenticate_token("portico_nope").await.unwrap(),
        Err(TokenRefused::Unknown)
    );
    assert!(matches!(
        identity.revoke_token("no-such-id", "user:ada").await,
        Err(IdentityError::NotFound(_))
    ));

    // Expired: a token whose time has passed (set in the past directly).
    let (old, old_secret) = identity
        .create_token(
            &NewToken {
                name: "old".into(),
                role: Role::Viewer,
                expires_in_days: Some(1),
            },
            "user:ada",
        )
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = $1")
        .bind(&old.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        identity.authenticate_token(&old_secret).await.unwrap(),
        Err(TokenRefused::Expired("old".into()))
    );

    // Every step is in the audit log; no secret is.
    let (entries, _) = identity
        .audit_log(
            &AuditFilter {
                what: Some("token".into()),
                ..AuditFilter::default()
            },
            50,
        )
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("token.use", "denied"),
            ("token.create", "ok"),
            ("token.use", "denied"),
            ("token.create", "ok"),
            ("token.use", "denied"),
            ("token.revoke", "ok"),
            ("token.create", "ok"),
        ]
    );
    let dump = serde_json::to_string(&entries).unwrap();
    assert!(!dump.contains(&secret) && !dump.contains(&old_secret));
}

async fn the_audit_log_filters_and_pages_newest_first(t: &TestDb) {
    let identity = portal(t).identity();
    for name in ["ada", "grace", "ada"] {
        identity
            .sign_in(&person(&format!("demo#{name}"), name, None, &[]))
            .await
            .unwrap();
    }
    identity
        .create_token(
            &NewToken {
                name: "bot".into(),
                role: Role::Viewer,
                expires_in_days: None,
            },
            "user:grace",
        )
        .await
        .unwrap();

    let (ada, next) = identity
        .audit_log(
            &AuditFilter {
                who: Some("ADA".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(ada.len(), 2);
    assert!(next.is_none());
    assert!(ada[0].id > ada[1].id, "newest first");

    let (first, next) = identity
        .audit_log(&AuditFilter::default(), 3)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].action, "token.create");
    let (rest, last) = identity
        .audit_log(
            &AuditFilter {
                before: next,
                ..AuditFilter::default()
            },
            3,
        )
        .await
        .unwrap();
    assert_eq!((rest.len(), last), (1, None));
    assert!(rest[0].id < first[2].id);

    // `what` matches a family, not a prefix of a word; `%` is no wildcard.
    let (signins, _) = identity
        .audit_log(
            &AuditFilter {
                what: Some("sign".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(signins.is_empty());
    let (none, _) = identity
        .audit_log(
            &AuditFilter {
                who: Some("%".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    let now = first[0].at;
    let (later, _) = identity
        .audit_log(
            &AuditFilter {
                since: Some(now + 60_000),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(later.is_empty());
}

async fn sessions_are_kept_until_they_expire(t: &TestDb) {
    let identity = portal(t).identity();
    assert!(identity
        .create_session("s1", "{\"a\":1}", 2_000)
        .await
        .unwrap());
    assert!(!identity.create_session("s1", "{}", 2_000).await.unwrap());
    assert_eq!(
        identity.load_session("s1", 1_000).await.unwrap().as_deref(),
        Some("{\"a\":1}")
    );
    identity
        .save_session("s1", "{\"a\":2}", 3_000)
        .await
        .unwrap();
    assert_eq!(
        identity.load_session("s1", 2_500).await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
    assert_eq!(identity.load_session("s1", 3_000).await.unwrap(), None);
    identity.save_session("s2", "{}", 10_000).await.unwrap();
    assert_eq!(identity.delete_expired_sessions(5_000).await.unwrap(), 1);
    identity.delete_session("s2").await.unwrap();
    assert_eq!(identity.load_session("s2", 0).await.unwrap(), None);
}
