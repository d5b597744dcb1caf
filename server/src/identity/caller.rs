//! Who is calling: resolved once per request from an API token or the session, with
//! the same-origin check for browsers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_core::identity::Principal;
use tower_sessions::Session;

use super::session::{SignedIn, ACTIVE_MINUTE, COOKIE, SIGNED_IN};
use crate::error::ApiError;
use crate::state::AppState;

/// The principal behind a request, if any; put in the request's extensions by
/// [`identify`].
#[derive(Clone, Debug, Default)]
pub struct Caller {
    principal: Option<Arc<Principal>>,
    /// The credentials could not be checked (the database is unreachable): routes that
    /// need someone answer 503, not 401.
    pub unverified: bool,
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    /// The principal, for handlers of routes that need someone: those are only reached
    /// signed in, and this keeps them honest.
    pub fn signed_in(&self) -> Result<&Principal, ApiError> {
        self.principal().ok_or_else(signed_out)
    }

    /// The principal, shared (for what outlives the request, like a websocket).
    pub fn shared_principal(&self) -> Result<Arc<Principal>, ApiError> {
        self.principal.clone().ok_or_else(signed_out)
    }

    /// How the audit log names the caller (`anonymous` when nobody is signed in).
    pub fn actor(&self) -> String {
        self.principal()
            .map_or_else(|| "anonymous".to_owned(), Principal::actor)
    }

    fn known(principal: Arc<Principal>) -> Self {
        Self {
            principal: Some(principal),
            unverified: false,
        }
    }
}

/// How long a verified credential is remembered for a database outage.
const REMEMBERED_FOR: Duration = Duration::from_secs(15 * 60);
const REMEMBERED_AT_MOST: usize = 10_000;

/// Credentials verified recently (token hash or session id → principal), consulted
/// only when the database cannot be reached: people who were signed in a moment ago
/// can still read the status page during an outage. Revoking needs the database, so
/// nothing revoked is honoured from here.
#[derive(Default)]
pub struct RecentCallers {
    known: Mutex<HashMap<String, (Arc<Principal>, Instant)>>,
}

impl RecentCallers {
    fn remember(&self, key: String, principal: &Arc<Principal>) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= REMEMBERED_AT_MOST {
            known.retain(|_, (_, at)| at.elapsed() < REMEMBERED_FOR);
            if known.len() >= REMEMBERED_AT_MOST {
                known.clear();
            }
        }
        known.insert(key, (Arc::clone(principal), Instant::now()));
    }

    fn recall(&self, key: &str) -> Option<Arc<Principal>> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(key)
            .filter(|(_, at)| at.elapsed() < REMEMBERED_FOR)
            .map(|(principal, _)| Arc::clone(principal))
    }

    /// Forgets a credential that was refused or ended.
    pub fn forget(&self, key: &str) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.remove(key);
    }
}

/// How a browser session is known to [`RecentCallers`].
pub fn session_key(id: &str) -> String {
    format!("session:{id}")
}

fn token_key(secret: &str) -> String {
    format!("token:{}", portico_core::identity::tokens::hash(secret))
}

