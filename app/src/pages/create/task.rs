//! `/create/tasks/{id}`: one run of a golden path. Its steps and log follow the run live
//! over the `task:<id>` topic: each event there makes the page ask for what it has not
//! seen yet (the topic's events only say that something happened; the log is read from
//! the server, so a burst of lines costs one request and none is missed).
//!
//! The server renders the run's parts as HTML (`render`); the browser inserts them, and
//! adds what only it can do: the Cancel button, following the log, showing one step's
//! lines, and ticking elapsed times. The bundle then carries no code for the markup.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::Serialize;

use super::fields::escape;
use super::{page_frame, wire};
use crate::error::AppError;

/// A run as the page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub title: String,
    /// `open`, `processing`, `completed`, `failed`, `cancelled`.
    pub status: String,
    pub cancel_requested: bool,
    /// HTML: the heading with its status, who started the run, when, how long.
    pub header: String,
    /// HTML: the error, and the output.
    pub outcome: String,
    /// HTML: the steps.
    pub steps: String,
    /// HTML: the log lines after the event asked for.
    pub log: String,
    /// The last event in `log`, or the one asked for when there is none.
    pub last_event: i64,
    /// The server's clock (Unix milliseconds), for elapsed times.
    pub now: i64,
}

impl RunView {
    /// Reads what [`get_task_run`] sent.
    fn from_json(v: &serde_json::Value) -> Self {
        Self {
            title: wire::string(v, "title"),
            status: wire::string(v, "status"),
            cancel_requested: wire::flag(v, "cancel_requested"),
            header: wire::string(v, "header"),
            outcome: wire::string(v, "outcome"),
            steps: wire::string(v, "steps"),
            log: wire::string(v, "log"),
            last_event: wire::number(v, "last_event"),
            now: wire::number(v, "now"),
        }
    }

    fn unfinished(&self) -> bool {
        matches!(self.status.as_str(), "open" | "processing")
    }
}

/// A run as JSON ([`RunView`]), with its log after event `after` (0: all of it);
/// empty when there is no such run.
#[server(output = crate::codec::JsonText)]
pub async fn get_task_run(id: String, after: i64) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    crate::context::signed_in(portico_core::identity::Role::Developer)?;
    match super::server::run(&portal, &id, after).await? {
        Some(view) => Ok(wire::send(&view)),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            Ok(String::new())
        }
    }
}

/// Asks the run to stop.
#[server(output = crate::codec::JsonText)]
pub async fn cancel_task_run(id: String) -> Result<(), AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Developer)?;
    super::server::cancel(&portal, &principal, &id).await
}

/// `/create/tasks/{id}`.
#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/create">"Create"</a> " / " <span aria-current="page">"Run " {move || short_id(&id())}</span>
        </nav>
        {page_frame(
            Signal::derive(move || vec![id()]),
            |key| Box::pin(get_task_run(key[0].clone(), 0)),
            |key, run| {
                if run.is_empty() {
                    missing(key[0].clone())
                } else {
                    task_run(key[0].clone(), RunView::from_json(&wire::parse(&run)))
                }
            },
            "Loading the run…",
            |_| None,
        )}
    }
}

fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

fn missing(id: String) -> AnyView {
    view! {
        <Title text="No such run" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"No such run"</h1>
            <p class="muted">"No golden path run has the id " <code>{id}</code> "."</p>
            <p><a href="/create">"Golden paths and your recent runs"</a></p>
        </section>
    }
    .into_any()
}

/// A step id as it may go into the log's filter rule: ids are the template's own words,
/// and anything else (quotes, brackets) is simply not filtered on.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// What the page shows of a run, and what the reader chose.
struct Shown {
    run: RunView,
    /// The step whose lines alone the log shows.
    filter: Option<String>,
    /// Whether a cancel was asked from this page and is on its way.
    cancelling: bool,
    problem: Option<String>,
}

