//! `fs:delete` and `fs:rename`, inside the workspace only.

use serde_json::{json, Value};

use super::{glob, object, ActionContext, ActionError, ActionInfo, ActionSchema};

pub fn delete_info() -> ActionInfo {
    ActionInfo {
        id: "fs:delete",
        description: "Deletes files (or globs of them) from the workspace.",
        schema: ActionSchema {
            input: object(
                &["files"],
                json!({"files": {"type": "array", "items": {"type": "string"},
                       "description": "Paths or globs, relative to the workspace."}}),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub fn rename_info() -> ActionInfo {
    ActionInfo {
        id: "fs:rename",
        description: "Moves files within the workspace.",
        schema: ActionSchema {
            input: object(
                &["files"],
                json!({"files": {"type": "array", "items": {
                "type": "object", "required": ["from", "to"],
                "properties": {
                    "from": {"type": "string"},
                    "to": {"type": "string"},
                    "overwrite": {"type": "boolean"}
                }}}}),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub async fn delete(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let patterns: Vec<&str> = input["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let all = ctx.workspace.files(ctx.workspace.root())?;
    let mut deleted = 0;
    for pattern in patterns {
        if pattern.contains(['*', '?']) {
            // Refuse a pattern that tries to leave the workspace even though it would
            // match nothing: it is a mistake worth hearing about.
            ctx.workspace.resolve(&pattern.replace(['*', '?'], "x"))?;
            for file in all.iter().filter(|f| glob::matches(pattern, f)) {
                remove(&ctx.workspace.resolve(file)?)?;
                deleted += 1;
            }
        } else {
            let path = ctx.workspace.resolve(pattern)?;
            if path.exists() {
                remove(&path)?;
                deleted += 1;
            }
        }
    }
    ctx.log(format!("deleted {deleted} files"));
    Ok(json!({}))
}

fn remove(path: &std::path::Path) -> Result<(), ActionError> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    result.map_err(|e| ActionError::new(format!("{}: {e}", path.display())))
}

pub async fn rename(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    for (i, item) in input["files"].as_array().into_iter().flatten().enumerate() {
        let from = item["from"].as_str().unwrap_or_default();
        let to = item["to"].as_str().unwrap_or_default();
        let source = ctx.workspace.resolve(from)?;
        if !source.exists() {
            return Err(ActionError::new(format!(
                "files[{i}].from: {from} is not in the workspace"
            )));
        }
        let target = ctx.workspace.resolve(to)?;
        if target.exists() && !item["overwrite"].as_bool().unwrap_or(false) {
            return Err(ActionError::new(format!(
                "files[{i}].to: {to} exists (set overwrite: true to replace it)"
            )));
        }
        if let Some(parent) = target.parent() {
            // Creating the parent through the workspace checks it for symbolic links.
            let parent = parent
                .strip_prefix(ctx.workspace.root())
                .unwrap_or(parent)
                .to_string_lossy()
                .into_owned();
            std::fs::create_dir_all(ctx.workspace.resolve(&parent)?)
                .map_err(|e| ActionError::new(format!("{to}: {e}")))?;
        }
        std::fs::rename(&source, &target)
            .map_err(|e| ActionError::new(format!("{from} → {to}: {e}")))?;
        ctx.log(format!("moved {from} to {to}"));
    }
    Ok(json!({}))
}
