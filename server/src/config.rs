//! One typed configuration, loaded once at start.
//!
//! Each setting is read from, in rising precedence: its default, `portico.toml` (or the
//! file named by `--config` / `PORTICO_CONFIG`), its environment variable, its flag.
//! A value that does not parse stops start-up with the name of the setting it came from.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use portico_core::approvals::{ApprovalSettings, Webhook};
use portico_core::catalog::locations::LocationPolicy;
use portico_core::catalog::remote::RemoteReader;
use portico_core::demo::golden_paths::DEMO_GIT_HOST;
use portico_core::environments::probes::engine::ProbeSettings;
use portico_core::environments::probes::{
    parse_duration as parse_probe_duration, ProbeDefaults, Thresholds,
};
use portico_core::environments::EnvironmentSpec;
use portico_core::identity::{Role, RoleMapping};
use portico_core::templates::gate::TagRule;
use portico_core::templates::git::{GitHost, GitHosts};
use portico_core::templates::TemplateSettings;
use portico_core::Settings;
use serde::Deserialize;

use crate::cli::Cli;

/// The configuration file read when none is named and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "portico.toml";
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/portico.db";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
pub const DEFAULT_DATA_DIR: &str = "data";

#[derive(Clone, Debug)]
pub struct Config {
    /// Where `serve` listens.
    pub addr: SocketAddr,
    /// The database: `sqlite:…` (embedded, the default) or `postgres:…`.
    pub database_url: DatabaseUrl,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// The directory holding the web UI's files (`pkg/` with the wasm bundle, favicon…).
    pub site_root: PathBuf,
    /// Seed the demo data set into an empty database at start.
    pub demo: bool,
    /// Directories whose files may be registered as catalog locations through the API.
    pub catalog_roots: Vec<PathBuf>,
    /// Hosts whose URLs may be registered as catalog locations through the API.
    pub catalog_url_hosts: Vec<String>,
    /// Which groups give which role.
    pub roles: RoleMapping,
    /// Sign-in: the portal's public URL, the identity provider, sessions.
    pub auth: AuthConfig,
    /// The live channel: replay window and per-socket queue.
    pub channels: ChannelConfig,
    /// Environments declared at start, in display order.
    pub environments: Vec<EnvironmentSpec>,
    /// The secret GitHub signs `deployment_status` webhooks with.
    pub github_webhook_secret: Option<Secret>,
    /// The health probe engine: concurrency, hysteresis, default timing.
    pub health: ProbeSettings,
    /// Where templates may publish new repositories (`publish:git`).
    pub git_hosts: GitHosts,
    /// Where template tasks get their workspaces; `None`: the system's temporary directory.
    pub task_dir: Option<PathBuf>,
    /// Where the demo keeps its golden paths and the repositories they create (absolute).
    pub data_dir: PathBuf,
    /// Whether rejecting needs a comment; the key callbacks are signed with.
    pub approvals: ApprovalSettings,
    /// Templates with these tags need an approval before their first step.
    pub approval_tags: Vec<TagRule>,
}

/// A secret setting: its `Debug` hides it.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// An environment in `portico.toml`: `"staging"`, `"eu-west:production"`, or a table
/// `{ name = "eu-west", tier = "production", title = "EU West" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileEnvironment {
    Item(String),
    Table {
        name: String,
        tier: Option<String>,
        title: Option<String>,
    },
}

/// The live channel's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// A client that missed more events than this on a topic is told to reload
    /// (`{"resync": true}`) instead of being sent them.
    pub replay_window: u32,
    /// Frames that may wait for one socket; a socket that falls further behind is
    /// closed (its client rejoins with `since` and catches up from the log).
    pub queue: usize,
    /// A socket that sends nothing for this long is closed (Phoenix clients send a
    /// heartbeat every 30 s). The protocol's 60 s; shorter only in tests.
    pub idle: std::time::Duration,
    /// The longest a write to a socket may wait for its client to read: a client that
    /// stops reading altogether is dropped after this. Shorter only in tests.
    pub write_timeout: std::time::Duration,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            replay_window: 1000,
            queue: 1024,
            idle: std::time::Duration::from_secs(60),
            write_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// How people and machines sign in.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Where browsers reach the portal (`http://127.0.0.1:3000`): the origin that
    /// state-changing requests must come from, and the base of the OIDC redirect URI.
    pub public_url: url::Url,
    /// The identity provider; `None` means no single sign-on (and, on a loopback
    /// address only, the demo sign-in).
    pub oidc: Option<OidcConfig>,
    /// A session unused this long ends.
    pub session_idle: time::Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_max: time::Duration,
    /// Whether `/metrics` may be read without signing in (by a scraper on a private
    /// network); otherwise it needs a token or session.
    pub metrics_public: bool,
}

