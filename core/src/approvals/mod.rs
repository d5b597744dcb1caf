//! Approvals: "not without me" before a production environment is created from a
//! template or a release goes out.
//!
//! - [`model`]: requests, approvers, decisions, and the checks of a new request.
//! - [`rules`]: who may decide: a listed approver, never the one who asked (four eyes).
//! - [`callbacks`]: signed calls to a request's `callback_url` once it is settled.
//! - [`webhooks`]: chat messages to the approvers' channels, through the same queue.
//! - `notices`: who is told what, in the app and on webhooks, as a request changes.
//! - `store`: the SQL.
//!
//! A request is decided once. Every decision moves the request from one `version` to the
//! next in the transaction that records it, and only from the version it was read at:
//! of two approvers deciding at the same moment, on one instance or two, one moves it
//! and the other is told who did. Each change is appended to the event log on
//! `approvals` in the same transaction (live queues, long-polls on any instance) and
//! written to the audit log with who and why.

pub mod callbacks;
mod error;
pub mod model;
mod notices;
pub mod rules;
mod store;
pub mod webhooks;

use std::time::Duration;

use serde_json::json;

pub use error::ApprovalError;
pub use model::{Approval, ApprovalStatus, Decision, NewApproval, Verdict};
pub use store::ApprovalFilter;
pub use webhooks::Webhook;

use crate::events::{Events, NewEvent};
use crate::identity::{Identity, NewAudit, Outcome, Principal};
use crate::notifications::Notifications;
use crate::storage::sql::now_millis;
use crate::storage::Database;

/// The live topic of every request's changes.
pub const TOPIC: &str = "approvals";

/// What an operator decides about approvals.
#[derive(Clone)]
pub struct ApprovalSettings {
    /// Whether a rejection needs a comment saying why (it does, unless turned off).
    pub reject_needs_comment: bool,
    /// The key callbacks are signed with (HMAC-SHA256); without one, requests with a
    /// `callback_url` are refused.
    pub signing_secret: Option<String>,
    /// The waits between attempts at a callback ([`callbacks::BACKOFF`]).
    pub callback_backoff: Vec<Duration>,
    /// Where to post about requests naming an approver (signed like callbacks).
    pub webhooks: Vec<Webhook>,
    /// The portal's address, for the links in webhook messages.
    pub public_url: Option<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            reject_needs_comment: true,
            signing_secret: None,
            callback_backoff: callbacks::BACKOFF.to_vec(),
            webhooks: Vec::new(),
            public_url: None,
        }
    }
}

impl std::fmt::Debug for ApprovalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalSettings")
            .field("reject_needs_comment", &self.reject_needs_comment)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("callback_backoff", &self.callback_backoff)
            .field("webhooks", &self.webhooks.len())
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// How many times a decision is tried again when another one moved the request first
/// (each try reads the request anew, so it sees that decision).
const DECIDE_TRIES: usize = 5;

/// The most pending requests looked through for those waiting for one person.
const WAITING_LIMIT: i64 = 500;

/// How often a long-poll reads its request again when no event woke it.
const WAIT_RECHECK: Duration = Duration::from_secs(2);

/// The approvals service. Cheap to clone.
#[derive(Clone)]
pub struct Approvals {
    db: Database,
    events: Events,
    identity: Identity,
    notifications: Notifications,
    settings: ApprovalSettings,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals").finish_non_exhaustive()
    }
}

impl Approvals {
    pub fn new(
        db: Database,
        events: Events,
        identity: Identity,
        notifications: Notifications,
        settings: ApprovalSettings,
    ) -> Self {
        Self {
            db,
            events,
            identity,
            notifications,
            settings,
        }
    }

    /// Whether a rejection needs a comment saying why.
    pub fn reject_needs_comment(&self) -> bool {
        self.settings.reject_needs_comment
    }

