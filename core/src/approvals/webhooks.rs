//! Webhooks per approver: a team's chat channel hears of each request its members may
//! decide, and of how it ended, in Slack's incoming-webhook format (which Mattermost,
//! Rocket.Chat, Discord's `/slack` endpoints and most chat tools accept).
//!
//! Calls go through the callback queue ([`super::callbacks`]): written with the change
//! they announce, signed, retried with backoff, never waited for.

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{Approval, ApprovalStatus, Approver};

/// Where to post for requests naming `approver`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// As an approver is written: `group:default/sre`, `role:admin`, `user:default/ada`.
    pub approver: String,
    /// An http(s) URL.
    pub url: String,
}

impl Webhook {
    /// Hooks as `PORTICO_APPROVAL_WEBHOOKS` writes them: `approver=url`, separated by `;`
    /// or new lines (`group:default/sre=https://hooks.slack.com/services/…`).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        let hooks = text
            .split([';', '\n'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|hook| {
                let (approver, url) = hook
                    .split_once('=')
                    .ok_or_else(|| format!("{hook:?}: write approver=url"))?;
                Ok(Self {
                    approver: approver.trim().to_owned(),
                    url: url.trim().to_owned(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Self::check_all(&hooks)?;
        Ok(hooks)
    }

    /// Every hook names an approver and an http(s) URL, and no approver twice.
    pub fn check_all(hooks: &[Self]) -> Result<(), String> {
        let mut seen = Vec::new();
        for hook in hooks {
            let approver = Approver::parse(&hook.approver)?;
            let url = url::Url::parse(&hook.url)
                .map_err(|e| format!("{}: {:?} is not a URL: {e}", hook.approver, hook.url))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "{}: {:?} is not an http(s) URL",
                    hook.approver, hook.url
                ));
            }
            if seen.contains(&approver) {
                return Err(format!("{approver} has two webhooks"));
            }
            seen.push(approver);
        }
        Ok(())
    }

    /// Whether `approval` names this hook's approver.
    fn concerns(&self, approval: &Approval) -> bool {
        let Ok(mine) = Approver::parse(&self.approver) else {
            return false;
        };
        approval
            .approvers
            .iter()
            .any(|written| Approver::parse(written).is_ok_and(|a| a == mine))
    }
}

/// The URLs to post to about `approval`, each once.
pub(super) fn targets<'a>(hooks: &'a [Webhook], approval: &Approval) -> Vec<&'a str> {
    let mut urls: Vec<&str> = Vec::new();
    for hook in hooks.iter().filter(|h| h.concerns(approval)) {
        if !urls.contains(&hook.url.as_str()) {
            urls.push(&hook.url);
        }
    }
    urls
}

/// Slack's mrkdwn treats these three as markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message announcing `event` about `approval`: `text` for notifications and
/// tools that read nothing else, `blocks` for the channel.
pub(super) fn message(approval: &Approval, event: &str, link: Option<&str>) -> Value {
    let title = match link {
        Some(link) => format!("<{link}|{}>", escape(&approval.title)),
        None => escape(&approval.title),
    };
    let last = approval.decisions.last();
    let headline = match (event, approval.status, last) {
        ("approval.requested", _, _) => format!(
            "Approval requested by {}: {title}",
            escape(&approval.requested_by)
        ),
        (_, ApprovalStatus::Approved, Some(d)) => {
            format!("Approved by {}: {title}", escape(&d.by))
        }
        (_, ApprovalStatus::Rejected, Some(d)) => {
            format!("Rejected by {}: {title}", escape(&d.by))
        }
        (_, ApprovalStatus::Expired, _) => format!("Expired before anyone decided: {title}"),
        (_, ApprovalStatus::Cancelled, _) => format!("Cancelled: {title}"),
        _ => format!("{}: {title}", approval.status.as_str()),
    };
    let mut details = vec![format!(
        "Approvers: {} · {} needed",
        escape(&approval.approvers.join(", ")),
        approval.min_approvals
    )];
    if let Some(comment) = last
        .filter(|_| event != "approval.requested")
        .and_then(|d| d.comment.as_deref())
    {
        details.push(format!("“{}”", escape(comment)));
    }
    json!({
        "text": headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": details.join("\n")}]},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_read_from_the_variable_and_their_mistakes_are_named() {
        let hooks = Webhook::parse_list(
            "group:default/sre=https://hooks.example/a; role:admin = http://127.0.0.1:9/b",
        )
        .unwrap();
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[1].approver, "role:admin");
        assert_eq!(hooks[1].url, "http://127.0.0.1:9/b");

        let error = |text: &str| Webhook::parse_list(text).unwrap_err();
        assert!(error("group:sre").contains("approver=url"));
        assert!(error("component:x=https://h/").contains("approvers are users, groups"));
        assert!(error("group:sre=ftp://h/").contains("not an http(s) URL"));
        assert!(
            error("group:sre=https://h/a;group:default/sre=https://h/b").contains("two webhooks")
        );
    }
}
