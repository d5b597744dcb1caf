//! The field extensions of Backstage's scaffolder that need more than an input:
//! `OwnerPicker` and `EntityPicker` (an autocomplete over the catalog) and
//! `RepoUrlPicker` (a host, an owner and a repository, as `host?owner=o&repo=r`).

use leptos::prelude::*;
use serde_json::Value;

use crate::error::AppError;

/// An entity a picker offers.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityOption {
    /// `group:default/payments`: what the field's value becomes.
    pub reference: String,
    /// The title, or the name.
    pub label: String,
    pub kind: String,
}

/// What a picker asks the catalog: its kind (`OwnerPicker` or `EntityPicker`), its
/// `ui:options` (`allowedKinds`, `catalogFilter`), and what has been typed.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq)]
pub struct PickerQuery {
    pub owner: bool,
    pub options: Value,
    pub text: String,
}

/// Entities whose name or title starts with what was typed (any word of it), among
/// those the picker allows (`options`: the field's `ui:options`, JSON), as the options of
/// the picker `list` (its element id): `<li role="option" data-ref=…>` items.
#[server(output = crate::codec::JsonText)]
pub async fn pick_entities(
    owner: bool,
    options: String,
    text: String,
    list: String,
) -> Result<String, AppError> {
    let portal = crate::context::portal()?;
    crate::context::signed_in(portico_core::identity::Role::Viewer)?;
    let query = PickerQuery {
        owner,
        options: serde_json::from_str(&options).unwrap_or(Value::Null),
        text,
    };
    let found = super::server::pick(&portal, &query).await?;
    Ok(options_html(&found, &list))
}

/// The options of a picker's list (`list`: its element id).
#[cfg(feature = "ssr")]
pub fn options_html(found: &[EntityOption], list: &str) -> String {
    use super::fields::escape;
    if found.is_empty() {
        return r#"<li class="option-empty muted small" role="option" aria-disabled="true">Nothing in the catalog matches.</li>"#.to_owned();
    }
    found
        .iter()
        .enumerate()
        .map(|(i, option)| {
            format!(
                r#"<li role="option" id="{list}-{i}" class="option" aria-selected="false" data-ref="{reference}" data-label="{label}"><span class="option-label">{label}</span><span class="option-ref muted small">{kind} · {reference}</span></li>"#,
                list = escape(list),
                reference = escape(&option.reference),
                label = escape(&option.label),
                kind = escape(&option.kind),
            )
        })
        .collect()
}

/// A `repoUrl` as the picker edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoParts {
    pub host: String,
    pub owner: String,
    pub repo: String,
}

impl RepoParts {
    /// Reads `host?owner=o&repo=r` (Backstage's `workspace`, `organization` and `project`
    /// stand for the owner when `owner` is missing, as the server reads them).
    pub fn parse(value: &str) -> Self {
        let (host, query) = value.split_once('?').unwrap_or((value, ""));
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        Self {
            host: host.to_owned(),
            owner: ["owner", "workspace", "organization", "project"]
                .into_iter()
                .find_map(param)
                .unwrap_or_default(),
            repo: param("repo").unwrap_or_default(),
        }
    }

    /// The value, or nothing while owner and repository are both empty.
    pub fn value(&self) -> Option<String> {
        if self.owner.is_empty() && self.repo.is_empty() {
            return None;
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("owner", &self.owner)
            .append_pair("repo", &self.repo)
            .finish();
        Some(format!("{}?{query}", self.host))
    }

    /// What keeps this from naming a repository the server can create, as problems
    /// that follow the field's title.
    pub fn problems(&self, hosts: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&self.host)) {
            problems.push(format!(
                "needs a host this portal may publish to, not {:?}",
                self.host
            ));
        }
        for (what, name) in [("an owner", &self.owner), ("a repository name", &self.repo)] {
            if name.is_empty() {
                problems.push(format!("needs {what}"));
            } else if !is_plain_name(name) {
                problems.push(format!(
                    "{}: {name:?} must be letters, digits, '.', '_' or '-'",
                    if what == "an owner" {
                        "owner"
                    } else {
                        "repository"
                    }
                ));
            }
        }
        problems
    }
}

/// Letters, digits, `.`, `_` and `-`, and not `.` or `..`: one path segment that means
/// itself (the server checks the same before it pushes).
fn is_plain_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name != "."
        && name != ".."
}

/// The hosts a `RepoUrlPicker` offers: the configured ones its `allowedHosts` names
/// (all configured ones when it names none).
pub fn offered_hosts(configured: &[String], options: &Value) -> Vec<String> {
    let allowed: Vec<&str> = options
        .get("allowedHosts")
        .and_then(Value::as_array)
        .map(|hosts| hosts.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    configured
        .iter()
        .filter(|h| allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(h)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repo_urls_round_trip_and_explain_their_problems() {
        let parts = RepoParts::parse("git.example.test?owner=team&repo=svc");
        assert_eq!(
            parts.value().as_deref(),
            Some("git.example.test?owner=team&repo=svc")
        );
        assert_eq!(
            RepoParts::parse("github.com?organization=o&repo=r").owner,
            "o"
        );
        let hosts = vec!["git.example.test".to_owned()];
        assert!(parts.problems(&hosts).is_empty());
        let half = RepoParts {
            host: "git.example.test".into(),
            owner: "a/b".into(),
            repo: String::new(),
        };
        assert_eq!(
            half.problems(&hosts),
            [
                "owner: \"a/b\" must be letters, digits, '.', '_' or '-'",
                "needs a repository name"
            ]
        );
        assert_eq!(RepoParts::default().value(), None);
        assert_eq!(
            offered_hosts(
                &["a.test".into(), "b.test".into()],
                &json!({"allowedHosts": ["B.test"]})
            ),
            ["b.test"]
        );
        assert_eq!(offered_hosts(&["a.test".into()], &Value::Null), ["a.test"]);
    }
}
