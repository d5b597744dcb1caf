//! The server side of the golden-path pages: reads the templates service and the
//! catalog, and shapes what the pages show. Every function here is reached from a
//! server function that has checked the caller's role.

use portico_core::catalog::document::to_yaml;
use portico_core::catalog::query::{Condition, Filter, FullText, Order, Query};
use portico_core::catalog::reference::RefContext;
use portico_core::catalog::{CatalogError, Entity, EntityRef, StoredEntity};
use portico_core::identity::{NewAudit, Outcome, Principal, Role};
use portico_core::storage::sql::now_millis;
use portico_core::templates::actions::RunUser;
use portico_core::templates::dry_run::read_template;
use portico_core::templates::model::page_title;
use portico_core::templates::tasks::TaskFilter;
use portico_core::templates::{Task, TemplateError, TemplateSpec};
use portico_core::Portal;
use portico_forms::apply_defaults;
use serde_json::{json, Map, Value};

use super::editor::Editor;
use super::gallery::{Gallery, GallerySearch, RunRow, TemplateCard};
use super::pickers::{EntityOption, PickerQuery};
use super::task::{render, RunView};
use super::wizard::{FormPage, TemplateForm};
use crate::context::refused;
use crate::error::AppError;
use crate::pages::catalog::server::link_to;
use crate::pages::catalog::{entity_href, RefLink};

/// Templates the gallery lists at most (the search narrows them down).
const GALLERY_SIZE: u64 = 100;
/// Runs under "Your recent runs".
const RECENT_RUNS: i64 = 10;
/// Tags offered as filters.
const TAGS_SHOWN: usize = 24;
/// The most options a picker lists.
const PICKER_LIMIT: u64 = 20;
/// Log lines read per request of the task's events; a run's page reads on to the end.
const LOG_PAGE: usize = 1000;

fn template_error(e: TemplateError) -> AppError {
    use http::StatusCode;
    match e {
        TemplateError::Invalid { .. } | TemplateError::Values(_) => {
            refused(StatusCode::BAD_REQUEST, e.to_string())
        }
        TemplateError::Template(_) => refused(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        TemplateError::NotFound(_) => refused(StatusCode::NOT_FOUND, e.to_string()),
        TemplateError::Conflict(_) => refused(StatusCode::CONFLICT, e.to_string()),
        other => AppError::internal("golden paths", &other),
    }
}

fn catalog_error(e: CatalogError) -> AppError {
    AppError::internal("golden paths: the catalog", &e)
}

fn text(body: &Value, pointer: &str) -> Option<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
                _ => None,
            })
            .collect(),
        Value::Bool(_) | Value::Number(_) => vec![value.to_string()],
        _ => Vec::new(),
    }
}

/// A link for a reference as a spec writes it (`platform`, `group:default/platform`).
fn owner_link(written: &str, namespace: &str) -> Option<RefLink> {
    let context = RefContext {
        default_kind: Some("Group"),
        default_namespace: namespace,
    };
    EntityRef::parse(written, context)
        .ok()
        .map(|r| link_to(&r, None, true))
}

/// Where a template's wizard is.
fn wizard_href(reference: &EntityRef) -> String {
    format!(
        "/create/templates/{}/{}",
        reference.namespace, reference.name
    )
}

fn card(entity: &StoredEntity) -> Option<TemplateCard> {
    let body = &entity.body;
    let reference = Entity::reference_of(body)?;
    Some(TemplateCard {
        href: wizard_href(&reference),
        title: text(body, "/metadata/title").unwrap_or_else(|| reference.name.clone()),
        description: text(body, "/metadata/description"),
        spec_type: text(body, "/spec/type"),
        tags: strings(&body["metadata"]["tags"]),
        owner: text(body, "/spec/owner")
            .and_then(|o| owner_link(&o, &reference.namespace))
            .map(|link| (link.label, link.href)),
    })
}

