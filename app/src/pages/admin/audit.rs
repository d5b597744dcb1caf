//! `/admin/audit`: who did what and when, newest first, filtered by who and what, in
//! pages; the filters and the page live in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::pages::status::ErrorList;

/// Entries per page.
#[cfg(feature = "ssr")]
const PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The cursor of the next (older) page.
    pub older: Option<i64>,
}

#[server(output = crate::codec::JsonText)]
pub async fn audit_entries(
    who: String,
    what: String,
    since: String,
    until: String,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    use portico_core::identity::AuditFilter;
    use portico_core::storage::sql::millis_at_date;

    use portico_core::storage::sql::display_millis as when;

    use super::server::{admin, identity_error, refused};
    admin()?;
    // Days, inclusive at both ends: `until` counts up to the end of its day.
    let day = |field: &str, text: &str, days_after: i64| match text.trim() {
        "" => Ok(None),
        text => millis_at_date(text)
            .map(|start| Some(start + days_after * 86_400_000))
            .ok_or_else(|| {
                refused(
                    http::StatusCode::BAD_REQUEST,
                    format!("{field}: {text:?} is not a date (YYYY-MM-DD)"),
                )
            }),
    };
    let since = day("since", &since, 0)?;
    let until = day("until", &until, 1)?;
    let portal = crate::context::portal()?;
    let filter = AuditFilter {
        who: Some(who).filter(|w| !w.trim().is_empty()),
        what: Some(what).filter(|w| !w.trim().is_empty()),
        since,
        until,
        before,
    };
    let (entries, older) = portal
        .identity()
        .audit_log(&filter, PAGE)
        .await
        .map_err(identity_error)?;
    Ok(AuditPage {
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: when(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                detail: if e.detail.as_object().is_some_and(|o| o.is_empty()) {
                    String::new()
                } else {
                    e.detail.to_string()
                },
            })
            .collect(),
        older,
    })
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let who = Memo::new(move |_| query.with(|q| q.get("who").unwrap_or_default()));
    let what = Memo::new(move |_| query.with(|q| q.get("what").unwrap_or_default()));
    let since = Memo::new(move |_| query.with(|q| q.get("since").unwrap_or_default()));
    let until = Memo::new(move |_| query.with(|q| q.get("until").unwrap_or_default()));
    let before =
        Memo::new(move |_| query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok())));
    let page = Resource::new(
        move || {
            (
                who.get(),
                what.get(),
                since.get(),
                until.get(),
                before.get(),
            )
        },
        |(who, what, since, until, before)| audit_entries(who, what, since, until, before),
    );
    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <h1>"Audit log"</h1>
        </div>
        <form method="get" action="/admin/audit" class="audit-filters" role="search">
            <label>
                "Who"
                <input name="who" prop:value=move || who.get() placeholder="ada, token:ci" />
            </label>
            <label>
                "What"
                <input name="what" prop:value=move || what.get() placeholder="sign-in, token, catalog" />
            </label>
            <label>
                "From"
                <input name="since" type="date" prop:value=move || since.get() />
            </label>
            <label>
                "To"
                <input name="until" type="date" prop:value=move || until.get() />
            </label>
            <button type="submit" class="button">"Filter"</button>
            <a href="/admin/audit" class="button">"Clear"</a>
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the audit log…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    page.await.map(|page| {
                        let filters = [
                            ("who", who.get_untracked()),
                            ("what", what.get_untracked()),
                            ("since", since.get_untracked()),
                            ("until", until.get_untracked()),
                        ];
                        view! { <AuditTable page filters /> }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn AuditTable(page: AuditPage, filters: [(&'static str, String); 4]) -> impl IntoView {
    if page.rows.is_empty() {
        return view! { <p class="empty">"Nothing recorded matches."</p> }.into_any();
    }
    let older = page.older.map(|before| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &filters {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        let query = query.append_pair("before", &before.to_string()).finish();
        format!("/admin/audit?{query}")
    });
    view! {
        <table class="table audit">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"To what"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .rows
                    .into_iter()
                    .map(|row| view! {
                        <tr>
                            <td>{row.at}</td>
                            <td>{row.actor}</td>
                            <td>{row.action}</td>
                            <td>{row.target}</td>
                            <td class=format!("outcome-{}", row.outcome)>{row.outcome.clone()}</td>
                            <td class="detail"><code>{row.detail}</code></td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {older.map(|href| view! { <a href=href class="button" rel="next">"Older entries"</a> })}
        </nav>
    }
    .into_any()
}
