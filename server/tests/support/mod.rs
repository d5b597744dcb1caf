//! Starts real portico servers on loopback for the HTTP tests.

#![allow(dead_code)] // each test file uses its own part of the harness

pub mod proxy;

use std::net::SocketAddr;
use std::time::Duration;

use portico_core::testing::TestDb;
use portico_server::config::{Config, DatabaseUrl, LogFormat};
use portico_server::startup::{Server, StartupError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and the way to stop it.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
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
        let site = tempfile::tempdir().unwrap();
        let mut config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url: DatabaseUrl::new(database_url),
            log_format: LogFormat::Text,
            site_root: site.path().to_owned(),
            demo: false,
            catalog_roots: Vec::new(),
            catalog_url_hosts: Vec::new(),
            roles: Default::default(),
        };
        configure(&mut config);
        let server = Server::bind(&config)
            .await
            .expect("binding the test server");
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
            _site: site,
        }
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