pub async fn gallery(
    portal: &Portal,
    principal: &Principal,
    search: &GallerySearch,
) -> Result<Gallery, AppError> {
    let catalog = portal.catalog();
    let templates_only = Condition {
        key: "kind".into(),
        values: vec!["template".into()],
    };
    let mut conditions = vec![templates_only.clone()];
    if !search.tag.is_empty() {
        conditions.push(Condition {
            key: "metadata.tags".into(),
            values: vec![search.tag.to_lowercase()],
        });
    }
    let full_text = (!search.q.is_empty()).then(|| FullText {
        term: search.q.clone(),
        fields: Vec::new(),
    });
    let query = Query {
        filter: Filter {
            any_of: vec![conditions],
        },
        // Best matches first when searching; otherwise by title.
        order: if full_text.is_some() {
            Vec::new()
        } else {
            vec![Order {
                field: "metadata.title".into(),
                descending: false,
            }]
        },
        full_text: full_text.clone(),
        offset: 0,
        limit: GALLERY_SIZE,
    };
    let page = catalog.query(&query).await.map_err(catalog_error)?;
    let all_templates = Filter {
        any_of: vec![vec![templates_only]],
    };
    let tags = catalog
        .facets(
            &["metadata.tags".to_owned()],
            &all_templates,
            full_text.as_ref(),
        )
        .await
        .map_err(catalog_error)?
        .pop()
        .map(|(_, values)| values)
        .unwrap_or_default()
        .into_iter()
        .take(TAGS_SHOWN)
        .map(|f| (f.value, f.count))
        .collect();
    let registered = if page.total > 0 && search.q.is_empty() && search.tag.is_empty() {
        page.total
    } else {
        catalog
            .query(&Query {
                filter: all_templates,
                limit: 1,
                ..Query::default()
            })
            .await
            .map_err(catalog_error)?
            .total
    };
    let runs = if principal.has(Role::Developer) {
        Some(recent_runs(portal, principal).await?)
    } else {
        None
    };
    Ok(Gallery {
        now: now_millis(),
        templates: page.items.iter().filter_map(card).collect(),
        tags,
        registered,
        runs,
    })
}

async fn recent_runs(portal: &Portal, principal: &Principal) -> Result<Vec<RunRow>, AppError> {
    let filter = TaskFilter {
        created_by: Some(principal.actor()),
        limit: Some(RECENT_RUNS),
        ..TaskFilter::default()
    };
    let (tasks, _) = portal
        .templates()
        .tasks(&filter)
        .await
        .map_err(template_error)?;
    Ok(tasks
        .iter()
        .map(|t| RunRow {
            id: t.id.clone(),
            title: t.spec.title.clone(),
            status: t.status.as_str().to_owned(),
            created_at: t.created_at,
        })
        .collect())
}

/// The pages of `spec` that apply to `values`, in order.
fn applicable_pages(
    portal: &Portal,
    spec: &TemplateSpec,
    values: &Value,
) -> Result<Vec<usize>, AppError> {
    portal
        .templates()
        .applicable_pages(spec, values)
        .map(|(pages, _)| pages)
        .map_err(template_error)
}

pub async fn form(
    portal: &Portal,
    principal: &Principal,
    namespace: &str,
    name: &str,
    from: &str,
) -> Result<Option<TemplateForm>, AppError> {
    let reference = format!("template:{namespace}/{name}");
    let (entity, spec) = match portal.templates().template(&reference).await {
        Ok(found) => found,
        // A name no template can have is as missing as one that is not there.
        Err(TemplateError::NotFound(_) | TemplateError::Invalid { .. }) => return Ok(None),
        Err(e) => return Err(template_error(e)),
    };
    let earlier = match from {
        "" => None,
        _ if !principal.has(Role::Developer) => None,
        id => earlier_answers(portal, &spec, id).await?,
    };
    form_of(portal, principal, &entity.body, &spec, earlier).map(Some)
}

