//! `publish:git`: a new repository on a configured git host, with the workspace as its
//! first commit. Backstage's `publish:github`, `publish:gitlab` and
//! `publish:bitbucketServer` run the same way when their repoUrl's host is configured, so
//! Backstage templates run unchanged.

use serde_json::{json, Value};

use super::{object, text, ActionContext, ActionError, ActionInfo, ActionSchema};
use crate::templates::git::{self, PublishRequest, RepoUrl};

const PUBLISH_ACTIONS: &[(&str, &str)] = &[
    ("publish:git", "Creates a repository on a configured git host and pushes the workspace as its first commit."),
    ("publish:github", "Runs as publish:git on a configured git host (PORTICO_GIT_HOSTS)."),
    ("publish:gitlab", "Runs as publish:git on a configured git host (PORTICO_GIT_HOSTS)."),
    ("publish:bitbucketServer", "Runs as publish:git on a configured git host (PORTICO_GIT_HOSTS)."),
];

/// Inputs of Backstage's provider-specific actions that a plain git host has no use for:
/// accepted so templates run unchanged, and named in the log.
const PROVIDER_ONLY_INPUTS: &[&str] = &[
    "repoVisibility",
    "access",
    "protectDefaultBranch",
    "protectEnforceAdmins",
    "requireCodeOwnerReviews",
    "requiredStatusCheckContexts",
    "topics",
    "collaborators",
    "allowedHosts",
    "deleteBranchOnMerge",
    "allowMergeCommit",
    "allowSquashMerge",
    "allowRebaseMerge",
    "homepage",
    "hasWiki",
    "hasProjects",
    "hasIssues",
];

pub fn is_publish(id: &str) -> bool {
    PUBLISH_ACTIONS.iter().any(|(action, _)| *action == id)
}

pub fn infos() -> Vec<ActionInfo> {
    PUBLISH_ACTIONS
        .iter()
        .map(|(id, description)| ActionInfo {
            id,
            description,
            schema: ActionSchema {
                input: object(
                    &["repoUrl"],
                    json!({
                        "repoUrl": {"type": "string", "description": "host?owner=o&repo=r, on a configured git host."},
                        "description": {"type": "string"},
                        "defaultBranch": {"type": "string", "default": "main"},
                        "gitCommitMessage": {"type": "string", "default": "initial commit"},
                        "gitAuthorName": {"type": "string"},
                        "gitAuthorEmail": {"type": "string"},
                        "sourcePath": {"type": "string", "description": "The part of the workspace to publish (default: all of it)."}
                    }),
                ),
                output: object(
                    &["remoteUrl", "repoContentsUrl"],
                    json!({
                        "remoteUrl": {"type": "string"},
                        "repoContentsUrl": {"type": "string"},
                        "commitHash": {"type": "string"}
                    }),
                ),
            },
            supports_dry_run: false,
        })
        .collect()
}

pub async fn publish(
    ctx: &ActionContext<'_>,
    action: &str,
    input: &Value,
) -> Result<Value, ActionError> {
    let written = text(input, "repoUrl").unwrap_or_default();
    let repo = RepoUrl::parse(written).map_err(|e| ActionError::new(format!("repoUrl: {e}")))?;
    let hosts = &ctx.services.git_hosts;
    let host = hosts.get(&repo.host).ok_or_else(|| {
        let known = hosts.hosts().collect::<Vec<_>>();
        ActionError::new(if known.is_empty() {
            format!(
                "repoUrl: {action} needs {} configured as a git host (PORTICO_GIT_HOSTS), and no git host is configured",
                repo.host
            )
        } else {
            format!(
                "repoUrl: {} is not a configured git host (configured: {})",
                repo.host,
                known.join(", ")
            )
        })
    })?;
    let ignored: Vec<&str> = PROVIDER_ONLY_INPUTS
        .iter()
        .copied()
        .filter(|key| input.get(*key).is_some())
        .collect();
    if !ignored.is_empty() {
        ctx.log(format!(
            "{} on a plain git host: {} not used",
            action,
            ignored.join(", ")
        ));
    }
    let branch = text(input, "defaultBranch").unwrap_or("main");
    let source = ctx
        .workspace
        .resolve(text(input, "sourcePath").unwrap_or("."))?;
    if ctx.dry_run {
        let remote = host
            .remote_url(&repo)
            .map_err(|e| ActionError::new(format!("repoUrl: {e}")))?;
        ctx.log(format!(
            "dry run: would create {remote} and push the workspace to {branch}"
        ));
        return Ok(json!({
            "remoteUrl": remote,
            "repoContentsUrl": git::contents_url(&remote, branch),
        }));
    }
    let author_name = text(input, "gitAuthorName")
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.user.name.clone());
    let author_email = text(input, "gitAuthorEmail")
        .map(str::to_owned)
        .or_else(|| ctx.user.email.clone())
        .unwrap_or_else(|| "portico@localhost".to_owned());
    let request = PublishRequest {
        source_dir: &source,
        default_branch: branch,
        commit_message: text(input, "gitCommitMessage").unwrap_or("initial commit"),
        author_name: if author_name.is_empty() {
            "Portico"
        } else {
            &author_name
        },
        author_email: &author_email,
        description: text(input, "description"),
    };
    let published = git::publish(host, &repo, request)
        .await
        .map_err(|e| ActionError::new(e.to_string()))?;
    ctx.log(format!(
        "created {} with commit {} on {branch}",
        published.remote_url, published.commit_hash
    ));
    Ok(json!({
        "remoteUrl": published.remote_url,
        "repoContentsUrl": published.repo_contents_url,
        "commitHash": published.commit_hash,
    }))
}
