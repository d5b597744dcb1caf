//! Git for `publish:git`: the hosts Portico may create repositories on, Backstage's
//! `repoUrl` form, publishing a task's workspace as a new repository's first commit,
//! and reading a file back from such a repository (the catalog reads the new
//! `catalog-info.yaml` this way).
//!
//! Everything runs the `git` program rather than a library: it is on every machine
//! Portico runs on, and it already speaks every transport and authentication scheme a
//! git server expects. Each run gets a clean environment (see `Git` below) so that neither
//! the server's nor a developer's own git configuration changes what Portico does.
//!
//! Repositories on `file://` hosts are created here. On `http(s)://` hosts there is no
//! generic API for creating a repository, so Portico pushes to a URL that must already
//! exist (or that the server creates on push, as Gitea and GitLab can). On both, a
//! publish never replaces someone's work: a file repository that exists is refused, and
//! pushes are never forced, so a remote branch with history of its own rejects the push.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tracing::{debug, warn};
use url::Url;

/// How long one git command may run. Pushing a freshly generated project or a shallow
/// clone takes seconds; two minutes leaves room for a slow server without letting a
/// hung connection hold a task forever.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// How much of git's stderr an error keeps. Git's message is a few lines; anything
/// longer is noise that would swamp the task log.
const STDERR_LIMIT: usize = 2048;

/// What a token is replaced with wherever it could show.
const REDACTED: &str = "[redacted]";

/// The user name of the basic credentials a token is sent with. GitHub, GitLab and
/// Gitea all accept a token as the password with this name (it is the one GitHub's own
/// checkout action uses).
const TOKEN_USER: &str = "x-access-token";

// ---------------------------------------------------------------------------------
// Hosts

/// A host `publish:git` may create repositories on (an entry of `git_hosts` in the
/// configuration file; unknown keys are refused so a misspelt `token` is not lost).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHost {
    /// The name a `repoUrl` uses (`github.com`, `git.example.test:8443`), compared
    /// without regard to case.
    pub host: String,
    /// Where a new repository is pushed, with `{owner}` and `{repo}` placeholders:
    /// `file:///srv/git/{owner}/{repo}.git` or `https://git.example.test/{owner}/{repo}.git`.
    pub push_url: String,
    /// Sent to http(s) hosts as the password of basic credentials; never part of a URL.
    #[serde(default)]
    pub token: Option<String>,
}

impl fmt::Debug for GitHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHost")
            .field("host", &self.host)
            .field("push_url", &self.push_url)
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl GitHost {
    /// The push URL for `repo`'s owner and name. Both must be plain names (see
    /// [`check_name`]; [`RepoUrl::parse`] checks them too, and they are checked again
    /// here for a `RepoUrl` built by hand): they come from the person running the
    /// template, and in a `file://` URL a `..` or a `/` would place the repository
    /// anywhere on the server.
    pub fn remote_url(&self, repo: &RepoUrl) -> Result<String, String> {
        let (owner, repo) = (repo.owner.as_str(), repo.repo.as_str());
        check_name("owner", owner)?;
        check_name("repo", repo)?;
        // `owner` holds no braces, so the second replacement cannot act on its text.
        Ok(self
            .push_url
            .replace("{owner}", owner)
            .replace("{repo}", repo))
    }

    /// This host with its name lowercased, or why it cannot be used.
    fn validated(&self) -> Result<GitHost, String> {
        let host = self.host.trim().to_ascii_lowercase();
        if !is_host(&host) {
            return Err(format!(
                "{:?} is not a host name like github.com",
                self.host
            ));
        }
        let template = self.push_url.trim();
        let fail = |why: String| Err(format!("{host}: push URL {template:?}: {why}"));
        if !template.contains("{repo}") {
            return fail("has no {repo} placeholder".into());
        }
        let sample = template
            .replace("{owner}", "owner")
            .replace("{repo}", "repo");
        if sample.contains(['{', '}']) {
            return fail("only {owner} and {repo} are replaced".into());
        }
        let url = match Url::parse(&sample) {
            Ok(url) => url,
            Err(e) => return fail(format!("not a URL: {e}")),
        };
        match url.scheme() {
            "file" => {
                if url.to_file_path().is_err() {
                    return fail(
                        "a file URL names a path on this machine (file:///srv/git/…)".into(),
                    );
                }
            }
            "http" | "https" => {}
            other => {
                return fail(format!(
                    "scheme {other:?} is not supported (file, http or https)"
                ))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            // The URL is shown to users and stored in the catalog; secrets go in `token`.
            return fail("credentials do not belong in the URL: give the host a token".into());
        }
        match self.token.as_deref() {
            Some("") => return Err(format!("{host}: the token is empty")),
            Some(token) if token.contains(['\r', '\n']) => {
                return Err(format!("{host}: the token contains a line break"))
            }
            Some(_) if url.scheme() == "http" => {
                warn!(host, "a git host's token is sent over plain http");
            }
            _ => {}
        }
        Ok(GitHost {
            host,
            push_url: template.to_owned(),
            token: self.token.clone(),
        })
    }
}

/// The hosts `publish:git` may create repositories on, in the order configured.
#[derive(Clone, Debug, Default)]
pub struct GitHosts {
    hosts: Vec<GitHost>,
}

impl GitHosts {
    /// Reads `PORTICO_GIT_HOSTS`: `host=push-url-template` items separated by commas
    /// and/or whitespace, e.g.
    /// `git.example.test=file:///srv/git/{owner}/{repo}.git,github.com=https://github.com/{owner}/{repo}.git`.
    /// Hosts given this way have no token. The error names the item and what is wrong
    /// with it; an empty value is no hosts.
    pub fn parse(env_value: &str) -> Result<Self, String> {
        let mut hosts = Vec::new();
        for item in env_value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
        {
            let Some((host, push_url)) = item.split_once('=') else {
                return Err(format!(
                    "{item:?}: missing '=' between the host and its push URL template"
                ));
            };
            if host.is_empty() {
                return Err(format!("{item:?}: missing the host before '='"));
            }
            hosts.push(GitHost {
                host: host.to_owned(),
                push_url: push_url.to_owned(),
                token: None,
            });
        }
        Self::new(hosts)
    }

    /// The given hosts, checked as [`parse`](Self::parse) checks them: a host name, a
    /// file, http or https URL template with `{repo}` and no credentials, each host
    /// once.
    pub fn new(hosts: Vec<GitHost>) -> Result<Self, String> {
        let mut checked: Vec<GitHost> = Vec::with_capacity(hosts.len());
        for host in &hosts {
            let host = host.validated()?;
            if checked.iter().any(|h| h.host == host.host) {
                return Err(format!("{}: configured twice", host.host));
            }
            checked.push(host);
        }
        Ok(Self { hosts: checked })
    }

    /// The host named `host` (any case).
    pub fn get(&self, host: &str) -> Option<&GitHost> {
        self.hosts
            .iter()
            .find(|h| h.host.eq_ignore_ascii_case(host.trim()))
    }

    /// The hosts' names, lowercased, in the configured order: what the form's
    /// `RepoUrlPicker` offers.
    pub fn hosts(&self) -> impl Iterator<Item = &str> + '_ {
        self.hosts.iter().map(|h| h.host.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The hosts, as configured.
    pub fn list(&self) -> &[GitHost] {
        &self.hosts
    }
}

/// `github.com`, `git.example.test:8443`: letters, digits, dots and dashes, and an
/// optional port.
fn is_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    name_ok && port_ok
}

/// An owner or repository name as it may go into a push URL: letters, digits, `.`, `_`
/// and `-`, and not `.` or `..`. That keeps it one path segment that means itself, in
/// a `file://` path as in an http URL.
pub fn check_name(what: &str, value: &str) -> Result<(), String> {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if value.is_empty() || !plain || value == "." || value == ".." {
        Err(format!(
            "{what} {value:?}: must be letters, digits, '.', '_' or '-' (and not \".\" or \"..\")"
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// repoUrl

/// Backstage's `repoUrl` (what `RepoUrlPicker` produces): `host?owner=o&repo=r`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepoUrl {
    /// Lowercased.
    pub host: String,
    pub owner: String,
    pub repo: String,
}

impl RepoUrl {
    /// Reads `host?owner=o&repo=r`.
    ///
    /// Backstage's providers name the namespace differently: GitHub and GitLab
    /// `owner`, Bitbucket Cloud `workspace` (with a `project` beside it), Azure DevOps
    /// `organization` (with a `project`), Bitbucket Server `project`. Portico has one
    /// namespace level, so the owner is the first given of `owner`, `workspace`,
    /// `organization`, `project`; the others are ignored. An owner must be a plain name
    /// ([`check_name`]), so GitLab's nested groups (`group/sub`) are refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        let fail = |why: String| format!("repoUrl {s:?}: {why}");
        let Some((host, query)) = s.trim().split_once('?') else {
            return Err(fail("missing ?owner=…&repo=…".into()));
        };
        if host.is_empty() {
            return Err(fail("missing the host before '?'".into()));
        }
        if !is_host(host) {
            return Err(fail(format!("{host:?} is not a host name like github.com")));
        }
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        // The first non-empty value, as Backstage's `searchParams.get` with its
        // truthiness check reads it.
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| value.clone())
        };
        let repo = param("repo").ok_or_else(|| fail("missing repo".into()))?;
        let owner = ["owner", "workspace", "organization", "project"]
            .into_iter()
            .find_map(param)
            .ok_or_else(|| fail("missing owner (or workspace, organization, project)".into()))?;
        check_name("owner", &owner).map_err(fail)?;
        check_name("repo", &repo).map_err(fail)?;
        Ok(Self {
            host: host.to_ascii_lowercase(),
            owner,
            repo,
        })
    }
}

impl fmt::Display for RepoUrl {
    /// The canonical form, `host?owner=o&repo=r` (the names need no escaping).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}?owner={}&repo={}", self.host, self.owner, self.repo)
    }
}