/// The answers of the run `id` of the template `spec`, to start its wizard with ("Run
/// it again"), without the secret fields (those are asked for again). Nothing when there
/// is no such run, or it is another template's.
async fn earlier_answers(
    portal: &Portal,
    spec: &TemplateSpec,
    id: &str,
) -> Result<Option<Value>, AppError> {
    let task = match portal.templates().task(id).await {
        Ok(task) => task,
        Err(TemplateError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(template_error(e)),
    };
    if !task.template_ref.eq_ignore_ascii_case(&spec.reference) {
        return Ok(None);
    }
    let Value::Object(values) = task.parameters else {
        return Ok(None);
    };
    Ok(Some(Value::Object(without_secrets(
        &spec.parameters,
        values,
    ))))
}

/// `values` without the fields `pages` mark secret (`ui:widget: password`,
/// `ui:field: Secret`).
fn without_secrets(pages: &[Value], mut values: Map<String, Value>) -> Map<String, Value> {
    for page in pages {
        let Some(properties) = page.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (name, field) in properties {
            let secret = field.get("ui:widget").and_then(Value::as_str) == Some("password")
                || field.get("ui:field").and_then(Value::as_str) == Some("Secret");
            if secret {
                values.remove(name);
            }
        }
    }
    values
}

/// The wizard of a template: its pages, and what they start with: the first page's
/// defaults, or `earlier` answers.
fn form_of(
    portal: &Portal,
    principal: &Principal,
    body: &Value,
    spec: &TemplateSpec,
    earlier: Option<Value>,
) -> Result<TemplateForm, AppError> {
    let (initial, applicable) = match earlier {
        Some(values) => {
            let applicable = applicable_pages(portal, spec, &values)?;
            (values, applicable)
        }
        None => {
            let applicable = applicable_pages(portal, spec, &Value::Object(Map::new()))?;
            let mut initial = Value::Object(Map::new());
            if let Some(&first) = applicable.first() {
                apply_defaults(&spec.parameters[first], &mut initial);
            }
            (initial, applicable)
        }
    };
    let label = |key: &str, default: &str| {
        text(body, &format!("/spec/presentation/buttonLabels/{key}"))
            .unwrap_or_else(|| default.to_owned())
    };
    let template_ref = Entity::reference_of(body);
    Ok(TemplateForm {
        reference: spec.reference.clone(),
        title: spec.title.clone(),
        description: text(body, "/metadata/description"),
        owner: text(body, "/spec/owner").and_then(|o| {
            owner_link(
                &o,
                template_ref
                    .as_ref()
                    .map_or("default", |r| r.namespace.as_str()),
            )
            .map(|link| (link.label, link.href))
        }),
        pages: spec
            .parameters
            .iter()
            .map(|page| FormPage {
                title: page_title(page).to_owned(),
                description: page
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                schema: page.clone(),
                conditional: page.get("if").is_some(),
            })
            .collect(),
        labels: [
            label("backButtonText", "Back"),
            label("reviewButtonText", "Review"),
            label("createButtonText", "Create"),
        ],
        git_hosts: portal
            .templates()
            .git_hosts()
            .hosts()
            .map(str::to_owned)
            .collect(),
        initial,
        applicable,
        can_run: principal.has(Role::Developer),
        role: principal.role.to_string(),
        draft: false,
    })
}

/// The template a page works with: the editor's draft (`source`, YAML) when there is
/// one, else the catalog's template `reference`.
async fn template_body(
    portal: &Portal,
    reference: &str,
    source: &str,
) -> Result<(Value, TemplateSpec), AppError> {
    if source.is_empty() {
        let (entity, spec) = portal
            .templates()
            .template(reference)
            .await
            .map_err(template_error)?;
        return Ok((entity.body, spec));
    }
    let body = read_template(source).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        refused(
            http::StatusCode::BAD_REQUEST,
            format!("the template has problems: {}", list.join("; ")),
        )
    })?;
    let spec = TemplateSpec::from_entity(&body)
        .map_err(|problems| template_error(TemplateError::Template(problems)))?;
    Ok((body, spec))
}

pub async fn applicable(
    portal: &Portal,
    reference: &str,
    values: &Value,
    source: &str,
) -> Result<Vec<usize>, AppError> {
    let (_, spec) = template_body(portal, reference, source).await?;
    applicable_pages(portal, &spec, values)
}

