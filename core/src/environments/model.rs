//! What environments, deployments and health are, and the words each state is written in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::EnvironmentError;

/// Longest environment name: it is part of a topic (`environment:<name>`).
const MAX_NAME_LEN: usize = 63;

/// How close to customers an environment is; problems in production come first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Development,
    Staging,
    Production,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Development, Tier::Staging, Tier::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// The tier a name says by itself (`dev`, `qa`, `stage`, `prod`, `live`…).
    pub fn implied_by(name: &str) -> Option<Tier> {
        match name {
            "dev" | "development" | "develop" | "local" | "test" | "testing" | "qa" | "sandbox"
            | "ci" => Some(Self::Development),
            "staging" | "stage" | "stg" | "preprod" | "pre-production" | "uat" | "preview" => {
                Some(Self::Staging)
            }
            "production" | "prod" | "prd" | "live" => Some(Self::Production),
            _ => None,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = EnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EnvironmentError::invalid(
                    "tier",
                    format!("{s:?} is not a tier (development, staging or production)"),
                )
            })
    }
}

/// Where components run: `dev`, `staging`, `production`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Lower case; the `environment:<name>` topic and the URL use it.
    pub name: String,
    pub title: String,
    pub tier: Tier,
    /// Display order, lowest first.
    pub order: i64,
}

/// An environment as declared: by configuration (`name` or `name:tier`), the admin API
/// or the demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentSpec {
    pub name: String,
    pub title: Option<String>,
    pub tier: Tier,
    pub order: Option<i64>,
}

impl EnvironmentSpec {
    /// One item of `PORTICO_ENVIRONMENTS`: `name` or `name:tier`. A name that does not
    /// say its tier (`eu-west`) must be given one.
    pub fn parse(item: &str) -> Result<Self, EnvironmentError> {
        let (name, tier) = match item.split_once(':') {
            Some((name, tier)) => (name.trim(), Some(tier.trim())),
            None => (item.trim(), None),
        };
        let name = check_name(name)?;
        let tier = match tier {
            Some(tier) => tier.parse()?,
            None => Tier::implied_by(&name).ok_or_else(|| {
                EnvironmentError::invalid(
                    "tier",
                    format!("{name:?} does not say its tier: write {name}:development, {name}:staging or {name}:production"),
                )
            })?,
        };
        Ok(Self {
            name,
            title: None,
            tier,
            order: None,
        })
    }

    /// The title shown when none was given: `staging` → `Staging`.
    pub fn title_or_default(&self) -> String {
        self.title.clone().unwrap_or_else(|| {
            let mut chars = self.name.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
    }
}

/// A valid environment name, lower-cased: letters, digits and `-`, starting with a
/// letter, at most 63 characters (it travels in topics and URLs).
pub fn check_name(name: &str) -> Result<String, EnvironmentError> {
    let name = name.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(name)
    } else {
        Err(EnvironmentError::invalid(
            "environment",
            format!("{name:?} is not an environment name (a letter, then letters, digits or '-', at most {MAX_NAME_LEN})"),
        ))
    }
}

/// Where a deployment stands. A report may move a deployment forward (`started` →
/// `succeeded` or `failed` → `rolled_back`), never back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Started,
    Succeeded,
    Failed,
    RolledBack,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 4] = [
        Self::Started,
        Self::Succeeded,
        Self::Failed,
        Self::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
        }
    }

    /// How far along a deployment is: reports may only raise it.
    pub fn stage(self) -> u8 {
        match self {
            Self::Started => 0,
            Self::Succeeded | Self::Failed => 1,
            Self::RolledBack => 2,
        }
    }

    /// Whether the deployment has ended (and so has a finish time).
    pub fn is_finished(self) -> bool {
        self != Self::Started
    }

    /// Whether it went wrong.
    pub fn is_problem(self) -> bool {
        matches!(self, Self::Failed | Self::RolledBack)
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeploymentStatus {
    type Err = EnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                EnvironmentError::invalid(
                    "status",
                    format!("{s:?} is not a deployment status (started, succeeded, failed or rolled_back)"),
                )
            })
    }
}

