//! `catalog:register`, `catalog:fetch` and `catalog:write`.

use serde_json::{json, Value};

use super::{flag, object, text, ActionContext, ActionError, ActionInfo, ActionSchema};
use crate::catalog::document::{entities_in, to_yaml};
use crate::catalog::locations::LocationError;
use crate::catalog::reference::RefContext;
use crate::catalog::EntityRef;

const DEFAULT_CATALOG_FILE: &str = "/catalog-info.yaml";

pub fn register_info() -> ActionInfo {
    ActionInfo {
        id: "catalog:register",
        description: "Registers a catalog file as a location and reads it at once: its \
                      entities are in the catalog when the step ends.",
        schema: ActionSchema {
            input: object(
                &[],
                json!({
                    "catalogInfoUrl": {"type": "string", "description": "The catalog file's URL."},
                    "repoContentsUrl": {"type": "string", "description": "A repository's contents URL (publish's repoContentsUrl)."},
                    "catalogInfoPath": {"type": "string", "default": DEFAULT_CATALOG_FILE, "description": "The catalog file within repoContentsUrl."},
                    "optional": {"type": "boolean", "description": "Carry on when it cannot be registered."}
                }),
            ),
            output: object(
                &["catalogInfoUrl"],
                json!({
                    "entityRef": {"type": "string"},
                    "catalogInfoUrl": {"type": "string"}
                }),
            ),
        },
        supports_dry_run: false,
    }
}

pub fn fetch_info() -> ActionInfo {
    ActionInfo {
        id: "catalog:fetch",
        description: "Reads entities from the catalog.",
        schema: ActionSchema {
            input: object(
                &[],
                json!({
                    "entityRef": {"type": "string"},
                    "entityRefs": {"type": "array", "items": {"type": "string"}},
                    "optional": {"type": "boolean", "description": "A missing entity gives null instead of failing."},
                    "defaultKind": {"type": "string"},
                    "defaultNamespace": {"type": "string"}
                }),
            ),
            output: object(
                &[],
                json!({
                    "entity": {"type": "object"},
                    "entities": {"type": "array", "items": {"type": ["object", "null"]}}
                }),
            ),
        },
        supports_dry_run: true,
    }
}

