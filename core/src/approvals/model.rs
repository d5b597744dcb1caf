//! Approval requests, their approvers and decisions, and the checks a new request
//! passes before it is stored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ApprovalError;
use crate::catalog::reference::RefContext;
use crate::catalog::EntityRef;
use crate::identity::Role;

/// Where a request is in its life. Only `pending` moves, and only once more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl ApprovalStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn is_decided(self) -> bool {
        self != Self::Pending
    }
}

impl FromStr for ApprovalStatus {
    type Err = ApprovalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                ApprovalError::invalid(
                    "status",
                    format!(
                        "{s:?} is not a status (pending, approved, rejected, expired or cancelled)"
                    ),
                )
            })
    }
}

/// What an approver says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }
}

impl FromStr for Verdict {
    type Err = ApprovalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            other => Err(ApprovalError::invalid(
                "decision",
                format!("{other:?} is not a decision (approve or reject)"),
            )),
        }
    }
}

/// One approver's decision: final.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The actor name: `user:ada`, `token:release-bot`.
    pub by: String,
    pub decision: Verdict,
    pub comment: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
}

/// Who may decide: a catalog user or group, everyone with a role, or one API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approver {
    /// `user:default/ada` or `group:default/sre`, as a reference key.
    Entity(String),
    /// `role:admin`: everyone with that role or a higher one.
    Role(Role),
    /// `token:release-bot`.
    Token(String),
}

impl Approver {
    /// Reads an approver as written: `role:<role>`, `token:<name>`, or a reference to a
    /// user or group (`group:sre` means `group:default/sre`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(role) = text.strip_prefix("role:") {
            return role.parse().map(Self::Role).map_err(|e| e.to_string());
        }
        if let Some(name) = text.strip_prefix("token:") {
            if name.is_empty() {
                return Err(format!("{text:?} names no token"));
            }
            return Ok(Self::Token(name.to_owned()));
        }
        let reference = EntityRef::parse(text, RefContext::STANDALONE)
            .map_err(|e| format!("{text:?} is not an approver: {e}"))?;
        match reference.kind.to_ascii_lowercase().as_str() {
            "user" | "group" => Ok(Self::Entity(reference.key())),
            kind => Err(format!(
                "{text:?} is a {kind}: approvers are users, groups (user:default/ada, group:default/sre), a role (role:admin) or a token (token:name)"
            )),
        }
    }
}

impl fmt::Display for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Entity(key) => f.write_str(key),
            Self::Role(role) => write!(f, "role:{role}"),
            Self::Token(name) => write!(f, "token:{name}"),
        }
    }
}

/// A stored request, with its decisions in the order they were made.
#[derive(Clone, Debug, PartialEq)]
pub struct Approval {
    pub id: String,
    pub title: String,
    pub description: String,
    /// The actor who asked: `user:ada`, `token:ci-release` (a token is a principal of
    /// its own, apart from whoever created it).
    pub requested_by: String,
    /// What it is about: `{kind: task|entity|environment|external, …}`.
    pub subject: Value,
    /// What approvers are shown (the template's inputs, a release's version).
    pub context: Value,
    /// As written in [`Approver`]'s forms.
    pub approvers: Vec<String>,
    pub min_approvals: u32,
    pub status: ApprovalStatus,
    pub callback_url: Option<String>,
    /// Bumped by every decision.
    pub version: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub decisions: Vec<Decision>,
}

impl Approval {
    /// The request as the API and callbacks show it: times in RFC 3339, UTC.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "status": self.status.as_str(),
            "title": self.title,
            "description": self.description,
            "requested_by": self.requested_by,
            "approvers": self.approvers,
            "min_approvals": self.min_approvals,
            "approvals": self.approvals(),
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at),
            "decided_at": self.decided_at.map(rfc3339),
            "decisions": self.decisions.iter().map(|d| serde_json::json!({
                "by": d.by,
                "decision": d.decision.as_str(),
                "comment": d.comment,
                "at": rfc3339(d.at),
            })).collect::<Vec<_>>(),
            "subject": self.subject,
            "context": self.context,
        })
    }

    pub fn approvals(&self) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.decision == Verdict::Approve)
            .count()
    }
}

