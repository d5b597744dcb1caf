//! `approval:request`: the run asks approvers and waits for them. Approved, the next
//! step runs; rejected, expired or cancelled, the task fails saying who decided and why.
//!
//! The request's id is made from the task, the step and the input, so a run that starts
//! this step again (after a restart) finds the request it made and waits on, rather
//! than asking twice.

use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{object, text, ActionContext, ActionError, ActionInfo, ActionSchema};
use crate::approvals::{Approval, ApprovalError, ApprovalStatus, NewApproval, Verdict};

/// How long one wait for a decision lasts before the run looks again (a decision or the
/// request's expiry ends it sooner).
const WAIT_ROUND: Duration = Duration::from_secs(30);

pub fn request_info() -> ActionInfo {
    ActionInfo {
        id: "approval:request",
        description: "Asks approvers (group:default/sre, user:default/ada, role:admin, token:name) to approve before the run goes on, and waits: approved, the next step runs; rejected, expired or cancelled, the task fails with who decided and why.",
        schema: ActionSchema {
            input: object(
                &["approvers"],
                json!({
                    "title": {"type": "string", "maxLength": 200},
                    "description": {"type": "string"},
                    "approvers": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "minApprovals": {"type": "integer", "minimum": 1},
                    "expiresIn": {"type": "string"},
                    "context": {"type": "object"}
                }),
            ),
            output: object(
                &[],
                json!({
                    "approvalId": {"type": "string"},
                    "status": {"type": "string"},
                    "approvedBy": {"type": "array", "items": {"type": "string"}}
                }),
            ),
        },
        supports_dry_run: false,
    }
}

/// The id of the request a step makes: the same for the same task, step and input.
pub fn request_id(task_id: &str, step_id: &str, input: &Value) -> String {
    let digest = Sha256::digest(format!("{task_id}\n{step_id}\n{input}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

pub async fn request(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let approvers: Vec<String> = input["approvers"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let title = text(input, "title")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Approve the run of task {}", ctx.task_id));
    if ctx.dry_run {
        ctx.log(format!(
            "dry run: would ask {} to approve {title:?}, and wait",
            approvers.join(", ")
        ));
        return Ok(json!({"status": "approved", "approvedBy": []}));
    }
    let approvals = &ctx.services.approvals;
    let id = request_id(ctx.task_id, ctx.step_id, input);
    let approval = match approvals.get(&id).await {
        Ok(found) => {
            ctx.log(format!("waiting again for approval request {id}"));
            found
        }
        Err(ApprovalError::NotFound(_)) => {
            let new = NewApproval {
                title,
                description: text(input, "description").unwrap_or_default().to_owned(),
                approvers,
                min_approvals: input["minApprovals"]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok()),
                expires_in: input.get("expiresIn").cloned(),
                subject: Some(json!({"kind": "task", "task_id": ctx.task_id, "step": ctx.step_id})),
                context: Some(match input.get("context") {
                    Some(Value::Object(given)) => {
                        let mut context = given.clone();
                        context.insert("task".into(), json!(ctx.task_id));
                        Value::Object(context)
                    }
                    _ => json!({"task": ctx.task_id, "step": ctx.step_id}),
                }),
                callback_url: None,
            };
            let asked = approvals
                .request_as(&id, &ctx.user.actor, new)
                .await
                .map_err(|e| {
                    ActionError::new(format!("the approval could not be requested: {e}"))
                })?;
            ctx.log(format!(
                "waiting for approval by {} (/approvals/{id})",
                asked.approvers.join(", ")
            ));
            asked
        }
        Err(e) => {
            return Err(ActionError::new(format!(
                "the approval request could not be read: {e}"
            )))
        }
    };
    let settled = wait(ctx, approval).await?;
    match settled.status {
        ApprovalStatus::Approved => {
            let approved_by: Vec<String> = settled
                .decisions
                .iter()
                .filter(|d| d.decision == Verdict::Approve)
                .map(|d| d.by.clone())
                .collect();
            ctx.log(format!("approved by {}", approved_by.join(", ")));
            Ok(json!({"approvalId": settled.id, "status": "approved", "approvedBy": approved_by}))
        }
        _ => Err(ActionError::new(refusal(&settled))),
    }
}

/// Waits until the request is settled, or the task is cancelled (which withdraws it).
async fn wait(ctx: &ActionContext<'_>, mut approval: Approval) -> Result<Approval, ActionError> {
    let approvals = &ctx.services.approvals;
    let mut cancelled = ctx.cancelled.clone();
    while !approval.status.is_decided() {
        tokio::select! {
            read = approvals.wait(&approval.id, WAIT_ROUND) => {
                approval = read.map_err(|e| ActionError::new(format!("the approval request could not be read: {e}")))?;
            }
            () = async { let _ = cancelled.wait_for(|c| *c).await; } => {
                if let Err(e) = approvals.withdraw(&approval.id, &ctx.user.actor, "the task was cancelled").await {
                    tracing::warn!(approval = %approval.id, error = %e, "the approval request of a cancelled task was not withdrawn");
                }
                return Err(ActionError::new("cancelled while waiting for approval"));
            }
        }
    }
    Ok(approval)
}

/// Why a settled request lets the run go no further, for the task's error.
fn refusal(approval: &Approval) -> String {
    match approval.status {
        ApprovalStatus::Rejected => {
            let rejection = approval
                .decisions
                .iter()
                .find(|d| d.decision == Verdict::Reject);
            match rejection {
                Some(d) => format!(
                    "rejected by {}: {}",
                    d.by,
                    d.comment.as_deref().unwrap_or("no reason given")
                ),
                None => "rejected".to_owned(),
            }
        }
        ApprovalStatus::Expired => format!(
            "the approval request expired with {} of {} approvals",
            approval.approvals(),
            approval.min_approvals
        ),
        ApprovalStatus::Cancelled => "the approval request was cancelled".to_owned(),
        ApprovalStatus::Pending | ApprovalStatus::Approved => "not approved".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_asks_with_the_same_id_each_time_it_runs() {
        let input = json!({"approvers": ["role:admin"]});
        let id = request_id("task-1", "approve", &input);
        assert_eq!(id, request_id("task-1", "approve", &input));
        assert_ne!(id, request_id("task-2", "approve", &input));
        assert_ne!(
            id,
            request_id("task-1", "approve", &json!({"approvers": ["role:sre"]}))
        );
        assert_eq!(id.len(), 36);
    }
}
