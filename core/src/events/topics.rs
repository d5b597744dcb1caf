//! The topics events are published on, and who may follow each.
//!
//! A topic is joined on the live channel with the same rule as reading its data over
//! HTTP: the catalog, environments, deployments, health and approvals (all, or one
//! request) need a viewer;
//! a template run needs a developer; a user's own topic is theirs alone.

use std::fmt;

use crate::catalog::reference::{EntityRef, RefContext};
use crate::identity::{Principal, PrincipalKind, Role};

/// A topic the live channel serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Any entity change.
    Catalog,
    /// One entity's changes, by reference key (`entity:component:default/web`).
    Entity(String),
    /// One environment's deployments and health.
    Environment(String),
    /// Every deployment reported.
    Deployments,
    /// Every health change.
    Health,
    /// One template run's log.
    Task(String),
    /// Approval requests and decisions.
    Approvals,
    /// One approval request: its changes, and who is looking at it.
    Approval(String),
    /// Notifications for one user, by user id.
    User(String),
}

/// Why a topic cannot be joined. The message is shown to the client as the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TopicRefused {
    /// The topic is not one Portico publishes.
    #[error("unknown topic {0:?} (topics: catalog, entity:<ref>, environment:<name>, deployments, health, task:<id>, approvals, approval:<id>, user:<id>)")]
    Unknown(String),
    /// The topic names an entity in another spelling than the one events use.
    #[error("join {canonical:?}: entity topics use the lower-case reference")]
    NotCanonical { canonical: String },
    /// The caller's role is too low.
    #[error("{topic} needs the {role} role")]
    Role { topic: String, role: Role },
    /// Someone else's user topic.
    #[error("{0} belongs to another user")]
    NotYours(String),
}

impl Topic {
    /// Reads a topic name as clients send it.
    pub fn parse(name: &str) -> Result<Self, TopicRefused> {
        let unknown = || TopicRefused::Unknown(name.to_owned());
        let (family, rest) = match name.split_once(':') {
            Some((family, rest)) if !rest.is_empty() => (family, Some(rest)),
            Some(_) => return Err(unknown()),
            None => (name, None),
        };
        let topic = match (family, rest) {
            ("catalog", None) => Self::Catalog,
            ("deployments", None) => Self::Deployments,
            ("health", None) => Self::Health,
            ("approvals", None) => Self::Approvals,
            ("entity", Some(reference)) => {
                let key = EntityRef::parse(reference, RefContext::STANDALONE)
                    .map_err(|_| unknown())?
                    .key();
                if key != reference {
                    return Err(TopicRefused::NotCanonical {
                        canonical: format!("entity:{key}"),
                    });
                }
                Self::Entity(key)
            }
            ("environment", Some(name)) => Self::Environment(name.to_owned()),
            ("task", Some(id)) => Self::Task(id.to_owned()),
            ("approval", Some(id)) => Self::Approval(id.to_owned()),
            ("user", Some(id)) => Self::User(id.to_owned()),
            _ => return Err(unknown()),
        };
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(unknown());
        }
        Ok(topic)
    }

    /// Whether `principal` may follow this topic.
    pub fn may_join(&self, principal: &Principal) -> Result<(), TopicRefused> {
        let needs = match self {
            Self::User(id) => {
                return if principal.kind == PrincipalKind::User && principal.id == *id {
                    Ok(())
                } else {
                    Err(TopicRefused::NotYours(self.to_string()))
                };
            }
            Self::Task(_) => Role::Developer,
            Self::Catalog
            | Self::Entity(_)
            | Self::Environment(_)
            | Self::Deployments
            | Self::Health
            | Self::Approvals
            | Self::Approval(_) => Role::Viewer,
        };
        if principal.has(needs) {
            Ok(())
        } else {
            Err(TopicRefused::Role {
                topic: self.to_string(),
                role: needs,
            })
        }
    }

    /// Whether the topic is a page people look at together (an entity, an environment
    /// dashboard, the environments matrix on `deployments`, an approval request), whose
    /// joiners are shown to each other.
    pub fn tracks_presence(&self) -> bool {
        matches!(
            self,
            Self::Entity(_) | Self::Environment(_) | Self::Deployments | Self::Approval(_)
        )
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Catalog => f.write_str("catalog"),
            Self::Entity(key) => write!(f, "entity:{key}"),
            Self::Environment(name) => write!(f, "environment:{name}"),
            Self::Deployments => f.write_str("deployments"),
            Self::Health => f.write_str("health"),
            Self::Task(id) => write!(f, "task:{id}"),
            Self::Approvals => f.write_str("approvals"),
            Self::Approval(id) => write!(f, "approval:{id}"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: PrincipalKind, id: &str, role: Role) -> Principal {
        Principal {
            kind,
            id: id.into(),
            name: id.into(),
            email: None,
            role,
            groups: Vec::new(),
            owners: Vec::new(),
            entity: None,
        }
    }

    #[test]
    fn topics_parse_and_print_the_same() {
        for name in [
            "catalog",
            "entity:component:default/web",
            "environment:production",
            "deployments",
            "health",
            "task:42",
            "approvals",
            "approval:a-1",
            "user:u-1",
        ] {
            assert_eq!(Topic::parse(name).unwrap().to_string(), name);
        }
    }

    #[test]
    fn unknown_and_misspelt_topics_are_refused_with_a_reason() {
        for name in [
            "",
            "phoenix",
            "catalog:x",
            "entity:",
            "entity:web",
            "nope:1",
            "task:a b",
        ] {
            assert!(
                matches!(Topic::parse(name), Err(TopicRefused::Unknown(_))),
                "{name}"
            );
        }
        assert_eq!(
            Topic::parse("entity:Component:default/Web")
                .unwrap_err()
                .to_string(),
            "join \"entity:component:default/web\": entity topics use the lower-case reference"
        );
    }

    #[test]
    fn joining_follows_the_http_rules() {
        let viewer = principal(PrincipalKind::User, "u-1", Role::Viewer);
        let developer = principal(PrincipalKind::Token, "t-1", Role::Developer);
        assert!(Topic::Catalog.may_join(&viewer).is_ok());
        assert!(Topic::Environment("prod".into()).may_join(&viewer).is_ok());
        assert_eq!(
            Topic::Task("7".into())
                .may_join(&viewer)
                .unwrap_err()
                .to_string(),
            "task:7 needs the developer role"
        );
        assert!(Topic::Task("7".into()).may_join(&developer).is_ok());
        assert!(Topic::User("u-1".into()).may_join(&viewer).is_ok());
        assert!(Topic::User("u-2".into()).may_join(&viewer).is_err());
        // A token is nobody's user, even with the same id.
        let token = principal(PrincipalKind::Token, "u-1", Role::Admin);
        assert!(Topic::User("u-1".into()).may_join(&token).is_err());
    }
}
