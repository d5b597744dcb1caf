//! Golden paths on both backends: Backstage's own templates run end to end into real git
//! repositories, values checked against the parameter schemas, dry runs that create
//! nothing, secrets kept out of every record, paths that cannot leave the workspace,
//! cancellation, and recovery of tasks whose instance stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use portico_core::approvals::{Approval, ApprovalError, ApprovalFilter, ApprovalStatus, Verdict};
use portico_core::backend_tests;
use portico_core::catalog::locations::LocationPolicy;
use portico_core::catalog::reader::read_location;
use portico_core::catalog::reference::RefContext;
use portico_core::catalog::remote::RemoteReader;
use portico_core::catalog::EntityRef;
use portico_core::identity::{Principal, PrincipalKind, Role};
use portico_core::templates::actions::RunUser;
use portico_core::templates::dry_run::DryRunRequest;
use portico_core::templates::gate::TagRule;
use portico_core::templates::git::GitHosts;
use portico_core::templates::{TaskStatus, TemplateError, TemplateSettings, Templates};
use portico_core::testing::TestDb;
use portico_core::{Portal, Settings};
use serde_json::{json, Map, Value};
use sqlx::Row;

backend_tests!(
    the_default_app_template_runs_end_to_end,
    values_that_break_the_parameter_schemas_are_refused_by_field,
    a_dry_run_returns_the_files_and_creates_nothing,
    conditional_samples_parse_and_render,
    secrets_stay_out_of_logs_events_and_the_database,
    paths_that_leave_the_workspace_are_refused,
    a_cancelled_task_stops_waiting,
    an_interrupted_task_fails_or_starts_over,
    two_instances_never_run_one_task_twice,
    older_template_formats_are_rejected_at_ingestion,
    a_run_waits_for_approval_then_goes_on_or_fails,
    a_run_waiting_for_approval_survives_a_restart,
);

fn fixtures() -> PathBuf {
    portico_core::testing::backstage_examples()
        .parent()
        .unwrap()
        .to_owned()
}

/// A portal whose `github.com` is a git root in `dir`, as an operator would configure
/// `PORTICO_GIT_HOSTS=github.com=file:///srv/git/{owner}/{repo}.git`.
fn portal(t: &TestDb, dir: &Path) -> Portal {
    let hosts = GitHosts::parse(&format!(
        "github.com=file://{}/git/{{owner}}/{{repo}}.git",
        dir.display()
    ))
    .unwrap();
    Portal::with_database(t.db.clone()).with_settings(Settings {
        locations: LocationPolicy {
            file_roots: Vec::new(),
            remote: RemoteReader::new(Vec::new()).with_git_hosts(hosts.clone()),
        },
        templates: TemplateSettings {
            git_hosts: hosts,
            work_dir: Some(dir.join("tasks")),
            approval_tags: TagRule::parse_list("production=role:admin").unwrap(),
        },
        ..Settings::default()
    })
}

async fn ingest_file(portal: &Portal, file: &Path) {
    let file = file.canonicalize().unwrap();
    let summary = portal
        .catalog()
        .ingest(&format!("file:{}", file.display()), read_location(&file))
        .await
        .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
}

