//! ${{ values.name }}: ${{ values.description or "a Northwind service" }}

use axum::routing::get;
use axum::Router;

/// The port, unless PORT says otherwise.
const DEFAULT_PORT: u16 = ${{ values.port }};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    let app = Router::new()
        .route("/", get(|| async { "${{ values.name }}\n" }))
        .route("/healthz", get(|| async { "ok\n" }));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .expect("the port is free");
    tracing::info!(port, "${{ values.name }} listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("the server runs");
}
