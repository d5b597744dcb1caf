//! Start-up and shutdown: open the portal, bind, serve, prepare the database in the
//! background, and stop cleanly on SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use leptos::config::{Env, LeptosOptions};
use portico_core::catalog::watch::CatalogWatcher;
use portico_core::demo::{self, SeedOutcome};
use portico_core::storage::{Database, StorageError};
use portico_core::Portal;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::{info, warn, Level};

use crate::access::{self, AccessTable, Need, Routes};
use crate::config::Config;
use crate::error::{self, ApiError};
use crate::events::hub::Hub;
use crate::identity::{self, AuthState};
use crate::operations::metrics::{self, Metrics};
use crate::state::AppState;
use crate::{
    approvals, catalog, environments, events, notifications, openapi, operations, templates, ui,
};

/// The name wasm-bindgen's output is given (`pkg/portico.js`, `pkg/portico.wasm`);
/// `.cargo/config.toml` bakes the same name into the app as `LEPTOS_OUTPUT_NAME`.
const BUNDLE_NAME: &str = "portico";

/// After a shutdown signal, how long in-flight requests get before the process exits
/// anyway: under the 10 s orchestrators usually allow before SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Longest wait between two attempts to prepare an unreachable database.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Catalog(#[from] portico_core::catalog::CatalogError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    /// A page or server function with no access declaration: refused, never served.
    #[error("{0}")]
    Undeclared(String),
    #[error(transparent)]
    Identity(#[from] portico_core::identity::IdentityError),
}

/// `portico serve`: runs until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    Server::bind(&config).await?.run(shutdown_signal()).await
}

/// `portico migrate`: applies the migrations once and reports.
pub async fn migrate(config: &Config) -> Result<(), StartupError> {
    let db = Database::connect_lazy(config.database_url.expose())?;
    db.migrate().await?;
    let state = db.migration_state().await?;
    let latest = state.migrations.last().map_or(0, |m| m.version);
    println!(
        "{}: {} migrations applied, schema version {latest}",
        config.database_url,
        state.migrations.len()
    );
    db.close().await;
    Ok(())
}

/// A bound, ready-to-run server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    access: Arc<AccessTable>,
    portal: Portal,
    hub: Arc<Hub>,
    background: Background,
}

/// What the background workers are told at start.
#[derive(Clone)]
struct Background {
    demo: bool,
    environments: Vec<portico_core::environments::EnvironmentSpec>,
    health: portico_core::environments::probes::engine::ProbeSettings,
    probe_metrics: metrics::ProbeMetrics,
    /// Where the demo's golden paths are written.
    data_dir: std::path::PathBuf,
}