/// Unix milliseconds as RFC 3339, UTC.
fn rfc3339(millis: i64) -> String {
    crate::storage::sql::from_millis(millis)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What a new request asks for, as the API takes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApproval {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub approvers: Vec<String>,
    #[serde(default)]
    pub min_approvals: Option<u32>,
    /// `30m`, `4h`, `2d` or seconds; a day when not given.
    #[serde(default)]
    pub expires_in: Option<Value>,
    #[serde(default)]
    pub subject: Option<Value>,
    #[serde(default)]
    pub context: Option<Value>,
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A new request once checked: what is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedApproval {
    pub title: String,
    pub description: String,
    pub approvers: Vec<String>,
    pub min_approvals: u32,
    pub expires_in_millis: i64,
    pub subject: Value,
    pub context: Value,
    pub callback_url: Option<String>,
}

const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_APPROVERS: usize = 50;
const MAX_MIN_APPROVALS: u32 = 20;
/// The context is shown to people: a page of it, not a data dump.
const MAX_CONTEXT_BYTES: usize = 64 * 1024;
const MINUTE: i64 = 60_000;
const DEFAULT_EXPIRY: i64 = 24 * 60 * MINUTE;
const MAX_EXPIRY: i64 = 30 * 24 * 60 * MINUTE;
const SUBJECT_KINDS: [&str; 4] = ["task", "entity", "environment", "external"];

impl NewApproval {
    /// The request as stored, or the first rule it breaks, naming the field.
    pub fn check(self) -> Result<CheckedApproval, ApprovalError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            return Err(ApprovalError::invalid("title", "is required"));
        }
        if title.chars().count() > MAX_TITLE {
            return Err(ApprovalError::invalid(
                "title",
                format!("is longer than {MAX_TITLE} characters"),
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION {
            return Err(ApprovalError::invalid(
                "description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            ));
        }
        if self.approvers.is_empty() {
            return Err(ApprovalError::invalid(
                "approvers",
                "name at least one approver (group:default/sre, user:default/ada, role:admin or token:name)",
            ));
        }
        if self.approvers.len() > MAX_APPROVERS {
            return Err(ApprovalError::invalid(
                "approvers",
                format!("at most {MAX_APPROVERS}"),
            ));
        }
        let mut approvers: Vec<String> = Vec::new();
        for (i, text) in self.approvers.iter().enumerate() {
            let approver = Approver::parse(text)
                .map_err(|e| ApprovalError::invalid("approvers", format!("[{i}]: {e}")))?
                .to_string();
            if !approvers.contains(&approver) {
                approvers.push(approver);
            }
        }
        let min_approvals = self.min_approvals.unwrap_or(1);
        if !(1..=MAX_MIN_APPROVALS).contains(&min_approvals) {
            return Err(ApprovalError::invalid(
                "min_approvals",
                format!("must be between 1 and {MAX_MIN_APPROVALS}"),
            ));
        }
        let expires_in_millis = match &self.expires_in {
            None | Some(Value::Null) => DEFAULT_EXPIRY,
            Some(value) => {
                parse_duration(value).map_err(|e| ApprovalError::invalid("expires_in", e))?
            }
        };
        if !(MINUTE..=MAX_EXPIRY).contains(&expires_in_millis) {
            return Err(ApprovalError::invalid(
                "expires_in",
                "must be between 1 minute and 30 days",
            ));
        }
        let subject = check_subject(self.subject)?;
        let context = match self.context {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(Value::Object(context)) => Value::Object(context),
            Some(_) => {
                return Err(ApprovalError::invalid(
                    "context",
                    "must be an object (names and values to show approvers)",
                ))
            }
        };
        if context.to_string().len() > MAX_CONTEXT_BYTES {
            return Err(ApprovalError::invalid(
                "context",
                format!("is larger than {} KiB", MAX_CONTEXT_BYTES / 1024),
            ));
        }
        let callback_url = match self.callback_url.map(|u| u.trim().to_owned()) {
            Some(url) if url.is_empty() => None,
            Some(url) => {
                let parsed = url::Url::parse(&url).map_err(|e| {
                    ApprovalError::invalid("callback_url", format!("{url:?} is not a URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ApprovalError::invalid(
                        "callback_url",
                        "must be an http or https URL",
                    ));
                }
                Some(url)
            }
            None => None,
        };
        Ok(CheckedApproval {
            title,
            description: self.description,
            approvers,
            min_approvals,
            expires_in_millis,
            subject,
            context,
            callback_url,
        })
    }
}

fn check_subject(subject: Option<Value>) -> Result<Value, ApprovalError> {
    let subject = match subject {
        None | Some(Value::Null) => return Ok(serde_json::json!({"kind": "external"})),
        Some(Value::Object(subject)) => subject,
        Some(_) => {
            return Err(ApprovalError::invalid(
                "subject",
                "must be an object with a kind (task, entity, environment or external)",
            ))
        }
    };
    match subject.get("kind").and_then(Value::as_str) {
        Some(kind) if SUBJECT_KINDS.contains(&kind) => Ok(Value::Object(subject)),
        Some(kind) => Err(ApprovalError::invalid(
            "subject",
            format!("kind {kind:?} is not one of task, entity, environment, external"),
        )),
        None => Err(ApprovalError::invalid(
            "subject",
            "needs a kind (task, entity, environment or external)",
        )),
    }
}

/// A duration as written: `90s`, `30m`, `4h`, `2d`, or a number of seconds.
pub fn parse_duration(value: &Value) -> Result<i64, String> {
    if let Some(seconds) = value.as_i64() {
        return Ok(seconds.saturating_mul(1000));
    }
    let Some(text) = value.as_str() else {
        return Err("must be a duration such as \"30m\", \"4h\" or \"2d\"".into());
    };
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as \"30m\", \"4h\" or \"2d\""))?;
    let unit_millis = match unit.trim() {
        "" | "s" => 1000,
        "m" => MINUTE,
        "h" => 60 * MINUTE,
        "d" => 24 * 60 * MINUTE,
        other => {
            return Err(format!(
                "{other:?} is not a unit: use s, m, h or d (\"30m\", \"4h\", \"2d\")"
            ))
        }
    };
    Ok(number.saturating_mul(unit_millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new(approvers: &[&str]) -> NewApproval {
        NewApproval {
            title: "Release 1.4 to production".into(),
            approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
            ..NewApproval::default()
        }
    }

    #[test]
    fn approvers_are_read_in_their_four_forms_and_others_refused() {
        assert_eq!(
            Approver::parse("group:sre"),
            Ok(Approver::Entity("group:default/sre".into()))
        );
        assert_eq!(
            Approver::parse("User:default/Ada"),
            Ok(Approver::Entity("user:default/ada".into()))
        );
        assert_eq!(
            Approver::parse("role:admin"),
            Ok(Approver::Role(Role::Admin))
        );
        assert_eq!(
            Approver::parse("token:release-bot"),
            Ok(Approver::Token("release-bot".into()))
        );
        assert!(Approver::parse("role:owner")
            .unwrap_err()
            .contains("not a role"));
        assert!(Approver::parse("component:default/web")
            .unwrap_err()
            .contains("is a component"));
        assert!(Approver::parse("token:").is_err());
    }

    #[test]
    fn a_new_request_is_checked_field_by_field() {
        let checked = new(&["group:sre", "group:default/sre", "role:admin"])
            .check()
            .unwrap();
        assert_eq!(checked.approvers, ["group:default/sre", "role:admin"]);
        assert_eq!(checked.min_approvals, 1);
        assert_eq!(checked.expires_in_millis, DEFAULT_EXPIRY);
        assert_eq!(checked.subject, json!({"kind": "external"}));
        assert_eq!(checked.context, json!({}));

        let field = |n: NewApproval| match n.check() {
            Err(ApprovalError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(NewApproval {
                title: " ".into(),
                ..new(&["role:admin"])
            }),
            "title"
        );
        assert_eq!(field(new(&[])), "approvers");
        assert_eq!(field(new(&["api:default/x"])), "approvers");
        assert_eq!(
            field(NewApproval {
                min_approvals: Some(0),
                ..new(&["role:admin"])
            }),
            "min_approvals"
        );
        assert_eq!(
            field(NewApproval {
                expires_in: Some(json!("10s")),
                ..new(&["role:admin"])
            }),
            "expires_in"
        );
        assert_eq!(
            field(NewApproval {
                expires_in: Some(json!("2w")),
                ..new(&["role:admin"])
            }),
            "expires_in"
        );
        assert_eq!(
            field(NewApproval {
                subject: Some(json!({"kind": "planet"})),
                ..new(&["role:admin"])
            }),
            "subject"
        );
        assert_eq!(
            field(NewApproval {
                context: Some(json!([1])),
                ..new(&["role:admin"])
            }),
            "context"
        );
        assert_eq!(
            field(NewApproval {
                callback_url: Some("ftp://x".into()),
                ..new(&["role:admin"])
            }),
            "callback_url"
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration(&json!("30m")), Ok(30 * MINUTE));
        assert_eq!(parse_duration(&json!("4h")), Ok(240 * MINUTE));
        assert_eq!(parse_duration(&json!("2d")), Ok(2 * 24 * 60 * MINUTE));
        assert_eq!(parse_duration(&json!("90s")), Ok(90_000));
        assert_eq!(parse_duration(&json!(120)), Ok(120_000));
        assert!(parse_duration(&json!("soon")).is_err());
        assert!(parse_duration(&json!(true)).is_err());
    }
}
