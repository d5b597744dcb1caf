//! `/create/edit`: the template editor. An author pastes a template (or starts from one
//! of the catalog's), presses Apply to see its wizard, fills it in, and dry-runs it: the
//! files it would write show as a tree with their contents, with the run's log.
//!
//! The text is read by the server, with the catalog's own rules, each time Apply is
//! pressed; the wizard is the one `/create/templates/…` shows, told that its template is
//! a draft (it is dry-run, never run). A draft started from a catalog template reads its
//! skeletons next to that template; a pasted one has no files of its own.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use super::fields::escape;
use super::page_frame;
use super::wire;
use super::wizard::{form_body, shared, Shared, TemplateForm};
use crate::error::AppError;

/// What the editor starts with (server only).
#[cfg(feature = "ssr")]
pub struct Editor {
    /// The catalog's templates to start from: `(reference, title)`.
    pub choices: Vec<(String, String)>,
    /// The template's text.
    pub source: String,
    /// The catalog template the text came from, or empty.
    pub base: String,
    /// The wizard of the text ([`TemplateForm`]), when it reads.
    pub form: Option<Value>,
    /// What keeps the text from reading, as sentences.
    pub problems: Value,
}

/// The editor's template.
///
/// With no `source`: the text of the catalog's template `from` (or of a small template
/// of our own) and the panel to edit it in, `{"panel": HTML, "source": text, "form":
/// TemplateForm | null}`. With one (the text, edited): that text read again, `{"form":
/// TemplateForm}` or `{"problems": [text…]}`; `from` is then the catalog template it
/// started from, next to which its skeletons are read.
#[server(output = crate::codec::JsonText)]
pub async fn golden_path_editor(from: String, source: String) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    let principal = crate::context::signed_in(portico_core::identity::Role::Developer)?;
    if !source.is_empty() {
        return super::server::draft(&portal, &principal, &source, &from)
            .map(|answer| wire::send(&answer));
    }
    let editor = super::server::editor(&portal, &principal, &from).await?;
    Ok(wire::send(&serde_json::json!({
        "panel": panel(&editor),
        "source": editor.source,
        "form": editor.form,
    })))
}

/// What keeps the text from being a template, as HTML.
fn problems_html(problems: &[Value]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let items: String = problems
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p.as_str().unwrap_or_default())))
        .collect();
    format!(r#"<div class="error-panel"><p>The template cannot be read:</p><ul>{items}</ul></div>"#)
}

