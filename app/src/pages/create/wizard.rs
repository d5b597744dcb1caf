//! `/create/templates/{namespace}/{name}`: a template's parameter pages as a wizard.
//!
//! Each page is a form built from its JSON Schema, checked as it is typed with the
//! rules the server applies ([`portico_forms`]). A page whose `if` (a `${{ }}`
//! expression) is false for the answers so far is skipped: the server evaluates it when
//! the person moves on, as it does when the run starts. The last step reviews every
//! answer and can show, by a dry run, the files the run would write; "Create" asks the
//! server to check the answers again and start the run, and a field the server refuses
//! is shown on its page.

use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use portico_forms::{apply_defaults, validate_page, visible_fields, FieldError};
use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{
    belongs, choices_of, display, escape, field_id, fields_html, set_at, shown_fields, value_at,
    widget, Widget,
};
use super::page_frame;
use super::patterns::Patterns;
use super::pickers::{offered_hosts, RepoParts};
use super::wire;
use crate::error::AppError;

/// A parameter page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormPage {
    pub title: String,
    pub description: Option<String>,
    /// The page's JSON Schema, `ui:` hints included.
    pub schema: Value,
    /// Whether the page has an `if`.
    pub conditional: bool,
}

/// Everything the wizard needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TemplateForm {
    /// `template:default/rust-service`; for a draft, the catalog template it started
    /// from (its skeletons are read there), or nothing.
    pub reference: String,
    pub title: String,
    pub description: Option<String>,
    /// `(label, catalog page)` of the team that maintains the template.
    pub owner: Option<(String, String)>,
    pub pages: Vec<FormPage>,
    /// Back, Review and Create (`spec.presentation.buttonLabels`).
    pub labels: [String; 3],
    /// The hosts `RepoUrlPicker` may offer.
    pub git_hosts: Vec<String>,
    /// The first page's defaults.
    pub initial: Value,
    /// The pages that apply to the initial values.
    pub applicable: Vec<usize>,
    /// Whether the caller may run templates (a developer); the others may look.
    pub can_run: bool,
    pub role: String,
    /// The editor's draft: it can be dry-run, not run.
    pub draft: bool,
}

impl TemplateForm {
    /// Reads what [`golden_path_form`] sent.
    pub(super) fn from_json(v: &Value) -> Self {
        let strings = |key: &str| -> Vec<String> {
            wire::list(v, key)
                .iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let labels = strings("labels");
        let label =
            |i: usize, default: &str| labels.get(i).cloned().unwrap_or_else(|| default.to_owned());
        Self {
            reference: wire::string(v, "reference"),
            title: wire::string(v, "title"),
            description: wire::some_string(v, "description"),
            owner: v["owner"].as_array().map(|pair| {
                let at = |i: usize| {
                    pair.get(i)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                (at(0), at(1))
            }),
            pages: wire::list(v, "pages")
                .iter()
                .map(|p| FormPage {
                    title: wire::string(p, "title"),
                    description: wire::some_string(p, "description"),
                    schema: p["schema"].clone(),
                    conditional: wire::flag(p, "conditional"),
                })
                .collect(),
            labels: [label(0, "Back"), label(1, "Review"), label(2, "Create")],
            git_hosts: strings("git_hosts"),
            initial: v["initial"].clone(),
            applicable: indices(&v["applicable"]),
            can_run: wire::flag(v, "can_run"),
            role: wire::string(v, "role"),
            draft: wire::flag(v, "draft"),
        }
    }
}

/// A list of page numbers.
fn indices(v: &Value) -> Vec<usize> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_u64)
                .map(|i| i as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// The wizard of a template, as JSON ([`TemplateForm`]); empty when there is no such
/// template.
#[server(output = crate::codec::JsonText)]
pub async fn golden_path_form(
    namespace: String,
    name: String,
    from: String,
) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    match super::server::form(&portal, &principal, &namespace, &name, &from).await? {
        Some(form) => Ok(wire::send(&form)),
        None => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            Ok(String::new())
        }
    }
}

/// The pages of `template` (or of the editor's draft, `source`) that apply to `values`
/// (JSON), in order, as a JSON list.
#[server(output = crate::codec::JsonText)]
pub async fn golden_path_pages(
    template: String,
    values: String,
    source: String,
) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let values = serde_json::from_str(&values).unwrap_or(Value::Null);
    let pages = super::server::applicable(&portal, &template, &values, &source).await?;
    Ok(wire::send(&pages))
}

/// Checks the answers (`values` and `secrets`, JSON objects) again and starts the run:
/// `{"started": id}`, or `{"invalid": [{field, message}…]}` with nothing started.
#[server(output = crate::codec::JsonText)]
pub async fn start_golden_path(
    template: String,
    values: String,
    secrets: String,
) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Developer)?;
    let values = serde_json::from_str(&values).unwrap_or(Value::Null);
    let secrets = serde_json::from_str(&secrets).unwrap_or_default();
    super::server::start(&portal, &principal, &template, values, secrets)
        .await
        .map(|outcome| wire::send(&outcome))
}

/// A dry run of `template` (or of the editor's draft, `source`) with the answers
/// (`values` and `secrets`, JSON objects): the files the run would write and its log, as
/// HTML. Nothing outside a scratch directory changes.
#[server(output = crate::codec::JsonText)]
pub async fn preview_golden_path(
    template: String,
    values: String,
    secrets: String,
    source: String,
) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Developer)?;
    let values = serde_json::from_str(&values).unwrap_or(Value::Null);
    let secrets = serde_json::from_str(&secrets).unwrap_or_default();
    super::server::preview(&portal, &principal, &template, values, secrets, &source).await
}