pub fn write_info() -> ActionInfo {
    ActionInfo {
        id: "catalog:write",
        description: "Writes an entity as a catalog YAML file in the workspace.",
        schema: ActionSchema {
            input: object(
                &["entity"],
                json!({
                    "filePath": {"type": "string", "default": "catalog-info.yaml"},
                    "entity": {"type": "object"}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub async fn register(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let (url, path) = match (
        text(input, "catalogInfoUrl"),
        text(input, "repoContentsUrl"),
    ) {
        (Some(url), _) => (url.to_owned(), None),
        (None, Some(contents)) => {
            let path = text(input, "catalogInfoPath").unwrap_or(DEFAULT_CATALOG_FILE);
            let path = format!("/{}", path.trim_start_matches('/'));
            (
                format!("{}{path}", contents.trim_end_matches('/')),
                Some(path),
            )
        }
        (None, None) => {
            return Err(ActionError::new(
                "input: give catalogInfoUrl, or repoContentsUrl (and catalogInfoPath)",
            ))
        }
    };
    if ctx.dry_run {
        return register_dry_run(ctx, &url, path.as_deref());
    }
    let optional = flag(input, "optional");
    let catalog = &ctx.services.catalog;
    match catalog.add_location("url", &url, false).await {
        Ok((_, read, summary)) => {
            let summary = summary.unwrap_or_default();
            ctx.log(format!(
                "registered {url}: {} added, {} updated, {} unchanged",
                summary.added, summary.updated, summary.unchanged
            ));
            for problem in &summary.rejected {
                ctx.log(format!("rejected: {problem}"));
            }
            let entities: Vec<Value> = read
                .entities
                .iter()
                .map(|e| e.entity.as_map().clone().into())
                .collect();
            Ok(with_entity_ref(&entities, url))
        }
        Err(e) if optional => {
            ctx.log(format!(
                "{url} was not registered ({e}); optional, carrying on"
            ));
            Ok(json!({ "catalogInfoUrl": url }))
        }
        Err(LocationError::Catalog(e)) => {
            tracing::error!(error = %e, url, "catalog:register failed");
            Err(ActionError::new(format!(
                "{url} could not be registered: the catalog is unavailable"
            )))
        }
        Err(e) => Err(ActionError::new(format!(
            "{url} could not be registered: {e}"
        ))),
    }
}

/// A dry run registers nothing: the catalog file is read from the workspace, where the
/// steps before put it, and checked.
fn register_dry_run(
    ctx: &ActionContext<'_>,
    url: &str,
    path: Option<&str>,
) -> Result<Value, ActionError> {
    let Some(path) = path else {
        ctx.log(format!("dry run: would register {url}"));
        return Ok(json!({ "catalogInfoUrl": url }));
    };
    let file = ctx.workspace.resolve(path.trim_start_matches('/'))?;
    let text = std::fs::read_to_string(&file).map_err(|_| {
        ActionError::new(format!(
            "dry run: {path} is not in the workspace, so {url} would have nothing to register"
        ))
    })?;
    let contents = entities_in(path, &text);
    if let Some(problem) = contents.problems.first() {
        return Err(ActionError::new(format!("{problem}")));
    }
    ctx.log(format!(
        "dry run: would register {url} ({} entities)",
        contents.entities.len()
    ));
    let entities: Vec<Value> = contents
        .entities
        .iter()
        .map(|e| e.entity.as_map().clone().into())
        .collect();
    Ok(with_entity_ref(&entities, url.to_owned()))
}

/// Backstage's choice of the entity a template created: the first that is not a
/// `Location`, else the first.
fn with_entity_ref(entities: &[Value], url: String) -> Value {
    let reference = entities
        .iter()
        .find(|e| {
            !e["kind"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case("location")
        })
        .or(entities.first())
        .and_then(|e| {
            Some(
                EntityRef::new(
                    e["kind"].as_str()?,
                    e["metadata"]["namespace"].as_str().unwrap_or("default"),
                    e["metadata"]["name"].as_str()?,
                )
                .key(),
            )
        });
    match reference {
        Some(reference) => json!({ "entityRef": reference, "catalogInfoUrl": url }),
        None => json!({ "catalogInfoUrl": url }),
    }
}

pub async fn fetch(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let context = RefContext {
        default_kind: text(input, "defaultKind"),
        default_namespace: text(input, "defaultNamespace").unwrap_or("default"),
    };
    let optional = flag(input, "optional");
    let parse = |written: &str| {
        EntityRef::parse(written, context).map_err(|e| {
            ActionError::new(format!("{written:?} is not a valid entity reference: {e}"))
        })
    };
    let lookup = |reference: EntityRef| async move {
        let found = ctx.services.catalog.entity(&reference).await.map_err(|e| {
            tracing::error!(error = %e, "catalog:fetch failed");
            ActionError::new("the catalog is unavailable")
        })?;
        match found {
            Some(entity) => Ok(entity.body),
            None if optional => Ok(Value::Null),
            None => Err(ActionError::new(format!(
                "{reference} is not in the catalog"
            ))),
        }
    };
    let mut output = json!({});
    if let Some(written) = text(input, "entityRef") {
        output["entity"] = lookup(parse(written)?).await?;
    }
    if let Some(list) = input.get("entityRefs").and_then(Value::as_array) {
        let mut entities = Vec::new();
        for written in list.iter().filter_map(Value::as_str) {
            entities.push(lookup(parse(written)?).await?);
        }
        output["entities"] = Value::Array(entities);
    }
    if output.as_object().is_some_and(|o| o.is_empty()) {
        return Err(ActionError::new("input: give entityRef or entityRefs"));
    }
    Ok(output)
}

pub async fn write(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let path = text(input, "filePath").unwrap_or("catalog-info.yaml");
    let yaml = to_yaml(&input["entity"]);
    ctx.workspace.write_file(path, yaml.as_bytes())?;
    ctx.log(format!("wrote {path}"));
    Ok(json!({}))
}