/// Writes `yaml` as `template.yaml` in a directory of its own (with `files` beside it)
/// and ingests it.
async fn ingest_template(portal: &Portal, dir: &Path, yaml: &str, files: &[(&str, &str)]) {
    let dir = dir.join(format!("template-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for (path, contents) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, contents).unwrap();
    }
    std::fs::write(dir.join("template.yaml"), yaml).unwrap();
    ingest_file(portal, &dir.join("template.yaml")).await;
}

/// Backstage's default-app template, copied with its skeleton. Upstream's skeleton has
/// a `catalog-info.yaml` that the fixtures leave out; it is put back (as upstream has
/// it) so that `catalog:register` finds what it registers.
fn default_app_template(dir: &Path) -> PathBuf {
    let source = fixtures().join("default-app-examples/template");
    let target = dir.join("default-app");
    std::fs::create_dir_all(target.join("content")).unwrap();
    std::fs::copy(source.join("template.yaml"), target.join("template.yaml")).unwrap();
    for file in ["index.js", "package.json", "package-lock.json"] {
        std::fs::copy(
            source.join("content").join(file),
            target.join("content").join(file),
        )
        .unwrap();
    }
    std::fs::write(
        target.join("content/catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name | dump }}\n\
         spec:\n  type: service\n  owner: user:guest\n  lifecycle: experimental\n",
    )
    .unwrap();
    target.join("template.yaml")
}

fn guest() -> RunUser {
    RunUser {
        actor: "user:guest".into(),
        entity_ref: Some("user:default/guest".into()),
        entity: None,
        name: "Guest".into(),
        email: Some("guest@example.test".into()),
    }
}

async fn finished(templates: &Templates, id: &str) -> portico_core::templates::Task {
    for _ in 0..600 {
        let task = templates.task(id).await.unwrap();
        if task.status.is_finished() {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} did not finish within 30 s");
}

fn git(args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn the_default_app_template_runs_end_to_end(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    ingest_file(&portal, &fixtures().join("default-app-examples/org.yaml")).await;
    ingest_file(&portal, &default_app_template(dir.path())).await;
    let templates = portal.templates();

    let id = templates
        .create_task(
            guest(),
            "template:default/example-nodejs-template",
            &json!({"name": "hello-svc", "repoUrl": "github.com?owner=acme&repo=hello-svc"}),
            Map::new(),
        )
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);
    assert!(
        task.steps.iter().all(|s| s.ended_at.is_some()),
        "{:?}",
        task.steps
    );

    // The bare repository exists, with the rendered files on its default branch.
    let repo = dir.path().join("git/acme/hello-svc.git");
    let repo = repo.to_str().unwrap();
    let files = git(&["--git-dir", repo, "ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "catalog-info.yaml",
            "index.js",
            "package-lock.json",
            "package.json"
        ]
    );
    let package = git(&["--git-dir", repo, "show", "main:package.json"]);
    let package: Value = serde_json::from_str(&package).unwrap();
    assert_eq!(package["name"], "hello-svc");
    assert_eq!(
        git(&["--git-dir", repo, "show", "main:index.js"]).trim(),
        "console.log('Hello from hello-svc!');"
    );
    assert_eq!(
        git(&["--git-dir", repo, "log", "-1", "--format=%an <%ae>", "main"]).trim(),
        "Guest <guest@example.test>"
    );

    // The component is in the catalog as the task completes, not minutes later.
    let component = portal
        .catalog()
        .entity(&EntityRef::parse("component:default/hello-svc", RefContext::STANDALONE).unwrap())
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(component.body["spec"]["owner"], "user:guest");

    // The output's links are rendered from the steps' outputs.
    let links = task.output["links"].as_array().unwrap();
    assert_eq!(links[0]["url"], format!("file://{repo}"));
    assert_eq!(links[1]["entityRef"], "component:default/hello-svc");

    // The guest was notified.
    let notified: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE recipient = 'user:default/guest'",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(notified, 1);

    // The task's events are readable, and end with its completion.
    let events = templates.task_events(&id, 0).await.unwrap();
    assert!(events.iter().any(|e| e.body["stepId"] == "publish"));
    assert_eq!(events.last().unwrap().event_type, "completion");
    let later = templates.task_events(&id, events[2].id).await.unwrap();
    assert_eq!(later.len(), events.len() - 3);

    // Running it again for the same repository fails without touching the first one.
    let again = templates
        .create_task(
            guest(),
            "template:default/example-nodejs-template",
            &json!({"name": "hello-svc", "repoUrl": "github.com?owner=acme&repo=hello-svc"}),
            Map::new(),
        )
        .await
        .unwrap();
    let failed = finished(&templates, &again).await;
    assert_eq!(failed.status, TaskStatus::Failed);
    assert!(
        failed.error.as_deref().unwrap().contains("already exists"),
        "{:?}",
        failed.error
    );
}

async fn values_that_break_the_parameter_schemas_are_refused_by_field(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    ingest_template(
        &portal,
        dir.path(),
        r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: strict }
spec:
  type: service
  parameters:
    - title: Basics
      required: [name]
      properties:
        name: { type: string, pattern: '^[a-z][a-z0-9-]+$', maxLength: 20 }
        replicas: { type: integer, minimum: 1, maximum: 5, default: 2 }
  steps:
    - { id: log, action: debug:log, input: { message: 'x' } }
"#,
        &[],
    )
    .await;
    let templates = portal.templates();
    let refused = templates
        .create_task(
            guest(),
            "template:default/strict",
            &json!({"name": "Not OK", "replicas": 9}),
            Map::new(),
        )
        .await
        .unwrap_err();
    let TemplateError::Values(errors) = refused else {
        panic!("{refused:?}");
    };
    let fields: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("name", "must match ^[a-z][a-z0-9-]+$"),
            ("replicas", "must be at most 5")
        ]
    );
    let missing = templates
        .create_task(guest(), "template:default/strict", &json!({}), Map::new())
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("name: is required"),
        "{missing}"
    );
    let (tasks, total) = templates.tasks(&Default::default()).await.unwrap();
    assert!(tasks.is_empty() && total == 0, "nothing is stored");

    let unknown = templates
        .create_task(guest(), "template:default/nope", &json!({}), Map::new())
        .await
        .unwrap_err();
    assert!(matches!(unknown, TemplateError::NotFound(_)), "{unknown:?}");

    // Defaults are filled in before the run.
    let id = templates
        .create_task(
            guest(),
            "template:default/strict",
            &json!({"name": "ok"}),
            Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(templates.task(&id).await.unwrap().parameters["replicas"], 2);
}

