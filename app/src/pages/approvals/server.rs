//! The server side of the approvals pages: reads the approvals service and records
//! decisions. Every function here is reached from a server function that checked the
//! caller is signed in.

use portico_core::approvals::{Approval, ApprovalError, ApprovalFilter, ApprovalStatus, Verdict};
use portico_core::identity::{Principal, Role};
use portico_core::storage::sql::now_millis;
use portico_core::Portal;

use super::list::ListSearch;
use crate::context::refused;
use crate::error::AppError;

/// Settled requests the list shows at most (newest first).
const SETTLED_SHOWN: i64 = 50;
/// Requests a filtered list shows at most.
const FILTERED_SHOWN: i64 = 200;

/// What `/approvals` shows.
pub struct ApprovalList {
    pub now: i64,
    /// The pending requests the caller may decide, oldest first.
    pub waiting: Vec<Approval>,
    /// The other pending requests, newest first.
    pub pending: Vec<Approval>,
    /// Settled requests, newest first (or, filtered, everything the filter matches).
    pub settled: Vec<Approval>,
    /// Whether a filter is on: one list instead of three.
    pub filtered: bool,
}

/// One request, and what the caller may do with it.
pub struct ApprovalView {
    pub now: i64,
    pub approval: Approval,
    /// Why the caller may not decide it, if they may not.
    pub may_not_decide: Option<String>,
    /// Whether the caller may cancel it (who asked, or an admin).
    pub may_cancel: bool,
    /// Whether a rejection needs a comment.
    pub reject_needs_comment: bool,
}

pub fn approval_error(e: ApprovalError) -> AppError {
    use http::StatusCode;
    match e {
        ApprovalError::Invalid { .. } => refused(StatusCode::BAD_REQUEST, e.to_string()),
        ApprovalError::NotFound(_) => refused(StatusCode::NOT_FOUND, e.to_string()),
        ApprovalError::Forbidden(_) => refused(StatusCode::FORBIDDEN, e.to_string()),
        ApprovalError::Conflict(_) => refused(StatusCode::CONFLICT, e.to_string()),
        other => AppError::internal("approvals", &other),
    }
}

pub async fn list(
    portal: &Portal,
    principal: &Principal,
    search: &ListSearch,
) -> Result<ApprovalList, AppError> {
    let approvals = portal.approvals();
    let status = match search.status.as_str() {
        "" => None,
        written => Some(written.parse::<ApprovalStatus>().map_err(approval_error)?),
    };
    let requested_by = search.mine.then(|| principal.actor());
    if status.is_some() || search.mine {
        let (settled, _) = approvals
            .list(&ApprovalFilter {
                status,
                requested_by,
                limit: FILTERED_SHOWN,
                offset: 0,
            })
            .await
            .map_err(approval_error)?;
        return Ok(ApprovalList {
            now: now_millis(),
            waiting: Vec::new(),
            pending: Vec::new(),
            settled,
            filtered: true,
        });
    }
    let waiting = approvals
        .waiting_for(principal)
        .await
        .map_err(approval_error)?;
    let (pending, _) = approvals
        .list(&ApprovalFilter {
            status: Some(ApprovalStatus::Pending),
            limit: FILTERED_SHOWN,
            ..ApprovalFilter::default()
        })
        .await
        .map_err(approval_error)?;
    let pending = pending
        .into_iter()
        .filter(|a| !waiting.iter().any(|w| w.id == a.id))
        .collect();
    let (recent, _) = approvals
        .list(&ApprovalFilter {
            limit: SETTLED_SHOWN * 2,
            ..ApprovalFilter::default()
        })
        .await
        .map_err(approval_error)?;
    let settled = recent
        .into_iter()
        .filter(|a| a.status.is_decided())
        .take(SETTLED_SHOWN as usize)
        .collect();
    Ok(ApprovalList {
        now: now_millis(),
        waiting,
        pending,
        settled,
        filtered: false,
    })
}

/// One request, or `None` when there is no such request.
pub async fn view(
    portal: &Portal,
    principal: &Principal,
    id: &str,
) -> Result<Option<ApprovalView>, AppError> {
    let approvals = portal.approvals();
    let approval = match approvals.get(id).await {
        Ok(found) => found,
        Err(ApprovalError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(approval_error(e)),
    };
    let may_not_decide = approvals
        .may_decide(&approval, principal)
        .err()
        .map(|e| e.to_string());
    let may_cancel = approval.status == ApprovalStatus::Pending
        && (approval.requested_by == principal.actor() || principal.has(Role::Admin));
    Ok(Some(ApprovalView {
        now: now_millis(),
        approval,
        may_not_decide,
        may_cancel,
        reject_needs_comment: approvals.reject_needs_comment(),
    }))
}

pub async fn decide(
    portal: &Portal,
    principal: &Principal,
    id: &str,
    decision: &str,
    comment: String,
) -> Result<(), AppError> {
    let verdict: Verdict = decision.parse().map_err(approval_error)?;
    portal
        .approvals()
        .decide(id, principal, verdict, Some(comment))
        .await
        .map(|_| ())
        .map_err(approval_error)
}

pub async fn cancel(
    portal: &Portal,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<(), AppError> {
    let reason = (!reason.trim().is_empty()).then_some(reason);
    portal
        .approvals()
        .cancel(id, principal, reason)
        .await
        .map(|_| ())
        .map_err(approval_error)
}