/// Resolves the caller: a bearer token (which exempts the request from the origin
/// check: it cannot be sent by another site), else the browser session. A
/// state-changing browser request from another origin is refused with 403.
pub async fn identify(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(secret) = bearer(request.headers()).or_else(|| socket_token(&request)) {
        let key = token_key(&secret);
        let caller = match state.portal.identity().authenticate_token(&secret).await {
            Ok(Ok(principal)) => {
                let principal = Arc::new(principal);
                state.auth.recent.remember(key, &principal);
                Caller::known(principal)
            }
            Ok(Err(refused)) => {
                state.auth.recent.forget(&key);
                return token_refused(&refused.to_string());
            }
            Err(e) => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "checking an API token"
                );
                match state.auth.recent.recall(&key) {
                    Some(principal) => Caller::known(principal),
                    None => Caller {
                        principal: None,
                        unverified: true,
                    },
                }
            }
        };
        request.extensions_mut().insert(caller);
        return next.run(request).await;
    }
    if needs_origin_check(&request) && !same_origin(request.headers(), &state.auth.origin) {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-origin request refused"
        );
        return ApiError::Forbidden(
            "cross-origin request refused: state-changing requests must come from the portal's own pages".into(),
        )
        .into_response();
    }
    let key = session_cookie(request.headers()).map(|id| session_key(&id));
    let caller = match signed_in(&session, &state).await {
        Ok(Some(principal)) => {
            let principal = Arc::new(principal);
            if let Some(key) = key {
                state.auth.recent.remember(key, &principal);
            }
            Caller::known(principal)
        }
        Ok(None) => {
            // Signed out or expired: never honour it during an outage either.
            if let Some(key) = &key {
                state.auth.recent.forget(key);
            }
            Caller::default()
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the session");
            match key.and_then(|key| state.auth.recent.recall(&key)) {
                Some(principal) => Caller::known(principal),
                None => Caller {
                    principal: None,
                    unverified: true,
                },
            }
        }
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The session's principal, if signed in and within the absolute expiry; slides the
/// idle expiry (at most one write a minute).
async fn signed_in(
    session: &Session,
    state: &AppState,
) -> Result<Option<Principal>, tower_sessions::session::Error> {
    let Some(signed_in) = session.get::<SignedIn>(SIGNED_IN).await? else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if now - signed_in.at >= state.auth.session_max.whole_seconds() {
        session.flush().await?;
        return Ok(None);
    }
    let minute = now / 60;
    if session.get::<i64>(ACTIVE_MINUTE).await? != Some(minute) {
        session.insert(ACTIVE_MINUTE, minute).await?;
    }
    Ok(Some(signed_in.principal))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A websocket upgrade's `?token=`: browsers cannot set headers on a websocket, so
/// Phoenix clients send credentials as query parameters.
fn socket_token(request: &Request) -> Option<String> {
    if !is_upgrade(request) {
        return None;
    }
    form_urlencoded::parse(request.uri().query()?.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|v| !v.is_empty())
}

fn is_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn token_refused(reason: &str) -> Response {
    let mut response = ApiError::Unauthenticated(reason.to_owned()).into_response();
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"portico\", error=\"invalid_token\""),
    );
    response
}

/// State-changing methods and websocket upgrades.
fn needs_origin_check(request: &Request) -> bool {
    let method = request.method();
    let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    changes || is_upgrade(request)
}

/// Whether the request comes from the portal's own origin: its `Origin` (or, without
/// one, its `Referer`) names it. With neither header, only a request that carries no
/// session cookie passes (a script without credentials, which gets 401 where it
/// matters); a browser sends `Origin` with every cross-site POST.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(sent) = headers.get(header::ORIGIN) {
        return sent.to_str().is_ok_and(|s| s == origin);
    }
    if let Some(referer) = headers.get(header::REFERER) {
        return referer
            .to_str()
            .ok()
            .and_then(|r| url::Url::parse(r).ok())
            .is_some_and(|r| r.origin().ascii_serialization() == origin);
    }
    !has_session_cookie(headers)
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    session_cookie(headers).is_some()
}

/// The session id the browser sent, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

fn signed_out() -> ApiError {
    ApiError::Unauthenticated("sign in first".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_origin_or_referer_must_be_the_portal() {
        let ours = "http://127.0.0.1:3000";
        assert!(same_origin(&headers(&[(header::ORIGIN, ours)]), ours));
        assert!(!same_origin(
            &headers(&[(header::ORIGIN, "http://evil.test")]),
            ours
        ));
        assert!(!same_origin(&headers(&[(header::ORIGIN, "null")]), ours));
        assert!(same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:3000/catalog?x=1")]),
            ours
        ));
        assert!(!same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:3001/")]),
            ours
        ));
        // Neither header: fine without the session cookie, refused with it.
        assert!(same_origin(&headers(&[]), ours));
        assert!(!same_origin(
            &headers(&[(header::COOKIE, "a=b; portico_session=xyz")]),
            ours
        ));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(
            bearer(&headers(&[(header::AUTHORIZATION, "bearer portico_x")])).as_deref(),
            Some("portico_x")
        );
        assert_eq!(
            bearer(&headers(&[(header::AUTHORIZATION, "Basic abc")])),
            None
        );
        assert_eq!(
            bearer(&headers(&[(header::AUTHORIZATION, "Bearer ")])),
            None
        );
    }
}