async fn a_dry_run_returns_the_files_and_creates_nothing(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    ingest_file(&portal, &default_app_template(dir.path())).await;
    let templates = portal.templates();
    let (stored, _) = templates
        .template("template:default/example-nodejs-template")
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    let result = templates
        .dry_run(
            guest(),
            DryRunRequest {
                template: stored.body.clone(),
                values: json!({"name": "dry", "repoUrl": "github.com?owner=acme&repo=dry"}),
                template_ref: Some("template:default/example-nodejs-template".into()),
                ..DryRunRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(result.status, "completed", "{:?}", result.error);
    let paths: Vec<&str> = result
        .directory_contents
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "catalog-info.yaml",
            "index.js",
            "package-lock.json",
            "package.json"
        ]
    );
    assert!(result.log.iter().any(|l| l.body["message"]
        .as_str()
        .unwrap()
        .contains("dry run: would create")));
    assert_eq!(
        result.output["links"][1]["entityRef"],
        "component:default/dry"
    );
    assert!(
        !dir.path().join("git/acme/dry.git").exists(),
        "no repository"
    );
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(before, after, "a dry run records nothing");

    // A pasted template gets its skeleton from the files sent along, never from a
    // location annotation in the text.
    let mut pasted = stored.body.clone();
    pasted["metadata"]["annotations"]["backstage.io/managed-by-location"] =
        json!("file:/etc/x.yaml");
    use base64::Engine;
    let result = templates
        .dry_run(
            guest(),
            DryRunRequest {
                template: pasted,
                values: json!({"name": "pasted", "repoUrl": "github.com?owner=acme&repo=pasted"}),
                directory_contents: vec![portico_core::templates::dry_run::DirectoryFile {
                    path: "content/README.md".into(),
                    base64_content: base64::engine::general_purpose::STANDARD
                        .encode("# ${{ values.name }}\n"),
                    executable: false,
                }],
                ..DryRunRequest::default()
            },
        )
        .await
        .unwrap();
    // The skeleton has no catalog-info.yaml, so the dry run says what register lacks.
    assert_eq!(result.status, "failed");
    assert!(
        result
            .error
            .as_deref()
            .unwrap()
            .contains("catalog-info.yaml"),
        "{:?}",
        result.error
    );
    let readme = &result.directory_contents[0];
    assert_eq!(readme.path, "README.md");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&readme.base64_content)
            .unwrap(),
        b"# pasted\n"
    );
}

