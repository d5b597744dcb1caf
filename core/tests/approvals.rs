//! Approvals on both backends: the four-eyes rule, who may decide, decisions racing for
//! one request (exactly one wins, also across two portals on one database), expiry,
//! cancelling, the long-poll a pipeline waits with, and the audit trail.

use std::time::Duration;

use portico_core::approvals::{
    Approval, ApprovalError, ApprovalFilter, ApprovalStatus, NewApproval, Verdict,
};
use portico_core::approvals::{ApprovalSettings, Webhook};
use portico_core::backend_tests;
use portico_core::catalog::reader::read_location;
use portico_core::identity::{AuditFilter, NewToken, Principal, PrincipalKind, Role, SignIn};
use portico_core::notifications::Marking;
use portico_core::testing::TestDb;
use portico_core::Portal;
use portico_core::Settings;
use serde_json::json;
use sqlx::Row;

backend_tests!(
    the_requester_never_approves_and_only_approvers_decide,
    groups_users_and_several_approvals,
    racing_decisions_move_a_request_once,
    a_request_expires_and_can_no_longer_be_approved,
    the_requester_cancels_and_a_waiting_pipeline_wakes,
    approvers_and_the_requester_are_told_in_the_app_and_on_webhooks,
);

fn user(name: &str, role: Role, owners: &[&str]) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: format!("id-{name}"),
        name: name.to_owned(),
        email: None,
        role,
        groups: Vec::new(),
        owners: owners.iter().map(|o| (*o).to_owned()).collect(),
        entity: Some(format!("user:default/{name}")),
    }
}

/// An API token of `role`, created by `creator`, as the principal it signs in as.
async fn token(portal: &Portal, name: &str, role: Role, creator: &str) -> Principal {
    let (token, _) = portal
        .identity()
        .create_token(
            &NewToken {
                name: name.to_owned(),
                role,
                expires_in_days: None,
            },
            creator,
        )
        .await
        .unwrap();
    Principal {
        kind: PrincipalKind::Token,
        id: token.id,
        name: token.name,
        email: None,
        role,
        groups: Vec::new(),
        owners: Vec::new(),
        entity: None,
    }
}

fn release(approvers: &[&str]) -> NewApproval {
    NewApproval {
        title: "Release payments 1.4.0 to production".into(),
        description: "Changes: **refunds** in one step.".into(),
        approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
        subject: Some(json!({"kind": "environment", "name": "production"})),
        context: Some(json!({"version": "1.4.0", "environment": "production"})),
        ..NewApproval::default()
    }
}

async fn audit_actions(portal: &Portal, approval: &Approval) -> Vec<(String, String, String)> {
    let (entries, _) = portal
        .identity()
        .audit_log(&AuditFilter::default(), 200)
        .await
        .unwrap();
    let target = format!("approval:{}", approval.id);
    let mut found: Vec<(String, String, String)> = entries
        .into_iter()
        .filter(|e| e.target == target)
        .map(|e| (e.actor, e.action, e.outcome))
        .collect();
    found.reverse();
    found
}

