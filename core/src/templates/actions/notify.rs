//! `notification:send`: an in-app notification, stored for each recipient and pushed to
//! the `user:<id>` topic of everyone signed in as that recipient.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{flag, object, text, ActionContext, ActionError, ActionInfo, ActionSchema};
use crate::notifications::{recipients, NewNotification, NotificationError, SEVERITIES};

pub fn send_info() -> ActionInfo {
    ActionInfo {
        id: "notification:send",
        description: "Sends an in-app notification to users, the members of groups, or everyone.",
        schema: ActionSchema {
            input: object(
                &["recipients", "title"],
                json!({
                    "recipients": {"type": "string", "enum": ["broadcast", "entity"]},
                    "entityRefs": {"type": "array", "items": {"type": "string"},
                        "description": "Users, or groups whose members are notified (with recipients: entity)."},
                    "title": {"type": "string"},
                    "info": {"type": "string"},
                    "link": {"type": "string"},
                    "severity": {"type": "string", "enum": SEVERITIES, "default": "normal"},
                    "optional": {"type": "boolean", "description": "Carry on when it cannot be sent."}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: false,
    }
}

pub async fn send(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let result = deliver(ctx, input).await;
    match result {
        Err(e) if flag(input, "optional") => {
            ctx.log(format!(
                "notification not sent ({e}); optional, carrying on"
            ));
            Ok(json!({}))
        }
        other => other,
    }
}

async fn deliver(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let title = text(input, "title").unwrap_or_default();
    if ctx.dry_run {
        ctx.log(format!("dry run: would send the notification {title:?}"));
        return Ok(json!({}));
    }
    let notifications = &ctx.services.notifications;
    let recipients = recipients(ctx, input).await?;
    let notification = NewNotification {
        title: title.to_owned(),
        description: text(input, "info").map(str::to_owned),
        link: text(input, "link").map(str::to_owned),
        severity: SEVERITIES
            .iter()
            .find(|s| Some(**s) == text(input, "severity"))
            .unwrap_or(&"normal"),
        origin: format!("task:{}", ctx.task_id),
    };
    notifications
        .send(&recipients, &notification)
        .await
        .map_err(unavailable)?;
    ctx.log(format!(
        "notified {} recipients: {}",
        recipients.len(),
        recipients.iter().cloned().collect::<Vec<_>>().join(", ")
    ));
    Ok(json!({}))
}

fn unavailable(e: NotificationError) -> ActionError {
    match e {
        NotificationError::Recipient(message) => ActionError::new(format!("entityRefs: {message}")),
        e => {
            tracing::error!(error = %e, "notification:send failed");
            ActionError::new("notifications are unavailable")
        }
    }
}

/// The people (reference keys) a notification goes to: the users named, the members of
/// the groups named, or, for `broadcast`, everyone who signed in.
async fn recipients(
    ctx: &ActionContext<'_>,
    input: &Value,
) -> Result<BTreeSet<String>, ActionError> {
    let out = if text(input, "recipients") == Some("broadcast") {
        let mut conn = ctx
            .services
            .db
            .pool()
            .acquire()
            .await
            .map_err(|e| unavailable(e.into()))?;
        recipients::everyone(&mut conn)
            .await
            .map_err(|e| unavailable(e.into()))?
    } else {
        let written: Vec<String> = input["entityRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r.as_str().unwrap_or_default().to_owned())
            .collect();
        ctx.services
            .notifications
            .people(&written)
            .await
            .map_err(unavailable)?
    };
    if out.is_empty() {
        return Err(ActionError::new("entityRefs: names nobody to notify"));
    }
    Ok(out)
}
