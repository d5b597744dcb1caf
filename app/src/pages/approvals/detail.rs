//! `/approvals/{id}`: one request, its context and history, who else is looking at it,
//! and (for its approvers) approve or reject with a comment.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::viewers::Viewers;
use crate::error::AppError;
use crate::pages::create::page_frame;

/// The request's page as HTML; empty when there is no such request.
#[server(output = crate::codec::JsonText)]
pub async fn approval_page(id: String) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    match super::server::view(&portal, &principal, &id).await? {
        Some(view) => Ok(super::render::detail(&view)),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            Ok(String::new())
        }
    }
}

/// Records the caller's decision (`approve` or `reject`) with `comment`.
#[server(output = crate::codec::JsonText)]
pub async fn decide_approval(
    id: String,
    decision: String,
    comment: String,
) -> Result<(), AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    super::server::decide(&portal, &principal, &id, &decision, comment).await
}

/// Cancels the request (who asked for it, or an admin).
#[server(output = crate::codec::JsonText)]
pub async fn cancel_approval(id: String, reason: String) -> Result<(), AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    super::server::cancel(&portal, &principal, &id, reason).await
}

/// `/approvals/{id}`.
#[component]
pub fn ApprovalPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/approvals">"Approvals"</a> " / " <span aria-current="page">"Request"</span>
        </nav>
        <Viewers topic=move || Some(format!("approval:{}", id())) />
        {page_frame(
            Signal::derive(move || vec![id()]),
            |key| Box::pin(approval_page(key[0].clone())),
            |_, html| {
                if html.is_empty() {
                    missing()
                } else {
                    page(html)
                }
            },
            "Loading the request…",
            |key| Some(format!("approval:{}", key[0])),
        )}
    }
}

fn missing() -> AnyView {
    view! {
        <Title text="No such approval request" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"No such approval request"</h1>
            <p><a href="/approvals">"All approvals"</a></p>
        </section>
    }
    .into_any()
}

#[cfg(not(feature = "hydrate"))]
fn page(html: String) -> AnyView {
    view! { <Title text="Approval request" /> <div class="approval" inner_html=html></div> }
        .into_any()
}

/// The request in the browser: the decision buttons call the server, and the page is
/// read again (everyone else's reads again from the live topic).
#[cfg(feature = "hydrate")]
fn page(html: String) -> AnyView {
    use leptos::wasm_bindgen::JsCast;

    use crate::dom::handler;
    use crate::dom::{element, value_of};
    use crate::pages::create::PageData;

    let data = use_context::<PageData>();
    let params = use_params_map();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(button) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|t| t.closest("[data-action]").ok().flatten())
        else {
            return;
        };
        let action = button.get_attribute("data-action").unwrap_or_default();
        let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
        let comment = element("decision-comment")
            .map(|e| value_of(&e))
            .unwrap_or_default();
        let _ = button.set_attribute("disabled", "");
        leptos::task::spawn_local(async move {
            let done = match action.as_str() {
                "cancel" => cancel_approval(id, comment).await,
                decision => decide_approval(id, decision.to_owned(), comment).await,
            };
            match done {
                Ok(()) => {
                    if let Some(data) = data {
                        data.0.refetch();
                    }
                }
                Err(e) => {
                    let _ = button.remove_attribute("disabled");
                    if let Some(panel) = element("decision-error") {
                        panel.set_text_content(Some(&e.to_string()));
                        let _ = panel.remove_attribute("hidden");
                    }
                }
            }
        });
    };
    view! {
        <Title text="Approval request" />
        <div class="approval" inner_html=html on:click=handler(on_click)></div>
    }
    .into_any()
}