async fn the_requester_never_approves_and_only_approvers_decide(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let approvals = portal.approvals();
    let ci = token(&portal, "release-pipeline", Role::Admin, "user:root").await;
    let other_ci = token(&portal, "second-pipeline", Role::Admin, "user:root").await;
    let dev = user("dev", Role::Developer, &["group:default/payments"]);
    let grace = user("grace", Role::Admin, &[]);

    let asked = approvals
        .request(&ci, release(&["role:admin"]))
        .await
        .unwrap();
    assert_eq!(asked.status, ApprovalStatus::Pending);
    assert_eq!(asked.requested_by, "token:release-pipeline");
    assert_eq!(asked.context["version"], "1.4.0");

    // The token that asked and a developer may not; another admin may.
    for (who, expected) in [
        (&ci, "asked for this approval"),
        (&dev, "not among the approvers"),
    ] {
        let refused = approvals
            .decide(&asked.id, who, Verdict::Approve, None)
            .await
            .unwrap_err();
        match refused {
            ApprovalError::Forbidden(why) => assert!(why.contains(expected), "{why}"),
            other => panic!("{other:?}"),
        }
    }
    let approved = approvals
        .decide(
            &asked.id,
            &grace,
            Verdict::Approve,
            Some("Checked the runbook".into()),
        )
        .await
        .unwrap();
    assert_eq!(approved.status, ApprovalStatus::Approved);
    assert!(approved.decided_at.is_some());
    let read = approvals.get(&asked.id).await.unwrap();
    assert_eq!(read.decisions.len(), 1);
    assert_eq!(read.decisions[0].by, "user:grace");
    assert_eq!(
        read.decisions[0].comment.as_deref(),
        Some("Checked the runbook")
    );

    // Decided once: a late rejection is told who decided.
    let late = approvals
        .decide(
            &asked.id,
            &user("zoe", Role::Admin, &[]),
            Verdict::Reject,
            Some("no".into()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&late, ApprovalError::Conflict(m) if m.contains("approved by user:grace")),
        "{late:?}"
    );

    let trail = audit_actions(&portal, &asked).await;
    let rows: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("token:release-pipeline", "approval.request", "ok"),
            ("token:release-pipeline", "approval.decide", "denied"),
            ("user:dev", "approval.decide", "denied"),
            ("user:grace", "approval.decide", "ok"),
            ("user:zoe", "approval.decide", "failed"),
        ]
    );
    // A token is a principal of its own: another admin token approves, whoever made it.
    let second = approvals
        .request(&ci, release(&["role:admin"]))
        .await
        .unwrap();
    let by_token = approvals
        .decide(&second.id, &other_ci, Verdict::Approve, None)
        .await
        .unwrap();
    assert_eq!(by_token.decisions[0].by, "token:second-pipeline");

    let events: Vec<String> =
        sqlx::query("SELECT event_type FROM events WHERE topic = 'approvals' ORDER BY id")
            .fetch_all(t.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(
        events,
        [
            "approval.requested",
            "approval.decided",
            "approval.requested",
            "approval.decided"
        ]
    );
}

