//! The live channel: Phoenix Channels v2 over a websocket at `/socket/websocket`.
//!
//! - [`frame`]: the JSON array frames.
//! - [`hub`]: topic subscriptions, the fan-out of the event log, credential checks.
//! - [`socket`]: one connection's loop (heartbeats, joins with replay, leaves).
//! - [`presence`]: who is looking at a page.
//! - [`peers`]: presence shared between instances on PostgreSQL.
//!
//! A socket is opened with the session cookie (from the portal's own pages: the origin
//! is checked) or an API token as `?token=`, the way Phoenix clients send `params`.

pub mod frame;
pub mod hub;
pub mod peers;
pub mod presence;
pub mod socket;

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use self::hub::Credential;
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::identity::caller::{self, Caller};
use crate::state::AppState;

/// The only wire format served: JSON array frames.
const VSN: &str = "2.0.0";

/// Largest frame a client may send: joins and heartbeats are tiny.
const MAX_INCOMING: usize = 64 * 1024;

/// Opening a socket needs someone signed in; each join then checks the topic.
pub fn routes() -> Routes {
    Routes::new().get("/socket/websocket", Need::VIEWER, open_socket)
}

#[derive(Deserialize)]
struct SocketParams {
    vsn: Option<String>,
    token: Option<String>,
}

/// `GET /socket/websocket?vsn=2.0.0[&token=…]`: upgrades to the live channel.
async fn open_socket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<SocketParams>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if params.vsn.as_deref().is_some_and(|v| v != VSN) {
        return Err(ApiError::Input(format!(
            "vsn: only {VSN} (JSON array frames) is served"
        )));
    }
    let principal = caller.shared_principal()?;
    let credential = match (params.token, caller::session_cookie(&headers)) {
        (Some(secret), _) => Credential::Token(secret),
        (None, Some(id)) => Credential::Session(id),
        (None, None) => {
            return Err(ApiError::Unauthenticated(
                "the live channel needs a session or ?token=".into(),
            ))
        }
    };
    let hub = Arc::clone(&state.hub);
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_INCOMING)
        .max_frame_size(MAX_INCOMING)
        .on_upgrade(move |ws| socket::serve(hub, ws, principal, credential)))
}
