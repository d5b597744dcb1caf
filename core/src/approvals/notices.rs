//! Telling people: the approvers when a request arrives (in the app, and on the webhook
//! of each approver that has one), the requester as it is decided.
//!
//! Everything is written in the transaction that changes the request: the in-app
//! notifications with their live pushes, and the webhook calls, which the callback
//! worker delivers afterwards. Nothing here waits for a receiver, and a group the
//! catalog does not know only means nobody is notified through it.

use std::collections::BTreeSet;

use serde_json::Value;
use sqlx::AnyConnection;

use super::model::{Approval, ApprovalStatus, Approver};
use super::{callbacks, webhooks, ApprovalError, Approvals};
use crate::events::NewEvent;
use crate::notifications::{recipients, NewNotification, NotificationError};

impl Approvals {
    /// The people (recipient keys) the catalog says the user and group approvers are,
    /// read before the request's transaction begins.
    pub(super) async fn approver_people(&self, approvers: &[String]) -> BTreeSet<String> {
        let mut people = BTreeSet::new();
        for written in approvers {
            let Ok(Approver::Entity(key)) = Approver::parse(written) else {
                continue;
            };
            match self.notifications.people(std::slice::from_ref(&key)).await {
                Ok(found) => people.extend(found),
                Err(NotificationError::Recipient(why)) => {
                    tracing::warn!(approver = %key, %why, "an approver nobody can be notified as");
                }
                Err(e) => {
                    tracing::error!(error = %e, approver = %key, "reading who an approver is")
                }
            }
        }
        people
    }

    /// Announces a new request to its approvers: `people` (from [`Self::approver_people`]),
    /// everyone with a role it names, and the webhooks of its approvers. Returns the
    /// live pushes to append.
    pub(super) async fn notify_requested(
        &self,
        conn: &mut AnyConnection,
        approval: &Approval,
        mut people: BTreeSet<String>,
    ) -> Result<Vec<NewEvent>, ApprovalError> {
        for written in &approval.approvers {
            if let Ok(Approver::Role(role)) = Approver::parse(written) {
                people.extend(recipients::with_role(conn, role).await?);
            }
        }
        // Four eyes: whoever asked cannot decide, so is not asked.
        for requester in recipients::behind_actor(conn, &approval.requested_by).await? {
            people.remove(&requester.key);
        }
        let notification = NewNotification {
            title: format!("Approval requested: {}", approval.title),
            description: Some(format!(
                "{} asks for {} of {}.",
                approval.requested_by,
                plural(approval.min_approvals, "approval"),
                approval.approvers.join(", ")
            )),
            link: Some(path(approval)),
            severity: "high",
            origin: format!("approval:{}", approval.id),
        };
        let events = self
            .notifications
            .store(conn, &people, &notification)
            .await
            .map_err(storage)?;
        self.post_to_webhooks(conn, approval, "approval.requested")
            .await?;
        Ok(events)
    }

    /// Tells the requester about a change of their request (`event`: decided, expired,
    /// cancelled), by `actor`: live on their `user:<id>` topic at every decision, with a
    /// notification once it is settled, unless they settled it themselves. A settled
    /// request is posted to its approvers' webhooks too.
    pub(super) async fn notify_changed(
        &self,
        conn: &mut AnyConnection,
        approval: &Approval,
        event: &str,
        actor: &str,
        payload: &Value,
    ) -> Result<Vec<NewEvent>, ApprovalError> {
        let requester = recipients::behind_actor(conn, &approval.requested_by).await?;
        let mut events: Vec<NewEvent> = requester
            .iter()
            .map(|person| NewEvent::new(format!("user:{}", person.id), event, payload.clone()))
            .collect();
        if !approval.status.is_decided() {
            return Ok(events);
        }
        self.post_to_webhooks(conn, approval, event).await?;
        if actor == approval.requested_by {
            return Ok(events);
        }
        let last = approval.decisions.last();
        let (title, description, severity) = match (approval.status, last) {
            (ApprovalStatus::Approved, Some(d)) => (
                format!("Approved: {}", approval.title),
                said(&d.by, d.comment.as_deref()),
                "normal",
            ),
            (ApprovalStatus::Rejected, Some(d)) => (
                format!("Rejected: {}", approval.title),
                said(&d.by, d.comment.as_deref()),
                "high",
            ),
            (ApprovalStatus::Expired, _) => (
                format!("Expired: {}", approval.title),
                "Nobody decided it in time.".to_owned(),
                "high",
            ),
            (status, _) => (
                format!("{}: {}", capitalized(status.as_str()), approval.title),
                format!("By {actor}."),
                "normal",
            ),
        };
        let notification = NewNotification {
            title,
            description: Some(description),
            link: Some(path(approval)),
            severity,
            origin: format!("approval:{}", approval.id),
        };
        let people: BTreeSet<String> = requester.into_iter().map(|p| p.key).collect();
        events.extend(
            self.notifications
                .store(conn, &people, &notification)
                .await
                .map_err(storage)?,
        );
        Ok(events)
    }

    async fn post_to_webhooks(
        &self,
        conn: &mut AnyConnection,
        approval: &Approval,
        event: &str,
    ) -> Result<(), ApprovalError> {
        let link = self
            .settings
            .public_url
            .as_deref()
            .map(|base| format!("{}{}", base.trim_end_matches('/'), path(approval)));
        let targets = webhooks::targets(&self.settings.webhooks, approval);
        if targets.is_empty() {
            return Ok(());
        }
        let body = webhooks::message(approval, event, link.as_deref()).to_string();
        for url in targets {
            callbacks::enqueue_call(conn, &approval.id, url, event, &body).await?;
        }
        Ok(())
    }
}

/// Where a request is shown in the portal.
fn path(approval: &Approval) -> String {
    format!("/approvals/{}", approval.id)
}

fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn said(by: &str, comment: Option<&str>) -> String {
    match comment {
        Some(comment) => format!("By {by}: “{comment}”"),
        None => format!("By {by}."),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Notifications fail here only on the database, as the request itself would.
fn storage(e: NotificationError) -> ApprovalError {
    match e {
        NotificationError::Storage(e) => ApprovalError::Storage(e),
        NotificationError::Event(e) => ApprovalError::Event(e),
        other => ApprovalError::Corrupt(other.to_string()),
    }
}