impl std::str::FromStr for RepoUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

// ---------------------------------------------------------------------------------
// Publishing

/// What to publish and how the first commit reads.
#[derive(Clone, Copy, Debug)]
pub struct PublishRequest<'a> {
    /// The directory whose contents become the repository (`.gitignore` files in it
    /// are honoured, as Backstage's publishers honour them).
    pub source_dir: &'a Path,
    pub default_branch: &'a str,
    pub commit_message: &'a str,
    /// Author and committer of the first commit.
    pub author_name: &'a str,
    pub author_email: &'a str,
    /// Written to a file repository's `description` (what gitweb and cgit show); http
    /// hosts have no generic way to set it, so there it is not used.
    pub description: Option<&'a str>,
}

/// A repository that was published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Published {
    /// The push URL with owner and repository filled in; for a file host, the bare
    /// repository's `file://` URL.
    pub remote_url: String,
    /// [`contents_url`]: where the repository's files are, in the form Backstage's
    /// `repoContentsUrl` output has; [`split_contents_url`] reads it back.
    pub repo_contents_url: String,
    /// The first commit.
    pub commit_hash: String,
}

/// What can go wrong publishing or reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The request breaks a rule: a name that is not plain, a bad branch name, a host
    /// other than the repoUrl's, a source that is not a directory.
    #[error("{0}")]
    Invalid(String),
    /// Something already exists where a file host's new repository would go. Portico
    /// never writes over it.
    #[error("{}: a repository (or other file) already exists there", .0.display())]
    AlreadyExists(PathBuf),
    /// The repository has no such branch.
    #[error("the repository has no branch {branch:?}")]
    BranchNotFound { branch: String },
    /// The branch has no file at this path (or it is a directory).
    #[error("{path}: no such file in the repository")]
    FileNotFound { path: String },
    /// A git command failed. `command` is the command as run, less the options that
    /// only set up its environment; `stderr` is git's message, shortened, with any
    /// token replaced.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    /// A git command ran longer than it may and was stopped.
    #[error("`{command}` did not finish within {} seconds", .after.as_secs())]
    Timeout { command: String, after: Duration },
    /// Starting git or working with the file system failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl GitError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// Publishes `request.source_dir` as a new repository `repo` on `host`: one commit on
/// `request.default_branch`.
///
/// On a `file://` host the bare repository is built beside its final place and moved
/// there in one rename, which succeeds only while the place is free (missing or an
/// empty directory): a concurrent publish of the same name, or an existing repository,
/// gets [`GitError::AlreadyExists`], and readers never see a half-made repository.
/// On an http(s) host the commit is pushed, unforced, to the URL, with the host's
/// token; the server must accept a push there.
pub async fn publish(
    host: &GitHost,
    repo: &RepoUrl,
    request: PublishRequest<'_>,
) -> Result<Published, GitError> {
    if !repo.host.eq_ignore_ascii_case(&host.host) {
        return Err(GitError::Invalid(format!(
            "repoUrl {repo} is not on host {}",
            host.host
        )));
    }
    let branch = request.default_branch;
    check_branch(branch)?;
    if branch.contains('/') {
        // A contents URL names the branch as one segment; `a/b` could not be read back.
        return Err(GitError::Invalid(format!(
            "default branch {branch:?}: must not contain '/' for Portico to read the repository back"
        )));
    }
    check_person(request.author_name, request.author_email)?;
    if request.commit_message.trim().is_empty() {
        return Err(GitError::Invalid("the commit message is empty".into()));
    }
    let remote_url = host.remote_url(repo).map_err(GitError::Invalid)?;
    let url = remote(&remote_url)?;
    let source_dir = request.source_dir.to_owned();
    let source = blocking(move || {
        let source = source_dir
            .canonicalize()
            .map_err(GitError::io(source_dir.display().to_string()))?;
        if source.is_dir() {
            Ok(source)
        } else {
            Err(GitError::Invalid(format!(
                "{}: not a directory",
                source_dir.display()
            )))
        }
    })
    .await?;

    let git = Git::new(host.token.as_deref(), &url)?;
    let target = match url.scheme() {
        "file" => {
            let path = file_path(&url)?;
            let checked = path.clone();
            blocking(move || ensure_free(&checked)).await?;
            Some(path)
        }
        _ => None,
    };
    let work = git.scratch("work.git");
    let commit_hash = git.commit(&work, &source, &request).await?;
    match target {
        Some(path) => publish_to_path(&git, &work, &path, &request).await?,
        None => {
            git.run(
                GitCommand::new()
                    .git_dir(&work)
                    .args(["push", "--quiet", "--", &remote_url])
                    .arg(format!("HEAD:refs/heads/{branch}")),
            )
            .await?;
            if request.description.is_some() {
                debug!(remote = %remote_url, "description not set: http git hosts have no generic way to set it");
            }
        }
    }
    debug!(remote = %remote_url, commit = %commit_hash, "published a repository");
    Ok(Published {
        repo_contents_url: contents_url(&remote_url, branch),
        remote_url,
        commit_hash,
    })
}

/// Builds the bare repository at a free name beside `target`, pushes the commit into
/// it, and renames it to `target`.
async fn publish_to_path(
    git: &Git,
    work: &Path,
    target: &Path,
    request: &PublishRequest<'_>,
) -> Result<(), GitError> {
    let branch = request.default_branch;
    let staging_target = target.to_owned();
    let staging = blocking(move || Staging::beside(&staging_target)).await?;
    git.run(
        GitCommand::new()
            .args(["init", "--quiet", "--bare", "--template="])
            .arg(format!("--initial-branch={branch}"))
            .arg(staging.path()),
    )
    .await?;
    git.run(
        GitCommand::new()
            .git_dir(work)
            .args(["push", "--quiet", "--"])
            .arg(staging.path())
            .arg(format!("HEAD:refs/heads/{branch}")),
    )
    .await?;
    let description = request.description.map(|d| format!("{}\n", d.trim_end()));
    let target = target.to_owned();
    blocking(move || {
        if let Some(description) = description {
            let file = staging.path().join("description");
            std::fs::write(&file, description).map_err(GitError::io(file.display().to_string()))?;
        }
        staging.commit(&target)
    })
    .await
}