async fn groups_users_and_several_approvals(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let approvals = portal.approvals();
    let dev = user("dev", Role::Developer, &["group:default/payments"]);
    let sre = user("sam", Role::Sre, &["group:default/sre"]);
    let ada = user("ada", Role::Developer, &[]);
    let new = NewApproval {
        min_approvals: Some(2),
        ..release(&["group:sre", "user:default/ada"])
    };
    let asked = approvals.request(&dev, new).await.unwrap();
    assert_eq!(asked.approvers, ["group:default/sre", "user:default/ada"]);

    let one = approvals
        .decide(&asked.id, &sre, Verdict::Approve, None)
        .await
        .unwrap();
    assert_eq!(one.status, ApprovalStatus::Pending, "one of two approvals");
    assert_eq!(one.approvals(), 1);
    // It waits for Ada still, no longer for Sam, never for whoever asked.
    assert_eq!(approvals.waiting_count(&ada).await.unwrap(), 1);
    assert_eq!(approvals.waiting_count(&sre).await.unwrap(), 0);
    assert_eq!(approvals.waiting_count(&dev).await.unwrap(), 0);
    assert_eq!(approvals.waiting_for(&ada).await.unwrap().len(), 1);
    let twice = approvals
        .decide(&asked.id, &sre, Verdict::Approve, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&twice, ApprovalError::Conflict(m) if m.contains("already")),
        "{twice:?}"
    );

    // A rejection says why.
    let silent = approvals
        .decide(&asked.id, &ada, Verdict::Reject, Some("  ".into()))
        .await
        .unwrap_err();
    assert!(matches!(
        silent,
        ApprovalError::Invalid {
            field: "comment",
            ..
        }
    ));
    let two = approvals
        .decide(&asked.id, &ada, Verdict::Approve, None)
        .await
        .unwrap();
    assert_eq!(two.status, ApprovalStatus::Approved);
    assert_eq!(
        two.decisions
            .iter()
            .map(|d| d.by.as_str())
            .collect::<Vec<_>>(),
        ["user:sam", "user:ada"]
    );

    // A rejection by one approver rejects at once.
    let second = approvals
        .request(
            &dev,
            NewApproval {
                min_approvals: Some(2),
                ..release(&["group:sre"])
            },
        )
        .await
        .unwrap();
    let rejected = approvals
        .decide(
            &second.id,
            &sre,
            Verdict::Reject,
            Some("Freeze until Monday".into()),
        )
        .await
        .unwrap();
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    assert_eq!(
        rejected.decisions[0].comment.as_deref(),
        Some("Freeze until Monday")
    );

    let (mine, total) = approvals
        .list(&ApprovalFilter {
            requested_by: Some("user:dev".into()),
            status: Some(ApprovalStatus::Rejected),
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(mine[0].id, second.id);
}

async fn racing_decisions_move_a_request_once(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    // A second portal with its own connections: another replica on the same database.
    let replica = Portal::open(&t.url).unwrap();
    let dev = user("dev", Role::Developer, &[]);
    for verdicts in [[Verdict::Approve; 2], [Verdict::Approve, Verdict::Reject]] {
        let asked = portal
            .approvals()
            .request(&dev, release(&["role:admin"]))
            .await
            .unwrap();
        let admins: Vec<Principal> = (0..8)
            .map(|i| user(&format!("admin{i}"), Role::Admin, &[]))
            .collect();
        let decisions: Vec<_> = admins
            .into_iter()
            .enumerate()
            .map(|(i, admin)| {
                let approvals = if i % 2 == 0 {
                    portal.approvals()
                } else {
                    replica.approvals()
                };
                let id = asked.id.clone();
                let verdict = verdicts[i % 2];
                tokio::spawn(async move {
                    approvals
                        .decide(&id, &admin, verdict, Some(format!("from admin{i}")))
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for decision in decisions {
            results.push(decision.await.unwrap());
        }
        let won: Vec<&Approval> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        for lost in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(lost, ApprovalError::Conflict(_)), "{lost:?}");
        }
        let stored: i64 =
            sqlx::query("SELECT COUNT(*) FROM approval_decisions WHERE approval_id = $1")
                .bind(&asked.id)
                .fetch_one(t.db.pool())
                .await
                .unwrap()
                .get(0);
        assert_eq!(stored, 1);
        let read = portal.approvals().get(&asked.id).await.unwrap();
        assert_eq!(read.status, won[0].status);
        assert_eq!(read.decisions[0].by, won[0].decisions[0].by);
    }
}

async fn a_request_expires_and_can_no_longer_be_approved(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let approvals = portal.approvals();
    let dev = user("dev", Role::Developer, &[]);
    let admin = user("grace", Role::Admin, &[]);
    let new = NewApproval {
        expires_in: Some(json!("5m")),
        ..release(&["role:admin"])
    };
    let asked = approvals.request(&dev, new).await.unwrap();
    assert_eq!(asked.expires_at - asked.created_at, 5 * 60_000);
    let other = approvals
        .request(&dev, release(&["role:admin"]))
        .await
        .unwrap();
    // Five minutes later.
    sqlx::query("UPDATE approvals SET expires_at = created_at - 1 WHERE id = $1")
        .bind(&asked.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let late = approvals
        .decide(&asked.id, &admin, Verdict::Approve, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&late, ApprovalError::Conflict(m) if m.contains("expired")),
        "{late:?}"
    );
    assert_eq!(
        approvals.get(&asked.id).await.unwrap().status,
        ApprovalStatus::Expired
    );
    assert_eq!(
        approvals.get(&other.id).await.unwrap().status,
        ApprovalStatus::Pending
    );
    // The sweep finds nothing more to expire; the trail says the system expired it.
    assert_eq!(approvals.expire_due().await.unwrap(), 0);
    let trail = audit_actions(&portal, &asked).await;
    assert!(
        trail.contains(&("system".into(), "approval.expire".into(), "ok".into())),
        "{trail:?}"
    );
}

async fn the_requester_cancels_and_a_waiting_pipeline_wakes(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let feed = tokio::spawn(portal.events().feed().run());
    let approvals = portal.approvals();
    let dev = user("dev", Role::Developer, &[]);
    let admin = user("grace", Role::Admin, &[]);

    // A long-poll returns as it is when nothing happens in time...
    let asked = approvals
        .request(&dev, release(&["role:admin"]))
        .await
        .unwrap();
    let quiet = approvals
        .wait(&asked.id, Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(quiet.status, ApprovalStatus::Pending);
    // ...and at once when it is decided.
    let waiting = {
        let approvals = approvals.clone();
        let id = asked.id.clone();
        tokio::spawn(async move { approvals.wait(&id, Duration::from_secs(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    approvals
        .decide(&asked.id, &admin, Verdict::Approve, None)
        .await
        .unwrap();
    let woken = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the long-poll wakes on the decision")
        .unwrap()
        .unwrap();
    assert_eq!(woken.status, ApprovalStatus::Approved);
    assert!(started.elapsed() < Duration::from_secs(10));

    // Only the requester (or an admin) cancels; a cancelled request is not decided.
    let second = approvals
        .request(&dev, release(&["role:admin"]))
        .await
        .unwrap();
    let stranger = user("sam", Role::Sre, &[]);
    let refused = approvals
        .cancel(&second.id, &stranger, None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ApprovalError::Forbidden(_)),
        "{refused:?}"
    );
    let cancelled = approvals
        .cancel(&second.id, &dev, Some("wrong version".into()))
        .await
        .unwrap();
    assert_eq!(cancelled.status, ApprovalStatus::Cancelled);
    let after = approvals
        .decide(&second.id, &admin, Verdict::Approve, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&after, ApprovalError::Conflict(m) if m.contains("cancelled")),
        "{after:?}"
    );
    feed.abort();
}

/// Signs `name` in with `role`, as the demo sign-in does.
async fn signed_in(portal: &Portal, name: &str, role: Role) -> Principal {
    portal
        .identity()
        .sign_in(&SignIn {
            subject: format!("demo#{name}"),
            username: name.to_owned(),
            email: None,
            groups: Vec::new(),
            role: Some(role),
        })
        .await
        .unwrap()
}

async fn approvers_and_the_requester_are_told_in_the_app_and_on_webhooks(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone()).with_settings(Settings {
        approvals: ApprovalSettings {
            signing_secret: Some("s3cret".into()),
            webhooks: Webhook::parse_list(
                "group:default/sre=http://127.0.0.1:9/sre;user:default/nobody=http://127.0.0.1:9/x",
            )
            .unwrap(),
            public_url: Some("https://portal.test/".into()),
            ..ApprovalSettings::default()
        },
        ..Settings::default()
    });
    // Ada is in the catalog, in the SRE group; root and shafi are admins it does not know.
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.yaml");
    std::fs::write(
        &org,
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: sre}\n\
         spec: {type: team, children: [], members: [ada]}\n---\n\
         apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: ada}\n\
         spec: {memberOf: [sre]}\n",
    )
    .unwrap();
    let summary = portal
        .catalog()
        .ingest("file:org.yaml", read_location(&org))
        .await
        .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    let ada = signed_in(&portal, "ada", Role::Developer).await;
    assert_eq!(ada.entity.as_deref(), Some("user:default/ada"));
    let root = signed_in(&portal, "root", Role::Admin).await;
    let shafi = signed_in(&portal, "shafi", Role::Admin).await;
    let notifications = portal.notifications();
    let approvals = portal.approvals();

    let asked = approvals
        .request(&shafi, release(&["group:sre", "role:admin"]))
        .await
        .unwrap();
    // The group's member and the other admin are asked; the one who asked is not.
    for who in [&ada, &root] {
        let inbox = notifications.inbox(who, None, 10).await.unwrap();
        assert_eq!(inbox.unread, 1, "{}", who.name);
        let told = &inbox.notifications[0];
        assert_eq!(
            told.title,
            "Approval requested: Release payments 1.4.0 to production"
        );
        assert_eq!(
            told.description.as_deref(),
            Some("user:shafi asks for 1 approval of group:default/sre, role:admin.")
        );
        assert_eq!(told.link, Some(format!("/approvals/{}", asked.id)));
        assert!(!told.read);
    }
    assert_eq!(notifications.unread(&shafi).await.unwrap(), 0);
    // Live: the push reached root's own topic.
    let pushed = portal
        .events()
        .read_since(0, Some(&format!("user:{}", root.id)), 100)
        .await
        .unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].event_type, "notification.created");

    // Only the SRE group's webhook concerns this request: one call, queued, Slack-shaped.
    let calls = |event: &'static str| {
        let db = t.db.clone();
        async move {
            let rows = sqlx::query("SELECT url, body FROM approval_callbacks WHERE event = $1")
                .bind(event)
                .fetch_all(db.pool())
                .await
                .unwrap();
            rows.iter()
                .map(|r| {
                    let body: String = r.get("body");
                    (
                        r.get::<String, _>("url"),
                        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let requested = calls("approval.requested").await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].0, "http://127.0.0.1:9/sre");
    assert_eq!(
        requested[0].1["text"],
        format!(
            "Approval requested by user:shafi: <https://portal.test/approvals/{}|Release payments 1.4.0 to production>",
            asked.id
        )
    );
    assert_eq!(requested[0].1["blocks"][0]["type"], "section");

    // Ada rejects: shafi hears of it, live and in the inbox, with the reason.
    approvals
        .decide(
            &asked.id,
            &ada,
            Verdict::Reject,
            Some("Not on a Friday".into()),
        )
        .await
        .unwrap();
    let inbox = notifications.inbox(&shafi, None, 10).await.unwrap();
    assert_eq!(inbox.unread, 1);
    assert_eq!(
        inbox.notifications[0].title,
        "Rejected: Release payments 1.4.0 to production"
    );
    assert_eq!(
        inbox.notifications[0].description.as_deref(),
        Some("By user:ada: “Not on a Friday”")
    );
    let pushed: Vec<String> = portal
        .events()
        .read_since(0, Some(&format!("user:{}", shafi.id)), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(pushed, ["approval.decided", "notification.created"]);
    let decided = calls("approval.decided").await;
    assert_eq!(decided.len(), 1);
    assert!(decided[0].1["text"]
        .as_str()
        .unwrap()
        .starts_with("Rejected by user:ada: <https://portal.test/approvals/"));
    assert_eq!(
        decided[0].1["blocks"][1]["elements"][0]["text"],
        "Approvers: group:default/sre, role:admin · 1 needed\n“Not on a Friday”"
    );

    // Reading: only one's own notifications are marked; other tabs hear of it.
    let roots = notifications
        .inbox(&root, None, 10)
        .await
        .unwrap()
        .notifications[0]
        .id;
    assert_eq!(
        notifications
            .mark_read(&ada, &Marking::Ids(vec![roots]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(notifications.unread(&root).await.unwrap(), 1);
    assert_eq!(
        notifications.mark_read(&root, &Marking::All).await.unwrap(),
        1
    );
    assert_eq!(notifications.unread(&root).await.unwrap(), 0);
    let last = portal
        .events()
        .read_since(0, Some(&format!("user:{}", root.id)), 100)
        .await
        .unwrap();
    assert_eq!(last.last().unwrap().event_type, "notification.read");
    assert!(
        notifications
            .inbox(&root, None, 10)
            .await
            .unwrap()
            .notifications[0]
            .read
    );

    // Pages, newest first.
    approvals
        .request(&shafi, release(&["role:admin"]))
        .await
        .unwrap();
    let first = notifications.inbox(&root, None, 1).await.unwrap();
    assert_eq!(first.notifications.len(), 1);
    assert!(!first.notifications[0].read);
    let rest = notifications
        .inbox(&root, first.next_before, 1)
        .await
        .unwrap();
    assert!(rest.notifications[0].read);
    assert_eq!(rest.next_before, None);
}