/// The conditions of one `catalogFilter` object: `{kind: Group, spec.type: [team, org]}`.
fn conditions(filter: &Map<String, Value>) -> Vec<Condition> {
    filter
        .iter()
        .map(|(key, value)| Condition {
            key: key.to_lowercase(),
            values: strings(value).iter().map(|v| v.to_lowercase()).collect(),
        })
        .collect()
}

/// The catalog filter of a picker: its `catalogFilter` (one object, or a list of
/// alternatives), narrowed to its `allowedKinds`; an `OwnerPicker` with neither offers
/// groups and users.
fn picker_filter(query: &PickerQuery) -> Filter {
    let options = &query.options;
    let mut kinds: Vec<String> = strings(options.get("allowedKinds").unwrap_or(&Value::Null))
        .iter()
        .map(|k| k.to_lowercase())
        .collect();
    let catalog_filter = options.get("catalogFilter");
    if query.owner && kinds.is_empty() && catalog_filter.is_none() {
        kinds = vec!["group".into(), "user".into()];
    }
    let mut alternatives: Vec<Vec<Condition>> = match catalog_filter {
        Some(Value::Object(filter)) => vec![conditions(filter)],
        Some(Value::Array(filters)) => filters
            .iter()
            .filter_map(Value::as_object)
            .map(conditions)
            .collect(),
        _ => vec![Vec::new()],
    };
    if alternatives.is_empty() {
        alternatives.push(Vec::new());
    }
    if !kinds.is_empty() {
        for conditions in &mut alternatives {
            conditions.push(Condition {
                key: "kind".into(),
                values: kinds.clone(),
            });
        }
    }
    alternatives.retain(|c| !c.is_empty());
    Filter {
        any_of: alternatives,
    }
}

pub async fn pick(portal: &Portal, query: &PickerQuery) -> Result<Vec<EntityOption>, AppError> {
    // A reference typed or chosen earlier searches by its name.
    let typed = query.text.trim();
    let term = typed.rsplit(['/', ':']).next().unwrap_or(typed).trim();
    let full_text = (!term.is_empty()).then(|| FullText {
        term: term.to_owned(),
        fields: vec!["metadata.name".into(), "metadata.title".into()],
    });
    let page = portal
        .catalog()
        .query(&Query {
            filter: picker_filter(query),
            order: vec![Order {
                field: "metadata.name".into(),
                descending: false,
            }],
            full_text,
            offset: 0,
            limit: PICKER_LIMIT,
        })
        .await
        .map_err(catalog_error)?;
    Ok(page
        .items
        .iter()
        .filter_map(|entity| {
            let reference = Entity::reference_of(&entity.body)?;
            Some(EntityOption {
                label: text(&entity.body, "/metadata/title")
                    .or_else(|| text(&entity.body, "/spec/profile/displayName"))
                    .unwrap_or_else(|| reference.name.clone()),
                kind: reference.kind.clone(),
                reference: reference.to_string(),
            })
        })
        .collect())
}

pub async fn start(
    portal: &Portal,
    principal: &Principal,
    reference: &str,
    values: Value,
    secrets: Map<String, Value>,
) -> Result<Value, AppError> {
    let user = RunUser::of(principal, &portal.catalog()).await;
    let values = if values.is_null() {
        Value::Object(Map::new())
    } else {
        values
    };
    match portal
        .templates()
        .create_task(user, reference, &values, secrets)
        .await
    {
        Ok(id) => {
            audit(
                portal,
                principal,
                "template.run",
                reference,
                json!({ "task": id }),
            )
            .await;
            Ok(json!({ "started": id }))
        }
        Err(TemplateError::Values(errors)) => Ok(json!({ "invalid": errors })),
        Err(e) => Err(template_error(e)),
    }
}