async fn conditional_samples_parse_and_render(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    for sample in ["conditional-output-demo", "conditional-parameters-demo"] {
        ingest_file(
            &portal,
            &fixtures().join(format!("sample-templates/{sample}/template.yaml")),
        )
        .await;
    }
    let templates = portal.templates();
    for (enable_ci, links, texts) in [("Yes", 3, 3), ("No", 1, 2)] {
        let id = templates
            .create_task(
                guest(),
                "template:default/conditional-output-demo",
                &json!({"name": "web", "enableCI": enable_ci}),
                Map::new(),
            )
            .await
            .unwrap();
        let task = finished(&templates, &id).await;
        assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);
        assert_eq!(
            task.output["links"].as_array().unwrap().len(),
            links,
            "{}",
            task.output
        );
        assert_eq!(
            task.output["text"].as_array().unwrap().len(),
            texts,
            "{}",
            task.output
        );
        assert_eq!(task.output["text"][0]["content"], "**Component:** `web`\n");
    }
    // A page whose `if` holds is checked; one whose `if` does not is not.
    let (_, spec) = templates
        .template("template:default/conditional-parameters-demo")
        .await
        .unwrap();
    let aws = templates
        .check_values(&spec, &json!({"name": "x", "cloudProvider": "AWS"}))
        .unwrap_err();
    assert!(aws.to_string().contains("awsRegion: is required"), "{aws}");
    let gcp = templates
        .check_values(
            &spec,
            &json!({"name": "x", "cloudProvider": "GCP", "gcpProjectId": "p"}),
        )
        .unwrap();
    assert_eq!(gcp["gcpRegion"], "us-central1", "the GCP page's default");
    assert!(gcp.get("alertThreshold").is_none(), "monitoring is off");
    // The wizard asks which pages apply with the same rules: the provider's page, and
    // the monitoring page only once it is turned on.
    let titles = |values: Value| {
        let (pages, _) = templates.applicable_pages(&spec, &values).unwrap();
        pages
            .iter()
            .map(|&i| portico_core::templates::model::page_title(&spec.parameters[i]).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(json!({"cloudProvider": "GCP"})),
        [
            "Choose Cloud Provider",
            "GCP Configuration",
            "Advanced Options"
        ]
    );
    assert_eq!(
        titles(json!({"cloudProvider": "AWS", "enableMonitoring": true})),
        [
            "Choose Cloud Provider",
            "AWS Configuration",
            "Advanced Options",
            "Monitoring Configuration"
        ]
    );
    let id = templates
        .create_task(
            guest(),
            "template:default/conditional-parameters-demo",
            &json!({"name": "x", "cloudProvider": "GCP", "gcpProjectId": "p", "enableMonitoring": true}),
            Map::new(),
        )
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);
    let titles: Vec<&str> = task.output["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Summary", "GCP Details"]);
    let events = templates.task_events(&id, 0).await.unwrap();
    assert!(events.iter().any(|e| e.body["message"]
        .as_str()
        .unwrap()
        .contains("Creating x on GCP.\nMonitoring enabled: true")));
}

async fn secrets_stay_out_of_logs_events_and_the_database(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    ingest_template(
        &portal,
        dir.path(),
        r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: secretive }
spec:
  type: service
  steps:
    - id: say
      action: debug:log
      input: { message: 'token is ${{ secrets.token }}' }
    - id: write
      action: catalog:write
      input:
        filePath: out.yaml
        entity: { apiVersion: v1, kind: X, metadata: { name: '${{ secrets.token }}' } }
    - id: fail
      action: fs:rename
      input: { files: [{ from: 'missing-${{ secrets.token }}', to: b }] }
  output:
    text:
      - { title: Token, content: '${{ secrets.token }}' }
"#,
        &[],
    )
    .await;
    let templates = portal.templates();
    let secret = "s3cr3t-Value-91";
    let mut secrets = Map::new();
    secrets.insert("token".into(), json!(secret));
    let id = templates
        .create_task(guest(), "template:default/secretive", &json!({}), secrets)
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Failed);
    assert!(
        task.error.as_deref().unwrap().contains("missing-***"),
        "{:?}",
        task.error
    );
    let events = templates.task_events(&id, 0).await.unwrap();
    assert!(events.iter().any(|e| e.body["message"] == "token is ***"));
    // Nowhere in the database: tasks, events, audit, anything.
    for (table, column) in [
        ("scaffolder_tasks", "spec"),
        ("scaffolder_tasks", "parameters"),
        ("scaffolder_tasks", "steps"),
        ("scaffolder_tasks", "error"),
        ("events", "payload"),
    ] {
        let rows = sqlx::query(&format!("SELECT {column} FROM {table}"))
            .fetch_all(t.db.pool())
            .await
            .unwrap();
        for row in rows {
            let text: Option<String> = row.try_get(0).unwrap();
            assert!(
                !text.unwrap_or_default().contains(secret),
                "{table}.{column} holds the secret"
            );
        }
    }
}