/// `{remote_url}/blob/{branch}`: where a repository's files are, as
/// [`Published::repo_contents_url`] has it (and a dry run reports it). The remote URL
/// keeps its `.git`, so that [`split_contents_url`] gives back a URL git can read.
pub fn contents_url(remote_url: &str, branch: &str) -> String {
    format!("{remote_url}/blob/{branch}")
}

/// `{remote_url}/blob/{branch}/{path}` (as [`Published::repo_contents_url`] and the
/// catalog write them) split into remote URL, branch and path inside the repository
/// (empty for the repository's root).
///
/// Split at the first `.git/blob/` when there is one, since remote URLs usually end in
/// `.git` and the path may itself hold a `blob` directory; otherwise at the last
/// `/blob/`. A branch is one segment (Portico does not publish branches with `/`).
pub fn split_contents_url(url: &str) -> Option<(String, String, String)> {
    let at = match url.find(".git/blob/") {
        Some(i) => i + ".git".len(),
        None => url.rfind("/blob/")?,
    };
    let remote = &url[..at];
    let rest = &url[at + "/blob/".len()..];
    let (branch, path) = rest.split_once('/').unwrap_or((rest, ""));
    if remote.is_empty() || branch.is_empty() {
        return None;
    }
    Some((
        remote.to_owned(),
        branch.to_owned(),
        path.trim_start_matches('/').to_owned(),
    ))
}

/// The file at `path` on `branch` of the repository at `remote_url` (a
/// [`Published::remote_url`]): read straight from a `file://` bare repository, or from
/// a shallow clone of an http(s) one, with `token` as for publishing.
///
/// `remote_url` must be one Portico published or a configured host's: a `file://` URL
/// names a directory on this machine.
pub async fn read_file(
    remote_url: &str,
    branch: &str,
    path: &str,
    token: Option<&str>,
) -> Result<Vec<u8>, GitError> {
    let url = remote(remote_url)?;
    check_branch(branch)?;
    let inner = repository_path(path)?;
    let git = Git::new(token, &url)?;
    // Git is given the URL as parsed, so what it fetches is what was checked.
    let remote_url = url.as_str();
    let git_dir = if url.scheme() == "file" {
        file_path(&url)?
    } else {
        let found = git
            .succeeds(
                GitCommand::new()
                    .args([
                        "ls-remote",
                        "--quiet",
                        "--exit-code",
                        "--heads",
                        "--",
                        remote_url,
                    ])
                    .arg(format!("refs/heads/{branch}")),
                2,
            )
            .await?;
        if !found {
            return Err(GitError::BranchNotFound {
                branch: branch.to_owned(),
            });
        }
        let clone = git.scratch("clone.git");
        git.run(
            GitCommand::new()
                .args([
                    "clone", "--quiet", "--bare", "--depth", "1", "--branch", branch,
                ])
                .args(["--", remote_url])
                .arg(&clone),
        )
        .await?;
        clone
    };
    let in_repo = |args: &[&str]| {
        GitCommand::new()
            .git_dir(&git_dir)
            .args(args.iter().copied())
    };

    let commit = format!("refs/heads/{branch}^{{commit}}");
    if !git
        .succeeds(in_repo(&["rev-parse", "--verify", "--quiet", &commit]), 1)
        .await?
    {
        return Err(GitError::BranchNotFound {
            branch: branch.to_owned(),
        });
    }
    let not_found = || GitError::FileNotFound {
        path: path.to_owned(),
    };
    let object = format!("refs/heads/{branch}:{inner}");
    let output = git
        .output(in_repo(&["rev-parse", "--verify", "--quiet", &object]), 1)
        .await?
        .ok_or_else(not_found)?;
    let oid = String::from_utf8_lossy(&output).trim().to_owned();
    let kind = git.run(in_repo(&["cat-file", "-t", &oid])).await?;
    if kind.trim_ascii() != b"blob" {
        return Err(not_found());
    }
    git.run(in_repo(&["cat-file", "blob", &oid])).await
}

/// `path` as a path inside a repository's tree: `./a/b`, `/a/b` and `a//b` are `a/b`.
fn repository_path(path: &str) -> Result<String, GitError> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") || path.contains('\0') {
        return Err(GitError::Invalid(format!(
            "{:?}: not a file's path inside a repository",
            path
        )));
    }
    Ok(parts.join("/"))
}

/// A remote URL Portico will hand to git: file, http or https, without credentials.
/// Other schemes would let git run programs (`ext::`) or reach hosts nobody configured.
fn remote(remote_url: &str) -> Result<Url, GitError> {
    let url = Url::parse(remote_url)
        .map_err(|e| GitError::Invalid(format!("{remote_url:?}: not a URL: {e}")))?;
    if !matches!(url.scheme(), "file" | "http" | "https") {
        return Err(GitError::Invalid(format!(
            "{remote_url:?}: only file, http and https repositories are supported"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GitError::Invalid(
            "a repository URL must not hold credentials".into(),
        ));
    }
    Ok(url)
}

fn file_path(url: &Url) -> Result<PathBuf, GitError> {
    url.to_file_path()
        .map_err(|()| GitError::Invalid(format!("{url}: not a path on this machine")))
}

/// A branch name git accepts and that cannot be mistaken for an option or a revision
/// expression: git's own rules (`git check-ref-format --branch`), without a run of git.
fn check_branch(branch: &str) -> Result<(), GitError> {
    let bad = branch.is_empty()
        || branch.starts_with(['-', '/', '.'])
        || branch.ends_with(['/', '.'])
        || branch.ends_with(".lock")
        || branch == "@"
        || branch == "HEAD"
        || branch.contains("..")
        || branch.contains("//")
        || branch.contains("@{")
        || branch.contains("/.")
        || branch.contains(".lock/")
        || branch.chars().any(|c| {
            c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if bad {
        Err(GitError::Invalid(format!(
            "branch {branch:?}: not a valid git branch name"
        )))
    } else {
        Ok(())
    }
}

/// A commit's author as git would record it without mangling: git drops `<`, `>` and
/// line breaks, which would silently change who the commit names.
fn check_person(name: &str, email: &str) -> Result<(), GitError> {
    for (what, value) in [("author name", name), ("author email", email)] {
        if value.trim().is_empty() {
            return Err(GitError::Invalid(format!("the {what} is empty")));
        }
        if value
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>')
        {
            return Err(GitError::Invalid(format!(
                "the {what} {value:?} holds '<', '>' or a control character"
            )));
        }
    }
    Ok(())
}

/// Fails unless `path` is missing or an empty directory: a repository, or anything
/// else, already there is someone's and stays as it is.
fn ensure_free(path: &Path) -> Result<(), GitError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(GitError::io(path.display().to_string())(e)),
        Ok(meta) if meta.is_dir() => {
            let mut entries =
                std::fs::read_dir(path).map_err(GitError::io(path.display().to_string()))?;
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(GitError::AlreadyExists(path.to_owned()))
            }
        }
        Ok(_) => Err(GitError::AlreadyExists(path.to_owned())),
    }
}

/// A new directory beside a file host's repository, removed on drop unless
/// [`commit`](Self::commit)ted into place. It is in the same directory so that the
/// final rename stays on one file system (and so is atomic).
struct Staging {
    path: Option<PathBuf>,
}

impl Staging {
    fn beside(target: &Path) -> Result<Self, GitError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
            return Err(GitError::Invalid(format!(
                "{}: not a place for a repository",
                target.display()
            )));
        };
        std::fs::create_dir_all(parent).map_err(GitError::io(parent.display().to_string()))?;
        loop {
            let mut staged = OsString::from(".");
            staged.push(name);
            staged.push(format!(
                ".portico-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let path = parent.join(staged);
            // `create_dir`, not `tempfile`: the repository keeps this directory's mode,
            // which must follow the umask like any other repository on the host rather
            // than be private to Portico.
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path: Some(path) }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(GitError::io(path.display().to_string())(e)),
            }
        }
    }

    fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("a staging directory not yet committed")
    }

    /// Renames the staging directory to `target`. `rename` replaces an empty directory
    /// and refuses a non-empty one, so of two publishes of one name only one succeeds.
    fn commit(mut self, target: &Path) -> Result<(), GitError> {
        let path = self
            .path
            .take()
            .expect("a staging directory not yet committed");
        match std::fs::rename(&path, target) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.path = Some(path);
                match e.kind() {
                    io::ErrorKind::DirectoryNotEmpty
                    | io::ErrorKind::AlreadyExists
                    | io::ErrorKind::NotADirectory
                    | io::ErrorKind::IsADirectory => {
                        Err(GitError::AlreadyExists(target.to_owned()))
                    }
                    _ => Err(GitError::io(target.display().to_string())(e)),
                }
            }
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            if let Err(e) = std::fs::remove_dir_all(path) {
                warn!(path = %path.display(), error = %e, "could not remove a staging repository");
            }
        }
    }
}

