//! `notification:send`: an in-app notification, stored for each recipient and pushed to
//! the `user:<id>` topic of everyone signed in as that recipient.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use sqlx::Row;

use super::{flag, object, text, ActionContext, ActionError, ActionInfo, ActionSchema};
use crate::catalog::reference::RefContext;
use crate::catalog::EntityRef;
use crate::events::NewEvent;
use crate::storage::sql::now_millis;

const SEVERITIES: &[&str] = &["low", "normal", "high", "critical"];

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
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "notification:send failed");
        ActionError::new("notifications are unavailable")
    };
    let recipients = recipients(ctx, input).await?;
    let db = &ctx.services.db;
    // Everyone signed in as one of the recipients gets it live as well.
    let users = sqlx::query("SELECT id, entity_ref FROM users WHERE entity_ref IS NOT NULL")
        .fetch_all(db.pool())
        .await
        .map_err(|e| unavailable(&e))?;
    let severity = text(input, "severity").unwrap_or("normal");
    let origin = format!("task:{}", ctx.task_id);
    let now = now_millis();
    let mut tx = db.begin_write().await.map_err(|e| unavailable(&e))?;
    let mut events = Vec::new();
    for recipient in &recipients {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO notifications (recipient, title, description, link, severity, origin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(recipient)
        .bind(title)
        .bind(text(input, "info"))
        .bind(text(input, "link"))
        .bind(severity)
        .bind(&origin)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unavailable(&e))?;
        for user in &users {
            let entity: String = user.try_get("entity_ref").unwrap_or_default();
            if entity.eq_ignore_ascii_case(recipient) {
                let id: String = user.try_get("id").unwrap_or_default();
                events.push(NewEvent::new(
                    format!("user:{id}"),
                    "notification.created",
                    json!({
                        "id": seq, "title": title, "description": text(input, "info"),
                        "link": text(input, "link"), "severity": severity, "origin": origin,
                    }),
                ));
            }
        }
    }
    ctx.services
        .events
        .append_all(&mut tx, &events)
        .await
        .map_err(|e| unavailable(&e))?;
    tx.commit().await.map_err(|e| unavailable(&e))?;
    ctx.services.events.committed();
    ctx.log(format!(
        "notified {} recipients: {}",
        recipients.len(),
        recipients.iter().cloned().collect::<Vec<_>>().join(", ")
    ));
    Ok(json!({}))
}

/// The users (reference keys) a notification goes to: the users named, the members of
/// the groups named, or, for `broadcast`, everyone who signed in.
async fn recipients(
    ctx: &ActionContext<'_>,
    input: &Value,
) -> Result<BTreeSet<String>, ActionError> {
    let mut out = BTreeSet::new();
    if text(input, "recipients") == Some("broadcast") {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT entity_ref FROM users WHERE entity_ref IS NOT NULL")
                .fetch_all(ctx.services.db.pool())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "notification:send failed");
                    ActionError::new("notifications are unavailable")
                })?;
        out.extend(rows.into_iter().map(|r| r.to_ascii_lowercase()));
        return Ok(out);
    }
    let context = RefContext {
        default_kind: Some("user"),
        default_namespace: "default",
    };
    for written in input["entityRefs"].as_array().into_iter().flatten() {
        let written = written.as_str().unwrap_or_default();
        let reference = EntityRef::parse(written, context).map_err(|e| {
            ActionError::new(format!(
                "entityRefs: {written:?} is not a valid entity reference: {e}"
            ))
        })?;
        if reference.kind.eq_ignore_ascii_case("user") {
            out.insert(reference.key());
            continue;
        }
        let entity = ctx.services.catalog.entity(&reference).await.map_err(|e| {
            tracing::error!(error = %e, "notification:send failed");
            ActionError::new("the catalog is unavailable")
        })?;
        let Some(entity) = entity else {
            return Err(ActionError::new(format!(
                "entityRefs: {reference} is not in the catalog"
            )));
        };
        out.extend(
            entity
                .relations
                .iter()
                .filter(|(kind, _)| kind == "hasMember")
                .map(|(_, member)| member.clone()),
        );
    }
    if out.is_empty() {
        return Err(ActionError::new("entityRefs: names nobody to notify"));
    }
    Ok(out)
}
