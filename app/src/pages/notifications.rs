//! `/notifications`: what the signed-in person was told (requests waiting for their
//! approval, their own requests decided, golden-path news), newest first, in pages of
//! fifty; opening one marks it read, and so does "Mark all as read".
//!
//! Live: their own topic (`user:<id>`) brings new ones, and reads made in other tabs,
//! without a reload; the header's bell counts the unread ones. The server writes the
//! list as HTML, as it does the approvals pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::components::user_menu::Me;
use crate::error::AppError;
use crate::pages::create::page_frame;

/// One page of the inbox for a URL query string (`?before=<id>`), as HTML.
#[server(output = crate::codec::JsonText)]
pub async fn notifications_page(search: String) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let before = form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
        .find(|(key, _)| key == "before")
        .and_then(|(_, value)| value.parse().ok());
    let inbox = portal
        .notifications()
        .inbox(&principal, before, PAGE)
        .await
        .map_err(|e| AppError::internal("the notifications", &e))?;
    Ok(render::inbox(
        &inbox,
        before.is_some(),
        portico_core::storage::sql::now_millis(),
    ))
}

/// Marks one of the caller's notifications read (`which` is its id), or all of them
/// (`all`).
#[server(output = crate::codec::JsonText)]
pub async fn mark_notifications_read(which: String) -> Result<(), AppError> {
    use portico_core::notifications::Marking;
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let marking = match which.as_str() {
        "all" => Marking::All,
        id => Marking::Ids(vec![id.parse().map_err(|_| {
            crate::context::refused(
                http::StatusCode::BAD_REQUEST,
                format!("{id:?} is not a notification id"),
            )
        })?]),
    };
    portal
        .notifications()
        .mark_read(&principal, &marking)
        .await
        .map_err(|e| AppError::internal("marking notifications read", &e))?;
    Ok(())
}

/// Notifications per page.
#[cfg(feature = "ssr")]
const PAGE: i64 = 50;

/// `/notifications`.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let location = use_location();
    let key = Signal::derive(move || vec![location.search.get()]);
    let frame = page_frame(
        key,
        |key| Box::pin(notifications_page(key[0].clone())),
        |_, html| inbox(html),
        "Loading your notifications…",
        |_| None,
    );
    let data = expect_context::<crate::pages::create::PageData>().0;
    let own = Me::get().own_topic();
    crate::live::use_live_refresh(move || own.get(), move || data.refetch());
    view! {
        <Title text="Notifications" />
        <div class="page-header">
            <div>
                <h1>"Notifications"</h1>
                <p class="muted">
                    "Requests waiting for your approval, news of your own requests and of your golden-path runs."
                </p>
            </div>
        </div>
        {frame}
    }
}

#[cfg(not(feature = "hydrate"))]
fn inbox(html: String) -> AnyView {
    view! { <div class="notifications" inner_html=html></div> }.into_any()
}

/// The list in the browser: opening a notification, or its button, marks it read; the
/// list and the bell are read again (other tabs hear of it on the live topic).
#[cfg(feature = "hydrate")]
fn inbox(html: String) -> AnyView {
    use leptos::wasm_bindgen::JsCast;

    use crate::dom::handler;
    use crate::pages::create::PageData;

    let data = use_context::<PageData>();
    let user = Me::get();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|t| t.closest("[data-read]").ok().flatten())
        else {
            return;
        };
        let which = target.get_attribute("data-read").unwrap_or_default();
        if target.tag_name().eq_ignore_ascii_case("button") {
            let _ = target.set_attribute("disabled", "");
        }
        leptos::task::spawn_local(async move {
            match mark_notifications_read(which).await {
                Ok(()) => {
                    if let Some(data) = data {
                        data.0.refetch();
                    }
                    user.0.refetch();
                }
                Err(e) => {
                    let _ = target.remove_attribute("disabled");
                    if let Some(panel) = crate::dom::element("notifications-error") {
                        panel.set_text_content(Some(&e.to_string()));
                        let _ = panel.remove_attribute("hidden");
                    }
                }
            }
        });
    };
    view! {
        <div class="notifications" inner_html=html on:click=handler(on_click)></div>
    }
    .into_any()
}

#[cfg(feature = "ssr")]
mod render {
    use leptos::prelude::*;
    use portico_core::notifications::{Inbox, Notification};

    use crate::pages::create::Fragment;
    use crate::pages::environments::{ago, clock};