/// Runs `work` on the blocking pool: file-system calls stall the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, GitError> + Send + 'static,
) -> Result<T, GitError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| GitError::Io {
            context: "a file-system task".into(),
            source: io::Error::other(e),
        })?
}

// ---------------------------------------------------------------------------------
// Running git

/// Variables kept from Portico's own environment: where to find git, and how this
/// machine reaches the network (proxies, a company CA). Everything else is dropped, so
/// `GIT_DIR`, `GIT_CONFIG_*`, `XDG_CONFIG_HOME` and friends cannot redirect or
/// reconfigure a run.
const KEPT_VARIABLES: &[&str] = &[
    "PATH",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
];

/// The git commands of one publish or read: a private scratch directory (the `HOME`
/// git sees, and room for working repositories), and the token, if any, for the one
/// remote they talk to.
struct Git {
    scratch: tempfile::TempDir,
    /// `(config key, header)`: `http.<origin>/.extraHeader`, so the credentials go to
    /// the configured server only, never to another host a redirect names.
    auth: Option<(String, String)>,
    token: Option<String>,
}

impl Git {
    fn new(token: Option<&str>, remote: &Url) -> Result<Self, GitError> {
        let scratch = tempfile::Builder::new()
            .prefix("portico-git-")
            .tempdir()
            .map_err(GitError::io("creating a temporary directory for git"))?;
        std::fs::create_dir(scratch.path().join("home"))
            .map_err(GitError::io("creating a temporary directory for git"))?;
        let auth = match (token, remote.scheme()) {
            (Some(token), "http" | "https") => Some((
                format!(
                    "http.{}/.extraHeader",
                    remote.origin().ascii_serialization()
                ),
                format!("Authorization: Basic {}", basic_credentials(token)),
            )),
            _ => None,
        };
        Ok(Self {
            scratch,
            auth,
            token: token.map(str::to_owned),
        })
    }