/// The OpenID Connect provider and this portal's client registration with it.
#[derive(Clone)]
pub struct OidcConfig {
    /// Compared byte for byte with the provider's `issuer`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// Where the groups are in the claims: a dotted path (`realm_access.roles`).
    pub groups_claim: String,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .finish()
    }
}

impl AuthConfig {
    /// Whether people may pick a demo person instead of signing in: only with no
    /// identity provider, and only while the server listens on loopback.
    pub fn demo_sign_in(&self, addr: &SocketAddr) -> bool {
        self.oidc.is_none() && addr.ip().is_loopback()
    }
}

/// The database URL. It may hold a password: its `Debug` and `Display` hide it.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&portico_core::storage::redact_url(&self.0))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `portico.toml`: every key optional, unknown keys refused (a typo must not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    database_url: Option<String>,
    log_format: Option<String>,
    site_root: Option<PathBuf>,
    demo: Option<bool>,
    catalog_roots: Option<Vec<PathBuf>>,
    catalog_url_hosts: Option<Vec<String>>,
    admin_groups: Option<Vec<String>>,
    sre_groups: Option<Vec<String>>,
    developer_groups: Option<Vec<String>>,
    default_role: Option<String>,
    public_url: Option<String>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_scopes: Option<Vec<String>>,
    oidc_groups_claim: Option<String>,
    session_idle: Option<String>,
    session_max: Option<String>,
    metrics_public: Option<bool>,
    channel_replay_window: Option<u32>,
    channel_queue: Option<u32>,
    environments: Option<Vec<FileEnvironment>>,
    github_webhook_secret: Option<String>,
    health_concurrency: Option<u32>,
    health_failures: Option<u32>,
    health_successes: Option<u32>,
    health_interval: Option<String>,
    health_timeout: Option<String>,
    health_slow: Option<String>,
    git_hosts: Option<Vec<GitHost>>,
    task_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    approval_reject_comment: Option<bool>,
    approval_signing_secret: Option<String>,
    approval_tags: Option<Vec<TagRule>>,
    approval_webhooks: Option<Vec<Webhook>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    ParseFile { path: String, message: String },
    /// `setting` names where the value came from: a variable, a key of a file, a flag.
    #[error("{setting}: {message}")]
    Invalid { setting: String, message: String },
}

impl Config {
    /// What the portal itself is told: where catalog locations may point (the
    /// configured directories and URL hosts), and which groups give which role.
    pub fn portal_settings(&self) -> Settings {
        Settings {
            locations: LocationPolicy {
                file_roots: self.catalog_roots.clone(),
                remote: RemoteReader::new(self.catalog_url_hosts.clone())
                    .with_git_hosts(self.git_hosts.clone()),
            },
            roles: self.roles.clone(),
            templates: TemplateSettings {
                git_hosts: self.git_hosts.clone(),
                work_dir: self.task_dir.clone(),
                approval_tags: self.approval_tags.clone(),
            },
            // Webhook messages link to the pages where people decide.
            approvals: ApprovalSettings {
                public_url: Some(self.auth.public_url.to_string()),
                ..self.approvals.clone()
            },
        }
    }