impl Shown {
    /// The page: the server's parts, with the Cancel button and the log's filter.
    fn html(&self) -> String {
        let run = &self.run;
        let mut actions = String::new();
        if run.unfinished() {
            let (label, disabled) = if run.cancel_requested || self.cancelling {
                ("Cancelling…", " disabled")
            } else {
                ("Cancel run", "")
            };
            actions = format!(
                r#"<button type="button" class="button danger" data-action="cancel"{disabled}>{label}</button>"#
            );
        }
        if let Some(problem) = &self.problem {
            actions.push_str(&format!(
                r#"<p class="field-problem" role="alert">{}</p>"#,
                escape(problem)
            ));
        }
        // One step's lines: a rule hides the others and marks the step chosen.
        let (style, note) = match self.filter.as_deref().filter(|id| safe_id(id)) {
            Some(id) => (
                format!(
                    r#"<style>.log .log-line:not([data-step="{id}"]){{display:none}}.steps [data-step="{id}"] .step-name{{color:var(--accent);text-decoration:underline}}</style>"#
                ),
                r#"<p class="log-filter small">Showing one step's lines. <button type="button" class="button subtle" data-action="all-steps">Show every step</button></p>"#,
            ),
            None => (String::new(), ""),
        };
        format!(
            r#"<div class="page-header run-header"><div>{header}</div><div class="run-actions">{actions}</div></div>{outcome}<div class="run-grid"><section class="card run-steps" aria-labelledby="steps-heading"><h2 id="steps-heading">Steps</h2><ol class="steps" data-testid="run-steps">{steps}</ol></section><section class="card run-log" aria-labelledby="log-heading"><h2 id="log-heading">Log</h2>{note}<div class="log" id="run-log" role="log" tabindex="0" data-testid="run-log">{log}</div></section></div>{style}"#,
            header = run.header,
            outcome = run.outcome,
            steps = run.steps,
            log = run.log,
        )
    }
}

fn task_run(id: String, run: RunView) -> AnyView {
    let shown = Shown {
        run,
        filter: None,
        cancelling: false,
        problem: None,
    };
    // The server writes the page; the browser starts from the same text.
    let initial = shown.html();
    #[cfg(feature = "hydrate")]
    {
        browser::follow(id, shown, initial)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        view! {
            <Title text=shown.run.title />
            <div class="run" id="run" inner_html=initial></div>
        }
        .into_any()
    }
}

/// The run's page in the browser: live, with its buttons.
#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::Element;
    use leptos_meta::Title;

    use super::super::browser_now;
    use super::{cancel_task_run, get_task_run, wire, RunView, Shown};
    use crate::dom::handler;
    use crate::live::use_live_refresh;

    type Shared = Rc<RefCell<Shown>>;

    /// Writes the page again. The log keeps where the reader was, or follows new lines
    /// if they were at its end.
    fn render(shared: &Shared) {
        let log = document().get_element_by_id("run-log");
        let (top, at_end) = log.map_or((0, true), |log| {
            let top = log.scroll_top();
            (top, top + log.client_height() >= log.scroll_height() - 24)
        });
        if let Some(run) = document().get_element_by_id("run") {
            run.set_inner_html(&shared.borrow().html());
        }
        if let Some(log) = document().get_element_by_id("run-log") {
            log.set_scroll_top(if at_end { log.scroll_height() } else { top });
        }
    }

    /// Sets every running clock on the page (`data-since`, Unix milliseconds) to `now`.
    fn tick(now: i64) {
        let clocks = document().get_elements_by_class_name("ticking");
        for i in 0..clocks.length() {
            if let Some(clock) = clocks.item(i) {
                if let Some(since) = clock
                    .get_attribute("data-since")
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    clock.set_text_content(Some(&super::super::duration(now - since)));
                }
            }
        }
    }

    pub fn follow(id: String, shown: Shown, initial: String) -> AnyView {
        let title = shown.run.title.clone();
        let shared: Shared = Rc::new(RefCell::new(shown));
        let id = Rc::new(id);

        // News on the topic: read what came after the last line shown. (The live
        // channel's callback must be `Send`: the page's state is reached through a
        // handle to this thread's arena.)
        let local = StoredValue::new_local((shared.clone(), id.clone()));
        let refresh = move || {
            let (shared, id) = local.get_value();
            leptos::task::spawn_local(async move {
                let seen = shared.borrow().run.last_event;
                let Ok(fresh) = get_task_run(id.to_string(), seen).await else {
                    return;
                };
                if fresh.is_empty() {
                    return;
                }
                let mut fresh = RunView::from_json(&wire::parse(&fresh));
                {
                    let mut shown = shared.borrow_mut();
                    let mut log = std::mem::take(&mut shown.run.log);
                    // Two answers can cross: lines are added once.
                    if fresh.last_event > shown.run.last_event {
                        log.push_str(&fresh.log);
                    } else {
                        fresh.last_event = shown.run.last_event;
                    }
                    fresh.log = log;
                    shown.run = fresh;
                    shown.cancelling &= shown.run.unfinished();
                }
                render(&shared);
            });
        };
        let topic = format!("task:{id}");
        use_live_refresh(move || Some(topic.clone()), refresh);

        // Elapsed times tick in step with the server's clock (the browser's may be off).
        {
            let shared = shared.clone();
            let offset = shared.borrow().run.now - browser_now();
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    if shared.borrow().run.unfinished() {
                        tick(browser_now() + offset);
                    }
                },
                std::time::Duration::from_secs(1),
            ) {
                on_cleanup(move || handle.clear());
            }
        }
        request_animation_frame(|| {
            if let Some(log) = document().get_element_by_id("run-log") {
                log.set_scroll_top(log.scroll_height());
            }
        });

        let on_click = move |ev: leptos::ev::MouseEvent| {
            let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            let action = target
                .closest("[data-action]")
                .ok()
                .flatten()
                .and_then(|b| b.get_attribute("data-action"));
            match action.as_deref() {
                Some("cancel") => {
                    shared.borrow_mut().cancelling = true;
                    render(&shared);
                    let (shared, id) = (shared.clone(), id.clone());
                    leptos::task::spawn_local(async move {
                        let asked = cancel_task_run(id.to_string()).await;
                        {
                            let mut shown = shared.borrow_mut();
                            match asked {
                                Ok(()) => shown.run.cancel_requested = true,
                                Err(e) => {
                                    shown.cancelling = false;
                                    shown.problem = Some(e.to_string());
                                }
                            }
                        }
                        render(&shared);
                    });
                }
                Some("all-steps") => {
                    shared.borrow_mut().filter = None;
                    render(&shared);
                }
                _ => {
                    // A step's name: its lines only, or all again.
                    let step = target
                        .closest(".step-name")
                        .ok()
                        .flatten()
                        .and_then(|name| name.closest("[data-step]").ok().flatten())
                        .and_then(|step| step.get_attribute("data-step"));
                    if let Some(step) = step {
                        let mut shown = shared.borrow_mut();
                        shown.filter =
                            (shown.filter.as_deref() != Some(step.as_str())).then_some(step);
                        drop(shown);
                        render(&shared);
                    }
                }
            }
        };
        view! {
            <Title text=title />
            <div class="run" id="run" on:click=handler(on_click) inner_html=initial></div>
        }
        .into_any()
    }
}