/// The editor's text and what to start from, as HTML (server only).
#[cfg(feature = "ssr")]
fn panel(editor: &Editor) -> String {
    use std::fmt::Write;

    let mut options = String::from(r#"<option value="">A new template</option>"#);
    for (reference, title) in &editor.choices {
        let selected = if *reference == editor.base {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            options,
            r#"<option value="{}"{selected}>{} ({})</option>"#,
            escape(reference),
            escape(title),
            escape(reference)
        );
    }
    let files = if editor.base.is_empty() {
        "A pasted template has no files of its own: to use a skeleton (<code>./skeleton</code>), start from a template of the catalog.".to_owned()
    } else {
        format!(
            "Relative paths (<code>./skeleton</code>) are read next to <code>{}</code> in the catalog.",
            escape(&editor.base)
        )
    };
    format!(
        r#"<form class="editor-pick" method="get" action="/create/edit"><label for="editor-from">Start from</label><select class="input" id="editor-from" name="from">{options}</select><button type="submit" class="button">Open</button></form><label class="field-label" for="editor-source">Template (YAML)</label><p class="muted small" id="editor-help">{files} Nothing here is saved: register the template in the catalog to offer it.</p><textarea id="editor-source" class="input editor-text" rows="24" spellcheck="false" autocapitalize="off" autocomplete="off" aria-describedby="editor-help editor-problems">{}</textarea><input type="hidden" id="editor-base" value="{}"><div class="editor-actions"><button type="button" class="button primary" data-action="apply">Apply</button><span class="muted small">or Ctrl+Enter in the text</span></div><div id="editor-problems" role="alert">{}</div>"#,
        escape(&editor.source),
        escape(&editor.base),
        problems_html(editor.problems.as_array().map_or(&[], Vec::as_slice)),
    )
}

/// `/create/edit`.
#[component]
pub fn EditorPage() -> impl IntoView {
    let query = use_query_map();
    view! {
        <Title text="Template editor" />
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/create">"Create"</a> " / " <span aria-current="page">"Template editor"</span>
        </nav>
        <div class="page-header">
            <div>
                <h1>"Template editor"</h1>
                <p class="muted">
                    "Paste a template or start from one of the catalog's, see its form, and dry-run it: its steps work in a scratch directory, and nothing is published or registered."
                </p>
            </div>
        </div>
        {page_frame(
            Signal::derive(move || vec![query.with(|q| q.get("from").unwrap_or_default())]),
            |key| Box::pin(golden_path_editor(key[0].clone(), String::new())),
            |_, answer| editor(&wire::parse(&answer)),
            "Loading the editor…",
            |_| None,
        )}
    }
}

fn editor(answer: &Value) -> AnyView {
    let form = answer
        .get("form")
        .filter(|f| f.is_object())
        .map(TemplateForm::from_json);
    let wizard = shared(form, wire::string(answer, "source"));
    let source = source_panel(wizard.clone(), wire::string(answer, "panel"));
    view! {
        {source}
        <h2 class="section-title">"Form"</h2>
        {form_body(wizard)}
    }
    .into_any()
}

#[cfg(not(feature = "hydrate"))]
fn source_panel(_: Shared, panel: String) -> AnyView {
    view! { <section class="card editor-source" inner_html=panel></section> }.into_any()
}

/// The text's panel in the browser: Apply (or Ctrl+Enter) reads the text again and
/// shows its wizard in place of the one shown.
#[cfg(feature = "hydrate")]
fn source_panel(wizard: Shared, panel: String) -> AnyView {
    use leptos::wasm_bindgen::JsCast;

    use super::wizard::browser::load;
    use crate::dom::handler;
    use crate::dom::{element, value_of};

    fn apply(wizard: &Shared) {
        let (Some(text), Some(base)) = (element("editor-source"), element("editor-base")) else {
            return;
        };
        let (mut source, base) = (value_of(&text), value_of(&base));
        // An empty text is read (and refused) like any other: no text at all asks for
        // the editor's first text.
        if source.is_empty() {
            source.push('\n');
        }
        let show = |html: &str| {
            if let Some(panel) = element("editor-problems") {
                panel.set_inner_html(html);
            }
        };
        show(r#"<p class="loading" role="status">Reading the template…</p>"#);
        let wizard = wizard.clone();
        leptos::task::spawn_local(async move {
            let problems = match golden_path_editor(base, source.clone()).await {
                Ok(answer) => {
                    let answer = wire::parse(&answer);
                    if answer["form"].is_object() {
                        load(&wizard, TemplateForm::from_json(&answer["form"]), source);
                    }
                    problems_html(wire::list(&answer, "problems"))
                }
                Err(e) => problems_html(&[Value::String(e.to_string())]),
            };
            show(&problems);
        });
    }

    let on_click = {
        let wizard = wizard.clone();
        move |ev: leptos::ev::MouseEvent| {
            let applies = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|t| t.closest("[data-action=apply]").ok().flatten())
                .is_some();
            if applies {
                apply(&wizard);
            }
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            apply(&wizard);
        }
    };
    view! {
        <section
            class="card editor-source"
            inner_html=panel
            on:click=handler(on_click)
            on:keydown=handler(on_key)
        ></section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_listed_escaped_and_none_shows_nothing() {
        assert_eq!(problems_html(&[]), "");
        let html = problems_html(&[Value::String("spec.steps[0]: needs an <action>".into())]);
        assert!(html.contains("<li>spec.steps[0]: needs an &lt;action&gt;</li>"));
    }
}
