//! The scaffolder API over HTTP on both backends: a template of ours, registered
//! through the catalog, run into a real git repository; per-field 400s; dry runs that
//! create nothing; task lists, events, the SSE stream, cancelling; permissions.

mod support;

use std::path::Path;
use std::time::Duration;

use portico_core::identity::Role;
use portico_core::templates::git::GitHosts;
use serde_json::{json, Value};
use support::channel::Channel;
use support::{databases, get_with as get, post_with as post, status_and_json as json, TestServer};

const TEMPLATE: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: tiny-service
  title: Tiny service
spec:
  owner: group:default/platform
  type: service
  parameters:
    - title: About
      required: [name, owner]
      properties:
        name: { title: Name, type: string, pattern: '^[a-z][a-z0-9-]{2,30}$' }
        owner: { title: Owner, type: string, ui:field: OwnerPicker }
    - title: Where
      required: [repoUrl]
      properties:
        repoUrl: { type: string, ui:field: RepoUrlPicker }
  steps:
    - id: fetch
      name: Render
      action: fetch:template
      input:
        url: ./skeleton
        values: { name: '${{ parameters.name }}', owner: '${{ parameters.owner }}' }
    - id: publish
      name: Publish
      action: publish:git
      input: { repoUrl: '${{ parameters.repoUrl }}', defaultBranch: trunk }
    - id: register
      name: Register
      action: catalog:register
      input: { repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}' }
  output:
    links:
      - { title: Repository, url: '${{ steps.publish.output.remoteUrl }}' }
      - { title: Open in catalog, entityRef: '${{ steps.register.output.entityRef }}' }
"#;

const CATALOG_INFO: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: ${{ values.owner }}\n";

fn write_template(dir: &Path) {
    let skeleton = dir.join("templates/tiny/skeleton");
    std::fs::create_dir_all(skeleton.join("src")).unwrap();
    std::fs::write(dir.join("templates/tiny/template.yaml"), TEMPLATE).unwrap();
    std::fs::write(skeleton.join("catalog-info.yaml"), CATALOG_INFO).unwrap();
    std::fs::write(
        skeleton.join("src/${{ values.name }}.txt"),
        "owned by ${{ values.owner }}\n",
    )
    .unwrap();
}

async fn start(url: &str, dir: &Path) -> TestServer {
    let root = dir.to_owned();
    let server = TestServer::start_with(url, move |config| {
        config.catalog_roots = vec![root.join("templates")];
        config.git_hosts = GitHosts::parse(&format!(
            "git.example.test=file://{}/git/{{owner}}/{{repo}}.git",
            root.display()
        ))
        .unwrap();
        config.task_dir = Some(root.join("tasks"));
    })
    .await;
    server.wait_for_readyz(200).await;
    server
}