/// `/create/templates/{namespace}/{name}`.
#[component]
pub fn WizardPage() -> impl IntoView {
    let params = use_params_map();
    // `?from=<run>`: start with that run's answers ("Run it again").
    let query = use_query_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    };
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/create">"Create"</a> " / " <span aria-current="page">{move || key().1}</span>
        </nav>
        {page_frame(
            Signal::derive(move || {
                let (namespace, name) = key();
                let from = query.with(|q| q.get("from").unwrap_or_default());
                vec![namespace, name, from]
            }),
            |key| Box::pin(golden_path_form(key[0].clone(), key[1].clone(), key[2].clone())),
            |key, form| {
                if form.is_empty() {
                    missing(format!("template:{}/{}", key[0], key[1]))
                } else {
                    wizard(TemplateForm::from_json(&wire::parse(&form)))
                }
            },
            "Loading the golden path…",
            |_| None,
        )}
    }
}

fn missing(reference: String) -> AnyView {
    view! {
        <Title text="No such golden path" />
        <section class="not-found">
            <p class="code" aria-hidden="true">"404"</p>
            <h1>"No such golden path"</h1>
            <p class="muted">
                "The catalog has no template " <code>{reference}</code>
                ". It may have been renamed or removed."
            </p>
            <p><a href="/create">"All golden paths"</a></p>
        </section>
    }
    .into_any()
}

/// The problems of a page for `values`: its schema's, and those of repository
/// locations that could not be published to.
fn page_problems(page: &Value, values: &Value, hosts: &[String]) -> Vec<FieldError> {
    let mut errors = validate_page(page, values, &Patterns);
    for field in visible_fields(page, values) {
        if widget(&field.schema) != Widget::RepoUrl {
            continue;
        }
        let Some(Value::String(entered)) = values.get(&field.name) else {
            continue;
        };
        if entered.is_empty() || errors.iter().any(|e| e.field == field.name) {
            continue;
        }
        let offered = offered_hosts(
            hosts,
            field.schema.get("ui:options").unwrap_or(&Value::Null),
        );
        for problem in RepoParts::parse(entered).problems(&offered) {
            errors.push(FieldError::new(field.name.clone(), problem));
        }
    }
    errors
}

/// The field a problem is about, as a control's id on the page.
fn problem_target(field: &str) -> Option<String> {
    let path = field.split('[').next().unwrap_or(field);
    (!path.is_empty()).then(|| field_id(path))
}

/// Where the wizard is, and what has been entered.
pub(super) struct Wizard {
    form: TemplateForm,
    /// The editor's draft, as written; empty for a catalog template.
    source: String,
    values: Value,
    /// What secret fields hold, by path; the values hold masks.
    secrets: Map<String, Value>,
    /// The page shown; the number of pages is the review.
    step: usize,
    applicable: Vec<usize>,
    /// Fields left with something in them: their problems show from then.
    touched: Vec<String>,
    /// Pages on which Next (or Create) was pressed: all their problems show.
    attempted: Vec<usize>,
    /// What the server refused when asked to run; each goes once its field changes.
    server_errors: Vec<FieldError>,
    failure: Option<String>,
    busy: bool,
    /// Buttons wait for the bundle: before it, the form would submit itself as a GET.
    ready: bool,
    /// The fields the current page shows, to tell when `dependencies` change them.
    shape: String,
    picker: Picker,
}

/// The entity picker that is open, if one is.
#[derive(Default)]
struct Picker {
    path: String,
    /// Options listed, and the one the arrow keys are on.
    count: usize,
    active: Option<usize>,
    /// Answers can come back out of order: only the latest request's is shown.
    asked: u64,
    pending: Option<TimeoutHandle>,
}

/// The wizard as its event handlers share it (the browser runs them on one thread).
pub(super) type Shared = Rc<RefCell<Wizard>>;

/// The wait after a key before asking the catalog: one request per pause in typing.
const SEARCH_AFTER: std::time::Duration = std::time::Duration::from_millis(150);

impl Wizard {
    fn new(form: TemplateForm) -> Self {
        let step = form.applicable.first().copied().unwrap_or(form.pages.len());
        let mut wizard = Self {
            values: form.initial.clone(),
            applicable: form.applicable.clone(),
            form,
            source: String::new(),
            secrets: Map::new(),
            step,
            touched: Vec::new(),
            attempted: Vec::new(),
            server_errors: Vec::new(),
            failure: None,
            busy: false,
            ready: false,
            shape: String::new(),
            picker: Picker::default(),
        };
        wizard.shape = wizard.current_shape();
        wizard
    }

    fn review(&self) -> usize {
        self.form.pages.len()
    }

    fn page(&self) -> Option<&FormPage> {
        self.form.pages.get(self.step)
    }

    fn next_after(&self, s: usize) -> usize {
        self.applicable
            .iter()
            .copied()
            .find(|&i| i > s)
            .unwrap_or_else(|| self.review())
    }

    /// The fields the current page shows for the values, as one string.
    fn current_shape(&self) -> String {
        match self.page() {
            Some(page) => shown_fields(&page.schema, &self.values, "")
                .iter()
                .map(|(path, _, schema)| format!("{path}={schema}"))
                .collect(),
            None => String::new(),
        }
    }

    fn problems(&self, page: usize) -> Vec<FieldError> {
        match self.form.pages.get(page) {
            Some(p) => page_problems(&p.schema, &self.values, &self.form.git_hosts),
            None => Vec::new(),
        }
    }

    fn set(&mut self, path: &str, value: Option<Value>) {
        set_at(&mut self.values, path, value);
        self.server_errors.retain(|e| !belongs(&e.field, path));
    }

    /// Moves to page `target` with its defaults filled in; returns the id of what should
    /// have the keyboard focus: the field that asks for it, or the page's heading.
    fn go_to(&mut self, target: usize) -> String {
        self.step = target;
        self.failure = None;
        let mut focus = "wizard-heading".to_owned();
        if let Some(schema) = self.page().map(|p| p.schema.clone()) {
            apply_defaults(&schema, &mut self.values);
            if let Some((path, _, _)) = shown_fields(&schema, &self.values, "")
                .into_iter()
                .find(|(_, _, s)| s.get("ui:autofocus").and_then(Value::as_bool) == Some(true))
            {
                focus = field_id(&path);
            }
        }
        self.shape = self.current_shape();
        focus
    }