/// A dry run with these answers of the catalog's template `reference`, or of the
/// editor's draft (`source`, whose skeletons are read next to `reference` when it names
/// one): what it would write, and its log, as HTML for the review.
pub async fn preview(
    portal: &Portal,
    principal: &Principal,
    reference: &str,
    values: Value,
    secrets: Map<String, Value>,
    source: &str,
) -> Result<String, AppError> {
    use portico_core::templates::dry_run::DryRunRequest;
    let (template, _) = template_body(portal, reference, source).await?;
    let request = DryRunRequest {
        template,
        values,
        secrets,
        directory_contents: Vec::new(),
        template_ref: (!reference.is_empty()).then(|| reference.to_owned()),
    };
    let user = RunUser::of(principal, &portal.catalog()).await;
    match portal.templates().dry_run(user, request).await {
        Ok(result) => Ok(super::preview::dry_run(&result)),
        Err(TemplateError::Values(errors)) => Ok(super::preview::refused(&errors)),
        Err(e) => Err(template_error(e)),
    }
}

/// The editor's draft read again: its wizard (`{"form": …}`), or what keeps it from
/// having one (`{"problems": [text…]}`). `base` is the catalog template it started
/// from, next to which its skeletons are read.
pub fn draft(
    portal: &Portal,
    principal: &Principal,
    source: &str,
    base: &str,
) -> Result<Value, AppError> {
    let body = match read_template(source) {
        Ok(body) => body,
        Err(problems) => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Ok(json!({ "problems": list }));
        }
    };
    let spec = TemplateSpec::from_entity(&body)
        .map_err(|problems| template_error(TemplateError::Template(problems)))?;
    let mut form = form_of(portal, principal, &body, &spec, None)?;
    form.reference = base.to_owned();
    form.draft = true;
    Ok(json!({ "form": form }))
}

/// Templates the editor offers to start from, at most.
const EDITOR_CHOICES: u64 = 500;

/// What the editor starts with: the catalog's templates to start from, and the text of
/// `from` (one of them) or of a small template of our own.
pub async fn editor(
    portal: &Portal,
    principal: &Principal,
    from: &str,
) -> Result<Editor, AppError> {
    let page = portal
        .catalog()
        .query(&Query {
            filter: Filter {
                any_of: vec![vec![Condition {
                    key: "kind".into(),
                    values: vec!["template".into()],
                }]],
            },
            order: vec![Order {
                field: "metadata.title".into(),
                descending: false,
            }],
            full_text: None,
            offset: 0,
            limit: EDITOR_CHOICES,
        })
        .await
        .map_err(catalog_error)?;
    let choices = page
        .items
        .iter()
        .filter_map(|entity| {
            let reference = Entity::reference_of(&entity.body)?;
            let title =
                text(&entity.body, "/metadata/title").unwrap_or_else(|| reference.name.clone());
            Some((reference.key(), title))
        })
        .collect();
    let (source, base) = if from.is_empty() {
        (STARTER.to_owned(), String::new())
    } else {
        let (entity, spec) = portal
            .templates()
            .template(from)
            .await
            .map_err(template_error)?;
        (editable(entity.body), spec.reference)
    };
    let loaded = draft(portal, principal, &source, &base)?;
    Ok(Editor {
        choices,
        source,
        base,
        form: loaded.get("form").cloned(),
        problems: loaded["problems"].clone(),
    })
}

/// A catalog template as its author would write it: without what the catalog adds.
fn editable(mut body: Value) -> String {
    if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.retain(|key, _| !key.starts_with("backstage.io/managed-by-"));
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    to_yaml(&body)
}

/// The editor's text when it starts from nothing: a template that runs as it is, to
/// change.
const STARTER: &str = include_str!("starter-template.yaml");

pub async fn cancel(portal: &Portal, principal: &Principal, id: &str) -> Result<(), AppError> {
    portal
        .templates()
        .cancel(id, &principal.actor())
        .await
        .map_err(template_error)?;
    audit(portal, principal, "template.cancel", id, json!({})).await;
    Ok(())
}