async fn paths_that_leave_the_workspace_are_refused(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    let cases = [
        (
            "fetch:template",
            json!({"url": "./skeleton", "targetPath": "../outside"}),
            "leaves the task's workspace",
        ),
        (
            "fetch:template",
            json!({"url": "../../"}),
            "leaves the template's directory",
        ),
        (
            "fetch:plain:file",
            json!({"url": "/etc/passwd", "targetPath": "p"}),
            "leaves the template's directory",
        ),
        (
            "fs:delete",
            json!({"files": ["../../etc"]}),
            "leaves the task's workspace",
        ),
        (
            "fs:rename",
            json!({"files": [{"from": "skeleton-file", "to": "/tmp/x"}]}),
            "must be relative to the task's workspace",
        ),
        (
            "catalog:write",
            json!({"filePath": "a/../../b.yaml", "entity": {}}),
            "leaves the task's workspace",
        ),
        (
            "publish:git",
            json!({"repoUrl": "github.com?owner=..&repo=x"}),
            "owner \"..\"",
        ),
    ];
    for (i, (action, input, expected)) in cases.iter().enumerate() {
        let name = format!("escape-{i}");
        let template = json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": name},
            "spec": {"type": "service", "steps": [
                {"id": "seed", "action": "fetch:plain", "input": {"url": "./skeleton"}},
                {"id": "try", "action": action, "input": input}
            ]}
        });
        ingest_template(
            &portal,
            dir.path(),
            &serde_json::to_string(&template).unwrap(),
            &[("skeleton/skeleton-file", "x")],
        )
        .await;
        let id = portal
            .templates()
            .create_task(
                guest(),
                &format!("template:default/{name}"),
                &json!({}),
                Map::new(),
            )
            .await
            .unwrap();
        let task = finished(&portal.templates(), &id).await;
        assert_eq!(task.status, TaskStatus::Failed, "{action}");
        let error = task.error.unwrap();
        assert!(error.contains(expected), "{action}: {error}");
    }
    assert!(!dir.path().join("outside").exists());

    // A skeleton that holds a symbolic link is refused rather than followed.
    let skeleton = dir.path().join("linked");
    std::fs::create_dir_all(skeleton.join("skeleton")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", skeleton.join("skeleton/passwd")).unwrap();
    std::fs::write(
        skeleton.join("template.yaml"),
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: { name: linked }\n\
         spec: { type: service, steps: [{ id: f, action: fetch:template, input: { url: ./skeleton } }] }\n",
    )
    .unwrap();
    ingest_file(&portal, &skeleton.join("template.yaml")).await;
    let id = portal
        .templates()
        .create_task(guest(), "template:default/linked", &json!({}), Map::new())
        .await
        .unwrap();
    let task = finished(&portal.templates(), &id).await;
    assert!(task.error.unwrap().contains("symbolic links"));
}

const WAITING: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: NAME }
spec:
  type: service
  RECOVERY
  steps:
    - { id: wait, action: debug:wait, input: { seconds: WAIT } }
    - { id: log, action: debug:log, input: { message: done } }
"#;

fn waiting(name: &str, seconds: u32, start_over: bool) -> String {
    WAITING
        .replace("NAME", name)
        .replace("WAIT", &seconds.to_string())
        .replace(
            "RECOVERY",
            if start_over {
                "EXPERIMENTAL_recovery: { EXPERIMENTAL_strategy: startOver }"
            } else {
                ""
            },
        )
}

