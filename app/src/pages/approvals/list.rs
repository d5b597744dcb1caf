//! `/approvals`: what waits for the caller first, then every other pending request,
//! then the latest settled ones; filters (status, "asked by me") are a plain GET form,
//! so every view is a link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::pages::create::page_frame;

/// The list's filters, as they live in the URL (`?status=pending&mine=true`).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSearch {
    /// One status, or every one (empty).
    pub status: String,
    /// Only the caller's own requests.
    pub mine: bool,
}

#[cfg(feature = "ssr")]
impl ListSearch {
    pub fn parse(search: &str) -> Self {
        let mut parsed = Self::default();
        let search = search.strip_prefix('?').unwrap_or(search);
        for (key, value) in form_urlencoded::parse(search.as_bytes()) {
            match key.as_ref() {
                "status" => parsed.status = value.trim().to_owned(),
                "mine" => parsed.mine = value == "true" || value == "on",
                _ => {}
            }
        }
        parsed
    }
}

/// The list for a URL query string, as HTML.
#[server(output = crate::codec::JsonText)]
pub async fn list_approvals_page(search: String) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let search = ListSearch::parse(&search);
    let list = super::server::list(&portal, &principal, &search).await?;
    Ok(super::render::list(&list, &search))
}

/// `/approvals`.
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let location = use_location();
    let key = Signal::derive(move || vec![location.search.get()]);
    view! {
        <Title text="Approvals" />
        <div class="page-header">
            <div>
                <h1>"Approvals"</h1>
                <p class="muted">
                    "Requests waiting for a yes or a no before something goes on: a golden path, a release. What waits for you comes first."
                </p>
            </div>
        </div>
        {page_frame(
            key,
            |key| Box::pin(list_approvals_page(key[0].clone())),
            |_, html| view! { <div class="approvals" inner_html=html></div> }.into_any(),
            "Loading the approvals…",
            |_| Some("approvals".to_owned()),
        )}
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_from_the_query() {
        assert_eq!(ListSearch::parse(""), ListSearch::default());
        let search = ListSearch::parse("?status=approved&mine=true&other=1");
        assert_eq!(search.status, "approved");
        assert!(search.mine);
        assert!(ListSearch::parse("mine=on").mine);
        assert!(!ListSearch::parse("mine=no").mine);
    }
}