/// How a component is doing in an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    /// Answering, but slowly (or reported so).
    Degraded,
    Down,
    /// Not checked yet.
    Unknown,
}

impl HealthStatus {
    pub const ALL: [HealthStatus; 4] = [Self::Healthy, Self::Degraded, Self::Down, Self::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Down => "down",
            Self::Unknown => "unknown",
        }
    }

    /// Whether it counts as unhealthy on a dashboard.
    pub fn is_problem(self) -> bool {
        matches!(self, Self::Degraded | Self::Down)
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HealthStatus {
    type Err = EnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                EnvironmentError::invalid(
                    "status",
                    format!("{s:?} is not a health status (healthy, degraded, down or unknown)"),
                )
            })
    }
}

/// A deployment as stored. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The reporter's id for it (a CI run, `github:<repo>:<id>`).
    pub id: String,
    /// The component's reference key (`component:default/payments`).
    pub entity: String,
    pub environment: String,
    pub version: String,
    pub commit: Option<String>,
    pub url: Option<String>,
    pub status: DeploymentStatus,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Who or what deployed, as the reporter says (`github-actions`, `ada`).
    pub actor: Option<String>,
    /// The principal that reported it (`token:ci-deploy`).
    pub reported_by: String,
    /// When it was last changed by a report.
    pub updated_at: i64,
}

/// A component's health in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub entity: String,
    pub environment: String,
    pub status: HealthStatus,
    /// Since when it has had this status.
    pub since: i64,
    pub checked_at: i64,
    pub latency_ms: Option<i64>,
    pub message: Option<String>,
    /// `probe` (checked by Portico) or `api` (pushed).
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_items_name_their_tier_or_imply_it() {
        let parse = |s: &str| EnvironmentSpec::parse(s).map(|e| (e.name, e.tier));
        assert_eq!(parse("dev").unwrap(), ("dev".into(), Tier::Development));
        assert_eq!(
            parse(" Staging ").unwrap(),
            ("staging".into(), Tier::Staging)
        );
        assert_eq!(
            parse("production").unwrap(),
            ("production".into(), Tier::Production)
        );
        assert_eq!(
            parse("eu-west:production").unwrap(),
            ("eu-west".into(), Tier::Production)
        );
        assert_eq!(parse("qa:staging").unwrap(), ("qa".into(), Tier::Staging));
        let errors = [
            ("eu-west", "tier: \"eu-west\" does not say its tier: write eu-west:development, eu-west:staging or eu-west:production"),
            ("eu:prod", "tier: \"prod\" is not a tier (development, staging or production)"),
            ("", "environment: \"\" is not an environment name (a letter, then letters, digits or '-', at most 63)"),
            ("9lives:development", "environment: \"9lives\" is not an environment name (a letter, then letters, digits or '-', at most 63)"),
            ("a b:development", "environment: \"a b\" is not an environment name (a letter, then letters, digits or '-', at most 63)"),
        ];
        for (item, message) in errors {
            assert_eq!(
                EnvironmentSpec::parse(item).unwrap_err().to_string(),
                message,
                "{item}"
            );
        }
    }

    #[test]
    fn titles_default_to_the_capitalised_name() {
        let spec = EnvironmentSpec::parse("staging").unwrap();
        assert_eq!(spec.title_or_default(), "Staging");
    }

    #[test]
    fn deployment_statuses_only_move_forward() {
        use DeploymentStatus::*;
        assert!(Started.stage() < Succeeded.stage());
        assert_eq!(Succeeded.stage(), Failed.stage());
        assert!(Failed.stage() < RolledBack.stage());
        assert_eq!(
            "rolled_back".parse::<DeploymentStatus>().unwrap(),
            RolledBack
        );
        assert_eq!(
            "done".parse::<DeploymentStatus>().unwrap_err().to_string(),
            "status: \"done\" is not a deployment status (started, succeeded, failed or rolled_back)"
        );
    }
}