    /// The page of the first field of `field`'s path, among those that apply.
    fn page_of(&self, field: &str) -> Option<usize> {
        let name = field.split(['.', '[']).next().unwrap_or(field);
        self.applicable
            .iter()
            .copied()
            .find(|&i| {
                visible_fields(&self.form.pages[i].schema, &self.values)
                    .iter()
                    .any(|f| f.name == name)
            })
            .or_else(|| self.applicable.first().copied())
    }

    /// The wizard's HTML: the steps, then the page or the review.
    fn html(&self) -> String {
        // A template always has a title (its name, at least): without one, the editor
        // has not read a template yet.
        if self.form.title.is_empty() {
            return r#"<p class="wizard-empty muted">The form shows here once the template above reads without problems.</p>"#.to_owned();
        }
        let mut html = String::from(r#"<ol class="wizard-steps" aria-label="Steps">"#);
        let mut steps: Vec<(usize, &str)> = self
            .applicable
            .iter()
            .map(|&i| (i, self.form.pages[i].title.as_str()))
            .collect();
        steps.push((self.review(), "Review"));
        for (n, (i, title)) in steps.into_iter().enumerate() {
            let (state, current) = match i.cmp(&self.step) {
                std::cmp::Ordering::Equal => ("current", r#" aria-current="step""#),
                std::cmp::Ordering::Less => ("done", ""),
                std::cmp::Ordering::Greater => ("ahead", ""),
            };
            // Pages already seen can be gone back to; those ahead are reached with Next.
            let disabled = if i < self.step && self.ready {
                ""
            } else {
                " disabled"
            };
            let _ = write!(
                html,
                r#"<li class="wizard-step {state}"{current}><button type="button" class="wizard-step-link" data-action="step" data-step="{i}" aria-label="Step {n}: {title}"{disabled}><span class="wizard-step-number" aria-hidden="true">{n}</span><span>{title}</span></button></li>"#,
                n = n + 1,
                title = escape(title)
            );
        }
        html.push_str(r#"</ol><div class="wizard-body">"#);
        if let Some(failure) = &self.failure {
            let _ = write!(
                html,
                r#"<div class="error-panel" role="alert">{}</div>"#,
                escape(failure)
            );
        }
        let wait = if self.ready && !self.busy {
            ""
        } else {
            " disabled"
        };
        let [back, review, create] = &self.form.labels;
        match self.page() {
            Some(page) => {
                let first = self.applicable.first() == Some(&self.step);
                let next = if self.next_after(self.step) == self.review() {
                    review.as_str()
                } else {
                    "Next"
                };
                let _ = write!(
                    html,
                    r#"<form class="card wizard-page" novalidate><h2 id="wizard-heading" tabindex="-1">{}</h2><p class="muted page-description">{}</p><div class="error-panel" id="page-problems" role="alert" hidden></div>{}<div class="wizard-actions"><button type="button" class="button" data-action="back"{}>{}</button><button type="submit" class="button primary"{wait}>{}</button></div></form>"#,
                    escape(&page.title),
                    escape(page.description.as_deref().unwrap_or_default()),
                    fields_html(&page.schema, &self.values, "", &self.form.git_hosts),
                    if first { " disabled" } else { wait },
                    escape(back),
                    escape(next),
                );
            }
            None => {
                let said = if self.form.draft {
                    "Check your answers, then dry-run the draft: its steps work in a scratch directory, and publishing, registering and notifying are described rather than done."
                } else {
                    "Check your answers. Nothing is created until you press the button below."
                };
                let _ = write!(
                    html,
                    r#"<div class="card wizard-page"><h2 id="wizard-heading" tabindex="-1">Review</h2><p class="muted page-description">{said}</p>{}"#,
                    self.review_html()
                );
                if !self.form.can_run {
                    let _ = write!(
                        html,
                        r#"<p class="notice warn" role="note">Running a golden path needs the developer role; you are signed in as a {}. Ask your platform team for access.</p>"#,
                        escape(&self.form.role)
                    );
                }
                if self.form.can_run {
                    // A dry run: what the run would write, before anything is created.
                    let (class, label) = if self.form.draft {
                        ("button primary", "Dry run")
                    } else {
                        ("button", "Preview the files")
                    };
                    let _ = write!(
                        html,
                        r#"<section class="review-preview"><button type="button" class="{class}" data-action="preview">{label}</button><div id="preview" class="preview" aria-live="polite"></div></section>"#
                    );
                }
                let create = if self.busy {
                    "Starting…"
                } else {
                    create.as_str()
                };
                let can = if self.form.can_run { wait } else { " disabled" };
                let create = if self.form.draft {
                    String::new()
                } else {
                    format!(
                        r#"<button type="button" class="button primary" data-action="create"{can}>{}</button>"#,
                        escape(create)
                    )
                };
                let _ = write!(
                    html,
                    r#"<div class="wizard-actions"><button type="button" class="button" data-action="back"{wait}>{}</button>{create}</div></div>"#,
                    escape(back),
                );
            }
        }
        html.push_str("</div>");
        html
    }

    /// Every answer, page by page.
    fn review_html(&self) -> String {
        let mut html = String::new();
        for &i in &self.applicable {
            let page = &self.form.pages[i];
            let title = escape(&page.title);
            let _ = write!(
                html,
                r#"<section class="review-page"><div class="review-page-head"><h3>{title}</h3><button type="button" class="button subtle" data-action="step" data-step="{i}" aria-label="Edit {title}">Edit</button></div><table class="data-table review-table"><tbody>"#
            );
            // A nested object's fields read with its title: `Database › Engine`.
            let mut titles: Vec<(String, String)> = Vec::new();
            for (path, field_title, schema) in shown_fields(&page.schema, &self.values, "") {
                let label = match path.rsplit_once('.') {
                    Some((parent, _)) => titles
                        .iter()
                        .find(|(p, _)| *p == parent)
                        .map_or(field_title.clone(), |(_, t)| format!("{t} › {field_title}")),
                    None => field_title,
                };
                titles.push((path.clone(), label.clone()));
                let kind = widget(&schema);
                // A choice reads as the template labels it.
                let said = |v: &Value| {
                    choices_of(&schema)
                        .into_iter()
                        .find(|c| c.value == *v)
                        .map_or_else(|| display(v), |c| c.label)
                };
                let shown = match (kind, value_at(&self.values, &path)) {
                    (Widget::Object, _) => continue,
                    (_, None | Some(Value::Null)) => "—".to_owned(),
                    (Widget::Secret, Some(_)) => "••••••••".to_owned(),
                    (_, Some(Value::Array(items))) => {
                        items.iter().map(said).collect::<Vec<_>>().join(", ")
                    }
                    (_, Some(value)) => said(value),
                };
                let _ = write!(
                    html,
                    r#"<tr><th scope="row">{}</th><td class="review-value">{}</td></tr>"#,
                    escape(&label),
                    escape(&shown)
                );
            }
            html.push_str("</tbody></table></section>");
        }
        html
    }
}

/// The page of a wizard.
fn wizard(form: TemplateForm) -> AnyView {
    let title = form.title.clone();
    let description = form.description.clone();
    let owner = form.owner.clone().map(|(label, href)| {
        view! { <p class="muted small">"Maintained by " <a class="entity-link" href=href>{label}</a></p> }
    });
    let editable = (form.can_run && !form.reference.is_empty()).then(|| {
        let href = format!(
            "/create/edit?from={}",
            form_urlencoded::byte_serialize(form.reference.as_bytes()).collect::<String>()
        );
        view! { <a class="button subtle" href=href>"Open in the editor"</a> }
    });
    let body = form_body(Rc::new(RefCell::new(Wizard::new(form))));
    view! {
        <Title text=title.clone() />
        <div class="page-header wizard-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{description}</p>
                {owner}
            </div>
            {editable}
        </div>
        {body}
    }
    .into_any()
}

/// The wizard's form, behind one listener per kind of event (in the browser).
pub(super) fn form_body(shared: Shared) -> AnyView {
    // The server writes the first page; the browser starts from the same text.
    let initial = shared.borrow().html();
    #[cfg(feature = "hydrate")]
    {
        browser::attach(shared, initial)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = shared;
        view! { <div class="wizard" id="wizard" data-testid="wizard" inner_html=initial></div> }
            .into_any()
    }
}

/// A wizard with nothing in it yet: the editor's, until its template reads.
pub(super) fn shared(form: Option<TemplateForm>, source: String) -> Shared {
    let mut wizard = Wizard::new(form.unwrap_or_default());
    wizard.source = source;
    Rc::new(RefCell::new(wizard))
}

/// The wizard's behaviour in the browser: one listener per kind of event on the whole
/// wizard, which reads the control's `data-path` and `data-kind`.
#[cfg(feature = "hydrate")]
pub(super) mod browser {
    use std::fmt::Write;

    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, HtmlInputElement};
    use portico_forms::{apply_defaults, FieldError};
    use serde_json::Value;

    use super::super::fields::{
        belongs, choices_of, escape, field_id, number_value, repo_preview, sentence, shown_fields,
        value_at, widget, Widget,
    };
    use super::super::pickers::{pick_entities, RepoParts};
    use super::super::wire;
    use super::{
        golden_path_pages, indices, preview_golden_path, problem_target, start_golden_path, Shared,
        TemplateForm, Wizard, SEARCH_AFTER,
    };
    use crate::dom::handler;
    use crate::dom::{element, value_of};

    fn target(ev: &leptos::web_sys::Event) -> Option<Element> {
        ev.target()?.dyn_into::<Element>().ok()
    }

    /// Shows the wizard of `form` (the editor's draft, read again) in place of the one
    /// shown, with the text it was read from.
    pub fn load(shared: &Shared, form: TemplateForm, source: String) {
        {
            let mut wizard = shared.borrow_mut();
            *wizard = Wizard::new(form);
            wizard.source = source;
            wizard.ready = true;
        }
        render(shared, None);
    }

    pub fn attach(shared: Shared, initial: String) -> AnyView {
        // Hydrated: the buttons may be used now.
        {
            let shared = shared.clone();
            Effect::new(move |_| {
                shared.borrow_mut().ready = true;
                render(&shared, None);
            });
        }
        let on = |f: fn(&Shared, &leptos::web_sys::Event)| {
            let shared = shared.clone();
            move |ev: &leptos::web_sys::Event| f(&shared, ev)
        };
        let input = on(on_input);
        let change = on(on_input);
        let click = on(on_click);
        let focus_in = on(on_focus_in);
        let focus_out = on(on_focus_out);
        let key = on(on_key);
        let mouse = on(on_mouse_down);
        let submit = on(|shared, ev| {
            ev.prevent_default();
            next(shared);
        });
        view! {
            <div
                class="wizard"
                id="wizard"
                data-testid="wizard"
                inner_html=initial
                on:input=handler(move |ev: leptos::ev::Event| input(&ev))
                on:change=handler(move |ev: leptos::ev::Event| change(&ev))
                on:click=handler(move |ev: leptos::ev::MouseEvent| click(&ev))
                on:focusin=handler(move |ev: leptos::ev::FocusEvent| focus_in(&ev))
                on:focusout=handler(move |ev: leptos::ev::FocusEvent| focus_out(&ev))
                on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| key(&ev))
                on:mousedown=handler(move |ev: leptos::ev::MouseEvent| mouse(&ev))
                on:submit=handler(move |ev: leptos::ev::SubmitEvent| submit(&ev))
            ></div>
        }
        .into_any()
    }

    /// Writes the wizard again, then shows the problems, fills in the secrets and puts
    /// the keyboard focus back (caret included), or on `focus`.
    ///
    /// Just after the event being handled, not during it: replacing the control that has
    /// the focus fires events (`focusout`, `change`) into handlers that are still
    /// running. A microtask still comes before any later key, so keys typed right after
    /// a click land where they should.
    fn render(shared: &Shared, focus: Option<String>) {
        let shared = shared.clone();
        queue_microtask(move || draw(&shared, focus));
    }

    fn draw(shared: &Shared, focus: Option<String>) {
        let active = document().active_element();
        let kept = active.as_ref().and_then(|a| {
            let id = a.id();
            (!id.is_empty()).then(|| {
                let input = a.unchecked_ref::<HtmlInputElement>();
                let caret = input.selection_start().ok().flatten();
                (id, caret)
            })
        });
        let Some(container) = element("wizard") else {
            return;
        };
        // Replacing the focused control fires `focusout`, whose handler reads the state:
        // nothing of it may be borrowed meanwhile.
        let html = shared.borrow().html();
        container.set_inner_html(&html);
        {
            let wizard = shared.borrow();
            if let Some(page) = wizard.page() {
                for (path, _, schema) in shown_fields(&page.schema, &wizard.values, "") {
                    let secret = wizard.secrets.get(&path).and_then(Value::as_str);
                    if let (Widget::Secret, Some(el), Some(secret)) =
                        (widget(&schema), element(&field_id(&path)), secret)
                    {
                        el.unchecked_ref::<HtmlInputElement>().set_value(secret);
                    }
                }
            }
        }
        show_problems(shared);
        let goal = focus.map(|id| (id, None)).or(kept);
        if let Some((id, caret)) = goal {
            if let Some(el) =
                element(&id).and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
                if let Some(caret) = caret {
                    let _ = el
                        .unchecked_ref::<HtmlInputElement>()
                        .set_selection_range(caret, caret);
                }
            }
        }
    }

