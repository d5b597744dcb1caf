use std::fmt;

use serde::{Deserialize, Serialize};

/// The namespace of an entity that does not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A reference to an entity: `kind:namespace/name`.
///
/// Kind, namespace and name keep the case they were written in (pages show them so);
/// two references are the same entity when they are equal ignoring ASCII case, which
/// is what [`EntityRef::key`] gives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// What a reference written without a kind or namespace means: each field that holds
/// references has a default kind (`spec.owner` → Group), and the namespace defaults to
/// the namespace of the entity that holds the reference.
#[derive(Clone, Copy, Debug)]
pub struct RefContext<'a> {
    pub default_kind: Option<&'a str>,
    pub default_namespace: &'a str,
}

impl RefContext<'static> {
    /// A reference that stands alone (an API parameter, a stored relation target): it
    /// must name its kind; its namespace is `default` unless it names one.
    pub const STANDALONE: Self = Self {
        default_kind: None,
        default_namespace: DEFAULT_NAMESPACE,
    };
}

/// Why a string is not an entity reference. The message completes "… is not a valid
/// entity reference: ".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("it is empty")]
    Empty,
    #[error("it names no kind, and this field has no default kind (write kind:name)")]
    MissingKind,
    #[error("the {0} part is empty")]
    EmptyPart(&'static str),
    #[error("the name must not contain ':' or '/'")]
    BadName,
}

impl EntityRef {
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Parses `[kind:][namespace/]name`, filling in what is omitted from `context`.
    pub fn parse(text: &str, context: RefContext<'_>) -> Result<Self, RefError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RefError::Empty);
        }
        let (kind, rest) = match text.split_once(':') {
            Some((kind, rest)) => (Some(kind), rest),
            None => (None, text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, rest),
        };
        if kind == Some("") {
            return Err(RefError::EmptyPart("kind"));
        }
        if namespace == Some("") {
            return Err(RefError::EmptyPart("namespace"));
        }
        if name.is_empty() {
            return Err(RefError::EmptyPart("name"));
        }
        if name.contains([':', '/']) {
            return Err(RefError::BadName);
        }
        let kind = kind.or(context.default_kind).ok_or(RefError::MissingKind)?;
        Ok(Self::new(
            kind,
            namespace.unwrap_or(context.default_namespace),
            name,
        ))
    }

    /// The canonical, case-folded form: the identity of the entity in storage.
    pub fn key(&self) -> String {
        format!(
            "{}:{}/{}",
            self.kind.to_ascii_lowercase(),
            self.namespace.to_ascii_lowercase(),
            self.name.to_ascii_lowercase()
        )
    }
}

/// `component:default/Artist-Lookup`: kind lower-cased as Backstage writes references,
/// namespace and name as written.
impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.kind.to_ascii_lowercase(),
            self.namespace,
            self.name
        )
    }
}

impl PartialEq for EntityRef {
    fn eq(&self, other: &Self) -> bool {
        self.kind.eq_ignore_ascii_case(&other.kind)
            && self.namespace.eq_ignore_ascii_case(&other.namespace)
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl Eq for EntityRef {}

impl std::hash::Hash for EntityRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: RefContext<'static> = RefContext {
        default_kind: Some("Group"),
        default_namespace: "default",
    };
    const NO_KIND: RefContext<'static> = RefContext {
        default_kind: None,
        default_namespace: "payments",
    };

    #[test]
    fn references_are_completed_from_their_context() {
        let cases = [
            ("team-a", OWNER, "group:default/team-a"),
            ("user:guest", OWNER, "user:default/guest"),
            (
                "group:development/team-b",
                OWNER,
                "group:development/team-b",
            ),
            ("ops/team-c", OWNER, "group:ops/team-c"),
            ("Component:ledger", NO_KIND, "component:payments/ledger"),
            ("  resource:db  ", NO_KIND, "resource:payments/db"),
        ];
        for (text, context, expected) in cases {
            assert_eq!(
                EntityRef::parse(text, context).unwrap().to_string(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        let cases = [
            ("", OWNER, RefError::Empty),
            ("ledger", NO_KIND, RefError::MissingKind),
            (":x", OWNER, RefError::EmptyPart("kind")),
            ("group:/x", OWNER, RefError::EmptyPart("namespace")),
            ("group:ns/", OWNER, RefError::EmptyPart("name")),
            ("group:ns/a/b", OWNER, RefError::BadName),
        ];
        for (text, context, expected) in cases {
            assert_eq!(
                EntityRef::parse(text, context).unwrap_err(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn references_match_ignoring_case() {
        let a = EntityRef::parse("Group:Default/Team-A", OWNER).unwrap();
        let b = EntityRef::parse("team-a", OWNER).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), b.key());
        assert_eq!(
            a.to_string(),
            "group:Default/Team-A",
            "display keeps the written case"
        );
    }
}