impl Server {
    /// Opens the portal (without waiting for the database) and binds the address.
    pub async fn bind(config: &Config) -> Result<Self, StartupError> {
        let portal =
            Portal::open(config.database_url.expose())?.with_settings(config.portal_settings());
        info!(database = %config.database_url, "portal opened");
        check_site_root(&config.site_root);

        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.addr,
            source,
        })?;
        let auth = AuthState::new(
            &config.auth,
            public_url(&config.auth.public_url, local),
            config.auth.demo_sign_in(&local),
        );
        if auth.demo {
            warn!("no identity provider is configured: the demo sign-in is on (loopback only)");
        } else if auth.provider.is_none() {
            warn!("no identity provider is configured and the address is not loopback: only API tokens can sign in");
        }
        let metrics = Arc::new(Metrics::new());
        let hub = Arc::new(Hub::new(
            portal.db().clone(),
            portal.events(),
            portal.identity(),
            config.auth.session_max,
            config.channels,
            metrics.channels.clone(),
        ));
        let state = AppState {
            portal: portal.clone(),
            leptos: leptos_options(config),
            metrics,
            auth: Arc::new(auth),
            hub: Arc::clone(&hub),
            github_webhook_secret: config
                .github_webhook_secret
                .as_ref()
                .map(|secret| Arc::from(secret.0.as_str())),
            probe_defaults: config.health.defaults,
        };
        let background = Background {
            demo: config.demo,
            environments: config.environments.clone(),
            health: config.health.clone(),
            probe_metrics: state.metrics.probes.clone(),
            data_dir: config.data_dir.clone(),
        };
        let (router, access) = router(state, config)?;
        Ok(Self {
            listener,
            router,
            access,
            portal,
            hub,
            background,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn portal(&self) -> &Portal {
        &self.portal
    }

    /// Every route's declared need (the tests enumerate it).
    pub fn access(&self) -> &AccessTable {
        &self.access
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (for at
    /// most [`SHUTDOWN_GRACE`]) and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let addr = self.local_addr();
        let preparation = tokio::spawn(prepare_database(
            self.portal.clone(),
            Arc::clone(&self.hub),
            self.background.clone(),
            addr,
        ));
        info!("listening on http://{addr}");

        let (stopping, mut stopped) = watch::channel(false);
        let hub = Arc::clone(&self.hub);
        let graceful = async move {
            shutdown.await;
            info!("shutting down: finishing in-flight requests");
            // Websockets are not requests the server waits for: tell their clients
            // to reconnect.
            hub.close_all();
            let _ = stopping.send(true);
        };
        let deadline = async move {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(graceful);
        tokio::select! {
            result = server => result.map_err(StartupError::Serve)?,
            () = deadline => warn!("requests still running after {SHUTDOWN_GRACE:?}: exiting anyway"),
        }

        preparation.abort();
        self.portal.db().close().await;
        info!("stopped");
        Ok(())
    }
}

/// The public URL with the port the server was given, when it was configured with port
/// 0 (tests, and `--addr 127.0.0.1:0`).
fn public_url(configured: &url::Url, local: SocketAddr) -> url::Url {
    let mut url = configured.clone();
    if url.port() == Some(0) {
        let _ = url.set_port(Some(local.port()));
    }
    url
}

/// The whole HTTP surface, grouped by who calls it. Every route is declared with what it
/// needs (see [`access`]); the layers, innermost first: the access check per route, the
/// caller (token or session, and the origin check), the session, the error envelope,
/// metrics, tracing.
fn router(state: AppState, config: &Config) -> Result<(Router, Arc<AccessTable>), StartupError> {
    let (api, mut table) = Routes::new()
        // Orchestrators, probes and scrapers.
        .merge(operations::routes(state.auth.metrics_public))
        // JSON clients: the catalog API; an unknown API path is a JSON 404, never a page.
        .merge(catalog::routes::routes())
        .merge(openapi::routes())
        // Signing in, and administration.
        .merge(identity::routes::routes())
        .merge(identity::admin::routes())
        // Environments, deployments and health.
        .merge(environments::routes())
        .merge(templates::routes())
        .merge(approvals::routes())
        .merge(notifications::routes())
        // The live channel (websocket).
        .merge(events::routes())
        .any("/api/{*path}", Need::VIEWER, api_not_found)
        .into_parts();
    // Browsers: pages, server functions, static files, the 404 page.
    let ui = ui::router(&state, &mut table).map_err(StartupError::Undeclared)?;
    let sessions = identity::session::layer(state.portal.identity(), &config.auth);
    let table = Arc::new(table);
    let router = api
        .merge(ui)
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&table),
            access::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            identity::caller::identify,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(error::envelope))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // A 5xx is already in the response line, and its cause is logged where it
                // happened; at ERROR, every probe of a not-ready instance would page someone.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state);
    Ok((router, table))
}

/// The span of a request: method and path, never the query string, which may carry
/// a websocket's `?token=`.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        version = ?request.version(),
    )
}

async fn api_not_found(request: axum::extract::Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route {} {}",
        request.method(),
        request.uri().path()
    ))
}

fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(BUNDLE_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .env(Env::PROD)
        .build()
}

/// Pages render without the bundle, but never become interactive: say so at start.
fn check_site_root(site_root: &Path) {
    let bundle = site_root.join("pkg").join(format!("{BUNDLE_NAME}.wasm"));
    if !bundle.is_file() {
        warn!(
            site_root = %site_root.display(),
            "the web UI bundle {} is missing: pages will not be interactive \
             (run `make build`, or set LEPTOS_SITE_ROOT)",
            bundle.display()
        );
    }
}