    /// Shows each field's problems (once it was left filled in, or Next was pressed on
    /// its page, or the server found it), and marks its controls invalid.
    fn show_problems(shared: &Shared) {
        let wizard = shared.borrow();
        let Some(page) = wizard.page() else { return };
        let errors = wizard.problems(wizard.step);
        let all = wizard.attempted.contains(&wizard.step);
        for (path, title, _) in shown_fields(&page.schema, &wizard.values, "") {
            let shown = all || wizard.touched.contains(&path);
            let mine = |e: &&FieldError| belongs(&e.field, &path);
            let local = errors.iter().filter(mine).filter(|_| shown);
            let found: Vec<&FieldError> = local
                .chain(wizard.server_errors.iter().filter(mine))
                .collect();
            let mut messages: Vec<String> = Vec::new();
            for e in &found {
                let message = sentence(&title, &path, e);
                if !messages.contains(&message) {
                    messages.push(message);
                }
            }
            let id = field_id(&path);
            let mut out = String::new();
            for message in &messages {
                let _ = write!(out, r#"<p class="field-problem">{}</p>"#, escape(message));
            }
            if let Some(el) = element(&format!("{id}-problems")) {
                if el.inner_html() != out {
                    el.set_inner_html(&out);
                }
            }
            if let Some(block) = element(&format!("{id}-field")) {
                let _ = block
                    .class_list()
                    .toggle_with_force("invalid", !found.is_empty());
            }
            // A problem of the field marks all its controls; one of a list's item (`tags[1]`)
            // marks that item's input. The first control has the field's id, the others a
            // suffix.
            let whole = found.iter().any(|e| e.field == path);
            let item = |i: usize| {
                let prefix = format!("{path}[{i}]");
                found.iter().any(|e| e.field.starts_with(&prefix))
            };
            let controls = [
                (id.clone(), 0),
                (format!("{id}-owner"), 0),
                (format!("{id}-repo"), 0),
            ]
            .into_iter()
            .chain((1..64).map(|i| (format!("{id}-{i}"), i)));
            for (control, i) in controls {
                match element(&control) {
                    Some(el) if whole || item(i) => {
                        let _ = el.set_attribute("aria-invalid", "true");
                    }
                    Some(el) => {
                        let _ = el.remove_attribute("aria-invalid");
                    }
                    None if i == 1 => break,
                    None => {}
                }
            }
        }
        if let Some(panel) = element("page-problems") {
            let page_level: Vec<String> = errors
                .iter()
                .filter(|e| e.field.is_empty())
                .map(|e| e.message.clone())
                .collect();
            let hidden = !all || page_level.is_empty();
            panel.set_text_content(Some(&page_level.join("; ")));
            let _ = if hidden {
                panel.set_attribute("hidden", "")
            } else {
                panel.remove_attribute("hidden")
            };
        }
    }

    /// After a value changed: the page again if its fields changed (with the defaults
    /// of fields that came), its problems if not.
    fn changed(shared: &Shared) {
        let shape = shared.borrow().current_shape();
        if shared.borrow().shape == shape {
            show_problems(shared);
            return;
        }
        {
            let mut wizard = shared.borrow_mut();
            if let Some(schema) = wizard.page().map(|p| p.schema.clone()) {
                apply_defaults(&schema, &mut wizard.values);
            }
            wizard.shape = wizard.current_shape();
        }
        render(shared, None);
    }

    fn on_input(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(el) = target(ev) else { return };
        let (Some(path), Some(kind)) =
            (el.get_attribute("data-path"), el.get_attribute("data-kind"))
        else {
            return;
        };
        // Text arrives with `input`; choices with `change` (a repository's host and owner
        // may be either).
        let texty = matches!(
            kind.as_str(),
            "text" | "number" | "secret" | "json" | "item" | "entity" | "repo"
        );
        let handled = if ev.type_() == "input" {
            texty
        } else {
            !texty || kind == "repo"
        };
        if !handled {
            return;
        }
        let entered = value_of(&el);
        let index: usize = el
            .get_attribute("data-index")
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        let mut wizard = shared.borrow_mut();
        let schema = wizard
            .page()
            .and_then(|p| {
                shown_fields(&p.schema, &wizard.values, "")
                    .into_iter()
                    .find(|(p, _, _)| *p == path)
            })
            .map(|(_, _, schema)| schema)
            .unwrap_or(Value::Null);
        let current = value_at(&wizard.values, &path).cloned();
        let value = match kind.as_str() {
            "number" => number_value(&entered),
            "json" if entered.trim().is_empty() => None,
            "json" => Some(serde_json::from_str(&entered).unwrap_or(Value::String(entered))),
            "secret" => {
                let mask = "*".repeat(entered.chars().count());
                if entered.is_empty() {
                    wizard.secrets.remove(&path);
                } else {
                    wizard.secrets.insert(path.clone(), Value::String(entered));
                }
                (!mask.is_empty()).then_some(Value::String(mask))
            }
            "boolean" => Some(Value::Bool(
                el.unchecked_ref::<HtmlInputElement>().checked(),
            )),
            "choice" => entered
                .parse::<usize>()
                .ok()
                .and_then(|i| choices_of(&schema).get(i).map(|c| c.value.clone())),
            "radio" => choices_of(&schema).get(index).map(|c| c.value.clone()),
            "multi" => {
                let choices = choices_of(&schema);
                let checked = el.unchecked_ref::<HtmlInputElement>().checked();
                let before = match current {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                // In the template's order, whatever the order of clicks.
                let chosen = choices
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| {
                        if *i == index {
                            checked
                        } else {
                            before.contains(&c.value)
                        }
                    })
                    .map(|(_, c)| c.value.clone())
                    .collect();
                Some(Value::Array(chosen))
            }
            "item" => {
                let mut items = match current {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                if index < items.len() {
                    items[index] = Value::String(entered);
                }
                Some(Value::Array(items))
            }
            "repo" => {
                let id = field_id(&path);
                let part = |suffix: &str| {
                    element(&format!("{id}{suffix}"))
                        .map(|e| value_of(&e))
                        .unwrap_or_default()
                };
                let parts = RepoParts {
                    host: part(""),
                    owner: part("-owner"),
                    repo: part("-repo"),
                };
                if let Some(preview) = element(&format!("{id}-preview")) {
                    preview.set_text_content(Some(&repo_preview(&parts)));
                }
                parts.value().map(Value::String)
            }
            _ => (!entered.is_empty()).then_some(Value::String(entered.clone())),
        };
        wizard.set(&path, value);
        let searching = (kind == "entity").then(|| (path.clone(), value_of(&el), schema));
        drop(wizard);
        changed(shared);
        if let Some((path, entered, schema)) = searching {
            search_soon(shared, &path, entered, &schema);
        }
    }

    fn on_focus_in(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(el) = target(ev) else { return };
        if el.get_attribute("data-kind").as_deref() != Some("entity") {
            return;
        }
        let Some(path) = el.get_attribute("data-path") else {
            return;
        };
        let schema = shared
            .borrow()
            .page()
            .and_then(|p| {
                shown_fields(&p.schema, &shared.borrow().values, "")
                    .into_iter()
                    .find(|(p, _, _)| *p == path)
            })
            .map(|(_, _, s)| s)
            .unwrap_or(Value::Null);
        search(shared, &path, value_of(&el), &schema);
    }

    fn on_focus_out(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(el) = target(ev) else { return };
        let Some(path) = el.get_attribute("data-path") else {
            return;
        };
        if el.get_attribute("data-kind").as_deref() == Some("entity") {
            // A name or title typed in full stands for its entity.
            let typed = value_of(&el);
            let id = field_id(&path);
            let count = shared.borrow().picker.count;
            let named = (0..count).find_map(|i| {
                let option = element(&format!("{id}-options-{i}"))?;
                let reference = option.get_attribute("data-ref")?;
                let label = option.get_attribute("data-label").unwrap_or_default();
                let name = reference.rsplit('/').next().unwrap_or_default().to_owned();
                [label, name, reference.clone()]
                    .iter()
                    .any(|t| !typed.is_empty() && t.eq_ignore_ascii_case(&typed))
                    .then_some(reference)
            });
            close_picker(shared, &path);
            // A bare name is of the picker's `defaultKind` (a group, for an owner) and
            // `defaultNamespace`, as Backstage reads it.
            let named = named.or_else(|| {
                let schema = shared.borrow().page().and_then(|p| {
                    shown_fields(&p.schema, &shared.borrow().values, "")
                        .into_iter()
                        .find(|(p, _, _)| *p == path)
                        .map(|(_, _, s)| s)
                })?;
                let options = &schema["ui:options"];
                let owner = widget(&schema) == (Widget::Entity { owner: true });
                let kind = options["defaultKind"]
                    .as_str()
                    .or(owner.then_some("Group"))?
                    .to_ascii_lowercase();
                let namespace = options["defaultNamespace"].as_str().unwrap_or("default");
                let bare = !typed.is_empty() && !typed.contains([':', '/']);
                bare.then(|| format!("{kind}:{namespace}/{typed}"))
            });
            if let Some(reference) = named.filter(|r| *r != typed) {
                el.unchecked_ref::<HtmlInputElement>().set_value(&reference);
                shared
                    .borrow_mut()
                    .set(&path, Some(Value::String(reference)));
            }
        }
        let filled = match value_at(&shared.borrow().values, &path) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        let mut wizard = shared.borrow_mut();
        if filled && !wizard.touched.contains(&path) {
            wizard.touched.push(path);
            drop(wizard);
            changed(shared);
        }
    }

    fn on_click(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(button) = target(ev).and_then(|t| t.closest("[data-action]").ok().flatten())
        else {
            return;
        };
        if button.has_attribute("disabled") {
            return;
        }
        let number = |name: &str| {
            button
                .get_attribute(name)
                .and_then(|s| s.parse::<usize>().ok())
        };
        match button.get_attribute("data-action").as_deref() {
            Some("back") => {
                let mut wizard = shared.borrow_mut();
                let s = wizard.step;
                if let Some(previous) = wizard.applicable.iter().rev().copied().find(|&i| i < s) {
                    let focus = wizard.go_to(previous);
                    drop(wizard);
                    render(shared, Some(focus));
                }
            }
            Some("step") => {
                if let Some(step) = number("data-step") {
                    let focus = shared.borrow_mut().go_to(step);
                    render(shared, Some(focus));
                }
            }
            Some(action @ ("add" | "remove")) => {
                let Some(path) = button.get_attribute("data-path") else {
                    return;
                };
                let mut wizard = shared.borrow_mut();
                let mut items = match value_at(&wizard.values, &path) {
                    Some(Value::Array(items)) => items.clone(),
                    _ => Vec::new(),
                };
                let id = field_id(&path);
                let focus = if action == "add" {
                    items.push(Value::String(String::new()));
                    if items.len() == 1 {
                        id
                    } else {
                        format!("{id}-{}", items.len() - 1)
                    }
                } else {
                    if let Some(i) = number("data-index").filter(|&i| i < items.len()) {
                        items.remove(i);
                    }
                    id
                };
                wizard.set(&path, (!items.is_empty()).then_some(Value::Array(items)));
                wizard.shape = wizard.current_shape();
                drop(wizard);
                render(shared, Some(focus));
            }
            Some("create") => create(shared),
            Some("preview") => preview(shared),
            _ => {}
        }
    }

    fn on_mouse_down(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(option) =
            target(ev).and_then(|t| t.closest("[role=option][data-ref]").ok().flatten())
        else {
            return;
        };
        // Before the input's blur, so the choice is not lost.
        ev.prevent_default();
        let path = shared.borrow().picker.path.clone();
        choose(shared, &path, &option);
    }

    fn on_key(shared: &Shared, ev: &leptos::web_sys::Event) {
        let Some(el) = target(ev) else { return };
        if el.get_attribute("data-kind").as_deref() != Some("entity") {
            return;
        }
        let Some(path) = el.get_attribute("data-path") else {
            return;
        };
        let key = ev.unchecked_ref::<leptos::web_sys::KeyboardEvent>().key();
        let list = format!("{}-options", field_id(&path));
        let open = element(&list).is_some_and(|l| !l.has_attribute("hidden"));
        let (count, active) = {
            let wizard = shared.borrow();
            (wizard.picker.count, wizard.picker.active)
        };
        match key.as_str() {
            "ArrowDown" | "ArrowUp" if count > 0 => {
                ev.prevent_default();
                let forward = key == "ArrowDown";
                let next = match (active, forward) {
                    (None, true) => 0,
                    (None, false) => count - 1,
                    (Some(i), true) => (i + 1) % count,
                    (Some(i), false) => (i + count - 1) % count,
                };
                shared.borrow_mut().picker.active = Some(next);
                show_listbox(&el, &list, true);
                for i in 0..count {
                    if let Some(option) = element(&format!("{list}-{i}")) {
                        let chosen = i == next;
                        let _ = option.class_list().toggle_with_force("active", chosen);
                        let _ = option
                            .set_attribute("aria-selected", if chosen { "true" } else { "false" });
                        if chosen {
                            option.scroll_into_view_with_bool(false);
                        }
                    }
                }
                let _ = el.set_attribute("aria-activedescendant", &format!("{list}-{next}"));
            }
            "Enter" if open => {
                if let Some(option) = active.and_then(|i| element(&format!("{list}-{i}"))) {
                    // Takes the suggestion instead of submitting the page.
                    ev.prevent_default();
                    choose(shared, &path, &option);
                }
            }
            "Escape" if open => {
                ev.prevent_default();
                close_picker(shared, &path);
            }
            _ => {}
        }
    }

    fn show_listbox(input: &Element, list: &str, open: bool) {
        if let Some(listbox) = element(list) {
            let _ = if open {
                listbox.remove_attribute("hidden")
            } else {
                listbox.set_attribute("hidden", "")
            };
        }
        let _ = input.set_attribute("aria-expanded", if open { "true" } else { "false" });
        if !open {
            let _ = input.remove_attribute("aria-activedescendant");
        }
    }

    fn close_picker(shared: &Shared, path: &str) {
        let id = field_id(path);
        if let Some(input) = element(&id) {
            show_listbox(&input, &format!("{id}-options"), false);
        }
        shared.borrow_mut().picker.active = None;
    }

    fn choose(shared: &Shared, path: &str, option: &Element) {
        let Some(reference) = option.get_attribute("data-ref") else {
            return;
        };
        if let Some(input) = element(&field_id(path)) {
            input
                .unchecked_ref::<HtmlInputElement>()
                .set_value(&reference);
        }
        close_picker(shared, path);
        {
            let mut wizard = shared.borrow_mut();
            wizard.set(path, Some(Value::String(reference)));
            if !wizard.touched.iter().any(|t| t == path) {
                wizard.touched.push(path.to_owned());
            }
        }
        changed(shared);
    }

    fn search_soon(shared: &Shared, path: &str, entered: String, schema: &Value) {
        if let Some(handle) = shared.borrow_mut().picker.pending.take() {
            handle.clear();
        }
        let (shared2, path, schema) = (shared.clone(), path.to_owned(), schema.clone());
        let handle = set_timeout_with_handle(
            move || search(&shared2, &path, entered, &schema),
            SEARCH_AFTER,
        )
        .ok();
        shared.borrow_mut().picker.pending = handle;
    }

    /// Asks the catalog for what the picker at `path` may offer for `entered`.
    fn search(shared: &Shared, path: &str, entered: String, schema: &Value) {
        let asked = {
            let mut wizard = shared.borrow_mut();
            wizard.picker.asked += 1;
            wizard.picker.path = path.to_owned();
            wizard.picker.asked
        };
        let owner = widget(schema) == (Widget::Entity { owner: true });
        let options = schema
            .get("ui:options")
            .cloned()
            .unwrap_or(Value::Null)
            .to_string();
        let id = field_id(path);
        let list = format!("{id}-options");
        let shared = shared.clone();
        leptos::task::spawn_local(async move {
            let found = pick_entities(owner, options, entered, list.clone()).await;
            let current = shared.borrow().picker.asked == asked;
            let (Ok(found), true) = (found, current) else {
                return;
            };
            let count = found
                .as_bytes()
                .windows(9)
                .filter(|w| *w == b"data-ref=")
                .count();
            {
                let mut wizard = shared.borrow_mut();
                wizard.picker.count = count;
                wizard.picker.active = None;
            }
            let (Some(listbox), Some(input)) = (element(&list), element(&id)) else {
                return;
            };
            listbox.set_inner_html(&found);
            // Still the field being typed in: show what was found.
            let focused = document().active_element().is_some_and(|a| a.id() == id);
            show_listbox(&input, &list, focused);
        });
    }

    fn next(shared: &Shared) {
        let mut wizard = shared.borrow_mut();
        if !wizard.ready || wizard.busy || wizard.page().is_none() {
            return;
        }
        let s = wizard.step;
        if !wizard.attempted.contains(&s) {
            wizard.attempted.push(s);
        }
        let first = wizard.problems(s).into_iter().next();
        if let Some(problem) = first {
            drop(wizard);
            show_problems(shared);
            if let Some(el) = problem_target(&problem.field)
                .and_then(|id| element(&id))
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
            return;
        }
        if !wizard.form.pages.iter().any(|p| p.conditional) {
            let target = wizard.next_after(s);
            let focus = wizard.go_to(target);
            drop(wizard);
            render(shared, Some(focus));
            return;
        }
        // Which pages apply depends on the answers: the server evaluates their `if`.
        wizard.busy = true;
        let template = wizard.form.reference.clone();
        let values = wizard.values.to_string();
        let source = wizard.source.clone();
        drop(wizard);
        render(shared, None);
        let shared = shared.clone();
        leptos::task::spawn_local(async move {
            let found = golden_path_pages(template, values, source).await;
            let focus = {
                let mut wizard = shared.borrow_mut();
                wizard.busy = false;
                match found {
                    Ok(pages) => {
                        wizard.applicable = indices(&wire::parse(&pages));
                        let target = wizard.next_after(s);
                        Some(wizard.go_to(target))
                    }
                    Err(e) => {
                        wizard.failure = Some(e.to_string());
                        None
                    }
                }
            };
            render(&shared, focus);
        });
    }

    /// Shows what a dry run with the answers would write, under the review.
    fn preview(shared: &Shared) {
        let Some(panel) = element("preview") else {
            return;
        };
        panel.set_inner_html(r#"<p class="loading" role="status">Preparing a preview…</p>"#);
        let (template, values, secrets, source) = {
            let wizard = shared.borrow();
            (
                wizard.form.reference.clone(),
                wizard.values.to_string(),
                Value::Object(wizard.secrets.clone()).to_string(),
                wizard.source.clone(),
            )
        };
        leptos::task::spawn_local(async move {
            let shown = match preview_golden_path(template, values, secrets, source).await {
                Ok(html) => html,
                Err(e) => format!(
                    r#"<p class="error-panel" role="alert">{}</p>"#,
                    escape(&e.to_string())
                ),
            };
            if let Some(panel) = element("preview") {
                panel.set_inner_html(&shown);
            }
        });
    }

    fn create(shared: &Shared) {
        let mut wizard = shared.borrow_mut();
        // Every page once more, as the server will: a problem there is shown there.
        let invalid = wizard
            .applicable
            .iter()
            .copied()
            .find(|&i| !wizard.problems(i).is_empty());
        if let Some(page) = invalid {
            wizard.attempted.push(page);
            let focus = wizard.go_to(page);
            drop(wizard);
            render(shared, Some(focus));
            return;
        }
        wizard.busy = true;
        wizard.failure = None;
        let template = wizard.form.reference.clone();
        let values = wizard.values.to_string();
        let secrets = Value::Object(wizard.secrets.clone()).to_string();
        drop(wizard);
        render(shared, None);
        let shared = shared.clone();
        leptos::task::spawn_local(async move {
            let answer = match start_golden_path(template, values, secrets).await {
                Ok(answer) => wire::parse(&answer),
                Err(e) => {
                    let mut wizard = shared.borrow_mut();
                    wizard.busy = false;
                    wizard.failure = Some(e.to_string());
                    drop(wizard);
                    render(&shared, None);
                    return;
                }
            };
            if let Some(id) = answer["started"].as_str() {
                // The run's page, loaded afresh (rendered when its data is in).
                let _ = window().location().set_href(&format!("/create/tasks/{id}"));
                return;
            }
            let errors: Vec<FieldError> = wire::list(&answer, "invalid")
                .iter()
                .map(|e| FieldError::new(wire::string(e, "field"), wire::string(e, "message")))
                .collect();
            let focus = {
                let mut wizard = shared.borrow_mut();
                wizard.busy = false;
                let page = errors.first().and_then(|e| wizard.page_of(&e.field));
                wizard.server_errors = errors;
                page.map(|page| {
                    wizard.attempted.push(page);
                    wizard.go_to(page)
                })
            };
            render(&shared, focus);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repository_problems_join_the_schema_ones() {
        let page = json!({
            "required": ["repoUrl"],
            "properties": {"repoUrl": {"type": "string", "ui:field": "RepoUrlPicker",
                "ui:options": {"allowedHosts": ["git.example.test"]}}}
        });
        let hosts = vec!["git.example.test".to_owned()];
        let missing = page_problems(&page, &json!({}), &hosts);
        assert_eq!(missing, [FieldError::new("repoUrl", "is required")]);
        let half = page_problems(
            &page,
            &json!({"repoUrl": "git.example.test?owner=team&repo="}),
            &hosts,
        );
        assert_eq!(
            half,
            [FieldError::new("repoUrl", "needs a repository name")]
        );
        assert!(page_problems(
            &page,
            &json!({"repoUrl": "git.example.test?owner=t&repo=r"}),
            &hosts
        )
        .is_empty());
        assert_eq!(problem_target("tags[2]").as_deref(), Some("field-tags"));
        assert_eq!(problem_target(""), None);
    }

    #[test]
    fn the_form_reads_back_what_the_server_sends() {
        let form = TemplateForm {
            reference: "template:default/t".into(),
            title: "T".into(),
            description: None,
            owner: Some(("Platform".into(), "/catalog/default/group/platform".into())),
            pages: vec![FormPage {
                title: "One".into(),
                description: Some("First".into()),
                schema: json!({"properties": {"a": {"type": "string"}}}),
                conditional: true,
            }],
            labels: ["Back".into(), "Check".into(), "Go".into()],
            git_hosts: vec!["git.example.test".into()],
            initial: json!({"a": "x"}),
            applicable: vec![0],
            can_run: true,
            role: "developer".into(),
            draft: true,
        };
        let sent = serde_json::to_string(&form).unwrap();
        assert_eq!(TemplateForm::from_json(&wire::parse(&sent)), form);
    }
}
