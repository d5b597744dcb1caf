//! Runs that need an approval before their first step: a template that asks for one
//! (annotation `portico.dev/approvers`, and `portico.dev/min-approvals`), or one with a
//! tag the operator named (`PORTICO_APPROVAL_TAGS`, `approval_tags`). The run gets a
//! first step of its own, `approval:request`, so it waits (and survives restarts) like
//! any step that asks.

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{Step, TemplateSpec};
use crate::approvals::model::Approver;

/// The annotation naming a template's approvers, separated by commas.
pub const APPROVERS: &str = "portico.dev/approvers";
/// The annotation saying how many of them must approve (one by default).
pub const MIN_APPROVALS: &str = "portico.dev/min-approvals";
/// The id of the step that waits for them.
pub const STEP_ID: &str = "portico-approval";

/// Runs of templates with `tag` need `approvers` (`min_approvals` of them).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    pub tag: String,
    pub approvers: Vec<String>,
    #[serde(default = "one")]
    pub min_approvals: u32,
}

fn one() -> u32 {
    1
}

impl TagRule {
    /// Rules as `PORTICO_APPROVAL_TAGS` writes them: `tag=approver,approver[@count]`,
    /// separated by `;` (`production=group:default/sre,role:admin@2;pci=group:default/security`).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        let rules: Vec<Self> = text
            .split(';')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|rule| {
                let (tag, rest) = rule
                    .split_once('=')
                    .ok_or_else(|| format!("{rule:?}: write tag=approver,approver[@count]"))?;
                let (list, count) = match rest.rsplit_once('@') {
                    Some((list, count)) => (
                        list,
                        count
                            .trim()
                            .parse()
                            .map_err(|_| format!("{rule:?}: {count:?} is not a count"))?,
                    ),
                    None => (rest, 1),
                };
                Ok(Self {
                    tag: tag.trim().to_owned(),
                    approvers: list.split(',').map(|a| a.trim().to_owned()).collect(),
                    min_approvals: count,
                })
            })
            .collect::<Result<_, String>>()?;
        Self::check_all(&rules)?;
        Ok(rules)
    }

    /// Every rule has a tag, approvers that are approvers, and a count of at least one.
    pub fn check_all(rules: &[Self]) -> Result<(), String> {
        for rule in rules {
            if rule.tag.is_empty() {
                return Err("a rule has no tag".into());
            }
            if rule.approvers.is_empty() || rule.min_approvals == 0 {
                return Err(format!(
                    "tag {:?}: name at least one approver, and a count of at least 1",
                    rule.tag
                ));
            }
            for approver in &rule.approvers {
                Approver::parse(approver).map_err(|e| format!("tag {:?}: {e}", rule.tag))?;
            }
        }
        Ok(())
    }
}

/// The approvers a run of the template `body` needs before its first step, and how
/// many must approve: its own annotation's, then those of the rules whose tag it has.
pub fn required(body: &Value, rules: &[TagRule]) -> Option<(Vec<String>, u32)> {
    let mut approvers: Vec<String> = Vec::new();
    let mut min = 0;
    let annotations = &body["metadata"]["annotations"];
    if let Some(listed) = annotations[APPROVERS].as_str() {
        approvers.extend(
            listed
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        );
        min = annotations[MIN_APPROVALS]
            .as_str()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(1);
    }
    let tags: Vec<&str> = body["metadata"]["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for rule in rules {
        if tags.iter().any(|t| t.eq_ignore_ascii_case(&rule.tag)) {
            for approver in &rule.approvers {
                if !approvers.contains(approver) {
                    approvers.push(approver.clone());
                }
            }
            min = min.max(rule.min_approvals);
        }
    }
    (!approvers.is_empty()).then_some((approvers, min.max(1)))
}

/// The first step of a run that needs approval: it asks, showing the answers of the
/// form (secrets are never among them), and waits.
pub fn step(
    spec: &TemplateSpec,
    actor: &str,
    approvers: &[String],
    min: u32,
    values: &Value,
) -> Step {
    Step {
        id: STEP_ID.to_owned(),
        name: "Wait for approval".to_owned(),
        action: "approval:request".to_owned(),
        input: json!({
            "title": format!("Run {}", spec.title),
            "description": format!("{actor} asked to run the golden path {} ({}).", spec.title, spec.reference),
            "approvers": approvers,
            "minApprovals": min,
            "context": {"template": spec.reference, "parameters": values},
        }),
        condition: None,
        each: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_read_from_one_line_and_checked() {
        let rules =
            TagRule::parse_list("production=group:default/sre, role:admin@2; pci=group:security")
                .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].approvers, ["group:default/sre", "role:admin"]);
        assert_eq!(rules[0].min_approvals, 2);
        assert_eq!(rules[1].min_approvals, 1);
        assert!(TagRule::parse_list("production").is_err());
        assert!(TagRule::parse_list("production=component:web")
            .unwrap_err()
            .contains("production"));
        assert!(TagRule::parse_list("production=role:admin@x").is_err());
        assert_eq!(TagRule::parse_list("").unwrap(), []);
    }

    #[test]
    fn a_template_needs_approval_by_its_annotation_or_its_tags() {
        let rules = TagRule::parse_list("production=group:default/sre@2").unwrap();
        let tagged = json!({"metadata": {"tags": ["Production"]}});
        assert_eq!(
            required(&tagged, &rules),
            Some((vec!["group:default/sre".into()], 2))
        );
        let annotated =
            json!({"metadata": {"annotations": {APPROVERS: "role:admin, user:default/ada"}}});
        assert_eq!(
            required(&annotated, &rules),
            Some((vec!["role:admin".into(), "user:default/ada".into()], 1))
        );
        assert_eq!(
            required(&json!({"metadata": {"tags": ["web"]}}), &rules),
            None
        );
    }
}