async fn a_cancelled_task_stops_waiting(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    ingest_template(&portal, dir.path(), &waiting("slow", 60, false), &[]).await;
    let templates = portal.templates();
    let id = templates
        .create_task(guest(), "template:default/slow", &json!({}), Map::new())
        .await
        .unwrap();
    // Cancelled while it waits in `debug:wait`, not before it starts: on a busy machine
    // the worker may take a while to pick it up.
    let mut started = false;
    for _ in 0..1500 {
        let task = templates.task(&id).await.unwrap();
        // Its first step under way (the task is `processing` a moment before).
        if task.steps[0].status == portico_core::templates::runner::StepStatus::Processing {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started, "the task never started");
    templates.cancel(&id, "user:guest").await.unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Cancelled);
    assert_eq!(
        task.steps[0].status,
        portico_core::templates::runner::StepStatus::Cancelled
    );
    assert_eq!(
        task.steps[1].status,
        portico_core::templates::runner::StepStatus::Open
    );
    let events = templates.task_events(&id, 0).await.unwrap();
    assert_eq!(events.last().unwrap().event_type, "cancelled");
    let again = templates.cancel(&id, "user:guest").await.unwrap_err();
    assert!(matches!(again, TemplateError::Conflict(_)), "{again:?}");
}

/// Makes a task look as if the instance running it had stopped a while ago.
async fn orphan(t: &TestDb, id: &str) {
    sqlx::query("UPDATE scaffolder_tasks SET claimed_by = 'stopped-instance', heartbeat_at = 1 WHERE id = $1")
        .bind(id)
        .execute(t.db.pool())
        .await
        .unwrap();
}

async fn an_interrupted_task_fails_or_starts_over(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let first = portal(t, dir.path());
    ingest_template(&first, dir.path(), &waiting("fragile", 30, false), &[]).await;
    ingest_template(&first, dir.path(), &waiting("sturdy", 1, true), &[]).await;
    let fragile = first
        .templates()
        .create_task(guest(), "template:default/fragile", &json!({}), Map::new())
        .await
        .unwrap();
    let sturdy = first
        .templates()
        .create_task(guest(), "template:default/sturdy", &json!({}), Map::new())
        .await
        .unwrap();
    orphan(t, &fragile).await;
    orphan(t, &sturdy).await;

    // Another instance (a restarted server) finds them.
    let second = portal(t, dir.path());
    second.templates().sweep().await.unwrap();
    let failed = second.templates().task(&fragile).await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert!(failed
        .error
        .unwrap()
        .starts_with("interrupted: the server stopped"));
    let restarted = finished(&second.templates(), &sturdy).await;
    assert_eq!(
        restarted.status,
        TaskStatus::Completed,
        "{:?}",
        restarted.error
    );
    let kinds: Vec<String> = second
        .templates()
        .task_events(&sturdy, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert!(kinds.contains(&"recovered".to_owned()), "{kinds:?}");
    // The first instance's run of the fragile task ends later; what recovery
    // recorded stands.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        second.templates().task(&fragile).await.unwrap().status,
        TaskStatus::Failed
    );
}

async fn two_instances_never_run_one_task_twice(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let first = portal(t, dir.path());
    ingest_template(&first, dir.path(), &waiting("once", 0, true), &[]).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = first
            .templates()
            .create_task(guest(), "template:default/once", &json!({}), Map::new())
            .await
            .unwrap();
        finished(&first.templates(), &id).await;
        // Put back as recovery would, unclaimed, for the instances below to race for.
        sqlx::query(
            "UPDATE scaffolder_tasks SET status = 'open', claimed_by = NULL, heartbeat_at = $1, \
             finished_at = NULL WHERE id = $2",
        )
        .bind(portico_core::storage::sql::now_millis())
        .bind(&id)
        .execute(t.db.pool())
        .await
        .unwrap();
        ids.push(id);
    }
    let instances: Vec<Portal> = (0..3).map(|_| portal(t, dir.path())).collect();
    let (a, b, c) = (
        instances[0].templates(),
        instances[1].templates(),
        instances[2].templates(),
    );
    let (ra, rb, rc) = tokio::join!(a.sweep(), b.sweep(), c.sweep());
    ra.unwrap();
    rb.unwrap();
    rc.unwrap();
    for id in &ids {
        let task = finished(&instances[0].templates(), id).await;
        assert_eq!(task.status, TaskStatus::Completed);
        let runs = instances[0]
            .templates()
            .task_events(id, 0)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.body["message"] == "processing")
            .count();
        assert_eq!(runs, 2, "{id}: once before, once after being put back");
    }
}