    /// Stores a new request from `principal`, pending, and announces it.
    pub async fn request(
        &self,
        principal: &Principal,
        new: NewApproval,
    ) -> Result<Approval, ApprovalError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.request_as(&id, &principal.actor(), new).await
    }

    /// Stores a new request with id `id`, asked by `actor` (for a template run, whoever
    /// ran it), pending, and announces it.
    pub async fn request_as(
        &self,
        id: &str,
        actor: &str,
        new: NewApproval,
    ) -> Result<Approval, ApprovalError> {
        let checked = new.check()?;
        if checked.callback_url.is_some() && self.settings.signing_secret.is_none() {
            return Err(ApprovalError::invalid(
                "callback_url",
                "callbacks are signed, and this portal has no signing secret (PORTICO_APPROVAL_SIGNING_SECRET)",
            ));
        }
        let people = self.approver_people(&checked.approvers).await;
        let now = now_millis();
        let mut tx = self.db.begin_write().await?;
        store::insert(
            &mut tx,
            &store::NewRow {
                id,
                checked: &checked,
                requested_by: actor,
                now,
            },
        )
        .await?;
        let approval = store::by_id(&mut tx, id)
            .await?
            .ok_or_else(|| ApprovalError::NotFound(format!("no approval request {id}")))?;
        let mut events = announcement("approval.requested", &approval).to_vec();
        events.extend(self.notify_requested(&mut tx, &approval, people).await?);
        self.events.append_all(&mut tx, &events).await?;
        tx.commit().await?;
        self.events.committed();
        self.audit(
            actor,
            "approval.request",
            &approval,
            Outcome::Ok,
            json!({"title": approval.title, "approvers": approval.approvers,
                   "min_approvals": approval.min_approvals}),
        )
        .await;
        Ok(approval)
    }

    /// Cancels a pending request on behalf of what asked for it (a template run that
    /// was cancelled): nothing happens if it was settled meanwhile.
    pub async fn withdraw(&self, id: &str, actor: &str, reason: &str) -> Result<(), ApprovalError> {
        let approval = self.get(id).await?;
        if approval.status == ApprovalStatus::Pending {
            self.close(
                &approval,
                ApprovalStatus::Cancelled,
                actor,
                json!({"reason": reason}),
            )
            .await?;
        }
        Ok(())
    }

    /// One request with its decisions; one whose time is up is marked expired first.
    pub async fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        let approval = self.read(id).await?;
        if approval.status == ApprovalStatus::Pending && approval.expires_at <= now_millis() {
            self.expire(&approval).await?;
            return self.read(id).await;
        }
        Ok(approval)
    }

    async fn read(&self, id: &str) -> Result<Approval, ApprovalError> {
        let mut conn = self.db.pool().acquire().await?;
        store::by_id(&mut conn, id)
            .await?
            .ok_or_else(|| ApprovalError::NotFound(format!("no approval request {id}")))
    }

    /// Requests newest first, and how many match.
    pub async fn list(
        &self,
        filter: &ApprovalFilter,
    ) -> Result<(Vec<Approval>, i64), ApprovalError> {
        self.expire_due().await?;
        let mut conn = self.db.pool().acquire().await?;
        store::list(&mut conn, filter).await
    }

    /// The pending requests `principal` may decide now (oldest first): what waits for
    /// them.
    pub async fn waiting_for(&self, principal: &Principal) -> Result<Vec<Approval>, ApprovalError> {
        let (pending, _) = self
            .list(&ApprovalFilter {
                status: Some(ApprovalStatus::Pending),
                requested_by: None,
                limit: WAITING_LIMIT,
                offset: 0,
            })
            .await?;
        let mut waiting: Vec<Approval> = pending
            .into_iter()
            .filter(|a| self.may_decide(a, principal).is_ok())
            .collect();
        waiting.reverse();
        Ok(waiting)
    }

    /// How many requests wait for `principal`'s decision: what the header shows on every
    /// page, so it reads no decisions but the principal's own and expires nothing (the
    /// expiry worker does).
    pub async fn waiting_count(&self, principal: &Principal) -> Result<usize, ApprovalError> {
        let actor = principal.actor();
        let mut conn = self.db.pool().acquire().await?;
        let (open, decided) = store::open_requests(&mut conn, &actor, now_millis()).await?;
        Ok(open
            .iter()
            .filter(|a| !decided.contains(&a.id) && rules::refusal(a, principal).is_none())
            .count())
    }

    /// Records `principal`'s decision. Enough approvals approve the request; one
    /// rejection rejects it. Refused (and audited as such) when the principal asked for
    /// it, is not an approver, decided already, or the request is no longer pending.
    pub async fn decide(
        &self,
        id: &str,
        principal: &Principal,
        verdict: Verdict,
        comment: Option<String>,
    ) -> Result<Approval, ApprovalError> {
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if verdict == Verdict::Reject && comment.is_none() && self.settings.reject_needs_comment {
            return Err(ApprovalError::invalid(
                "comment",
                "say why the request is rejected: the requester reads it",
            ));
        }
        if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
            return Err(ApprovalError::invalid(
                "comment",
                "is longer than 5000 characters",
            ));
        }
        let actor = principal.actor();
        for _ in 0..DECIDE_TRIES {
            let approval = self.get(id).await?;
            if let Err(refused) = self.may_decide(&approval, principal) {
                let outcome = match refused {
                    ApprovalError::Forbidden(_) => Outcome::Denied,
                    _ => Outcome::Failed,
                };
                self.audit(
                    &actor,
                    "approval.decide",
                    &approval,
                    outcome,
                    json!({"decision": verdict.as_str(), "refused": refused.to_string()}),
                )
                .await;
                return Err(refused);
            }
            let status = match verdict {
                Verdict::Reject => ApprovalStatus::Rejected,
                Verdict::Approve if approval.approvals() + 1 >= approval.min_approvals as usize => {
                    ApprovalStatus::Approved
                }
                Verdict::Approve => ApprovalStatus::Pending,
            };
            let now = now_millis();
            let mut tx = self.db.begin_write().await?;
            if !store::advance(&mut tx, id, approval.version, status, now).await? {
                // Another decision came first: read it, and decide again.
                tx.rollback().await?;
                continue;
            }
            store::insert_decision(&mut tx, id, &actor, verdict, comment.as_deref(), now).await?;
            let decided = store::by_id(&mut tx, id)
                .await?
                .ok_or_else(|| ApprovalError::NotFound(format!("no approval request {id}")))?;
            let [event, own] = announcement("approval.decided", &decided);
            let told = self
                .notify_changed(
                    &mut tx,
                    &decided,
                    "approval.decided",
                    &actor,
                    &event.payload,
                )
                .await?;
            self.events
                .append_all(&mut tx, &[[event, own].as_slice(), &told].concat())
                .await?;
            if decided.status.is_decided() {
                callbacks::enqueue(&mut tx, &decided, "approval.decided").await?;
            }
            tx.commit().await?;
            self.events.committed();
            self.audit(
                &actor,
                "approval.decide",
                &decided,
                Outcome::Ok,
                json!({"decision": verdict.as_str(), "comment": comment, "status": decided.status.as_str()}),
            )
            .await;
            return Ok(decided);
        }
        Err(ApprovalError::Conflict(format!(
            "approval request {id} is being decided by others right now; read it again"
        )))
    }

    /// Whether `principal` may decide `approval` now, and if not, why.
    pub fn may_decide(
        &self,
        approval: &Approval,
        principal: &Principal,
    ) -> Result<(), ApprovalError> {
        if approval.status.is_decided() {
            return Err(ApprovalError::Conflict(settled(approval)));
        }
        if let Some(why) = rules::refusal(approval, principal) {
            return Err(ApprovalError::Forbidden(why));
        }
        let actor = principal.actor();
        if approval.decisions.iter().any(|d| d.by == actor) {
            return Err(ApprovalError::Conflict(format!(
                "{actor} approved this request already; it needs {} approvals",
                approval.min_approvals
            )));
        }
        Ok(())
    }

    /// Cancels a pending request: its requester or an admin may.
    pub async fn cancel(
        &self,
        id: &str,
        principal: &Principal,
        reason: Option<String>,
    ) -> Result<Approval, ApprovalError> {
        let actor = principal.actor();
        let approval = self.get(id).await?;
        if actor != approval.requested_by && !principal.has(crate::identity::Role::Admin) {
            return Err(ApprovalError::Forbidden(format!(
                "only {} (who asked) or an admin may cancel this request",
                approval.requested_by
            )));
        }
        if approval.status.is_decided() {
            return Err(ApprovalError::Conflict(settled(&approval)));
        }
        self.close(
            &approval,
            ApprovalStatus::Cancelled,
            &actor,
            json!({"reason": reason}),
        )
        .await?
        .ok_or_else(|| {
            ApprovalError::Conflict(format!("approval request {id} was decided meanwhile"))
        })
    }

    /// Marks every pending request whose time is up as expired; how many were.
    pub async fn expire_due(&self) -> Result<usize, ApprovalError> {
        let due = {
            let mut conn = self.db.pool().acquire().await?;
            store::due(&mut conn, now_millis()).await?
        };
        let mut expired = 0;
        for (id, _) in due {
            let approval = self.read(&id).await?;
            if self.expire(&approval).await?.is_some() {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Expires requests as their time comes, checking every `every`: the worker that
    /// wakes the pipelines and queues waiting for them (any instance may run it; each
    /// request is expired once).
    pub async fn expire_as_due(&self, every: Duration) -> Result<(), ApprovalError> {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            let expired = self.expire_due().await?;
            if expired > 0 {
                tracing::info!(expired, "approval requests expired");
            }
        }
    }

    async fn expire(&self, approval: &Approval) -> Result<Option<Approval>, ApprovalError> {
        self.close(approval, ApprovalStatus::Expired, "system", json!({}))
            .await
    }

    /// Moves a pending request to `status` (expired, cancelled) unless a decision moved
    /// it first: then nothing happens (`None`).
    async fn close(
        &self,
        approval: &Approval,
        status: ApprovalStatus,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<Option<Approval>, ApprovalError> {
        let now = now_millis();
        let mut tx = self.db.begin_write().await?;
        if !store::advance(&mut tx, &approval.id, approval.version, status, now).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let closed = store::by_id(&mut tx, &approval.id).await?.ok_or_else(|| {
            ApprovalError::NotFound(format!("no approval request {}", approval.id))
        })?;
        let event = match status {
            ApprovalStatus::Expired => "approval.expired",
            _ => "approval.cancelled",
        };
        let [announced, own] = announcement(event, &closed);
        let told = self
            .notify_changed(&mut tx, &closed, event, actor, &announced.payload)
            .await?;
        self.events
            .append_all(&mut tx, &[[announced, own].as_slice(), &told].concat())
            .await?;
        callbacks::enqueue(&mut tx, &closed, event).await?;
        tx.commit().await?;
        self.events.committed();
        let action = match status {
            ApprovalStatus::Expired => "approval.expire",
            _ => "approval.cancel",
        };
        self.audit(actor, action, &closed, Outcome::Ok, detail)
            .await;
        Ok(Some(closed))
    }

    /// The request once it is no longer pending, or as it is after `timeout`: what a
    /// pipeline's long-poll waits for. Changes made on any instance wake it (they come
    /// through the event log), and so does its expiry.
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<Approval, ApprovalError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.events.subscribe();
        loop {
            let approval = self.get(id).await?;
            if approval.status.is_decided() {
                return Ok(approval);
            }
            let expires_in = Duration::from_millis(
                u64::try_from(approval.expires_at - now_millis()).unwrap_or(0),
            );
            // The request is read again at least every few seconds: a decision is
            // seen even while the event feed is behind or restarting.
            let until = deadline
                .min(tokio::time::Instant::now() + expires_in)
                .min(tokio::time::Instant::now() + WAIT_RECHECK);
            if tokio::time::Instant::now() >= deadline {
                return Ok(approval);
            }
            // Woken by any change to this request, or by the time running out (expiry
            // included); a lagging receiver just reads again.
            loop {
                match tokio::time::timeout_at(until, changes.recv()).await {
                    Err(_) => break,
                    Ok(Ok(event)) if event.topic == TOPIC && event.payload["id"] == id => break,
                    Ok(Ok(_)) => {}
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => break,
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                        tokio::time::sleep_until(until).await;
                        break;
                    }
                }
            }
        }
    }

    /// Writes an audit entry; a failure to is logged, not returned: the change it
    /// describes is committed already.
    async fn audit(
        &self,
        actor: &str,
        action: &'static str,
        approval: &Approval,
        outcome: Outcome,
        detail: serde_json::Value,
    ) {
        let entry = NewAudit {
            actor: actor.to_owned(),
            action,
            target: format!("approval:{}", approval.id),
            outcome,
            detail,
        };
        if let Err(e) = self.identity.audit(entry).await {
            tracing::error!(error = %e, action, approval = %approval.id, "could not write the audit entry");
        }
    }
}