    /// Loads the configuration for this process: file, environment, flags.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        Self::load_from(cli, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`] with the environment given as a function (for tests).
    pub fn load_from(cli: &Cli, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let (file, file_name) = read_file(cli, &env)?;
        let key = |k: &str| format!("{file_name}: {k}");

        let serve = cli.serve_args();
        let addr = match serve.and_then(|s| s.addr) {
            Some(addr) => addr,
            None => pick(
                &env,
                "PORTICO_ADDR",
                file.addr,
                key("addr"),
                DEFAULT_ADDR,
                |v| {
                    v.parse::<SocketAddr>().map_err(|_| {
                        "not a socket address (expected HOST:PORT, e.g. 127.0.0.1:3000)"
                    })
                },
            )?,
        };
        // DATABASE_URL is the name most tools use; PORTICO_DATABASE_URL wins when both are set.
        let variable = if env("PORTICO_DATABASE_URL").is_some() {
            "PORTICO_DATABASE_URL"
        } else {
            "DATABASE_URL"
        };
        let database_url = pick(
            &env,
            variable,
            file.database_url,
            key("database_url"),
            DEFAULT_DATABASE_URL,
            parse_database_url,
        )?;
        let log_format = match cli.log_format {
            Some(format) => format,
            None => pick(
                &env,
                "PORTICO_LOG_FORMAT",
                file.log_format,
                key("log_format"),
                "text",
                parse_log_format,
            )?,
        };
        let site_root = match serve.and_then(|s| s.site_root.clone()) {
            Some(dir) => dir,
            None => env("LEPTOS_SITE_ROOT")
                .map(PathBuf::from)
                .or(file.site_root)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_ROOT)),
        };
        let demo = serve.is_some_and(|s| s.demo)
            || match env("PORTICO_DEMO") {
                Some(v) => parse_bool("PORTICO_DEMO", &v)?,
                None => file.demo.unwrap_or(false),
            };
        // Lists: comma-separated in variables, arrays in the file.
        let list = |variable: &str| list_separated(env(variable), ',');
        let catalog_roots = list("PORTICO_CATALOG_ROOTS")
            .map(|dirs| dirs.into_iter().map(PathBuf::from).collect())
            .or(file.catalog_roots)
            .unwrap_or_default();
        let catalog_url_hosts = list("PORTICO_CATALOG_URL_HOSTS")
            .or(file.catalog_url_hosts)
            .unwrap_or_default();
        let roles = RoleMapping {
            admin_groups: list("PORTICO_ADMIN_GROUPS")
                .or(file.admin_groups)
                .unwrap_or_default(),
            sre_groups: list("PORTICO_SRE_GROUPS")
                .or(file.sre_groups)
                .unwrap_or_default(),
            developer_groups: list("PORTICO_DEVELOPER_GROUPS")
                .or(file.developer_groups)
                .unwrap_or_default(),
            default: pick(
                &env,
                "PORTICO_DEFAULT_ROLE",
                file.default_role,
                key("default_role"),
                "viewer",
                |v| {
                    v.parse::<Role>()
                        .map_err(|_| "not a role (viewer, developer, sre or admin)")
                },
            )?,
        };
        let public_url = pick(
            &env,
            "PORTICO_PUBLIC_URL",
            file.public_url.clone(),
            key("public_url"),
            &format!("http://{addr}"),
            |v| {
                url::Url::parse(v)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .ok_or("not an http(s) URL (e.g. https://portal.example.com)")
            },
        )?;
        let oidc = match env("PORTICO_OIDC_ISSUER").or(file.oidc_issuer) {
            None => None,
            Some(issuer) => Some(OidcConfig {
                issuer,
                client_id: env("PORTICO_OIDC_CLIENT_ID")
                    .or(file.oidc_client_id)
                    .ok_or_else(|| ConfigError::Invalid {
                        setting: "PORTICO_OIDC_CLIENT_ID".into(),
                        message: "required when PORTICO_OIDC_ISSUER is set".into(),
                    })?,
                client_secret: env("PORTICO_OIDC_CLIENT_SECRET").or(file.oidc_client_secret),
                scopes: list_separated(env("PORTICO_OIDC_SCOPES"), ' ')
                    .or(file.oidc_scopes)
                    .unwrap_or_else(|| {
                        ["openid", "email", "profile", "groups"]
                            .map(String::from)
                            .to_vec()
                    }),
                groups_claim: env("PORTICO_OIDC_GROUPS_CLAIM")
                    .or(file.oidc_groups_claim)
                    .unwrap_or_else(|| "groups".into()),
            }),
        };
        let auth = AuthConfig {
            public_url,
            oidc,
            session_idle: pick(
                &env,
                "PORTICO_SESSION_IDLE",
                file.session_idle,
                key("session_idle"),
                "8h",
                parse_duration,
            )?,
            session_max: pick(
                &env,
                "PORTICO_SESSION_MAX",
                file.session_max,
                key("session_max"),
                "7d",
                parse_duration,
            )?,
            metrics_public: match env("PORTICO_METRICS_PUBLIC") {
                Some(v) => parse_bool("PORTICO_METRICS_PUBLIC", &v)?,
                None => file.metrics_public.unwrap_or(false),
            },
        };
        let channels = ChannelConfig {
            replay_window: pick(
                &env,
                "PORTICO_CHANNEL_REPLAY_WINDOW",
                file.channel_replay_window.map(|n| n.to_string()),
                key("channel_replay_window"),
                "1000",
                |v| parse_count(v, 1_000_000),
            )?,
            queue: pick(
                &env,
                "PORTICO_CHANNEL_QUEUE",
                file.channel_queue.map(|n| n.to_string()),
                key("channel_queue"),
                "1024",
                |v| parse_count(v, 1_000_000),
            )? as usize,
            ..ChannelConfig::default()
        };
        let environments = match env("PORTICO_ENVIRONMENTS") {
            Some(value) => parse_environments("PORTICO_ENVIRONMENTS", &value)?,
            None => file
                .environments
                .unwrap_or_default()
                .into_iter()
                .map(|item| {
                    let invalid =
                        |e: portico_core::environments::EnvironmentError| ConfigError::Invalid {
                            setting: key("environments"),
                            message: e.to_string(),
                        };
                    match item {
                        FileEnvironment::Item(text) => {
                            EnvironmentSpec::parse(&text).map_err(invalid)
                        }
                        FileEnvironment::Table { name, tier, title } => {
                            let text = match tier {
                                Some(tier) => format!("{name}:{tier}"),
                                None => name,
                            };
                            let mut spec = EnvironmentSpec::parse(&text).map_err(invalid)?;
                            spec.title = title;
                            Ok(spec)
                        }
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let github_webhook_secret = env("PORTICO_GITHUB_WEBHOOK_SECRET")
            .or(file.github_webhook_secret)
            .filter(|s| !s.is_empty())
            .map(Secret);
        let probe_duration =
            |variable: &str, value: Option<String>, file_key: &str, default: &str| {
                pick(&env, variable, value, key(file_key), default, |v| {
                    parse_probe_duration(v)
                        .map_err(|_| "not a duration (a whole number and a unit: 500ms, 5s, 2m)")
                })
            };
        let health = ProbeSettings {
            concurrency: pick(
                &env,
                "PORTICO_HEALTH_CONCURRENCY",
                file.health_concurrency.map(|n| n.to_string()),
                key("health_concurrency"),
                "64",
                |v| parse_count(v, 10_000),
            )? as usize,
            thresholds: Thresholds {
                failures: pick(
                    &env,
                    "PORTICO_HEALTH_FAILURES",
                    file.health_failures.map(|n| n.to_string()),
                    key("health_failures"),
                    "3",
                    |v| parse_count(v, 100),
                )?,
                successes: pick(
                    &env,
                    "PORTICO_HEALTH_SUCCESSES",
                    file.health_successes.map(|n| n.to_string()),
                    key("health_successes"),
                    "2",
                    |v| parse_count(v, 100),
                )?,
            },
            defaults: ProbeDefaults {
                interval: probe_duration(
                    "PORTICO_HEALTH_INTERVAL",
                    file.health_interval,
                    "health_interval",
                    "30s",
                )?,
                timeout: probe_duration(
                    "PORTICO_HEALTH_TIMEOUT",
                    file.health_timeout,
                    "health_timeout",
                    "5s",
                )?,
                slow: probe_duration("PORTICO_HEALTH_SLOW", file.health_slow, "health_slow", "1s")?,
            },
        };
        let git_hosts = match env("PORTICO_GIT_HOSTS") {
            Some(value) => GitHosts::parse(&value).map_err(|message| ConfigError::Invalid {
                setting: "PORTICO_GIT_HOSTS".into(),
                message,
            })?,
            None => GitHosts::new(file.git_hosts.unwrap_or_default()).map_err(|message| {
                ConfigError::Invalid {
                    setting: key("git_hosts"),
                    message,
                }
            })?,
        };
        let data_dir = env("PORTICO_DATA_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let data_dir = std::env::current_dir()
            .map(|cwd| cwd.join(&data_dir))
            .unwrap_or(data_dir);
        let mut git_hosts = git_hosts;
        if demo && git_hosts.get(DEMO_GIT_HOST).is_none() {
            // The demo's golden paths publish to a git root of their own.
            let root = data_dir.join("git");
            let mut hosts = git_hosts.list().to_vec();
            hosts.push(GitHost {
                host: DEMO_GIT_HOST.to_owned(),
                push_url: format!("file://{}/{{owner}}/{{repo}}.git", root.display()),
                token: None,
            });
            git_hosts = GitHosts::new(hosts).map_err(|message| ConfigError::Invalid {
                setting: "PORTICO_DATA_DIR".into(),
                message,
            })?;
        }
        let task_dir = env("PORTICO_TASK_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or(file.task_dir);
        let (webhooks, webhooks_setting) = match env("PORTICO_APPROVAL_WEBHOOKS") {
            Some(value) => (
                Webhook::parse_list(&value).map_err(|message| ConfigError::Invalid {
                    setting: "PORTICO_APPROVAL_WEBHOOKS".into(),
                    message,
                })?,
                "PORTICO_APPROVAL_WEBHOOKS".to_owned(),
            ),
            None => {
                let hooks = file.approval_webhooks.unwrap_or_default();
                Webhook::check_all(&hooks).map_err(|message| ConfigError::Invalid {
                    setting: key("approval_webhooks"),
                    message,
                })?;
                (hooks, key("approval_webhooks"))
            }
        };
        let approvals = ApprovalSettings {
            reject_needs_comment: match env("PORTICO_APPROVAL_REJECT_COMMENT") {
                Some(v) => parse_bool("PORTICO_APPROVAL_REJECT_COMMENT", &v)?,
                None => file.approval_reject_comment.unwrap_or(true),
            },
            signing_secret: env("PORTICO_APPROVAL_SIGNING_SECRET")
                .or(file.approval_signing_secret)
                .filter(|s| !s.is_empty()),
            webhooks,
            ..ApprovalSettings::default()
        };
        if !approvals.webhooks.is_empty() && approvals.signing_secret.is_none() {
            return Err(ConfigError::Invalid {
                setting: webhooks_setting,
                message: "webhooks are signed: set a signing secret too (PORTICO_APPROVAL_SIGNING_SECRET)".into(),
            });
        }
        let approval_tags = match env("PORTICO_APPROVAL_TAGS") {
            Some(value) => TagRule::parse_list(&value).map_err(|message| ConfigError::Invalid {
                setting: "PORTICO_APPROVAL_TAGS".into(),
                message,
            })?,
            None => {
                let rules = file.approval_tags.unwrap_or_default();
                TagRule::check_all(&rules).map_err(|message| ConfigError::Invalid {
                    setting: key("approval_tags"),
                    message,
                })?;
                rules
            }
        };
        Ok(Self {
            addr,
            database_url,
            log_format,
            site_root,
            demo,
            catalog_roots,
            catalog_url_hosts,
            roles,
            auth,
            channels,
            environments,
            github_webhook_secret,
            health,
            git_hosts,
            task_dir,
            data_dir,
            approvals,
            approval_tags,
        })
    }
}

/// `dev:development,staging,production`: names, each with its tier unless the name
/// says it. A name given twice is refused.
fn parse_environments(setting: &str, value: &str) -> Result<Vec<EnvironmentSpec>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        setting: setting.to_owned(),
        message,
    };
    let mut specs: Vec<EnvironmentSpec> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let spec = EnvironmentSpec::parse(item).map_err(|e| invalid(e.to_string()))?;
        if specs.iter().any(|s| s.name == spec.name) {
            return Err(invalid(format!("{:?} is listed twice", spec.name)));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// A positive duration written with its unit: `90s`, `30m`, `8h`, `7d`.
fn parse_duration(value: &str) -> Result<time::Duration, &'static str> {
    const EXPECTED: &str = "not a duration (a positive whole number and a unit: 90s, 30m, 8h, 7d)";
    let value = value.trim();
    let split = value.len().saturating_sub(1);
    let (number, unit) = (
        value.get(..split).unwrap_or(""),
        value.get(split..).unwrap_or(""),
    );
    let number: i64 = number.parse().ok().filter(|n| *n > 0).ok_or(EXPECTED)?;
    match unit {
        "s" => Ok(time::Duration::seconds(number)),
        "m" => Ok(time::Duration::minutes(number)),
        "h" => Ok(time::Duration::hours(number)),
        "d" => Ok(time::Duration::days(number)),
        _ => Err(EXPECTED),
    }
}

/// A whole number from 1 to `max`.
fn parse_count(value: &str, max: u32) -> Result<u32, &'static str> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or("not a whole number from 1 to 1000000")
}

/// A variable's value split on `separator`, empty parts dropped.
fn list_separated(value: Option<String>, separator: char) -> Option<Vec<String>> {
    value.map(|v| {
        v.split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn read_file(
    cli: &Cli,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(FileConfig, String), ConfigError> {
    // A file that was named must exist; the default one is optional.
    let (path, required) = match cli
        .config
        .clone()
        .or_else(|| env("PORTICO_CONFIG").map(PathBuf::from))
    {
        Some(path) => (path, true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileConfig::default(), name))
        }
        Err(source) => return Err(ConfigError::ReadFile { path: name, source }),
    };
    let file = parse_file(&path, &text)?;
    Ok((file, name))
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::ParseFile {
        path: path.display().to_string(),
        message: e.message().to_owned(),
    })
}

/// The value of a setting: its variable if set, else the file's key, else the default.
fn pick<T>(
    env: &impl Fn(&str) -> Option<String>,
    variable: &str,
    file_value: Option<String>,
    file_key: String,
    default: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<T, ConfigError> {
    let (value, setting) = match (env(variable), file_value) {
        (Some(v), _) => (v, variable.to_owned()),
        (None, Some(v)) => (v, file_key),
        (None, None) => (default.to_owned(), "default".to_owned()),
    };
    parse(&value).map_err(|message| ConfigError::Invalid {
        setting,
        message: message.to_owned(),
    })
}

fn parse_database_url(value: &str) -> Result<DatabaseUrl, &'static str> {
    portico_core::storage::Backend::from_url(value)
        .map(|_| DatabaseUrl(value.to_owned()))
        .map_err(|_| "unsupported database URL (expected sqlite:… or postgres:…)")
}

fn parse_log_format(value: &str) -> Result<LogFormat, &'static str> {
    match value {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected text or json"),
    }
}

fn parse_bool(setting: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::Invalid {
            setting: setting.to_owned(),
            message: "expected true or false".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use clap::Parser;

    use super::*;

    fn load(args: &[&str], vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let cli = Cli::try_parse_from(std::iter::once("portico").chain(args.iter().copied()))
            .expect("valid arguments");
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_from(&cli, |name| vars.get(name).cloned())
    }

    fn config_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = load(&["--config", "/nonexistent/ignored-when-default"], &[]);
        assert!(
            matches!(config, Err(ConfigError::ReadFile { .. })),
            "a named file must exist"
        );
        let config = load(&[], &[]).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.site_root, PathBuf::from(DEFAULT_SITE_ROOT));
        assert!(!config.demo);
    }

    #[test]
    fn flags_override_variables_which_override_the_file() {
        let file = config_file(
            "addr = \"127.0.0.1:4000\"\ndatabase_url = \"sqlite:file.db\"\nlog_format = \"json\"\ndemo = true\n",
        );
        let path = file.path().to_str().unwrap();

        let from_file = load(&["--config", path], &[]).unwrap();
        assert_eq!(from_file.addr.port(), 4000);
        assert_eq!(from_file.database_url.expose(), "sqlite:file.db");
        assert_eq!(from_file.log_format, LogFormat::Json);
        assert!(from_file.demo);

        let from_env = load(
            &["--config", path],
            &[
                ("PORTICO_ADDR", "127.0.0.1:5000"),
                ("DATABASE_URL", "postgres://u@h/db"),
            ],
        )
        .unwrap();
        assert_eq!(from_env.addr.port(), 5000);
        assert_eq!(from_env.database_url.expose(), "postgres://u@h/db");

        let from_flag = load(
            &[
                "--config",
                path,
                "serve",
                "--addr",
                "127.0.0.1:6000",
                "--site-root",
                "/srv/site",
            ],
            &[
                ("PORTICO_ADDR", "127.0.0.1:5000"),
                ("LEPTOS_SITE_ROOT", "/elsewhere"),
            ],
        )
        .unwrap();
        assert_eq!(from_flag.addr.port(), 6000);
        assert_eq!(from_flag.site_root, PathBuf::from("/srv/site"));

        let lists = load(
            &[],
            &[
                ("PORTICO_CATALOG_ROOTS", "/srv/catalog, /srv/more,"),
                ("PORTICO_CATALOG_URL_HOSTS", "git.example.com"),
            ],
        )
        .unwrap();
        assert_eq!(
            lists.catalog_roots,
            vec![PathBuf::from("/srv/catalog"), PathBuf::from("/srv/more")]
        );
        assert_eq!(lists.catalog_url_hosts, vec!["git.example.com"]);
        let file = config_file("catalog_roots = [\"/srv/a\"]\ncatalog_url_hosts = [\"h\"]\n");
        let from_file = load(&["--config", file.path().to_str().unwrap()], &[]).unwrap();
        assert_eq!(from_file.catalog_roots, vec![PathBuf::from("/srv/a")]);
        assert_eq!(from_file.catalog_url_hosts, vec!["h"]);

        let roles = load(
            &[],
            &[
                ("PORTICO_ADMIN_GROUPS", "platform-admins"),
                ("PORTICO_SRE_GROUPS", "sre,oncall"),
                ("PORTICO_DEFAULT_ROLE", "Developer"),
            ],
        )
        .unwrap()
        .roles;
        assert_eq!(roles.admin_groups, vec!["platform-admins"]);
        assert_eq!(roles.sre_groups, vec!["sre", "oncall"]);
        assert!(roles.developer_groups.is_empty());
        assert_eq!(roles.default, Role::Developer);
        let sessions = load(
            &[],
            &[
                ("PORTICO_SESSION_IDLE", "90s"),
                ("PORTICO_SESSION_MAX", "12h"),
            ],
        )
        .unwrap()
        .auth;
        assert_eq!(sessions.session_idle, time::Duration::seconds(90));
        assert_eq!(sessions.session_max, time::Duration::hours(12));
        let defaults = load(&[], &[]).unwrap().auth;
        assert_eq!(defaults.session_idle, time::Duration::hours(8));
        assert_eq!(defaults.session_max, time::Duration::days(7));
        let file = config_file("developer_groups = [\"eng\"]\n");
        let from_file = load(&["--config", file.path().to_str().unwrap()], &[]).unwrap();
        assert_eq!(from_file.roles.developer_groups, vec!["eng"]);
        assert_eq!(from_file.roles.default, Role::Viewer);

        let env_site = load(&[], &[("LEPTOS_SITE_ROOT", "/elsewhere")]).unwrap();
        assert_eq!(env_site.site_root, PathBuf::from("/elsewhere"));
    }

    #[test]
    fn environments_come_from_the_variable_or_the_file() {
        let names = |config: Config| -> Vec<(String, &'static str)> {
            config
                .environments
                .into_iter()
                .map(|e| (e.name, e.tier.as_str()))
                .collect()
        };
        let from_env = load(
            &[],
            &[(
                "PORTICO_ENVIRONMENTS",
                "dev:development, staging,production",
            )],
        )
        .unwrap();
        assert_eq!(
            names(from_env),
            vec![
                ("dev".into(), "development"),
                ("staging".into(), "staging"),
                ("production".into(), "production")
            ]
        );
        for (value, message) in [
            ("eu-west", "PORTICO_ENVIRONMENTS: tier: \"eu-west\" does not say its tier: write eu-west:development, eu-west:staging or eu-west:production"),
            ("dev,dev", "PORTICO_ENVIRONMENTS: \"dev\" is listed twice"),
        ] {
            let error = load(&[], &[("PORTICO_ENVIRONMENTS", value)]).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
        let file = config_file(
            "environments = [\"qa\", { name = \"eu-west\", tier = \"production\", title = \"EU West\" }]\n",
        );
        let from_file = load(&["--config", file.path().to_str().unwrap()], &[]).unwrap();
        assert_eq!(from_file.environments[1].title.as_deref(), Some("EU West"));
        assert_eq!(
            names(from_file),
            vec![
                ("qa".into(), "development"),
                ("eu-west".into(), "production")
            ]
        );
        assert!(load(&[], &[]).unwrap().environments.is_empty());
    }

    #[test]
    fn health_settings_have_defaults_and_are_checked() {
        let health = load(&[], &[]).unwrap().health;
        assert_eq!(health.concurrency, 64);
        assert_eq!(
            (health.thresholds.failures, health.thresholds.successes),
            (3, 2)
        );
        assert_eq!(health.defaults.interval, std::time::Duration::from_secs(30));
        let set = load(
            &[],
            &[
                ("PORTICO_HEALTH_FAILURES", "1"),
                ("PORTICO_HEALTH_TIMEOUT", "750ms"),
            ],
        )
        .unwrap()
        .health;
        assert_eq!(set.thresholds.failures, 1);
        assert_eq!(set.defaults.timeout, std::time::Duration::from_millis(750));
        let error = load(&[], &[("PORTICO_HEALTH_INTERVAL", "soon")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "PORTICO_HEALTH_INTERVAL: not a duration (a whole number and a unit: 500ms, 5s, 2m)"
        );
        let secret = load(&[], &[("PORTICO_GITHUB_WEBHOOK_SECRET", "s3cret")]).unwrap();
        assert!(!format!("{secret:?}").contains("s3cret"));
    }

    #[test]
    fn demo_sign_in_exists_only_without_a_provider_on_loopback() {
        let auth = load(&[], &[]).unwrap().auth;
        let loopback: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert!(auth.demo_sign_in(&loopback));
        assert!(auth.demo_sign_in(&"[::1]:3000".parse().unwrap()));
        assert!(!auth.demo_sign_in(&"0.0.0.0:3000".parse().unwrap()));
        assert!(!auth.demo_sign_in(&"10.1.2.3:3000".parse().unwrap()));
        let with_provider = load(
            &[],
            &[
                ("PORTICO_OIDC_ISSUER", "https://idp.example.com"),
                ("PORTICO_OIDC_CLIENT_ID", "portico"),
            ],
        )
        .unwrap()
        .auth;
        assert!(!with_provider.demo_sign_in(&loopback));
        assert_eq!(
            with_provider.oidc.unwrap().scopes,
            ["openid", "email", "profile", "groups"]
        );
        let err = load(&[], &[("PORTICO_OIDC_ISSUER", "https://idp.example.com")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORTICO_OIDC_CLIENT_ID: required when PORTICO_OIDC_ISSUER is set"
        );
    }

    #[test]
    fn bad_values_name_their_source() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("PORTICO_ADDR", "localhost")],
                "PORTICO_ADDR: not a socket address",
            ),
            (
                &[("DATABASE_URL", "mysql://x")],
                "DATABASE_URL: unsupported database URL",
            ),
            (
                &[("PORTICO_DEFAULT_ROLE", "owner")],
                "PORTICO_DEFAULT_ROLE: not a role",
            ),
            (
                &[("PORTICO_SESSION_IDLE", "8")],
                "PORTICO_SESSION_IDLE: not a duration",
            ),
            (
                &[("PORTICO_SESSION_MAX", "-1h")],
                "PORTICO_SESSION_MAX: not a duration",
            ),
            (
                &[("PORTICO_DATABASE_URL", "redis://x")],
                "PORTICO_DATABASE_URL: unsupported",
            ),
            (
                &[("PORTICO_LOG_FORMAT", "xml")],
                "PORTICO_LOG_FORMAT: expected text or json",
            ),
            (
                &[("PORTICO_DEMO", "maybe")],
                "PORTICO_DEMO: expected true or false",
            ),
        ];
        for (vars, expected) in cases {
            let err = load(&[], vars).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "{err:?} should start with {expected:?}"
            );
        }

        let file = config_file("addr = \"nowhere\"\n");
        let path = file.path().to_str().unwrap();
        let err = load(&["--config", path], &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{path}: addr: not a socket address (expected HOST:PORT, e.g. 127.0.0.1:3000)")
        );

        let file = config_file("adress = \"127.0.0.1:1\"\n");
        let path = file.path().to_str().unwrap();
        let err = load(&["--config", path], &[]).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{path}: unknown field `adress`")),
            "{err}"
        );
    }

    #[test]
    fn database_passwords_are_never_printed() {
        let url = DatabaseUrl("postgres://portico:s3cret@db:5432/portico".into());
        assert_eq!(url.to_string(), "postgres://portico:***@db:5432/portico");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn approval_webhooks_are_read_and_need_a_signing_secret() {
        let hooks =
            "group:default/sre=https://hooks.example/sre;role:admin=https://hooks.example/admins";
        let refused = load(&[], &[("PORTICO_APPROVAL_WEBHOOKS", hooks)]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "PORTICO_APPROVAL_WEBHOOKS: webhooks are signed: set a signing secret too (PORTICO_APPROVAL_SIGNING_SECRET)"
        );
        let config = load(
            &[],
            &[
                ("PORTICO_APPROVAL_WEBHOOKS", hooks),
                ("PORTICO_APPROVAL_SIGNING_SECRET", "k"),
            ],
        )
        .unwrap();
        assert_eq!(config.approvals.webhooks.len(), 2);
        assert_eq!(
            config.approvals.webhooks[0].url,
            "https://hooks.example/sre"
        );

        let file = config_file(
            "approval_signing_secret = \"k\"\n[[approval_webhooks]]\napprover = \"group:sre\"\nurl = \"mailto:x\"\n",
        );
        let path = file.path().to_str().unwrap();
        let error = load(&["--config", path], &[]).unwrap_err().to_string();
        assert!(
            error.ends_with("approval_webhooks: group:sre: \"mailto:x\" is not an http(s) URL"),
            "{error}"
        );
    }
}
