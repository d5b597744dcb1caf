//! `/login`, `/auth/login`, `/auth/callback`, `/auth/demo`, `/auth/logout`, `/api/me`.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use portico_core::identity::{NewAudit, Outcome, Principal, SignIn};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::caller::session_key;
use super::oidc::{LoginFailure, PendingLogin};
use super::pages::{render, ErrorPage, LoginPage};
use super::session::{SignedIn, PENDING_LOGIN, SIGNED_IN};
use super::{demo, Caller};
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Need::Public, login_page)
        .get("/auth/login", Need::Public, begin)
        .get("/auth/callback", Need::Public, callback)
        .post("/auth/demo", Need::Public, demo_sign_in)
        .get("/auth/logout", Need::Public, logout)
        .post("/auth/logout", Need::Public, logout)
        .get("/api/me", Need::VIEWER, me)
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    return_to: Option<String>,
    signed_out: Option<String>,
}

/// A local path to come back to, or `/`: never another site (an open redirect).
fn local_path(return_to: Option<&str>) -> String {
    match return_to {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.contains(['\r', '\n'])
                && !path.starts_with("/auth/") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

async fn login_page(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    let return_to = local_path(query.return_to.as_deref());
    let provider = state.auth.provider.as_ref().map(|p| {
        url::Url::parse(p.issuer())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| p.issuer().to_owned())
    });
    let page = LoginPage {
        provider,
        demo: state.auth.demo,
        people: demo::PEOPLE,
        return_to_query: form_urlencoded::byte_serialize(return_to.as_bytes()).collect(),
        return_to,
        signed_out: query.signed_out.is_some(),
    };
    render(StatusCode::OK, &page)
}

/// Starts a sign-in with the provider.
async fn begin(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Response {
    let return_to = local_path(query.return_to.as_deref());
    let Some(provider) = state.auth.provider.clone() else {
        return Redirect::to("/login").into_response();
    };
    match provider.begin(return_to).await {
        Ok((url, pending)) => {
            if let Err(e) = session.insert(PENDING_LOGIN, &pending).await {
                tracing::error!(error = %e, "storing the sign-in in progress");
                return failure_page(&LoginFailure::Unreachable("the session store".into()));
            }
            Redirect::to(url.as_str()).into_response()
        }
        Err(failure) => {
            tracing::warn!(error = %failure, "starting a sign-in");
            failure_page(&failure)
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sends the browser back here with a code (or an error).
async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(provider) = state.auth.provider.clone() else {
        return Redirect::to("/login").into_response();
    };
    let pending: Option<PendingLogin> = session.remove(PENDING_LOGIN).await.unwrap_or(None);
    let outcome = match (pending, query.error, query.code, query.state) {
        (_, Some(error), _, _) => Err(LoginFailure::Refused(match query.error_description {
            Some(description) => format!("{error}: {description}"),
            None => error,
        })),
        (None, ..) => Err(LoginFailure::NotStarted),
        (Some(pending), None, Some(code), Some(returned_state)) => {
            let return_to = pending.return_to.clone();
            provider
                .finish(pending, &code, &returned_state)
                .await
                .map(|logged_in| (logged_in, return_to))
        }
        (Some(_), None, _, _) => Err(LoginFailure::Refused(
            "the answer had no code or no state".into(),
        )),
    };
    match outcome {
        Ok((logged_in, return_to)) => {
            start_session(
                &state,
                &session,
                &logged_in.person,
                Some(logged_in.id_token),
                &return_to,
            )
            .await
        }
        Err(failure) => {
            tracing::warn!(error = %failure, "sign-in failed");
            audit_failure(&state, &failure).await;
            failure_page(&failure)
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DemoForm {
    person: String,
    return_to: Option<String>,
}

async fn demo_sign_in(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DemoForm>,
) -> Response {
    if !state.auth.demo {
        return ApiError::NotFound("demo sign-in is not available here".into()).into_response();
    }
    let Some(person) = demo::sign_in(&form.person) else {
        return ApiError::Input(format!("person: {:?} is not a demo person", form.person))
            .into_response();
    };
    let return_to = local_path(form.return_to.as_deref());
    start_session(&state, &session, &person, None, &return_to).await
}

/// Records the sign-in, gives the browser a new session id (so an id planted before
/// sign-in is worth nothing) and sends it on.
async fn start_session(
    state: &AppState,
    session: &Session,
    person: &SignIn,
    id_token: Option<String>,
    return_to: &str,
) -> Response {
    let principal = match state.portal.identity().sign_in(person).await {
        Ok(principal) => principal,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let signed_in = SignedIn {
        principal,
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        id_token,
    };
    let stored = async {
        session.cycle_id().await?;
        session.insert(SIGNED_IN, &signed_in).await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "storing the session");
        return failure_page(&LoginFailure::Unreachable("the session store".into()));
    }
    Redirect::to(return_to).into_response()
}

/// Ends the session here, then at the provider when it has an end-session endpoint.
async fn logout(State(state): State<AppState>, session: Session) -> Response {
    let signed_in: Option<SignedIn> = session.get(SIGNED_IN).await.unwrap_or(None);
    if let Some(id) = session.id() {
        state.auth.recent.forget(&session_key(&id.to_string()));
    }
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "ending a session");
    }

    let after = state
        .auth
        .public_url
        .join("/login?signed_out=1")
        .expect("a path joins any http(s) URL");
    let Some(signed_in) = signed_in else {
        return Redirect::to(after.as_str()).into_response();
    };
    audit(
        &state,
        NewAudit {
            actor: signed_in.principal.actor(),
            action: "sign-out",
            target: String::new(),
            outcome: Outcome::Ok,
            detail: json!({}),
        },
    )
    .await;
    if let Some(provider) = &state.auth.provider {
        if let Some(url) = provider
            .logout_url(signed_in.id_token.as_deref(), &after)
            .await
        {
            return Redirect::to(url.as_str()).into_response();
        }
    }
    Redirect::to(after.as_str()).into_response()
}

/// `GET /api/me` → `{name, email, role, groups}` (and how the caller is known).
async fn me(Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let principal: &Principal = caller
        .principal()
        .ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
    Ok(Json(json!({
        "name": principal.name,
        "email": principal.email,
        "role": principal.role,
        "groups": principal.groups,
        "kind": principal.kind,
        "entity": principal.entity,
    })))
}

fn failure_page(failure: &LoginFailure) -> Response {
    let (status, advice) = match failure {
        LoginFailure::Unreachable(_) => (
            StatusCode::BAD_GATEWAY,
            "The portal could not talk to the identity provider. Try again in a moment; if it keeps failing, the provider may be down or PORTICO_OIDC_ISSUER may be wrong.",
        ),
        LoginFailure::Misconfigured(_) => (
            StatusCode::BAD_GATEWAY,
            "The identity provider answered, but not as the portal expects. PORTICO_OIDC_ISSUER must be exactly the issuer the provider announces (same scheme, host, port and path). The people who run the portal can fix this.",
        ),
        LoginFailure::StateMismatch | LoginFailure::NotStarted => (
            StatusCode::BAD_REQUEST,
            "The answer from the identity provider did not match a sign-in started in this browser. This happens with an old bookmark, a second tab, or a forged link. Start again from the sign-in page.",
        ),
        LoginFailure::Refused(_) => (
            StatusCode::FORBIDDEN,
            "The identity provider did not let you in. If you think you should have access, ask the people who run the identity provider.",
        ),
        LoginFailure::InvalidToken(_) => (
            StatusCode::BAD_GATEWAY,
            "The identity provider's answer failed a security check, so it was not trusted. Try again; if it keeps happening, the provider's configuration (issuer, client id, keys) does not match the portal's.",
        ),
    };
    render(
        status,
        &ErrorPage {
            what: failure.to_string(),
            advice: advice.to_owned(),
        },
    )
}

async fn audit_failure(state: &AppState, failure: &LoginFailure) {
    let outcome = match failure {
        LoginFailure::Unreachable(_) | LoginFailure::Misconfigured(_) => Outcome::Failed,
        _ => Outcome::Denied,
    };
    audit(
        state,
        NewAudit {
            actor: "anonymous".into(),
            action: "sign-in",
            target: String::new(),
            outcome,
            detail: json!({"reason": failure.to_string()}),
        },
    )
    .await;
}

/// Audits; a failure to audit is logged (sign-in and sign-out go on).
pub(crate) async fn audit(state: &AppState, entry: NewAudit) {
    if let Err(e) = state.portal.identity().audit(entry).await {
        tracing::error!(
            error = &e as &dyn std::error::Error,
            "writing the audit log"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_is_a_local_path() {
        assert_eq!(local_path(Some("/catalog?kind=api")), "/catalog?kind=api");
        for bad in [
            "https://evil.test/",
            "//evil.test/",
            "/\\evil.test",
            "catalog",
            "/auth/logout",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