async fn older_template_formats_are_rejected_at_ingestion(t: &TestDb) {
    let portal = Portal::with_database(t.db.clone());
    let file = fixtures().join("sample-templates/v1beta2-demo/template.yaml");
    let summary = portal
        .catalog()
        .ingest("file:v1beta2", read_location(&file))
        .await
        .unwrap();
    assert_eq!(summary.added, 0);
    let messages: Vec<String> = summary.rejected.iter().map(ToString::to_string).collect();
    assert!(
        messages.iter().any(
            |m| m.contains("apiVersion: \"backstage.io/v1beta2\" templates")
                && m.contains("scaffolder.backstage.io/v1beta3")
        ),
        "{messages:?}"
    );
}

const GATED: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: NAME
  title: Ship it
  tags: [TAGS]
spec:
  type: service
  parameters:
    - properties:
        version: { type: string, default: "1.4.0" }
  steps:
    - id: ask
      name: Ask the SREs
      action: approval:request
      input:
        title: Ship ${{ parameters.version }}
        approvers: [role:admin]
    - id: ship
      name: Ship
      action: debug:log
      input: { message: "shipped ${{ steps.ask.output.approvedBy[0] }}" }
  output:
    text:
      - title: Approved by
        content: ${{ steps.ask.output.approvedBy | join(", ") }}
"#;

fn gated(name: &str, tags: &str) -> String {
    GATED.replace("NAME", name).replace("TAGS", tags)
}

fn admin(name: &str) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: format!("id-{name}"),
        name: name.to_owned(),
        email: None,
        role: Role::Admin,
        groups: Vec::new(),
        owners: Vec::new(),
        entity: None,
    }
}

