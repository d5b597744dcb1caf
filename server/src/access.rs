//! Deny by default, by construction: every route is added together with what it needs,
//! and one layer refuses any matched route that has no declaration.
//!
//! - HTTP routes are added through [`Routes`], whose only way to add a handler takes
//!   its [`Need`].
//! - Pages and server functions come from the UI crate; [`UI_NEEDS`] declares each of
//!   them, and start-up refuses to serve when the UI has one that is not declared.
//! - [`authorize`] runs for every matched route: it looks the route up and lets the
//!   request through only when the caller meets the need. A route with no declaration
//!   is refused (and logged as the bug it is).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use portico_core::identity::{Principal, Role};

use crate::error::ApiError;
use crate::identity::pages::{render, ForbiddenPage};
use crate::identity::Caller;
use crate::state::AppState;

/// What a route needs from its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not: probes, sign-in itself, static files.
    Public,
    /// A signed-in person or a token with at least this role.
    Role(Role),
}

impl Need {
    pub const VIEWER: Need = Need::Role(Role::Viewer);
    pub const DEVELOPER: Need = Need::Role(Role::Developer);
    pub const SRE: Need = Need::Role(Role::Sre);
    pub const ADMIN: Need = Need::Role(Role::Admin);
}

/// The pages and server functions of the UI, and what each needs. Server functions are
/// named by the path they are served at.
pub const UI_NEEDS: &[(&str, Need)] = &[
    ("/", Need::VIEWER),
    ("/catalog", Need::VIEWER),
    ("/catalog/{namespace}/{kind}/{name}", Need::VIEWER),
    ("/status", Need::VIEWER),
    ("/environments", Need::VIEWER),
    ("/environments/{name}", Need::VIEWER),
    ("/api/get_environment_matrix", Need::VIEWER),
    ("/api/get_environment", Need::VIEWER),
    ("/api/get_deployment_history", Need::VIEWER),
    ("/api/get_catalog_listing", Need::VIEWER),
    ("/api/get_entity_details", Need::VIEWER),
    ("/api/system_status", Need::VIEWER),
    ("/api/current_user", Need::Public),
    // Golden paths: anyone may look at the templates and fill in a wizard; running one,
    // and reading or cancelling runs, needs a developer.
    ("/create", Need::VIEWER),
    ("/create/templates/{namespace}/{name}", Need::VIEWER),
    ("/create/tasks/{id}", Need::DEVELOPER),
    ("/create/edit", Need::DEVELOPER),
    ("/approvals", Need::VIEWER),
    ("/approvals/{id}", Need::VIEWER),
    ("/api/list_approvals_page", Need::VIEWER),
    ("/api/approval_page", Need::VIEWER),
    ("/api/decide_approval", Need::VIEWER),
    ("/api/cancel_approval", Need::VIEWER),
    ("/notifications", Need::VIEWER),
    ("/api/notifications_page", Need::VIEWER),
    ("/api/mark_notifications_read", Need::VIEWER),
    ("/api/list_golden_paths", Need::VIEWER),
    ("/api/golden_path_form", Need::VIEWER),
    ("/api/golden_path_pages", Need::VIEWER),
    ("/api/pick_entities", Need::VIEWER),
    ("/api/start_golden_path", Need::DEVELOPER),
    ("/api/preview_golden_path", Need::DEVELOPER),
    ("/api/golden_path_editor", Need::DEVELOPER),
    ("/api/get_task_run", Need::DEVELOPER),
    ("/api/cancel_task_run", Need::DEVELOPER),
    ("/admin/tokens", Need::ADMIN),
    ("/admin/audit", Need::ADMIN),
    ("/api/list_tokens", Need::ADMIN),
    ("/api/create_token", Need::ADMIN),
    ("/api/revoke_token", Need::ADMIN),
    ("/api/audit_entries", Need::ADMIN),
];

/// Every declared route: `(method, route path)` → need.
#[derive(Clone, Debug, Default)]
pub struct AccessTable {
    needs: HashMap<(Method, String), Need>,
}

impl AccessTable {
    fn declare(&mut self, method: Method, path: &str, need: Need) {
        let previous = self.needs.insert((method.clone(), path.to_owned()), need);
        assert!(
            previous.is_none_or(|p| p == need),
            "{method} {path} is declared twice with different needs"
        );
    }

    /// Declares a UI route (a page or a server function) by the path it is served at.
    /// Pages answer GET; server functions answer what their codec uses.
    pub fn declare_ui(&mut self, path: &str, methods: &[Method]) -> Result<(), String> {
        let need = UI_NEEDS
            .iter()
            .find(|(declared, _)| {
                // Server function paths end with a hash unless given an endpoint.
                path == *declared || (declared.starts_with("/api/") && path.starts_with(declared))
            })
            .map(|(_, need)| *need)
            .ok_or_else(|| {
                format!("{path} is served by the UI but has no access declaration in UI_NEEDS")
            })?;
        for method in methods {
            self.declare(method.clone(), path, need);
        }
        Ok(())
    }