    fn scratch(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// Commits `source`'s contents in the new repository `work`; returns the commit's
    /// hash. `work` is bare and `source` is only its work tree, so nothing is written
    /// into the task's workspace, and a `.git` that a skeleton left in it (with hooks
    /// or a config that runs programs) is never read.
    async fn commit(
        &self,
        work: &Path,
        source: &Path,
        request: &PublishRequest<'_>,
    ) -> Result<String, GitError> {
        let branch = request.default_branch;
        self.run(
            GitCommand::new()
                .args(["init", "--quiet", "--bare", "--template="])
                .arg(format!("--initial-branch={branch}"))
                .arg(work),
        )
        .await?;
        self.run(
            GitCommand::new()
                .git_dir(work)
                .work_tree(source)
                .args(["add", "--all"]),
        )
        .await?;
        self.run(
            GitCommand::new()
                .git_dir(work)
                .work_tree(source)
                .config("user.name", request.author_name)
                .config("user.email", request.author_email)
                // An empty workspace still makes a repository, as in Backstage.
                .args(["commit", "--quiet", "--allow-empty", "--no-verify", "-m"])
                .arg(request.commit_message),
        )
        .await?;
        let head = self
            .run(GitCommand::new().git_dir(work).args(["rev-parse", "HEAD"]))
            .await?;
        Ok(String::from_utf8_lossy(&head).trim().to_owned())
    }

    /// Runs `command`; its stdout when it succeeds.
    async fn run(&self, command: GitCommand) -> Result<Vec<u8>, GitError> {
        let (description, status, output) = self.spawn(command).await?;
        if status.success() {
            Ok(output.stdout)
        } else {
            Err(self.failed(description, status, &output.stderr))
        }
    }

    /// Runs a command that answers a question with its exit status: its stdout when it
    /// exits 0, `None` when it exits with `no` (`--verify --quiet`'s "no such object"),
    /// an error otherwise.
    async fn output(&self, command: GitCommand, no: i32) -> Result<Option<Vec<u8>>, GitError> {
        let (description, status, output) = self.spawn(command).await?;
        match status.code() {
            Some(0) => Ok(Some(output.stdout)),
            Some(code) if code == no => Ok(None),
            _ => Err(self.failed(description, status, &output.stderr)),
        }
    }

    async fn succeeds(&self, command: GitCommand, no: i32) -> Result<bool, GitError> {
        Ok(self.output(command, no).await?.is_some())
    }

    async fn spawn(
        &self,
        command: GitCommand,
    ) -> Result<(String, ExitStatus, std::process::Output), GitError> {
        let description = redact(&command.describe(), self.token.as_deref());
        let mut cmd = Command::new("git");
        cmd.env_clear();
        for name in KEPT_VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        let home = self.scratch("home");
        cmd.env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ALLOW_PROTOCOL", "file:http:https")
            // Repository discovery never climbs out of the scratch directory into a
            // `.git` someone else left in a parent.
            .env(
                "GIT_CEILING_DIRECTORIES",
                self.scratch.path().parent().unwrap_or(Path::new("/")),
            )
            .env("GIT_ADVICE", "0")
            .env("LC_ALL", "C");
        if let Some((key, header)) = &self.auth {
            // In the environment rather than `-c`: arguments are visible to every
            // user of the machine (`ps`), a process's environment only to its owner.
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", key)
                .env("GIT_CONFIG_VALUE_0", header);
        }
        cmd.args(["-c", "init.defaultBranch=main"])
            .args(["-c", "commit.gpgsign=false"])
            .args(["-c", "core.autocrlf=false"])
            .args(command.global)
            .args(command.args)
            .current_dir(self.scratch.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A timed-out command is dropped, and with it killed.
            .kill_on_drop(true);
        debug!(command = %description, "running git");
        let output = match tokio::time::timeout(GIT_TIMEOUT, cmd.output()).await {
            Err(_) => {
                return Err(GitError::Timeout {
                    command: description,
                    after: GIT_TIMEOUT,
                })
            }
            Ok(Err(e)) => {
                return Err(GitError::Io {
                    context: format!("running `{description}`"),
                    source: e,
                })
            }
            Ok(Ok(output)) => output,
        };
        Ok((description, output.status, output))
    }

    fn failed(&self, command: String, status: ExitStatus, stderr: &[u8]) -> GitError {
        GitError::Failed {
            command,
            status: status.to_string(),
            stderr: summarize(stderr, self.token.as_deref()),
        }
    }
}

/// A git command line: options before the subcommand, which are not shown in errors
/// (they name temporary directories or set values already validated), and the rest.
#[derive(Default)]
struct GitCommand {
    global: Vec<OsString>,
    args: Vec<OsString>,
}

impl GitCommand {
    fn new() -> Self {
        Self::default()
    }

    fn git_dir(mut self, dir: &Path) -> Self {
        let mut option = OsString::from("--git-dir=");
        option.push(dir);
        self.global.push(option);
        self
    }

    fn work_tree(mut self, dir: &Path) -> Self {
        let mut option = OsString::from("--work-tree=");
        option.push(dir);
        self.global.push(option);
        self
    }

    fn config(mut self, key: &str, value: &str) -> Self {
        self.global.push("-c".into());
        self.global.push(format!("{key}={value}").into());
        self
    }

    fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    fn describe(&self) -> String {
        let mut out = String::from("git");
        for arg in &self.args {
            out.push(' ');
            out.push_str(&arg.to_string_lossy());
        }
        out
    }
}

/// git's stderr for an error message: trimmed, with `token` (and the credentials made
/// from it) replaced, and cut to its last [`STDERR_LIMIT`] bytes, where git puts the
/// line that says what failed.
fn summarize(stderr: &[u8], token: Option<&str>) -> String {
    let text = redact(String::from_utf8_lossy(stderr).trim(), token);
    if text.len() <= STDERR_LIMIT {
        return text;
    }
    let mut start = text.len() - STDERR_LIMIT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// `text` with every occurrence of `token`, and of the basic credentials built from
/// it, replaced by `[redacted]`.
fn redact(text: &str, token: Option<&str>) -> String {
    match token {
        Some(token) if !token.is_empty() => text
            .replace(&basic_credentials(token), REDACTED)
            .replace(token, REDACTED),
        _ => text.to_owned(),
    }
}

/// The base64 of `x-access-token:<token>`, as an `Authorization: Basic` header holds it.
fn basic_credentials(token: &str) -> String {
    base64(format!("{TOKEN_USER}:{token}").as_bytes())
}

/// Standard base64 with padding (RFC 4648), for the one header that needs it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- hosts

    #[test]
    fn hosts_parse_from_the_environment_form() {
        let hosts = GitHosts::parse(
            " git.example.test=file:///srv/git/{owner}/{repo}.git,GitHub.com=https://github.com/{owner}/{repo}.git\n\
             local:8443=http://127.0.0.1:8443/{repo} ,, ",
        )
        .unwrap();
        assert_eq!(
            hosts.hosts().collect::<Vec<_>>(),
            ["git.example.test", "github.com", "local:8443"]
        );
        assert!(!hosts.is_empty());
        let github = hosts.get("GITHUB.com").unwrap();
        assert_eq!(github.push_url, "https://github.com/{owner}/{repo}.git");
        assert_eq!(github.token, None);
        assert!(hosts.get("gitlab.com").is_none());
        assert_eq!(
            hosts
                .get("git.example.test")
                .unwrap()
                .remote_url(&RepoUrl::parse("git.example.test?owner=team&repo=svc").unwrap())
                .unwrap(),
            "file:///srv/git/team/svc.git"
        );

        assert!(GitHosts::parse("").unwrap().is_empty());
        assert!(GitHosts::parse(" , \n").unwrap().is_empty());
        assert!(GitHosts::default().is_empty());
    }

    #[test]
    fn bad_host_items_are_refused_with_the_item_and_the_reason() {
        for (value, message) in [
            (
                "git.example.test",
                "\"git.example.test\": missing '=' between the host and its push URL template",
            ),
            (
                "=file:///srv/{repo}",
                "\"=file:///srv/{repo}\": missing the host before '='",
            ),
            (
                "https://github.com=https://github.com/{repo}",
                "\"https://github.com\" is not a host name like github.com",
            ),
            (
                "h=file:///srv/git/{owner}.git",
                "h: push URL \"file:///srv/git/{owner}.git\": has no {repo} placeholder",
            ),
            (
                "h=not-a-url/{repo}",
                "h: push URL \"not-a-url/{repo}\": not a URL: relative URL without a base",
            ),
            (
                "h=ssh://git@h/{owner}/{repo}.git",
                "h: push URL \"ssh://git@h/{owner}/{repo}.git\": scheme \"ssh\" is not supported (file, http or https)",
            ),
            (
                "h=https://me:secret@h/{repo}",
                "h: push URL \"https://me:secret@h/{repo}\": credentials do not belong in the URL: give the host a token",
            ),
            (
                "h=https://h/{org}/{repo}",
                "h: push URL \"https://h/{org}/{repo}\": only {owner} and {repo} are replaced",
            ),
            (
                "h=file://server/srv/{repo}",
                "h: push URL \"file://server/srv/{repo}\": a file URL names a path on this machine (file:///srv/git/…)",
            ),
            (
                "a.test=file:///a/{repo},A.TEST=file:///b/{repo}",
                "a.test: configured twice",
            ),
        ] {
            assert_eq!(GitHosts::parse(value).unwrap_err(), message, "{value}");
        }
    }

    #[test]
    fn configured_hosts_are_checked_the_same_way_and_tokens_too() {
        let host = |token: Option<&str>| GitHost {
            host: "Git.Example.Test".into(),
            push_url: "https://git.example.test/{owner}/{repo}.git".into(),
            token: token.map(str::to_owned),
        };
        let hosts = GitHosts::new(vec![host(Some("s3cret"))]).unwrap();
        assert_eq!(hosts.hosts().collect::<Vec<_>>(), ["git.example.test"]);
        assert_eq!(
            hosts.get("git.example.test").unwrap().token.as_deref(),
            Some("s3cret")
        );
        assert!(!format!("{hosts:?}").contains("s3cret"));

        assert_eq!(
            GitHosts::new(vec![host(Some(""))]).unwrap_err(),
            "git.example.test: the token is empty"
        );
        assert_eq!(
            GitHosts::new(vec![host(Some("a\r\nX-Evil: 1"))]).unwrap_err(),
            "git.example.test: the token contains a line break"
        );
        assert_eq!(
            GitHosts::new(vec![host(None), host(None)]).unwrap_err(),
            "git.example.test: configured twice"
        );
    }

    #[test]
    fn only_plain_names_are_substituted() {
        let host = GitHost {
            host: "h".into(),
            push_url: "file:///srv/git/{owner}/{repo}.git".into(),
            token: None,
        };
        // Built by hand, as a caller could: `remote_url` does not rely on `parse`.
        let url = |owner: &str, repo: &str| {
            host.remote_url(&RepoUrl {
                host: "h".into(),
                owner: owner.into(),
                repo: repo.into(),
            })
        };
        for (owner, repo) in [("team", "svc"), ("a.b_c-d", "x.y"), ("A1", "...")] {
            assert!(url(owner, repo).is_ok(), "{owner}/{repo}");
        }
        for (owner, repo) in [
            ("..", "r"),
            (".", "r"),
            ("o", ".."),
            ("a/b", "r"),
            ("o", "../../etc"),
            ("", "r"),
            ("o", ""),
            ("o", "r r"),
            ("o", "%2e%2e"),
            ("o", "r?x=1"),
            ("o", "{owner}"),
            ("ü", "r"),
        ] {
            assert!(url(owner, repo).is_err(), "{owner:?}/{repo:?}");
        }
        assert_eq!(
            url("..", "r").unwrap_err(),
            "owner \"..\": must be letters, digits, '.', '_' or '-' (and not \".\" or \"..\")"
        );
    }

    // ---- repoUrl

    #[test]
    fn repo_urls_parse_in_each_providers_form() {
        for (input, host, owner, repo) in [
            ("github.com?owner=o&repo=r", "github.com", "o", "r"),
            ("GitHub.com?repo=r&owner=o", "github.com", "o", "r"),
            (
                "gitlab.com?owner=group&repo=svc.api",
                "gitlab.com",
                "group",
                "svc.api",
            ),
            (
                "bitbucket.org?workspace=w&project=P&repo=r",
                "bitbucket.org",
                "w",
                "r",
            ),
            (
                "dev.azure.com?organization=org&project=p&repo=r",
                "dev.azure.com",
                "org",
                "r",
            ),
            (
                "bitbucket.example.test?project=PRJ&repo=r",
                "bitbucket.example.test",
                "PRJ",
                "r",
            ),
            ("h?owner=o&workspace=w&repo=r", "h", "o", "r"),
            ("h?owner=&workspace=w&repo=r", "h", "w", "r"),
            (
                "git.example.test:8443?owner=my%2Dteam&repo=r",
                "git.example.test:8443",
                "my-team",
                "r",
            ),
            ("h?owner=o&repo=r&repo=second", "h", "o", "r"),
        ] {
            let parsed = RepoUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                parsed,
                RepoUrl {
                    host: host.into(),
                    owner: owner.into(),
                    repo: repo.into()
                },
                "{input}"
            );
        }
        let parsed: RepoUrl = "GitHub.com?repo=r&owner=o".parse().unwrap();
        assert_eq!(parsed.to_string(), "github.com?owner=o&repo=r");
        assert_eq!(RepoUrl::parse(&parsed.to_string()).unwrap(), parsed);
    }

    #[test]
    fn bad_repo_urls_say_what_is_missing() {
        for (input, message) in [
            ("github.com", "repoUrl \"github.com\": missing ?owner=…&repo=…"),
            ("", "repoUrl \"\": missing ?owner=…&repo=…"),
            ("?owner=o&repo=r", "repoUrl \"?owner=o&repo=r\": missing the host before '?'"),
            (
                "https://github.com?owner=o&repo=r",
                "repoUrl \"https://github.com?owner=o&repo=r\": \"https://github.com\" is not a host name like github.com",
            ),
            ("h?owner=o", "repoUrl \"h?owner=o\": missing repo"),
            ("h?owner=o&repo=", "repoUrl \"h?owner=o&repo=\": missing repo"),
            (
                "h?repo=r",
                "repoUrl \"h?repo=r\": missing owner (or workspace, organization, project)",
            ),
            (
                "h?owner=..&repo=r",
                "repoUrl \"h?owner=..&repo=r\": owner \"..\": must be letters, digits, '.', '_' or '-' (and not \".\" or \"..\")",
            ),
            (
                "h?owner=group/sub&repo=r",
                "repoUrl \"h?owner=group/sub&repo=r\": owner \"group/sub\": must be letters, digits, '.', '_' or '-' (and not \".\" or \"..\")",
            ),
            (
                "h?owner=o&repo=%2E%2E%2Fx",
                "repoUrl \"h?owner=o&repo=%2E%2E%2Fx\": repo \"../x\": must be letters, digits, '.', '_' or '-' (and not \".\" or \"..\")",
            ),
        ] {
            assert_eq!(RepoUrl::parse(input).unwrap_err(), message, "{input}");
        }
    }

    // ---- contents URLs, names, redaction

    #[test]
    fn contents_urls_split_back_into_remote_branch_and_path() {
        let split = split_contents_url;
        let some = |r: &str, b: &str, p: &str| Some((r.into(), b.into(), p.into()));
        assert_eq!(
            split("file:///srv/git/o/r.git/blob/main"),
            some("file:///srv/git/o/r.git", "main", "")
        );
        assert_eq!(
            split("file:///srv/git/o/r.git/blob/main/"),
            some("file:///srv/git/o/r.git", "main", "")
        );
        assert_eq!(
            split("file:///srv/git/o/r.git/blob/main/catalog-info.yaml"),
            some("file:///srv/git/o/r.git", "main", "catalog-info.yaml")
        );
        assert_eq!(
            split("https://h/o/r.git/blob/trunk/src/blob/x.rs"),
            some("https://h/o/r.git", "trunk", "src/blob/x.rs")
        );
        assert_eq!(
            split("https://h/o/r.git/blob/blob/x"),
            some("https://h/o/r.git", "blob", "x")
        );
        assert_eq!(
            split("https://h/blob/r/blob/main/a.yaml"),
            some("https://h/blob/r", "main", "a.yaml")
        );
        assert_eq!(split("https://h/o/r.git"), None);
        assert_eq!(split("https://h/o/r.git/blob/"), None);
        assert_eq!(split("/blob/main"), None);

        let published = contents_url("file:///srv/git/o/r.git", "main");
        assert_eq!(published, "file:///srv/git/o/r.git/blob/main");
        assert_eq!(
            split_contents_url(&format!("{published}/catalog-info.yaml")).unwrap(),
            (
                "file:///srv/git/o/r.git".into(),
                "main".into(),
                "catalog-info.yaml".into()
            )
        );
    }

    #[test]
    fn branch_names_follow_gits_rules() {
        for good in [
            "main",
            "master",
            "trunk",
            "release-1.2",
            "feature/x",
            "v1_0",
        ] {
            assert!(check_branch(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-main",
            "--upload-pack=x",
            "a..b",
            "a b",
            "a:b",
            "a~1",
            "a^",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a/",
            "/a",
            "a//b",
            ".a",
            "a/.b",
            "a.",
            "a.lock",
            "a.lock/b",
            "@",
            "a@{1}",
            "HEAD",
            "a\nb",
            "a\0b",
        ] {
            assert!(check_branch(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_never_survive_into_messages() {
        let token = "ghp_s3cret";
        let header = basic_credentials(token);
        let stderr = format!(
            "fatal: unable to access 'https://x-access-token:{token}@h/o/r.git/': 401\n\
             > Authorization: Basic {header}\n"
        );
        let summary = summarize(stderr.as_bytes(), Some(token));
        assert!(!summary.contains(token), "{summary}");
        assert!(!summary.contains(&header), "{summary}");
        assert_eq!(
            summary,
            "fatal: unable to access 'https://x-access-token:[redacted]@h/o/r.git/': 401\n\
             > Authorization: Basic [redacted]"
        );
        assert_eq!(redact("nothing here", Some(token)), "nothing here");
        assert_eq!(redact("ghp_s3cret", None), "ghp_s3cret");
        assert_eq!(redact("x", Some("")), "x");
    }

    #[test]
    fn long_stderr_keeps_its_end() {
        let long = format!("{}\nfatal: the reason", "é".repeat(3000));
        let summary = summarize(long.as_bytes(), None);
        assert!(summary.starts_with('…'));
        assert!(summary.ends_with("fatal: the reason"));
        assert!(summary.len() <= STDERR_LIMIT + '…'.len_utf8());
        assert_eq!(summarize(b"  short\n", None), "short");
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
        assert_eq!(basic_credentials("t"), "eC1hY2Nlc3MtdG9rZW46dA==");
    }

    // ---- publishing with real git

    struct Fixture {
        dir: tempfile::TempDir,
        host: GitHost,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("repos");
            let host = GitHost {
                host: "git.example.test".into(),
                push_url: format!(
                    "{}/{{owner}}/{{repo}}.git",
                    Url::from_directory_path(&root)
                        .unwrap()
                        .as_str()
                        .trim_end_matches('/')
                ),
                token: None,
            };
            let host = GitHosts::new(vec![host])
                .unwrap()
                .get("git.example.test")
                .unwrap()
                .clone();
            Self { dir, host }
        }

        fn source(&self, files: &[(&str, &str)]) -> PathBuf {
            let source = self.dir.path().join("workspace");
            for (path, contents) in files {
                let file = source.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, contents).unwrap();
            }
            std::fs::create_dir_all(&source).unwrap();
            source
        }

        fn bare(&self, owner: &str, repo: &str) -> PathBuf {
            self.dir
                .path()
                .join("repos")
                .join(owner)
                .join(format!("{repo}.git"))
        }
    }

    fn repo(owner: &str, name: &str) -> RepoUrl {
        RepoUrl::parse(&format!("git.example.test?owner={owner}&repo={name}")).unwrap()
    }

    fn request<'a>(source: &'a Path, branch: &'a str) -> PublishRequest<'a> {
        PublishRequest {
            source_dir: source,
            default_branch: branch,
            commit_message: "Initial commit from Portico",
            author_name: "Ada Lovelace",
            author_email: "ada@example.test",
            description: Some("The payments service"),
        }
    }

    /// git as a person would run it on the result, outside Portico's wrapper.
    fn inspect(git_dir: &Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .arg(format!("--git-dir={}", git_dir.display()))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    #[tokio::test]
    async fn publish_creates_the_bare_repository_with_the_files_on_the_branch() {
        let fixture = Fixture::new();
        let source = fixture.source(&[
            ("catalog-info.yaml", "kind: Component\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/deep/er/mod.rs", "// deep\n"),
            (".github/workflows/ci.yaml", "on: push\n"),
        ]);
        std::fs::create_dir_all(source.join("empty/inner")).unwrap();

        let published = publish(
            &fixture.host,
            &repo("payments", "api"),
            request(&source, "trunk"),
        )
        .await
        .unwrap();

        let bare = fixture.bare("payments", "api");
        let remote_url = Url::from_file_path(&bare).unwrap().to_string();
        assert_eq!(published.remote_url, remote_url);
        assert_eq!(
            published.repo_contents_url,
            format!("{remote_url}/blob/trunk")
        );
        assert_eq!(published.commit_hash.len(), 40);

        assert_eq!(inspect(&bare, &["config", "core.bare"]).trim(), "true");
        assert_eq!(
            inspect(&bare, &["symbolic-ref", "HEAD"]).trim(),
            "refs/heads/trunk"
        );
        assert_eq!(
            inspect(&bare, &["ls-tree", "-r", "--name-only", "trunk"]),
            ".github/workflows/ci.yaml\ncatalog-info.yaml\nsrc/deep/er/mod.rs\nsrc/main.rs\n"
        );
        assert_eq!(
            inspect(&bare, &["rev-parse", "trunk"]).trim(),
            published.commit_hash
        );
        assert_eq!(
            inspect(&bare, &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "trunk"]).trim(),
            "Ada Lovelace <ada@example.test>|Ada Lovelace <ada@example.test>|Initial commit from Portico"
        );
        assert_eq!(
            inspect(&bare, &["rev-list", "--count", "trunk"]).trim(),
            "1"
        );
        assert_eq!(
            std::fs::read_to_string(bare.join("description")).unwrap(),
            "The payments service\n"
        );
        // No staging directory is left beside the repository.
        let beside: Vec<_> = std::fs::read_dir(bare.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, [OsString::from("api.git")]);
        // The workspace itself is untouched: no `.git` was made in it.
        assert!(!source.join(".git").exists());

        let (remote, branch, path) = split_contents_url(&format!(
            "{}/catalog-info.yaml",
            published.repo_contents_url
        ))
        .unwrap();
        let contents = read_file(&remote, &branch, &path, None).await.unwrap();
        assert_eq!(contents, b"kind: Component\n");
        let nested = read_file(&remote, "trunk", "./src/deep/er/mod.rs", None)
            .await
            .unwrap();
        assert_eq!(nested, b"// deep\n");
    }

    #[tokio::test]
    async fn publishing_twice_never_overwrites() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "first")]);
        let first = publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap();
        std::fs::write(source.join("a.txt"), "second").unwrap();

        let error = publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap_err();
        let bare = fixture.bare("o", "r");
        assert!(
            matches!(&error, GitError::AlreadyExists(p) if *p == bare),
            "{error}"
        );
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(
            inspect(&bare, &["rev-parse", "main"]).trim(),
            first.commit_hash
        );
        assert_eq!(
            read_file(&first.remote_url, "main", "a.txt", None)
                .await
                .unwrap(),
            b"first"
        );

        // Anything else in the way is refused too.
        std::fs::create_dir_all(fixture.bare("o", "busy")).unwrap();
        std::fs::write(fixture.bare("o", "busy").join("README"), "mine").unwrap();
        std::fs::write(fixture.bare("o", "file"), "mine").unwrap();
        for name in ["busy", "file"] {
            let error = publish(&fixture.host, &repo("o", name), request(&source, "main"))
                .await
                .unwrap_err();
            assert!(
                matches!(error, GitError::AlreadyExists(_)),
                "{name}: {error}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(fixture.bare("o", "file")).unwrap(),
            "mine"
        );
    }

    #[tokio::test]
    async fn concurrent_publishes_of_one_name_create_it_once() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x")]);
        let target = repo("o", "race");
        let (a, b) = tokio::join!(
            publish(&fixture.host, &target, request(&source, "main")),
            publish(&fixture.host, &target, request(&source, "main")),
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
        let error = a.err().or(b.err()).unwrap();
        assert!(matches!(error, GitError::AlreadyExists(_)), "{error}");
    }

    #[tokio::test]
    async fn an_empty_directory_is_a_free_place() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x")]);
        std::fs::create_dir_all(fixture.bare("o", "r")).unwrap();
        publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap();
        assert_eq!(
            inspect(
                &fixture.bare("o", "r"),
                &["ls-tree", "-r", "--name-only", "main"]
            ),
            "a.txt\n"
        );
    }

    #[tokio::test]
    async fn a_subdirectory_of_the_workspace_can_be_published() {
        let fixture = Fixture::new();
        let source = fixture.source(&[
            ("app/catalog-info.yaml", "kind: Component\n"),
            ("app/src/lib.rs", ""),
            ("other.txt", "left behind"),
        ]);
        publish(
            &fixture.host,
            &repo("o", "app"),
            request(&source.join("app"), "main"),
        )
        .await
        .unwrap();
        assert_eq!(
            inspect(
                &fixture.bare("o", "app"),
                &["ls-tree", "-r", "--name-only", "main"]
            ),
            "catalog-info.yaml\nsrc/lib.rs\n"
        );
    }

    #[tokio::test]
    async fn a_workspace_of_empty_directories_still_makes_a_repository() {
        let fixture = Fixture::new();
        let source = fixture.source(&[]);
        std::fs::create_dir_all(source.join("empty/inner")).unwrap();
        let published = publish(&fixture.host, &repo("o", "empty"), request(&source, "main"))
            .await
            .unwrap();
        let bare = fixture.bare("o", "empty");
        assert_eq!(
            inspect(&bare, &["ls-tree", "-r", "--name-only", "main"]),
            ""
        );
        assert_eq!(
            inspect(&bare, &["rev-parse", "main"]).trim(),
            published.commit_hash
        );
    }

    #[tokio::test]
    async fn ignored_files_and_a_planted_git_directory_stay_out() {
        let fixture = Fixture::new();
        let source = fixture.source(&[
            (".gitignore", "target/\n"),
            ("target/debug/app", "binary"),
            ("src/lib.rs", ""),
            // A skeleton's `.git` must neither be published nor configure the run.
            (
                ".git/config",
                "[core]\n\tfsmonitor = touch /nonexistent/pwned\n",
            ),
            (".git/HEAD", "ref: refs/heads/main\n"),
        ]);
        publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap();
        assert_eq!(
            inspect(
                &fixture.bare("o", "r"),
                &["ls-tree", "-r", "--name-only", "main"]
            ),
            ".gitignore\nsrc/lib.rs\n"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn executable_bits_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let fixture = Fixture::new();
        let source = fixture.source(&[("run.sh", "#!/bin/sh\n")]);
        std::fs::set_permissions(
            source.join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap();
        assert!(inspect(&fixture.bare("o", "r"), &["ls-tree", "main"]).starts_with("100755 "));
    }

    #[tokio::test]
    async fn bad_requests_are_refused_before_anything_is_created() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x")]);
        let bad_owner = RepoUrl {
            host: "git.example.test".into(),
            owner: "..".into(),
            repo: "r".into(),
        };
        let error = publish(&fixture.host, &bad_owner, request(&source, "main"))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GitError::Invalid(m) if m.starts_with("owner \"..\"")),
            "{error}"
        );

        let cases: Vec<(RepoUrl, PublishRequest<'_>, &str)> = vec![
            (repo("o", "r"), request(&source, "-x"), "branch \"-x\": not a valid git branch name"),
            (
                repo("o", "r"),
                request(&source, "feature/x"),
                "default branch \"feature/x\": must not contain '/' for Portico to read the repository back",
            ),
            (
                repo("o", "r"),
                PublishRequest { commit_message: " ", ..request(&source, "main") },
                "the commit message is empty",
            ),
            (
                repo("o", "r"),
                PublishRequest { author_email: "a>b", ..request(&source, "main") },
                "the author email \"a>b\" holds '<', '>' or a control character",
            ),
            (
                repo("o", "r"),
                PublishRequest { author_name: "", ..request(&source, "main") },
                "the author name is empty",
            ),
            (
                RepoUrl::parse("github.com?owner=o&repo=r").unwrap(),
                request(&source, "main"),
                "repoUrl github.com?owner=o&repo=r is not on host git.example.test",
            ),
        ];
        for (target, request, message) in cases {
            let error = publish(&fixture.host, &target, request).await.unwrap_err();
            assert!(matches!(error, GitError::Invalid(_)), "{error}");
            assert_eq!(error.to_string(), message);
        }
        let file = source.join("a.txt");
        let error = publish(&fixture.host, &repo("o", "r"), request(&file, "main"))
            .await
            .unwrap_err();
        assert!(
            error.to_string().ends_with("a.txt: not a directory"),
            "{error}"
        );
        let missing = source.join("missing");
        let error = publish(&fixture.host, &repo("o", "r"), request(&missing, "main"))
            .await
            .unwrap_err();
        assert!(matches!(error, GitError::Io { .. }), "{error}");
        assert!(!fixture.dir.path().join("repos").exists());
    }

