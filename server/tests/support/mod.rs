//! Starts real portico servers on loopback for the HTTP tests.

#![allow(dead_code)] // each test file uses its own part of the harness

pub mod channel;
pub mod proxy;

use std::net::SocketAddr;
use std::time::Duration;

use portico_core::identity::{NewToken, Role};
use portico_core::testing::TestDb;
use portico_core::Portal;
use portico_server::access::Need;
use portico_server::config::{AuthConfig, Config, DatabaseUrl, LogFormat};
use portico_server::startup::{Server, StartupError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and the way to stop it.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Every route's declared need.
    pub access: Vec<(String, String, Need)>,
    /// Sends an admin API token with every request (when the database was reachable at
    /// start); see [`TestServer::anonymous`] and [`TestServer::token`].
    pub client: reqwest::Client,
    /// A client with no credentials at all.
    pub anonymous: reqwest::Client,
    /// The server's portal (to record events or read state directly).
    pub portal: Portal,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), StartupError>>,
    _site: tempfile::TempDir,
}

impl TestServer {
    /// Serves on a random loopback port against `database_url`.
    pub async fn start(database_url: &str, demo: bool) -> Self {
        Self::start_with(database_url, |config| config.demo = demo).await
    }

    /// Like [`TestServer::start`], with the configuration adjusted by `configure`.
    pub async fn start_with(database_url: &str, configure: impl FnOnce(&mut Config)) -> Self {
        // `TEST_LOG=debug` shows the servers' logs (with `--nocapture`).
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let site = tempfile::tempdir().unwrap();
        let mut config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url: DatabaseUrl::new(database_url),
            log_format: LogFormat::Text,
            site_root: site.path().to_owned(),
            demo: false,
            catalog_roots: Vec::new(),
            catalog_url_hosts: Vec::new(),
            auth: AuthConfig {
                // Port 0: the server puts in the port it was given.
                public_url: "http://127.0.0.1:0".parse().unwrap(),
                oidc: None,
                session_idle: time::Duration::hours(1),
                session_max: time::Duration::hours(2),
                metrics_public: false,
            },
            roles: Default::default(),
            channels: Default::default(),
            environments: Vec::new(),
            github_webhook_secret: None,
            health: Default::default(),
            git_hosts: Default::default(),
            task_dir: None,
            data_dir: site.path().join("data"),
            approvals: Default::default(),
            approval_tags: Vec::new(),
        };
        configure(&mut config);
        let server = Server::bind(&config)
            .await
            .expect("binding the test server");
        let addr = server.local_addr();
        let access = server
            .access()
            .entries()
            .map(|(method, path, need)| (method.to_string(), path.to_owned(), need))
            .collect();
        let client = match admin_token(server.portal()).await {
            Some(secret) => client_with_token(&secret),
            None => reqwest::Client::new(),
        };
        let portal = server.portal().clone();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            access,
            client,
            anonymous: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            portal,
            stop: Some(stop),
            task,
            _site: site,
        }
    }

    /// A new token with `role`, and a client that sends it.
    pub async fn token(&self, role: Role) -> (String, reqwest::Client) {
        let (secret, _) = self.token_with_id(role).await;
        let client = client_with_token(&secret);
        (secret, client)
    }

    /// A new token with `role`: its secret and its id.
    pub async fn token_with_id(&self, role: Role) -> (String, String) {
        let response: serde_json::Value = self
            .client
            .post(self.url("/api/admin/tokens"))
            .json(&serde_json::json!({
                "name": format!("test-{}", uuid::Uuid::new_v4().simple()),
                "role": role.as_str(),
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let secret = response["secret"].as_str().expect("a secret").to_owned();
        let id = response["token"]["id"].as_str().expect("an id").to_owned();
        (secret, id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Polls `/readyz` until it answers `status` (the database is prepared in the
    /// background, so a new server is briefly not ready).
    pub async fn wait_for_readyz(&self, status: u16) -> serde_json::Value {
        for _ in 0..200 {
            let response = self.get("/readyz").await;
            if response.status().as_u16() == status {
                return response.json().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("/readyz never answered {status}");
    }

    /// Sends the shutdown signal and waits for the server to return.
    pub async fn stop(mut self) -> Result<(), StartupError> {
        let _ = self.stop.take().unwrap().send(());
        // A hang guard, not a performance assertion: shutdown is bounded by design.
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the server stopped")
            .expect("the server task did not panic")
    }
}

/// An admin token created directly in the database (migrated first), when it can be
/// reached within a few seconds; tests of an unreachable database get none.
async fn admin_token(portal: &Portal) -> Option<String> {
    let prepared = tokio::time::timeout(Duration::from_secs(10), portal.db().migrate()).await;
    if !matches!(prepared, Ok(Ok(_))) {
        return None;
    }
    let new = NewToken {
        name: format!("harness-{}", uuid::Uuid::new_v4().simple()),
        role: Role::Admin,
        expires_in_days: None,
    };
    let (_, secret) = portal
        .identity()
        .create_token(&new, "test-harness")
        .await
        .ok()?;
    Some(secret)
}

/// A client that sends `secret` as a bearer token and does not follow redirects.
pub fn client_with_token(secret: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {secret}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response's status and its JSON body (`Null` when it has none).
pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// `GET path` with `client`: the status and the JSON body.
pub async fn get_with(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
) -> (u16, serde_json::Value) {
    status_and_json(client.get(server.url(path)).send().await.unwrap()).await
}

/// `POST path` with `client` and `body` as JSON (no body when it is null): the status
/// and the JSON body.
pub async fn post_with(
    client: &reqwest::Client,
    server: &TestServer,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let request = client.post(server.url(path));
    let request = if body.is_null() {
        request
    } else {
        request.json(body)
    };
    status_and_json(request.send().await.unwrap()).await
}

/// A migrated test database of each backend that is available.
pub async fn databases() -> Vec<TestDb> {
    use portico_core::storage::Backend;
    let mut all = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(db) = TestDb::new_unmigrated(backend).await {
            all.push(db);
        }
    }
    all
}
