//! Reading catalog files over http(s), from the hosts an operator allowed and nowhere
//! else: a registered URL, a `Location` target, a `$text` placeholder, and every redirect
//! on the way are checked against the same allow-list, so catalog data cannot make the
//! server probe the network.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use url::Url;

use crate::templates::git::{self, split_contents_url, GitError, GitHost, GitHosts};

/// A catalog file larger than this is refused rather than held in memory.
const MAX_BYTES: usize = 8 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a URL could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    /// Reads as the end of a sentence: `HTTP 404 Not Found`, `cannot connect: …`.
    pub message: String,
    /// Whether it may pass (a timeout, a 5xx, a refused login): the file may well still
    /// exist, so what it defined must not be orphaned on account of this read.
    pub transient: bool,
}

impl RemoteError {
    fn lasting(message: String) -> Self {
        Self {
            message,
            transient: false,
        }
    }

    fn transient(message: String) -> Self {
        Self {
            message,
            transient: true,
        }
    }
}

/// Reads http(s) URLs on the allowed hosts, and files in the repositories of the
/// configured git hosts (those templates publish to). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct RemoteReader {
    hosts: Arc<Vec<String>>,
    /// Built on first use: a portal that reads no URL never loads the system's roots.
    client: Arc<OnceLock<reqwest::Client>>,
    /// `{remote}/blob/{branch}/{path}` URLs of repositories on these hosts are read
    /// with git (see [`crate::templates::git::contents_url`]).
    repositories: Arc<GitHosts>,
}

/// A file in a repository on a configured git host.
struct RepositoryFile<'a> {
    host: &'a GitHost,
    remote: String,
    branch: String,
    path: String,
}

impl RemoteReader {
    /// A reader for `hosts` (names, compared case-insensitively, any port). With no
    /// hosts, every URL is refused.
    pub fn new(hosts: Vec<String>) -> Self {
        let hosts = hosts
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Self {
            hosts: Arc::new(hosts),
            client: Arc::default(),
            repositories: Arc::default(),
        }
    }

    /// The same reader, also reading files of repositories on `hosts`.
    pub fn with_git_hosts(mut self, hosts: GitHosts) -> Self {
        self.repositories = Arc::new(hosts);
        self
    }

    /// The repository file `url` names, when it is in a repository on a configured
    /// git host: the remote must be exactly what the host's push URL template gives
    /// for some owner and repository.
    fn repository_file(&self, url: &Url) -> Option<RepositoryFile<'_>> {
        let (remote, branch, path) = split_contents_url(url.as_str())?;
        let host = self.repositories.hosts().into_iter().find_map(|name| {
            let host = self.repositories.get(name)?;
            template_matches(&host.push_url, &remote).then_some(host)
        })?;
        Some(RepositoryFile {
            host,
            remote,
            branch,
            path,
        })
    }

    /// Parses `target` as an http(s) URL on an allowed host; the error says why not.
    pub fn check(&self, target: &str) -> Result<Url, String> {
        let url = Url::parse(target).map_err(|e| format!("{target} is not a URL: {e}"))?;
        self.allows(&url)?;
        Ok(url)
    }

    /// Whether `url` may be read.
    pub fn allows(&self, url: &Url) -> Result<(), String> {
        if self.repository_file(url).is_some() {
            return Ok(());
        }
        allowed(&self.hosts, url)
    }

    /// The body of `url` as text.
    pub async fn read(&self, url: &Url) -> Result<String, RemoteError> {
        if let Some(file) = self.repository_file(url) {
            return read_repository_file(&file).await;
        }
        self.allows(url).map_err(RemoteError::lasting)?;
        let too_large = || RemoteError::lasting(format!("larger than {} MiB", MAX_BYTES >> 20));
        let mut response = self
            .client()
            .get(url.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        if !status.is_success() {
            let message = format!("HTTP {status}");
            // Only "not there" is an answer about the file; anything else may pass.
            return Err(match status.as_u16() {
                404 | 410 => RemoteError::lasting(message),
                _ => RemoteError::transient(message),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| RemoteError::lasting("not UTF-8 text".to_owned()))
    }

    /// [`Self::read`] from a blocking thread (the catalog reader runs on one): waits on
    /// the runtime that spawned the thread.
    pub fn read_blocking(&self, url: &Url) -> Result<String, RemoteError> {
        self.allows(url).map_err(RemoteError::lasting)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            RemoteError::lasting("URLs are read only by the running server".to_owned())
        })?;
        runtime.block_on(self.read(url))
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            let hosts = Arc::clone(&self.hosts);
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(TIMEOUT)
                .user_agent(concat!("portico/", env!("CARGO_PKG_VERSION")))
                // A redirect is a new request: it must stay on the allowed hosts too.
                .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= 5 {
                        attempt.error("too many redirects")
                    } else if let Err(refused) = allowed(&hosts, attempt.url()) {
                        let message = format!("redirected to {}: {refused}", attempt.url());
                        attempt.error(message)
                    } else {
                        attempt.follow()
                    }
                }))
                .build()
                // Only fails when the TLS backend cannot start, which is a broken build.
                .expect("the HTTP client starts")
        })
    }
}