    #[tokio::test]
    async fn read_file_tells_missing_files_and_branches_apart() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x"), ("dir/b.txt", "y")]);
        let published = publish(&fixture.host, &repo("o", "r"), request(&source, "main"))
            .await
            .unwrap();
        let remote = &published.remote_url;

        let error = read_file(remote, "main", "missing.yaml", None)
            .await
            .unwrap_err();
        assert!(matches!(&error, GitError::FileNotFound { path } if path == "missing.yaml"));
        assert_eq!(
            error.to_string(),
            "missing.yaml: no such file in the repository"
        );
        // A directory is not a file.
        let error = read_file(remote, "main", "dir", None).await.unwrap_err();
        assert!(matches!(error, GitError::FileNotFound { .. }), "{error}");
        let error = read_file(remote, "other", "a.txt", None).await.unwrap_err();
        assert!(matches!(&error, GitError::BranchNotFound { branch } if branch == "other"));
        for path in ["", "/", "../a.txt", "dir/../a.txt"] {
            let error = read_file(remote, "main", path, None).await.unwrap_err();
            assert!(matches!(error, GitError::Invalid(_)), "{path:?}: {error}");
        }
        assert_eq!(
            read_file(remote, "main", "/dir//b.txt", None)
                .await
                .unwrap(),
            b"y"
        );