/// Migrates the database, then seeds the demo data if asked, retrying with backoff for
/// as long as the database is unreachable. Until this is done `/readyz` says why not.
async fn prepare_database(portal: Portal, hub: Arc<Hub>, background: Background, addr: SocketAddr) {
    let mut delay = Duration::from_millis(250);
    loop {
        match prepare_once(&portal, &background).await {
            Ok(()) => break,
            Err(e) => {
                warn!(
                    error = &*e as &dyn std::error::Error,
                    retry_in = ?delay,
                    "database not prepared yet"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
    // Background workers need the migrated database.
    let identity = portal.identity();
    let events = portal.events();
    let credentials = Arc::clone(&hub);
    let presence = Arc::clone(&hub);
    let probes = portal.clone();
    let simulated = portal.clone();
    let templates = portal.templates();
    let approvals = portal.approvals();
    let callbacks = portal.approvals();
    let Background {
        demo,
        health,
        probe_metrics,
        ..
    } = background;
    tokio::join!(
        supervise("health probes", move || {
            environments::probe_engine(&probes, &health, &probe_metrics).run()
        }),
        async move {
            if demo {
                supervise("demo simulator", move || {
                    environments::simulator::run(simulated.clone(), addr)
                })
                .await;
            }
        },
        supervise("event feed", move || events.feed().run()),
        supervise("live channel", move || Arc::clone(&hub).run()),
        supervise("live channel credentials", move || {
            Arc::clone(&credentials).watch_credentials()
        }),
        supervise("live channel presence", move || {
            Arc::clone(&presence).share_presence()
        }),
        supervise("catalog watcher", move || {
            CatalogWatcher::new(portal.catalog()).run()
        }),
        supervise("session sweeper", move || sweep_sessions(identity.clone())),
        supervise("template tasks", move || {
            let templates = templates.clone();
            async move { templates.work().await }
        }),
        supervise("approval expiry", move || {
            let approvals = approvals.clone();
            async move { approvals.expire_as_due(APPROVAL_EXPIRY_CHECK).await }
        }),
        supervise("approval callbacks", move || {
            let approvals = callbacks.clone();
            async move { approvals.deliver_callbacks().await }
        }),
    );
}

/// How often pending approval requests are checked for expiry (a request read in the
/// meantime is expired when it is read).
const APPROVAL_EXPIRY_CHECK: Duration = Duration::from_secs(5);

/// How often expired sessions are deleted (they are never honoured once expired; this
/// only keeps the table small).
const SESSION_SWEEP: Duration = Duration::from_secs(60 * 60);

async fn sweep_sessions(
    identity: portico_core::identity::Identity,
) -> Result<(), portico_core::identity::IdentityError> {
    let mut every = tokio::time::interval(SESSION_SWEEP);
    loop {
        every.tick().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let removed = identity.delete_expired_sessions(now).await?;
        if removed > 0 {
            info!(removed, "expired sessions deleted");
        }
    }
}

/// Runs a long-lived worker, restarting it with backoff when it fails or panics: a
/// worker's crash is logged and never takes the server down. Cancelling this future
/// (at shutdown) stops the worker too.
async fn supervise<F, Fut, E>(name: &'static str, start: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    /// Aborts the worker when the supervisor is dropped.
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    let mut delay = Duration::from_secs(1);
    loop {
        let mut worker = AbortOnDrop(tokio::spawn(start()));
        match (&mut worker.0).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => {
                warn!(worker = name, error = %e, retry_in = ?delay, "worker failed; restarting")
            }
            Err(e) if e.is_panic() => {
                tracing::error!(worker = name, retry_in = ?delay, "worker panicked; restarting")
            }
            Err(_) => return,
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

async fn prepare_once(
    portal: &Portal,
    background: &Background,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    portal.db().migrate().await?;
    info!("database ready: migrations applied");
    environments::define(portal, &background.environments, background.demo).await?;
    if background.demo {
        match demo::seed(portal).await? {
            SeedOutcome::Seeded => info!("demo data seeded"),
            SeedOutcome::AlreadySeeded => info!("demo data already present"),
            SeedOutcome::NotEmpty => {
                warn!("demo data not seeded: the database holds data of its own")
            }
        }
        let golden_paths = background.data_dir.join("golden-paths");
        let summary = demo::golden_paths::install(portal, &golden_paths).await?;
        info!(
            dir = %golden_paths.display(),
            added = summary.added,
            updated = summary.updated,
            "demo golden paths installed"
        );
    }
    Ok(())
}

/// Completes on SIGTERM (orchestrators) or Ctrl-C (terminals).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