    /// The need of a matched route; HEAD is GET.
    pub fn need(&self, method: &Method, path: &str) -> Option<Need> {
        let method = if method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        self.needs.get(&(method, path.to_owned())).copied()
    }

    /// Whether any method of `path` is declared.
    fn declares_path(&self, path: &str) -> bool {
        self.needs.keys().any(|(_, declared)| declared == path)
    }

    /// Every declaration, for the tests that enumerate them.
    pub fn entries(&self) -> impl Iterator<Item = (&Method, &str, Need)> {
        self.needs.iter().map(|((m, p), n)| (m, p.as_str(), *n))
    }
}

/// Routes with their needs; the only way to add a handler is to say what it needs.
#[derive(Default)]
pub struct Routes {
    paths: Vec<(&'static str, MethodRouter<AppState>)>,
    table: AccessTable,
}

macro_rules! method {
    ($name:ident, $filter:ident, $method:ident) => {
        pub fn $name<H, T>(self, path: &'static str, need: Need, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.on(path, MethodFilter::$filter, Method::$method, need, handler)
        }
    };
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    method!(get, GET, GET);
    method!(post, POST, POST);
    method!(put, PUT, PUT);
    method!(patch, PATCH, PATCH);
    method!(delete, DELETE, DELETE);

    fn on<H, T>(
        mut self,
        path: &'static str,
        filter: MethodFilter,
        method: Method,
        need: Need,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.table.declare(method, path, need);
        match self.paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, router)) => *router = std::mem::take(router).on(filter, handler),
            None => self
                .paths
                .push((path, MethodRouter::new().on(filter, handler))),
        }
        self
    }

    /// Every method of `path`, all with `need` (a catch-all such as the API's 404).
    pub fn any<H, T>(mut self, path: &'static str, need: Need, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            self.table.declare(method, path, need);
        }
        self.paths.push((path, axum::routing::any(handler)));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        for ((method, path), need) in other.table.needs {
            self.table.declare(method, &path, need);
        }
        self.paths.extend(other.paths);
        self
    }

    /// The router and the table its routes were declared in.
    pub fn into_parts(self) -> (Router<AppState>, AccessTable) {
        let router = self
            .paths
            .into_iter()
            .fold(Router::new(), |router, (path, methods)| {
                router.route(path, methods)
            });
        (router, self.table)
    }
}

/// Lets a request through only when its route is declared and the caller meets the
/// need. Anonymous callers are sent to `/login` from pages and get 401 from the API;
/// signed-in callers without the role get 403.
pub async fn authorize(
    State(table): State<Arc<AccessTable>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let Some(matched) = matched else {
        // Only the fallback (static files, the 404 page) has no matched route.
        return next.run(request).await;
    };
    let method = request.method().clone();
    let Some(need) = table.need(&method, matched.as_str()) else {
        if table.declares_path(matched.as_str()) {
            // Another method of a declared route: nothing serves this one.
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        tracing::error!(
            %method,
            route = matched.as_str(),
            "route has no access declaration: refused"
        );
        return ApiError::Forbidden("this route is not available".into()).into_response();
    };
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default();
    match (need, caller.principal()) {
        (Need::Public, _) => next.run(request).await,
        (Need::Role(role), Some(principal)) if principal.has(role) => next.run(request).await,
        (Need::Role(role), Some(principal)) => forbidden(&request, principal, role),
        (Need::Role(_), None) if caller.unverified => ApiError::TryLater(
            "your sign-in cannot be checked right now (the database is unreachable); try again shortly".into(),
        )
        .into_response(),
        (Need::Role(_), None) => anonymous(&request),
    }
}

/// 403: a page for people navigating, the JSON error for everything else.
fn forbidden(request: &Request, principal: &Principal, role: Role) -> Response {
    let what = format!(
        "this needs the {role} role; {} has {}",
        principal.name, principal.role
    );
    if is_page(request) {
        return render(StatusCode::FORBIDDEN, &ForbiddenPage { what });
    }
    ApiError::Forbidden(what).into_response()
}

/// A browser navigating to a page (not the API, a script or a scraper).
fn is_page(request: &Request) -> bool {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    request.method() == Method::GET && wants_html && !request.uri().path().starts_with("/api/")
}

/// A browser navigating to a page is sent to sign in (and back); anything else (the
/// API, scripts, scrapers) gets 401 with a challenge.
fn anonymous(request: &Request) -> Response {
    if is_page(request) {
        let back = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let target = format!(
            "/login?return_to={}",
            form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        );
        return Redirect::to(&target).into_response();
    }
    let mut response = ApiError::Unauthenticated(
        "sign in, or send an API token as `Authorization: Bearer <token>`".into(),
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"portico\""),
    );
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}
