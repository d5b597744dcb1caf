//! The approvals pages as HTML, written on the server.

use leptos::prelude::*;
use portico_core::approvals::{Approval, ApprovalStatus, Verdict};
use serde_json::Value;

use super::list::ListSearch;
use super::server::{ApprovalList, ApprovalView};
use super::tone;
use crate::pages::catalog::entity_href;
use crate::pages::create::Fragment;
use crate::pages::environments::{ago, clock};

/// How long until `at`, seen at `now`: `in 4 min`, `in 3 h`, `in 2 d`.
fn within(now: i64, at: i64) -> String {
    let seconds = (at - now).max(0) / 1000;
    match seconds {
        0..=59 => "in under a minute".to_owned(),
        60..=3599 => format!("in {} min", seconds / 60),
        3600..=86_399 => format!("in {} h", seconds / 3600),
        _ => format!("in {} d", seconds / 86_400),
    }
}

fn badge(status: ApprovalStatus) -> impl IntoView {
    let class = format!("status-badge tone-{}", tone(status.as_str()));
    view! { <span class=class data-status=status.as_str()>{status.as_str()}</span> }
}

pub fn list(list: &ApprovalList, search: &ListSearch) -> String {
    let filters = filters(search);
    let body = if list.filtered {
        let title = match (search.status.as_str(), search.mine) {
            ("", true) => "Asked by you".to_owned(),
            (status, true) => format!("Asked by you, {status}"),
            (status, false) => format!("All {status}"),
        };
        section(
            &title,
            "filtered",
            &list.settled,
            list.now,
            "Nothing matches these filters.",
        )
        .into_any()
    } else {
        view! {
            {section("Waiting for you", "waiting", &list.waiting, list.now, "Nothing waits for you.")}
            {section("Pending", "pending", &list.pending, list.now, "No other request is pending.")}
            {section("Settled", "settled", &list.settled, list.now, "No request was settled yet.")}
        }
        .into_any()
    };
    view! { {filters} {body} }.fragment()
}

fn filters(search: &ListSearch) -> impl IntoView {
    let options = [
        "",
        "pending",
        "approved",
        "rejected",
        "expired",
        "cancelled",
    ]
    .into_iter()
    .map(|status| {
        let label = if status.is_empty() {
            "Any status"
        } else {
            status
        };
        view! { <option value=status selected=search.status == status>{label}</option> }
    })
    .collect_view();
    view! {
        <form class="approval-filters" method="get" action="/approvals">
            <label for="approval-status">"Status"</label>
            <select class="input" id="approval-status" name="status">{options}</select>
            <label class="check">
                <input type="checkbox" name="mine" value="true" checked=search.mine />
                "Asked by me"
            </label>
            <button type="submit" class="button">"Show"</button>
        </form>
    }
}

