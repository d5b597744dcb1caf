//! Roles and how groups map to them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What someone may do, each role including the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the catalog, environments and approvals.
    Viewer,
    /// Runs golden paths; acts on what their groups own.
    Developer,
    /// Operates environments: deployments, probes, approvals of releases.
    Sre,
    /// Everything, including tokens and the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Developer, Role::Sre, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Developer => "developer",
            Self::Sre => "sre",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a role.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role (viewer, developer, sre or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Which groups give which role; anyone else signed in gets `default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleMapping {
    pub admin_groups: Vec<String>,
    pub sre_groups: Vec<String>,
    pub developer_groups: Vec<String>,
    pub default: Role,
}

impl Default for RoleMapping {
    fn default() -> Self {
        Self {
            admin_groups: Vec::new(),
            sre_groups: Vec::new(),
            developer_groups: Vec::new(),
            default: Role::Viewer,
        }
    }
}

impl RoleMapping {
    /// The highest role any of `groups` gives (group names compared case-insensitively),
    /// never lower than the default.
    pub fn role_for(&self, groups: &[String]) -> Role {
        let member = |listed: &[String]| {
            listed
                .iter()
                .any(|l| groups.iter().any(|g| g.eq_ignore_ascii_case(l)))
        };
        let mapped = if member(&self.admin_groups) {
            Role::Admin
        } else if member(&self.sre_groups) {
            Role::Sre
        } else if member(&self.developer_groups) {
            Role::Developer
        } else {
            Role::Viewer
        };
        mapped.max(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn roles_are_ordered_and_parsed() {
        assert!(Role::Viewer < Role::Developer && Role::Developer < Role::Sre);
        assert!(Role::Sre < Role::Admin);
        assert_eq!("SRE".parse::<Role>().unwrap(), Role::Sre);
        assert_eq!(
            "owner".parse::<Role>().unwrap_err().to_string(),
            "\"owner\" is not a role (viewer, developer, sre or admin)"
        );
    }

    #[test]
    fn the_highest_mapped_role_wins() {
        let mapping = RoleMapping {
            admin_groups: groups(&["platform-admins"]),
            sre_groups: groups(&["sre"]),
            developer_groups: groups(&["engineering", "contractors"]),
            default: Role::Viewer,
        };
        assert_eq!(
            mapping.role_for(&groups(&["Engineering", "SRE"])),
            Role::Sre
        );
        assert_eq!(mapping.role_for(&groups(&["platform-admins"])), Role::Admin);
        assert_eq!(mapping.role_for(&groups(&["contractors"])), Role::Developer);
        assert_eq!(mapping.role_for(&groups(&["sales"])), Role::Viewer);
        assert_eq!(mapping.role_for(&[]), Role::Viewer);
        let generous = RoleMapping {
            default: Role::Developer,
            ..mapping
        };
        assert_eq!(generous.role_for(&[]), Role::Developer);
        assert_eq!(generous.role_for(&groups(&["sre"])), Role::Sre);
    }
}
