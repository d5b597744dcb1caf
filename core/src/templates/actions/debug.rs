//! `debug:log` and `debug:wait`.

use std::time::Duration;

use serde_json::{json, Value};

use super::{object, text, ActionContext, ActionError, ActionInfo, ActionSchema};

/// Backstage's limit: a template cannot park a worker for longer.
const MAX_WAIT: Duration = Duration::from_secs(10 * 60);

pub fn log_info() -> ActionInfo {
    ActionInfo {
        id: "debug:log",
        description: "Writes a message to the task log, and optionally lists the workspace.",
        schema: ActionSchema {
            input: object(
                &[],
                json!({
                    "message": {"type": "string"},
                    "listWorkspace": {"type": ["boolean", "string"],
                        "description": "true or \"with-filenames\": the files; \"with-contents\": their contents too."}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub fn wait_info() -> ActionInfo {
    ActionInfo {
        id: "debug:wait",
        description: "Waits for a while (at most 10 minutes); a cancelled task stops waiting.",
        schema: ActionSchema {
            input: object(
                &[],
                json!({
                    "minutes": {"type": "number", "minimum": 0},
                    "seconds": {"type": "number", "minimum": 0},
                    "milliseconds": {"type": "number", "minimum": 0}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub async fn log(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    if let Some(message) = text(input, "message") {
        ctx.log(message);
    }
    let listing = match input.get("listWorkspace") {
        Some(Value::Bool(true)) => Some(false),
        Some(Value::String(how)) if how == "with-filenames" => Some(false),
        Some(Value::String(how)) if how == "with-contents" => Some(true),
        _ => None,
    };
    if let Some(with_contents) = listing {
        let root = ctx.workspace.root();
        for file in ctx.workspace.files(root)? {
            if with_contents {
                let contents = std::fs::read(root.join(&file))
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                ctx.log(format!("{file}:\n{contents}"));
            } else {
                ctx.log(file);
            }
        }
    }
    Ok(json!({}))
}

pub async fn wait(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let number = |key: &str| input.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let millis = number("minutes") * 60_000.0 + number("seconds") * 1000.0 + number("milliseconds");
    let wait = Duration::from_millis(millis.max(0.0) as u64);
    if wait > MAX_WAIT {
        return Err(ActionError::new(format!(
            "waiting {} s is more than the limit of {} s",
            wait.as_secs(),
            MAX_WAIT.as_secs()
        )));
    }
    ctx.log(format!("waiting {} ms", wait.as_millis()));
    let mut cancelled = ctx.cancelled.clone();
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(json!({})),
        _ = cancelled.wait_for(|c| *c) => Err(ActionError::new("cancelled while waiting")),
    }
}