fn section(
    title: &str,
    id: &'static str,
    approvals: &[Approval],
    now: i64,
    empty: &'static str,
) -> impl IntoView {
    let heading = format!("approvals-{id}");
    let labelled_by = heading.clone();
    let count = approvals.len();
    let body = if approvals.is_empty() {
        view! { <p class="empty">{empty}</p> }.into_any()
    } else {
        let rows = approvals.iter().map(|a| row(a, now)).collect_view();
        view! {
            <table class="data-table approval-table">
                <thead><tr>
                    <th scope="col">"Request"</th>
                    <th scope="col">"Asked by"</th>
                    <th scope="col">"Approvers"</th>
                    <th scope="col">"Approvals"</th>
                    <th scope="col">"Status"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card approval-section" aria-labelledby=labelled_by data-testid=format!("approvals-{id}")>
            <h2 id=heading>{title.to_owned()} <span class="count">{count}</span></h2>
            {body}
        </section>
    }
}

fn row(approval: &Approval, now: i64) -> impl IntoView {
    let when = match approval.decided_at {
        Some(at) => format!("settled {}", ago(now, at)),
        None => format!(
            "asked {}, expires {}",
            ago(now, approval.created_at),
            within(now, approval.expires_at)
        ),
    };
    view! {
        <tr>
            <td>
                <a href=format!("/approvals/{}", approval.id)>{approval.title.clone()}</a>
                <div class="muted small">{when}</div>
            </td>
            <td class="mono small">{approval.requested_by.clone()}</td>
            <td class="small">{approval.approvers.join(", ")}</td>
            <td>{format!("{} of {}", approval.approvals(), approval.min_approvals)}</td>
            <td>{badge(approval.status)}</td>
        </tr>
    }
}

pub fn detail(view: &ApprovalView) -> String {
    let a = &view.approval;
    let now = view.now;
    let timing = match (a.status, a.decided_at) {
        (ApprovalStatus::Pending, _) => format!(
            "expires {} ({})",
            within(now, a.expires_at),
            clock(now, a.expires_at)
        ),
        (status, Some(at)) => format!("{} {}", status.as_str(), ago(now, at)),
        (status, None) => status.as_str().to_owned(),
    };
    let description = (!a.description.trim().is_empty()).then(|| {
        view! { <div class="markdown" inner_html=super::markdown::to_html(&a.description)></div> }
    });
    view! {
        <div class="page-header approval-header">
            <div>
                <h1>{a.title.clone()}</h1>
                <p class="muted">
                    "Asked by " <span class="mono">{a.requested_by.clone()}</span>
                    {format!(" {} · {timing}", ago(now, a.created_at))}
                </p>
            </div>
            {badge(a.status)}
        </div>
        <div class="approval-layout">
            <div class="approval-main">
                <section class="card">
                    <h2>"The request"</h2>
                    {description}
                    <dl class="facts">
                        <dt>"About"</dt><dd>{subject(&a.subject)}</dd>
                        <dt>"Approvers"</dt><dd>{a.approvers.join(", ")}</dd>
                        <dt>"Approvals"</dt><dd>{format!("{} of {} needed", a.approvals(), a.min_approvals)}</dd>
                    </dl>
                </section>
                {context(&a.context)}
                {history(a, now)}
            </div>
            {decision(view)}
        </div>
    }
    .fragment()
}

/// What the request is about, linked to its page when it has one.
fn subject(subject: &Value) -> AnyView {
    let text = |key: &str| subject[key].as_str().unwrap_or_default().to_owned();
    let link = |href: String, label: String| view! { <a href=href>{label}</a> }.into_any();
    match subject["kind"].as_str().unwrap_or("external") {
        "task" => link(
            format!("/create/tasks/{}", text("task_id")),
            format!("the golden path run {}", text("task_id")),
        ),
        "environment" => link(
            format!("/environments/{}", text("name")),
            format!("the environment {}", text("name")),
        ),
        "entity" => {
            let written = text("ref");
            match portico_core::catalog::EntityRef::parse(
                &written,
                portico_core::catalog::reference::RefContext::STANDALONE,
            ) {
                Ok(r) => link(entity_href(&r.kind, &r.namespace, &r.name), r.to_string()),
                Err(_) => view! { <span>{written}</span> }.into_any(),
            }
        }
        _ => {
            let url = text("url");
            if url.starts_with("https://") || url.starts_with("http://") {
                let href = url.clone();
                view! { <a href=href rel="noopener noreferrer" target="_blank">{url}</a> }
                    .into_any()
            } else {
                let reference = text("ref");
                let shown = if reference.is_empty() {
                    "something outside the portal".to_owned()
                } else {
                    reference
                };
                view! { <span>{shown}</span> }.into_any()
            }
        }
    }
}

/// The context approvers are shown, as a table (nested values as JSON).
fn context(context: &Value) -> Option<impl IntoView> {
    let entries = context.as_object().filter(|c| !c.is_empty())?;
    let rows = entries
        .iter()
        .map(|(key, value)| {
            let shown = match value {
                Value::String(s) => s.clone(),
                Value::Object(_) | Value::Array(_) => serde_json::to_string_pretty(value).unwrap_or_default(),
                other => other.to_string(),
            };
            view! { <tr><th scope="row" class="mono">{key.clone()}</th><td class="pre-wrap">{shown}</td></tr> }
        })
        .collect_view();
    Some(view! {
        <section class="card" data-testid="approval-context">
            <h2>"Context"</h2>
            <table class="data-table context-table"><tbody>{rows}</tbody></table>
        </section>
    })
}

fn history(a: &Approval, now: i64) -> impl IntoView {
    let mut items = vec![view! {
        <li><span class="mono">{a.requested_by.clone()}</span>" asked"<span class="muted small">{format!(" {}", ago(now, a.created_at))}</span></li>
    }.into_any()];
    for d in &a.decisions {
        let verb = match d.decision {
            Verdict::Approve => "approved",
            Verdict::Reject => "rejected",
        };
        let comment = d
            .comment
            .clone()
            .map(|c| view! { <blockquote class="decision-comment">{c}</blockquote> });
        items.push(
            view! {
                <li class=format!("decision-{verb}")>
                    <span class="mono">{d.by.clone()}</span>{format!(" {verb}")}
                    <span class="muted small">{format!(" {}", ago(now, d.at))}</span>
                    {comment}
                </li>
            }
            .into_any(),
        );
    }
    if let (ApprovalStatus::Expired | ApprovalStatus::Cancelled, Some(at)) =
        (a.status, a.decided_at)
    {
        items.push(view! { <li>{format!("The request was {} ", a.status.as_str())}<span class="muted small">{ago(now, at)}</span></li> }.into_any());
    }
    view! {
        <section class="card" data-testid="approval-history">
            <h2>"History"</h2>
            <ol class="approval-history" role="list">{items}</ol>
        </section>
    }
}

/// Approve or reject (for those who may), or why not; and cancelling for who asked.
fn decision(view: &ApprovalView) -> impl IntoView {
    let a = &view.approval;
    let form = match &view.may_not_decide {
        None => {
            let hint = if view.reject_needs_comment {
                "Required to reject: the requester reads it."
            } else {
                "The requester reads it."
            };
            view! {
                <label class="field-label" for="decision-comment">"Comment"</label>
                <p class="field-help" id="decision-comment-help">{hint}</p>
                <textarea class="input" id="decision-comment" rows="4" aria-describedby="decision-comment-help"></textarea>
                <div class="decision-actions">
                    <button type="button" class="button primary" data-action="approve">"Approve"</button>
                    <button type="button" class="button danger" data-action="reject">"Reject"</button>
                </div>
            }
            .into_any()
        }
        Some(why) if a.status == ApprovalStatus::Pending => {
            view! { <p class="muted" data-testid="may-not-decide">{why.clone()}</p> }.into_any()
        }
        Some(_) => {
            view! { <p class="muted">{format!("This request is {}.", a.status.as_str())}</p> }
                .into_any()
        }
    };
    let cancel = view.may_cancel.then(|| {
        view! {
            <button type="button" class="button subtle" data-action="cancel">"Cancel the request"</button>
        }
    });
    view! {
        <aside class="card approval-decision" aria-labelledby="decision-heading" data-testid="approval-decision">
            <h2 id="decision-heading">"Decision"</h2>
            {form}
            <p class="error-panel" id="decision-error" role="alert" hidden></p>
            {cancel}
        </aside>
    }
}
