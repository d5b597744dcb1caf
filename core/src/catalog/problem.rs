use std::fmt;

use serde::Serialize;

/// One rule broken by one field of an entity: `metadata.tags[1]` and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// Where in the entity, as a path (`spec.owner`, `metadata.tags[1]`); empty for the
    /// document as a whole.
    pub path: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A problem located for people: which file, which document in it (1 for the first),
/// which entity when that is known, which field, and the rule.
///
/// Reads as `components/x.yaml#2 component:default/x metadata.tags[1]: "go 1.15.3" is
/// not a valid tag: …`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub document: Option<usize>,
    pub entity: Option<String>,
    #[serde(flatten)]
    pub field: FieldProblem,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(document) = self.document {
            write!(f, "#{document}")?;
        }
        if let Some(entity) = &self.entity {
            write!(f, " {entity}")?;
        }
        if self.field.path.is_empty() {
            write!(f, ": {}", self.field.message)
        } else {
            write!(f, " {}: {}", self.field.path, self.field.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_their_place() {
        let problem = Problem {
            file: "components/x.yaml".into(),
            document: Some(2),
            entity: Some("component:default/x".into()),
            field: FieldProblem::new("metadata.tags[1]", "\"go 1.15.3\" is not a valid tag"),
        };
        assert_eq!(
            problem.to_string(),
            "components/x.yaml#2 component:default/x metadata.tags[1]: \"go 1.15.3\" is not a valid tag"
        );
        let whole_file = Problem {
            file: "all.yaml".into(),
            document: None,
            entity: None,
            field: FieldProblem::new("", "file not found"),
        };
        assert_eq!(whole_file.to_string(), "all.yaml: file not found");
    }
}