/// The HTML of a run's parts (server only).
#[cfg(feature = "ssr")]
pub mod render {
    use leptos::prelude::*;

    use crate::pages::create::{duration, run_label, run_tone, Fragment};
    use crate::pages::environments::{ago, clock};

    /// A step of the run.
    pub struct Step {
        pub id: String,
        pub name: String,
        pub action: String,
        pub status: String,
        pub started_at: Option<i64>,
        pub ended_at: Option<i64>,
    }

    /// A line of the run's log.
    pub struct Line {
        /// `14:05:09`, UTC.
        pub time: String,
        pub step: Option<String>,
        pub step_name: Option<String>,
        pub message: String,
        /// `log`, `completion`, `cancelled`, `recovered`.
        pub kind: String,
    }

    /// A link of the run's output.
    pub struct Link {
        pub title: String,
        pub href: String,
        /// A catalog page (`entityRef`) rather than an address (`url`).
        pub entity: bool,
        /// Whether a browser can open it from here (a `file://` address it cannot).
        pub openable: bool,
    }

    /// A text of the run's output.
    pub struct Text {
        pub title: Option<String>,
        pub content: String,
    }

    pub struct Header<'a> {
        pub now: i64,
        pub title: &'a str,
        pub status: &'a str,
        /// `(label, catalog page)` of who started it, or their name.
        pub started_by: (String, Option<String>),
        pub created_at: i64,
        pub started_at: Option<i64>,
        pub finished_at: Option<i64>,
        /// The template's wizard, offered once the run has ended.
        pub again: Option<String>,
    }

    /// A running clock (the browser moves it on) or a finished duration.
    fn elapsed(now: i64, start: i64, end: Option<i64>) -> impl IntoView {
        match end {
            Some(end) => view! { <span>{duration(end - start)}</span> }.into_any(),
            None => view! {
                <span class="ticking" data-since=start.to_string()>{duration(now - start)}</span>
            }
            .into_any(),
        }
    }

    pub fn header(h: Header<'_>) -> String {
        let badge = format!("status-badge tone-{}", run_tone(h.status));
        let start = h.started_at.unwrap_or(h.created_at);
        let by = match h.started_by {
            (label, Some(href)) => {
                view! { <a class="entity-link" href=href>{label}</a> }.into_any()
            }
            (label, None) => label.into_any(),
        };
        let finished = h.finished_at.is_some();
        view! {
            <h1>{h.title.to_owned()} " " <span class=badge data-testid="run-status" data-status=h.status.to_owned()>{run_label(h.status)}</span></h1>
            <p class="muted run-meta">
                "Started by " {by} " at " {clock(h.now, h.created_at)} " (" {ago(h.now, h.created_at)} ") · "
                {if finished { "took " } else { "running for " }}
                {elapsed(h.now, start, h.finished_at)}
                {h.again.map(|href| view! { " · " <a href=href>"Run it again"</a> })}
            </p>
        }
        .fragment()
    }

    pub fn outcome(
        status: &str,
        error: Option<String>,
        links: Vec<Link>,
        texts: Vec<Text>,
    ) -> String {
        // A cancelled run was asked to stop: said plainly, not as a failure.
        let error = if status == "cancelled" {
            view! {
                <div class="notice warn" role="status" data-testid="run-error">
                    <strong>"The run was cancelled."</strong>
                    " The step under way stopped; the steps after it did not run."
                </div>
            }
            .into_any()
        } else {
            error
                .map(|error| {
                    view! {
                        <div class="error-panel run-error" role="alert" data-testid="run-error">
                            <h2>"The run failed"</h2>
                            <pre class="run-error-text">{error}</pre>
                        </div>
                    }
                })
                .into_any()
        };
        let completed = status == "completed";
        let output = (completed || !links.is_empty() || !texts.is_empty()).then(|| {
            let nothing = (links.is_empty() && texts.is_empty()).then(|| {
                view! { <p class="muted">"The run completed. This golden path leaves no links or notes."</p> }
            });
            let links = (!links.is_empty()).then(|| {
                let links = links.into_iter().map(link).collect_view();
                view! { <ul class="output-links" role="list">{links}</ul> }
            });
            let texts = texts
                .into_iter()
                .map(|text| {
                    view! {
                        <div class="output-text">
                            {text.title.map(|t| view! { <h3>{t}</h3> })}
                            {blocks(&text.content)}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section class="card run-output" aria-labelledby="output-heading" data-testid="run-output">
                    <h2 id="output-heading">{if completed { "Done" } else { "Output" }}</h2>
                    {nothing}
                    {links}
                    {texts}
                </section>
            }
        });
        view! { {error} {output} }.fragment()
    }

    /// Entity pages load in full (they are rendered when their data is in); other
    /// addresses open beside the portal; those a browser cannot open (`file://`) are
    /// shown to copy.
    fn link(link: Link) -> impl IntoView {
        if !link.openable {
            return view! {
                <li class="output-address"><span class="muted">{link.title} ": "</span><code>{link.href}</code></li>
            }
            .into_any();
        }
        if link.entity {
            view! { <li><a class="button primary" href=link.href rel="external">{link.title}</a></li> }
                .into_any()
        } else {
            view! {
                <li><a class="button" href=link.href target="_blank" rel="noopener noreferrer">{link.title} " ↗"</a></li>
            }
            .into_any()
        }
    }

    /// Text with Markdown code fences: fenced parts as preformatted code, paragraphs
    /// (separated by blank lines) as text.
    pub fn blocks(content: &str) -> Vec<AnyView> {
        let mut out = Vec::new();
        let mut code: Option<Vec<&str>> = None;
        let mut paragraph: Vec<&str> = Vec::new();
        let flush = |paragraph: &mut Vec<&str>, out: &mut Vec<AnyView>| {
            if !paragraph.is_empty() {
                out.push(view! { <p>{paragraph.join(" ")}</p> }.into_any());
                paragraph.clear();
            }
        };
        for line in content.lines() {
            if line.trim_start().starts_with("```") {
                match code.take() {
                    Some(lines) => out.push(
                        view! { <pre class="output-code"><code>{lines.join("\n")}</code></pre> }
                            .into_any(),
                    ),
                    None => {
                        flush(&mut paragraph, &mut out);
                        code = Some(Vec::new());
                    }
                }
            } else if let Some(lines) = code.as_mut() {
                lines.push(line);
            } else if line.trim().is_empty() {
                flush(&mut paragraph, &mut out);
            } else {
                paragraph.push(line.trim());
            }
        }
        if let Some(lines) = code {
            out.push(
                view! { <pre class="output-code"><code>{lines.join("\n")}</code></pre> }.into_any(),
            );
        }
        flush(&mut paragraph, &mut out);
        out
    }

    /// The icon of a step's status, and what it says.
    fn step_icon(status: &str) -> (&'static str, &'static str) {
        match status {
            "processing" => ("◐", "running"),
            "completed" => ("✓", "completed"),
            "failed" => ("✕", "failed"),
            "skipped" => ("↷", "skipped"),
            "cancelled" => ("⊘", "cancelled"),
            _ => ("○", "waiting"),
        }
    }

    pub fn steps(now: i64, steps: Vec<Step>) -> String {
        steps
            .into_iter()
            .map(|step| {
                let (icon, said) = step_icon(&step.status);
                let time = match step.started_at {
                    Some(start) if step.ended_at.is_some() || step.status == "processing" => {
                        Some(elapsed(now, start, step.ended_at))
                    }
                    _ => None,
                };
                view! {
                    <li class=format!("step step-{}", step.status) data-step=step.id>
                        <span class="step-icon" role="img" aria-label=said>{icon}</span>
                        <button type="button" class="step-name" title="Show only this step's log">{step.name}</button>
                        <span class="step-elapsed muted small">{time}</span>
                        <span class="step-action mono muted small">{step.action}</span>
                    </li>
                }
                .fragment()
            })
            .collect()
    }

    pub fn log(lines: Vec<Line>) -> String {
        lines
            .into_iter()
            .map(|line| {
                view! {
                    <div class=format!("log-line log-{}", line.kind) data-step=line.step>
                        <time class="log-time">{line.time}</time>
                        <span class="log-step">{line.step_name}</span>
                        <span class="log-message">{message(line.message)}</span>
                    </div>
                }
                .fragment()
            })
            .collect()
    }

    /// A log line, with the approval request a step waits for (`(/approvals/<id>)`) as a
    /// link to it.
    fn message(text: String) -> AnyView {
        const MARK: &str = "(/approvals/";
        let Some(start) = text.find(MARK) else {
            return text.into_any();
        };
        let Some(length) = text[start..].find(')') else {
            return text.into_any();
        };
        let href = text[start + 1..start + length].to_owned();
        let (before, after) = (
            text[..start].to_owned(),
            text[start + length + 1..].to_owned(),
        );
        view! { {before} "(" <a href=href>"the request"</a> ")" {after} }.into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_shortened_and_filtered_safely() {
        assert_eq!(short_id("0123456789abcdef"), "01234567");
        assert!(safe_id("publish-git_2"));
        assert!(!safe_id("a\"]{}"));
        assert!(!safe_id(""));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn outputs_and_logs_render_as_html() {
        let html = render::outcome(
            "completed",
            None,
            vec![render::Link {
                title: "Open in catalog".into(),
                href: "/catalog/default/component/x".into(),
                entity: true,
                openable: true,
            }],
            vec![render::Text {
                title: Some("Clone it".into()),
                content: "Run this:\n\n```\ngit clone <x>\n```".into(),
            }],
        );
        assert!(
            html.contains(r#"href="/catalog/default/component/x" rel="external""#),
            "{html}"
        );
        assert!(
            html.contains("<pre class=\"output-code\"><code>git clone &lt;x&gt;</code></pre>"),
            "{html}"
        );
        assert!(html.contains("<p>Run this:</p>"), "{html}");
        let log = render::log(vec![render::Line {
            time: "14:05:09".into(),
            step: Some("publish".into()),
            step_name: Some("Create the repository".into()),
            message: "<b>pushed</b>".into(),
            kind: "log".into(),
        }]);
        assert!(log.contains("data-step=\"publish\""), "{log}");
        assert!(log.contains("&lt;b&gt;pushed&lt;/b&gt;"), "{log}");
        let waiting = render::log(vec![render::Line {
            time: "14:05:10".into(),
            step: Some("ask".into()),
            step_name: None,
            message: "waiting for approval by role:admin (/approvals/a-1) <now>".into(),
            kind: "log".into(),
        }]);
        assert!(
            waiting.contains(r#"(<a href="/approvals/a-1">the request</a>) &lt;now&gt;"#),
            "{waiting}"
        );
    }
}