        let error = read_file("ext::sh -c touch% /tmp/pwned", "main", "a", None)
            .await
            .unwrap_err();
        assert!(matches!(error, GitError::Invalid(_)), "{error}");
        let error = read_file("https://u:p@h/o/r.git", "main", "a", None)
            .await
            .unwrap_err();
        assert!(matches!(error, GitError::Invalid(_)), "{error}");

        // A file URL with no repository behind it is git's failure, named.
        let nowhere = Url::from_file_path(fixture.dir.path().join("nowhere.git")).unwrap();
        let error = read_file(nowhere.as_str(), "main", "a", None)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, GitError::Failed { command, .. } if command.starts_with("git rev-parse")),
            "{error}"
        );
    }

    /// Nothing listens on port 1 of the loopback address, so the push and the clone fail
    /// at once; what matters is that the token stays out of what is reported.
    #[tokio::test]
    async fn http_failures_name_the_command_and_never_the_token() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x")]);
        let token = "tok_3x4mpl3_s3cr3t";
        let host = GitHosts::new(vec![GitHost {
            host: "127.0.0.1:1".into(),
            push_url: "http://127.0.0.1:1/{owner}/{repo}.git".into(),
            token: Some(token.into()),
        }])
        .unwrap();
        let host = host.get("127.0.0.1:1").unwrap();
        let target = RepoUrl::parse("127.0.0.1:1?owner=o&repo=r").unwrap();
        let error = publish(host, &target, request(&source, "main"))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(&error, GitError::Failed { command, .. }
                if command == "git push --quiet -- http://127.0.0.1:1/o/r.git HEAD:refs/heads/main"),
            "{message}"
        );
        assert!(!message.contains(token), "{message}");
        assert!(!format!("{error:?}").contains(token));

        let error = read_file("http://127.0.0.1:1/o/r.git", "main", "a.txt", Some(token))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("git ls-remote"), "{message}");
        assert!(!message.contains(token), "{message}");
    }

    /// A loopback HTTP server that records the head of each request and answers 404,
    /// for as long as the test lets it: enough to see what git sends.
    struct Recorder {
        address: std::net::SocketAddr,
        heads: std::sync::mpsc::Receiver<String>,
        thread: std::thread::JoinHandle<()>,
    }

    impl Recorder {
        fn start() -> Self {
            use std::io::{Read, Write};
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let (sender, heads) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { break };
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let mut head = Vec::new();
                    let mut byte = [0; 1];
                    while !head.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                        head.push(byte[0]);
                    }
                    // `stop` connects and sends nothing.
                    if head.is_empty() {
                        break;
                    }
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    let _ = sender.send(String::from_utf8_lossy(&head).into_owned());
                }
            });
            Self {
                address,
                heads,
                thread,
            }
        }

        fn stop(self) -> Vec<String> {
            drop(std::net::TcpStream::connect(self.address).unwrap());
            self.thread.join().unwrap();
            self.heads.try_iter().collect()
        }
    }

    #[tokio::test]
    async fn tokens_reach_the_configured_server_as_basic_credentials() {
        let fixture = Fixture::new();
        let source = fixture.source(&[("a.txt", "x")]);
        let server = Recorder::start();
        let name = server.address.to_string();
        let token = "tok_3x4mpl3_s3cr3t";
        let hosts = GitHosts::new(vec![GitHost {
            host: name.clone(),
            push_url: format!("http://{name}/{{owner}}/{{repo}}.git"),
            token: Some(token.into()),
        }])
        .unwrap();
        let target = RepoUrl::parse(&format!("{name}?owner=o&repo=r")).unwrap();
        let error = publish(hosts.get(&name).unwrap(), &target, request(&source, "main"))
            .await
            .unwrap_err();
        assert!(!error.to_string().contains(token), "{error}");
        let remote = format!("http://{name}/o/r.git");
        let error = read_file(&remote, "main", "a.txt", Some(token))
            .await
            .unwrap_err();
        assert!(!error.to_string().contains(token), "{error}");
        read_file(&remote, "main", "a.txt", None).await.unwrap_err();

        let heads = server.stop();
        let header = format!("authorization: basic {}", basic_credentials(token)).to_lowercase();
        let authorized = |head: &String| head.to_lowercase().contains(&header);
        let (with_token, without): (Vec<_>, Vec<_>) = heads.iter().partition(|h| authorized(h));
        assert!(
            with_token
                .iter()
                .any(|h| h.starts_with("GET /o/r.git/info/refs?service=git-receive-pack ")),
            "{heads:#?}"
        );
        assert!(
            with_token
                .iter()
                .any(|h| h.starts_with("GET /o/r.git/info/refs?service=git-upload-pack ")),
            "{heads:#?}"
        );
        // The read without a token sent none.
        assert!(!without.is_empty(), "{heads:#?}");
        assert!(without
            .iter()
            .all(|h| !h.to_lowercase().contains("authorization")));
        assert!(heads.iter().all(|h| !h.contains(token)), "{heads:#?}");
    }
}