/// Records what was done, as the scaffolder API records it; failing to is logged.
async fn audit(
    portal: &Portal,
    principal: &Principal,
    action: &'static str,
    target: &str,
    detail: Value,
) {
    let entry = NewAudit {
        actor: principal.actor(),
        action,
        target: target.to_owned(),
        outcome: Outcome::Ok,
        detail,
    };
    if let Err(e) = portal.identity().audit(entry).await {
        tracing::error!(
            error = &e as &dyn std::error::Error,
            "writing the audit log"
        );
    }
}

pub async fn run(portal: &Portal, id: &str, after: i64) -> Result<Option<RunView>, AppError> {
    let templates = portal.templates();
    let task = match templates.task(id).await {
        Ok(task) => task,
        Err(TemplateError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(template_error(e)),
    };
    let step_name = |id: &str| {
        task.steps
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| id.to_owned(), |s| s.name.clone())
    };
    let mut lines = Vec::new();
    let mut last_event = after.max(0);
    loop {
        let events = templates
            .task_events(id, last_event)
            .await
            .map_err(template_error)?;
        let full = events.len() >= LOG_PAGE;
        if let Some(last) = events.last() {
            last_event = last.id;
        }
        lines.extend(events.into_iter().map(|e| {
            let step = e.body["stepId"].as_str().map(str::to_owned);
            render::Line {
                // `2026-11-22T14:05:09.123Z` → `14:05:09`.
                time: e.created_at.get(11..19).unwrap_or_default().to_owned(),
                step_name: step.as_deref().map(step_name),
                step,
                message: e.body["message"].as_str().unwrap_or_default().to_owned(),
                kind: e.event_type,
            }
        }));
        if !full {
            break;
        }
    }
    Ok(Some(view_of(&task, lines, last_event)))
}

