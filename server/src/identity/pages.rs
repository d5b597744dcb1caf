//! The sign-in pages, rendered on the server with askama: they must work before (and
//! without) the web bundle.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::demo::DemoPerson;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The provider's name, when single sign-on is configured.
    pub provider: Option<String>,
    pub demo: bool,
    pub people: &'a [DemoPerson],
    pub return_to: String,
    pub return_to_query: String,
    pub signed_out: bool,
}

/// A signed-in person on a page their role does not reach.
#[derive(Template)]
#[template(path = "forbidden.html")]
pub struct ForbiddenPage {
    pub what: String,
}

#[derive(Template)]
#[template(path = "auth_error.html")]
pub struct ErrorPage {
    /// What happened.
    pub what: String,
    /// What to do about it.
    pub advice: String,
}

/// Renders a page with `status`; a template that fails to render is a bug, logged.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a sign-in page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