async fn read_repository_file(file: &RepositoryFile<'_>) -> Result<String, RemoteError> {
    let bytes = git::read_file(
        &file.remote,
        &file.branch,
        &file.path,
        file.host.token.as_deref(),
    )
    .await
    .map_err(|e| match e {
        GitError::FileNotFound { .. } | GitError::BranchNotFound { .. } | GitError::Invalid(_) => {
            RemoteError::lasting(e.to_string())
        }
        other => RemoteError::transient(other.to_string()),
    })?;
    if bytes.len() > MAX_BYTES {
        return Err(RemoteError::lasting(format!(
            "larger than {} MiB",
            MAX_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| RemoteError::lasting("not UTF-8 text".to_owned()))
}

/// Whether `remote` is what the push URL `template` gives for some owner and
/// repository (plain names, as publishing allows).
fn template_matches(template: &str, remote: &str) -> bool {
    let mut pattern = String::from("^");
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        pattern.push_str(&regex::escape(&rest[..at]));
        let after = &rest[at..];
        let placeholder = ["{owner}", "{repo}"]
            .into_iter()
            .find(|p| after.starts_with(p));
        match placeholder {
            Some(p) => {
                pattern.push_str("[A-Za-z0-9._-]+");
                rest = &after[p.len()..];
            }
            None => return false,
        }
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(remote))
}

fn allowed(hosts: &[String], url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{url} is not an http(s) URL"));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if hosts.contains(&host) {
        Ok(())
    } else {
        Err(format!(
            "host {host:?} is not allowed for url locations (PORTICO_CATALOG_URL_HOSTS)"
        ))
    }
}

/// What went wrong, without reqwest's nested wording. A refused redirect is a rule,
/// everything else the network.
fn describe(error: &reqwest::Error) -> RemoteError {
    let mut root: &dyn std::error::Error = error;
    while let Some(source) = root.source() {
        root = source;
    }
    if error.is_redirect() {
        RemoteError::lasting(root.to_string())
    } else if error.is_timeout() {
        RemoteError::transient("timed out".to_owned())
    } else if error.is_connect() {
        RemoteError::transient(format!("cannot connect: {root}"))
    } else {
        RemoteError::transient(format!("cannot read: {root}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_on_listed_hosts_are_allowed() {
        let reader = RemoteReader::new(vec!["Git.Example.com".into(), " ".into()]);
        assert!(reader
            .check("https://git.example.com/org/repo/catalog-info.yaml")
            .is_ok());
        assert!(reader.check("https://GIT.example.com:8443/x").is_ok());
        assert!(reader.check("http://git.example.com/x").is_ok());
        for (bad, why) in [
            ("https://evil.example.com/x", "not allowed"),
            ("https://git.example.com.evil.test/x", "not allowed"),
            ("https://user@evil.test/@git.example.com", "not allowed"),
            ("file:///etc/passwd", "not an http(s) URL"),
            ("ftp://git.example.com/x", "not an http(s) URL"),
            ("git.example.com/x", "not a URL"),
        ] {
            let error = reader.check(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(RemoteReader::default()
            .check("https://git.example.com/x")
            .is_err());
    }
}