fn view_of(task: &Task, lines: Vec<render::Line>, last_event: i64) -> RunView {
    let now = now_millis();
    let template = EntityRef::parse(&task.template_ref, RefContext::STANDALONE).ok();
    let started_by = task
        .created_by
        .strip_prefix("user:")
        .unwrap_or(&task.created_by)
        .to_owned();
    let started_by_page = task
        .user_ref
        .as_deref()
        .and_then(|r| EntityRef::parse(r, RefContext::STANDALONE).ok())
        .map(|r| entity_href(&r.kind, &r.namespace, &r.name));
    let status = task.status.as_str();
    let header = render::header(render::Header {
        now,
        title: &task.spec.title,
        status,
        started_by: (started_by, started_by_page),
        created_at: task.created_at,
        started_at: task.started_at,
        finished_at: task.finished_at,
        again: template
            .as_ref()
            .filter(|_| task.status.is_finished())
            .map(|t| format!("{}?from={}", wizard_href(t), task.id)),
    });
    let steps = task
        .steps
        .iter()
        .map(|s| render::Step {
            id: s.id.clone(),
            name: s.name.clone(),
            action: s.action.clone(),
            status: serde_json::to_value(s.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            started_at: s.started_at,
            ended_at: s.ended_at,
        })
        .collect();
    let (links, texts) = output(&task.output);
    RunView {
        title: task.spec.title.clone(),
        status: status.to_owned(),
        cancel_requested: task.cancel_requested_at.is_some(),
        header,
        outcome: render::outcome(status, task.error.clone(), links, texts),
        steps: render::steps(now, steps),
        log: render::log(lines),
        last_event,
        now,
    }
}

/// A run's `output`: `links` (each with a `url` or an `entityRef`) and `text`.
fn output(output: &Value) -> (Vec<render::Link>, Vec<render::Text>) {
    let links = output["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|link| {
                    let title = text(link, "/title");
                    if let Some(url) = text(link, "/url") {
                        let openable = url.starts_with("https://")
                            || url.starts_with("http://")
                            || url.starts_with('/');
                        return Some(render::Link {
                            title: title.unwrap_or_else(|| url.clone()),
                            href: url,
                            entity: false,
                            openable,
                        });
                    }
                    let written = text(link, "/entityRef")?;
                    let reference = EntityRef::parse(&written, RefContext::STANDALONE).ok()?;
                    Some(render::Link {
                        title: title.unwrap_or_else(|| reference.name.clone()),
                        href: entity_href(&reference.kind, &reference.namespace, &reference.name),
                        entity: true,
                        openable: true,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let texts = output["text"]
        .as_array()
        .map(|texts| {
            texts
                .iter()
                .filter_map(|item| {
                    let content = match item.get("content")? {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Some(render::Text {
                        title: text(item, "/title"),
                        content,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    (links, texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_again_asks_for_its_secrets_again() {
        let pages = [
            serde_json::json!({"properties": {"name": {"type": "string"}, "token": {"type": "string", "ui:field": "Secret"}}}),
            serde_json::json!({"properties": {"password": {"type": "string", "ui:widget": "password"}}}),
        ];
        let values =
            serde_json::json!({"name": "svc", "token": "t0k", "password": "p", "extra": 1});
        let Value::Object(values) = values else {
            unreachable!()
        };
        let kept = without_secrets(&pages, values);
        assert_eq!(
            Value::Object(kept),
            serde_json::json!({"name": "svc", "extra": 1})
        );
    }

    #[test]
    fn pickers_turn_their_options_into_catalog_filters() {
        let owner = PickerQuery {
            owner: true,
            options: Value::Null,
            text: String::new(),
        };
        let filter = picker_filter(&owner);
        assert_eq!(filter.any_of.len(), 1);
        assert_eq!(filter.any_of[0][0].values, ["group", "user"]);
        let groups = PickerQuery {
            owner: true,
            options: json!({"catalogFilter": {"kind": "Group", "spec.type": ["team", "org"]}}),
            text: String::new(),
        };
        let filter = picker_filter(&groups);
        assert_eq!(filter.any_of[0].len(), 2);
        assert_eq!(filter.any_of[0][1].values, ["team", "org"]);
        let systems = PickerQuery {
            owner: false,
            options: json!({"allowedKinds": ["System", "Domain"]}),
            text: String::new(),
        };
        assert_eq!(
            picker_filter(&systems).any_of[0][0].values,
            ["system", "domain"]
        );
        let anything = PickerQuery {
            owner: false,
            options: json!({}),
            text: String::new(),
        };
        assert!(picker_filter(&anything).any_of.is_empty());
    }

    #[test]
    fn outputs_become_links_and_texts() {
        let (links, texts) = output(&json!({
            "links": [
                {"title": "Repository", "url": "file:///srv/git/a/b.git"},
                {"title": "Pull request", "url": "https://git.example.test/a/b/pull/1"},
                {"title": "Open in catalog", "entityRef": "component:default/b"},
                {"entityRef": "not a ref"}
            ],
            "text": [{"title": "Clone it", "content": "```\ngit clone x\n```"}]
        }));
        assert_eq!(links.len(), 3);
        assert!(!links[0].openable);
        assert!(links[1].openable);
        assert_eq!(links[2].href, "/catalog/default/component/b");
        assert!(links[2].entity);
        assert_eq!(texts[0].title.as_deref(), Some("Clone it"));
    }

    #[test]
    fn the_editor_starts_from_a_template_that_reads_and_catalog_ones_lose_catalog_marks() {
        let body = read_template(STARTER).expect("the starter template reads");
        let spec = TemplateSpec::from_entity(&body).unwrap();
        assert_eq!(spec.steps.len(), 2);
        let stored = json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {"name": "t", "annotations": {
                "backstage.io/managed-by-location": "file:/srv/t.yaml",
                "backstage.io/managed-by-origin-location": "file:/srv/t.yaml"}},
            "spec": {"type": "service", "steps": []}
        });
        let text = editable(stored.clone());
        assert!(!text.contains("managed-by"), "{text}");
        assert!(!text.contains("annotations"), "{text}");
        let mut kept = stored;
        kept["metadata"]["annotations"]["github.com/project-slug"] = json!("o/r");
        assert!(editable(kept).contains("github.com/project-slug: o/r"));
    }
}