#[tokio::test]
async fn a_registered_template_runs_into_a_repository_and_the_catalog() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().canonicalize().unwrap();
        write_template(&dir);
        let server = start(&db.url, &dir).await;
        let (_, developer) = server.token(Role::Developer).await;

        // Registered through the catalog API, like any location.
        let target = dir.join("templates/tiny/template.yaml");
        let (status, body) = json(
            server
                .client
                .post(server.url("/api/catalog/locations"))
                .json(&json!({"type": "file", "target": target.display().to_string()}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 201, "{body}");

        // Its form, as Backstage's API gives it.
        let (status, schema) = get(
            &developer,
            &server,
            "/api/scaffolder/v2/templates/default/template/tiny-service/parameter-schema",
        )
        .await;
        assert_eq!(status, 200, "{schema}");
        assert_eq!(schema["title"], "Tiny service");
        assert_eq!(schema["steps"][1]["title"], "Where");

        // Bad values: 400, each failing field named; nothing stored.
        let (status, refused) = post(&developer, &server, "/api/scaffolder/v2/tasks", &json!({"templateRef": "template:default/tiny-service",
                              "values": {"name": "No Good", "repoUrl": "git.example.test?owner=acme&repo=x"}})).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["name"], "InputError");
        let fields: Vec<&str> = refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "owner"], "{refused}");
        assert!(refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("name: must match"));
        let (_, listed) = get(&developer, &server, "/api/scaffolder/v2/tasks").await;
        assert_eq!(listed["totalTasks"], 0);

        // A dry run gives the files and creates nothing.
        let entity = server
            .portal
            .templates()
            .template("template:default/tiny-service")
            .await
            .unwrap()
            .0
            .body;
        let (status, dry) = post(
            &developer,
            &server,
            "/api/scaffolder/v2/dry-run",
            &json!({"template": entity, "templateRef": "template:default/tiny-service",
                    "values": {"name": "dry-one", "owner": "group:default/platform",
                               "repoUrl": "git.example.test?owner=acme&repo=dry-one"}}),
        )
        .await;
        assert_eq!(status, 200, "{dry}");
        assert_eq!(dry["status"], "completed", "{dry}");
        let files: Vec<&str> = dry["directoryContents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(files, ["catalog-info.yaml", "src/dry-one.txt"]);
        assert!(!dir.join("git/acme/dry-one.git").exists());

        // The real run.
        let (status, created) = post(
            &developer,
            &server,
            "/api/scaffolder/v2/tasks",
            &json!({"templateRef": "template:default/tiny-service",
                              "values": {"name": "tiny-one", "owner": "group:default/platform",
                                         "repoUrl": "git.example.test?owner=acme&repo=tiny-one"}}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();

        // The event stream follows the run to its end.
        let stream = developer
            .get(server.url(&format!("/api/scaffolder/v2/tasks/{id}/eventstream")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            stream.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let text = tokio::time::timeout(Duration::from_secs(30), stream.text())
            .await
            .expect("the stream ends after the completion event")
            .unwrap();
        assert!(text.contains("event: log"), "{text}");
        assert!(text.contains("event: completion"), "{text}");

        let (_, task) = get(
            &developer,
            &server,
            &format!("/api/scaffolder/v2/tasks/{id}"),
        )
        .await;
        assert_eq!(task["status"], "completed", "{task}");
        assert_eq!(
            task["spec"]["templateInfo"]["entityRef"],
            "template:default/tiny-service"
        );
        assert_eq!(
            task["output"]["links"][1]["entityRef"],
            "component:default/tiny-one"
        );

        // The repository, its files rendered, on the default branch asked for.
        let repo = dir.join("git/acme/tiny-one.git");
        let out = std::process::Command::new("git")
            .args([
                "--git-dir",
                repo.to_str().unwrap(),
                "show",
                "trunk:src/tiny-one.txt",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "owned by group:default/platform\n"
        );

        // In the catalog already.
        let (status, component) = get(
            &developer,
            &server,
            "/api/catalog/entities/by-name/component/default/tiny-one",
        )
        .await;
        assert_eq!(status, 200, "{component}");

        // The events, and those after a point.
        let (_, events) = get(
            &developer,
            &server,
            &format!("/api/scaffolder/v2/tasks/{id}/events"),
        )
        .await;
        let events = events.as_array().unwrap();
        assert_eq!(events.last().unwrap()["type"], "completion");
        let after = events[events.len() - 2]["id"].as_i64().unwrap();
        let (_, tail) = get(
            &developer,
            &server,
            &format!("/api/scaffolder/v2/tasks/{id}/events?after={after}"),
        )
        .await;
        assert_eq!(tail.as_array().unwrap().len(), 1);

        // Listed as the developer's own; cancelling a finished task is a conflict.
        let (_, mine) = get(&developer, &server, "/api/scaffolder/v2/tasks?mine=true").await;
        assert_eq!(mine["totalTasks"], 1);
        let (status, _) = post(
            &developer,
            &server,
            &format!("/api/scaffolder/v2/tasks/{id}/cancel"),
            &Value::Null,
        )
        .await;
        assert_eq!(status, 409);
        let (status, _) = get(&developer, &server, "/api/scaffolder/v2/tasks/no-such-task").await;
        assert_eq!(status, 404);

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn running_templates_needs_a_developer_and_task_logs_are_live() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().canonicalize().unwrap();
        write_template(&dir);
        let server = start(&db.url, &dir).await;
        let (_, viewer) = server.token(Role::Viewer).await;
        let (developer_secret, developer) = server.token(Role::Developer).await;
        let body = json!({"templateRef": "template:default/tiny-service", "values": {}});
        let (status, _) = post(&viewer, &server, "/api/scaffolder/v2/tasks", &body).await;
        assert_eq!(status, 403);
        let (status, _) = post(
            &server.anonymous,
            &server,
            "/api/scaffolder/v2/tasks",
            &body,
        )
        .await;
        assert_eq!(status, 401);
        let (status, actions) = get(&viewer, &server, "/api/scaffolder/v2/actions").await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        for id in [
            "fetch:template",
            "publish:git",
            "publish:github",
            "catalog:register",
            "notification:send",
            "debug:wait",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        assert_eq!(actions[0]["schema"]["input"]["required"][0], "url");

        // A run's log arrives on its channel topic as it happens.
        let target = dir.join("templates/tiny/template.yaml");
        server
            .client
            .post(server.url("/api/catalog/locations"))
            .json(&json!({"type": "file", "target": target.display().to_string()}))
            .send()
            .await
            .unwrap();
        let (status, unknown) = post(
            &developer,
            &server,
            "/api/scaffolder/v2/tasks",
            &json!({"templateRef": "template:default/nope"}),
        )
        .await;
        assert_eq!(status, 404, "{unknown}");
        let (status, created) = post(
            &developer,
            &server,
            "/api/scaffolder/v2/tasks",
            &json!({"templateRef": "template:default/tiny-service",
                              "values": {"name": "live-one", "owner": "group:default/platform",
                                         "repoUrl": "git.example.test?owner=acme&repo=live-one"}}),
        )
        .await;
        assert_eq!(status, 201);
        let id = created["id"].as_str().unwrap();
        let mut channel = Channel::connect(server.addr, &developer_secret).await;
        let topic = format!("task:{id}");
        let joined = channel.join(&topic, json!({"since": 0})).await;
        assert_eq!(joined["status"], "ok", "{joined}");
        let completion = channel
            .find(|frame| frame[2] == topic.as_str() && frame[3] == "task.completion")
            .await;
        assert_eq!(completion[4]["status"], "completed", "{completion}");

        server.stop().await.unwrap();
        db.cleanup().await;
    }
}