/// The pending request a task's step made, once it has made it.
async fn pending_for(portal: &Portal, task_id: &str) -> Approval {
    for _ in 0..400 {
        let (pending, _) = portal
            .approvals()
            .list(&ApprovalFilter {
                status: Some(ApprovalStatus::Pending),
                limit: 100,
                ..ApprovalFilter::default()
            })
            .await
            .unwrap();
        if let Some(found) = pending
            .into_iter()
            .find(|a| a.subject["task_id"] == task_id)
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let task = portal.templates().task(task_id).await.unwrap();
    panic!(
        "task {task_id} asked for no approval: {:?} {:?} {:?}",
        task.status, task.error, task.steps
    );
}

async fn a_run_waits_for_approval_then_goes_on_or_fails(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal(t, dir.path());
    // Decisions reach waiting runs through the event feed, as in the server.
    let feed = tokio::spawn(portal.events().feed().run());
    ingest_template(&portal, dir.path(), &gated("ship", "web"), &[]).await;
    let templates = portal.templates();
    let approvals = portal.approvals();

    // Waits, visibly, then goes on once approved.
    let id = templates
        .create_task(guest(), "template:default/ship", &json!({}), Map::new())
        .await
        .unwrap();
    let asked = pending_for(&portal, &id).await;
    assert_eq!(asked.title, "Ship 1.4.0");
    assert_eq!(asked.requested_by, "user:guest");
    let waiting = templates.task(&id).await.unwrap();
    assert_eq!(waiting.status, TaskStatus::Processing);
    assert_eq!(
        waiting.steps[0].status,
        portico_core::templates::runner::StepStatus::Processing
    );
    // Whoever ran it may not approve it.
    let requester = Principal {
        kind: PrincipalKind::User,
        id: "id-guest".into(),
        name: "guest".into(),
        email: None,
        role: Role::Admin,
        groups: Vec::new(),
        owners: Vec::new(),
        entity: None,
    };
    let own = approvals
        .decide(&asked.id, &requester, Verdict::Approve, None)
        .await
        .unwrap_err();
    assert!(matches!(own, ApprovalError::Forbidden(_)), "{own:?}");
    approvals
        .decide(&asked.id, &admin("grace"), Verdict::Approve, None)
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);
    assert_eq!(task.output["text"][0]["content"], "user:grace");
    let events = templates.task_events(&id, 0).await.unwrap();
    let said = |needle: &str| {
        events.iter().any(|e| {
            e.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle))
        })
    };
    assert!(said("waiting for approval by role:admin"));
    assert!(said("shipped user:grace"));

    // Rejected: the task fails with who and why.
    let id = templates
        .create_task(guest(), "template:default/ship", &json!({}), Map::new())
        .await
        .unwrap();
    let asked = pending_for(&portal, &id).await;
    approvals
        .decide(
            &asked.id,
            &admin("grace"),
            Verdict::Reject,
            Some("Not during the sale".into()),
        )
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Failed);
    let error = task.error.unwrap();
    assert!(
        error.contains("rejected by user:grace: Not during the sale"),
        "{error}"
    );
    assert_eq!(
        task.steps[1].status,
        portico_core::templates::runner::StepStatus::Open
    );

    // A tag the operator named: the run asks before its first step, showing the answers.
    ingest_template(&portal, dir.path(), &gated("ship-prod", "production"), &[]).await;
    let id = templates
        .create_task(
            guest(),
            "template:default/ship-prod",
            &json!({"version": "2.0.0"}),
            Map::new(),
        )
        .await
        .unwrap();
    let task = templates.task(&id).await.unwrap();
    assert_eq!(task.steps[0].id, "portico-approval");
    let gate = pending_for(&portal, &id).await;
    assert_eq!(gate.title, "Run Ship it");
    assert_eq!(gate.context["parameters"]["version"], "2.0.0");
    approvals
        .decide(&gate.id, &admin("grace"), Verdict::Approve, None)
        .await
        .unwrap();
    // Then the template's own step asks too.
    let own = pending_for(&portal, &id).await;
    assert_eq!(own.title, "Ship 2.0.0");
    approvals
        .decide(&own.id, &admin("zoe"), Verdict::Approve, None)
        .await
        .unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);

    // Cancelling a waiting run withdraws its request.
    let id = templates
        .create_task(guest(), "template:default/ship", &json!({}), Map::new())
        .await
        .unwrap();
    let asked = pending_for(&portal, &id).await;
    templates.cancel(&id, "user:guest").await.unwrap();
    let task = finished(&templates, &id).await;
    assert_eq!(task.status, TaskStatus::Cancelled);
    assert_eq!(
        approvals.get(&asked.id).await.unwrap().status,
        ApprovalStatus::Cancelled
    );
    feed.abort();
}

async fn a_run_waiting_for_approval_survives_a_restart(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let first = portal(t, dir.path());
    ingest_template(&first, dir.path(), &gated("ship", "web"), &[]).await;
    let id = first
        .templates()
        .create_task(guest(), "template:default/ship", &json!({}), Map::new())
        .await
        .unwrap();
    let asked = pending_for(&first, &id).await;
    // The instance running it stops; another one recovers the task.
    orphan(t, &id).await;
    let second = portal(t, dir.path());
    second.templates().sweep().await.unwrap();
    let events = second.templates().task_events(&id, 0).await.unwrap();
    assert!(
        events.iter().any(|e| e.event_type == "recovered"
            && e.body["message"]
                .as_str()
                .unwrap()
                .contains("goes on waiting")),
        "{events:?}"
    );
    // It waits on the same request: no second one is made.
    for _ in 0..200 {
        let events = second.templates().task_events(&id, 0).await.unwrap();
        if events.iter().any(|e| {
            e.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("waiting again"))
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (all, _) = second
        .approvals()
        .list(&ApprovalFilter {
            limit: 100,
            ..ApprovalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .filter(|a| a.subject["task_id"] == id.as_str())
            .count(),
        1
    );
    second
        .approvals()
        .decide(&asked.id, &admin("grace"), Verdict::Approve, None)
        .await
        .unwrap();
    let task = finished(&second.templates(), &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{:?}", task.error);
}