    pub fn inbox(inbox: &Inbox, older: bool, now: i64) -> String {
        let unread = inbox.unread;
        let summary = match unread {
            0 => "Everything is read.".to_owned(),
            1 => "1 unread.".to_owned(),
            n => format!("{n} unread."),
        };
        let list = if inbox.notifications.is_empty() {
            let empty = if older {
                "Nothing older."
            } else {
                "Nothing yet. Requests waiting for your approval, and news of your own requests and runs, show up here."
            };
            view! { <p class="empty" data-testid="no-notifications">{empty}</p> }.into_any()
        } else {
            let items = inbox
                .notifications
                .iter()
                .map(|n| item(n, now))
                .collect_view();
            view! { <ol class="notification-list">{items}</ol> }.into_any()
        };
        let pager = view! {
            <nav class="pager" aria-label="Pages">
                {older.then(|| view! { <a href="/notifications">"Newest"</a> })}
                {inbox.next_before.map(|before| view! {
                    <a href=format!("/notifications?before={before}")>"Older"</a>
                })}
            </nav>
        };
        view! {
            <div class="notifications-toolbar">
                <p role="status" data-testid="unread-summary">{summary}</p>
                <button type="button" class="button" data-read="all" disabled=unread == 0>
                    "Mark all as read"
                </button>
            </div>
            <p class="error-panel" id="notifications-error" role="alert" hidden></p>
            {list}
            {pager}
        }
        .fragment()
    }

    fn item(n: &Notification, now: i64) -> impl IntoView {
        let state = if n.read { "read" } else { "unread" };
        let class = format!("notification {state} severity-{}", n.severity);
        let id = n.id.to_string();
        let title = match n.link.as_deref().filter(|l| safe_link(l)) {
            Some(link) => view! {
                <a class="notification-title" href=link.to_owned() data-read=id.clone()>{n.title.clone()}</a>
            }
            .into_any(),
            None => view! { <span class="notification-title">{n.title.clone()}</span> }.into_any(),
        };
        // What sent it, unless the notification already leads there.
        let origin = origin_link(&n.origin)
            .filter(|(href, _)| n.link.as_deref() != Some(href.as_str()))
            .map(|(href, label)| view! { " · " <a href=href>{label}</a> });
        view! {
            <li class=class data-testid="notification">
                {(!n.read).then(|| view! { <span class="visually-hidden">"Unread: "</span> })}
                {title}
                {n.description.clone().map(|d| view! { <p class="notification-description">{d}</p> })}
                <p class="muted notification-meta">
                    <time title=clock(now, n.created_at)>{ago(now, n.created_at)}</time>
                    {origin}
                    {(!n.read).then(|| view! {
                        " · "
                        <button type="button" class="link-button" data-read=id.clone()>"Mark as read"</button>
                    })}
                </p>
            </li>
        }
    }

    /// Links a notification may lead to: a page of the portal, or an http(s) address
    /// (a template's `notification:send` writes its own; nothing that runs script).
    fn safe_link(link: &str) -> bool {
        (link.starts_with('/') && !link.starts_with("//"))
            || link.starts_with("https://")
            || link.starts_with("http://")
    }

    /// Where what sent a notification is shown.
    fn origin_link(origin: &str) -> Option<(String, &'static str)> {
        if let Some(id) = origin.strip_prefix("approval:") {
            return Some((format!("/approvals/{id}"), "the request"));
        }
        origin
            .strip_prefix("task:")
            .map(|id| (format!("/create/tasks/{id}"), "the run"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn told(link: Option<&str>, read: bool) -> Notification {
            Notification {
                id: 7,
                title: "Approval requested: <Deploy>".into(),
                description: Some("user:ada asks".into()),
                link: link.map(str::to_owned),
                severity: "high".into(),
                origin: "approval:a-1".into(),
                created_at: 0,
                read,
            }
        }

        #[test]
        fn links_that_could_run_script_are_not_links() {
            assert!(safe_link("/approvals/a-1"));
            assert!(safe_link("https://ci.example/run/1"));
            assert!(!safe_link("//evil.example/"));
            assert!(!safe_link("javascript:alert(1)"));
            let html = inbox(
                &Inbox {
                    notifications: vec![told(Some("javascript:alert(1)"), false)],
                    unread: 1,
                    next_before: Some(7),
                },
                false,
                60_000,
            );
            assert!(!html.contains("javascript:"), "{html}");
            assert!(html.contains("&lt;Deploy&gt;"), "{html}");
            assert!(html.contains(r#"href="/approvals/a-1""#), "{html}");
            assert!(html.contains(r#"href="/notifications?before=7""#), "{html}");
            assert!(html.contains("1 unread."), "{html}");
        }

        #[test]
        fn an_empty_inbox_says_what_will_show_up() {
            let empty = Inbox {
                notifications: Vec::new(),
                unread: 0,
                next_before: None,
            };
            let html = inbox(&empty, false, 0);
            assert!(html.contains("Nothing yet."), "{html}");
            assert!(html.contains("disabled"), "{html}");
            assert!(inbox(&empty, true, 0).contains("Nothing older."));
        }
    }
}