/// How a request that is no longer pending reads: who settled it, and how.
fn settled(approval: &Approval) -> String {
    let last = approval.decisions.last();
    match (approval.status, last) {
        (ApprovalStatus::Approved | ApprovalStatus::Rejected, Some(d)) => format!(
            "approval request {} was {} by {} already",
            approval.id,
            approval.status.as_str(),
            d.by
        ),
        (status, _) => format!(
            "approval request {} is {} already",
            approval.id,
            status.as_str()
        ),
    }
}

/// The topic of one request's changes, where its page's viewers meet.
pub fn topic(id: &str) -> String {
    format!("approval:{id}")
}

/// The events announcing a change of `approval`: on [`TOPIC`] and on its own topic.
fn announcement(event_type: &str, approval: &Approval) -> [NewEvent; 2] {
    let event = NewEvent::new(
        TOPIC,
        event_type,
        json!({
            "id": approval.id,
            "title": approval.title,
            "status": approval.status.as_str(),
            "requested_by": approval.requested_by,
            "approvers": approval.approvers,
            "approvals": approval.approvals(),
            "min_approvals": approval.min_approvals,
            "decided_by": approval.decisions.last().map(|d| d.by.clone()),
        }),
    );
    let own = NewEvent::new(topic(&approval.id), event_type, event.payload.clone());
    [event, own]
}
