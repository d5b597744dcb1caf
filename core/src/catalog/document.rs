//! Catalog files: multi-document YAML, each document validated on its own.

use serde::Deserialize;
use serde_json::Value;

use super::problem::{FieldProblem, Problem};
use super::Entity;

/// One document of a file, numbered from 1 in the order it appears.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub index: usize,
    pub value: Value,
}

/// An entity (or any value) as YAML, the way catalog files are written.
pub fn to_yaml(value: &serde_json::Value) -> String {
    // A JSON value always has a YAML form; the fallback only guards the signature.
    serde_norway::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// The documents of a YAML text, in order. Empty documents (only comments, or a
/// trailing `---`) are skipped but keep their number, so numbers match what an editor
/// shows. A syntax error ends the file: YAML cannot be resumed past it reliably.
pub fn parse_yaml(file: &str, text: &str) -> (Vec<Document>, Vec<Problem>) {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for (i, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let index = i + 1;
        match Value::deserialize(document) {
            Ok(Value::Null) => {}
            Ok(value) => documents.push(Document { index, value }),
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                    .unwrap_or_default();
                problems.push(Problem {
                    file: file.to_owned(),
                    document: Some(index),
                    entity: None,
                    field: FieldProblem::new(
                        "",
                        format!("not valid YAML{at}: {}", yaml_reason(&e)),
                    ),
                });
                break;
            }
        }
    }
    (documents, problems)
}

/// An entity and the number of the document it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct LocatedEntity {
    pub document: usize,
    pub entity: Entity,
}

/// What reading one catalog file gave: its valid entities, and a problem for each
/// rule any document broke.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileContents {
    pub entities: Vec<LocatedEntity>,
    pub problems: Vec<Problem>,
}

/// The entities of a file. A bad document is reported and skipped; the others still count.
pub fn entities_in(file: &str, text: &str) -> FileContents {
    let (documents, mut problems) = parse_yaml(file, text);
    let mut entities = Vec::new();
    for Document { index, value } in documents {
        let known_as = Entity::reference_of(&value).map(|r| r.to_string());
        match Entity::from_value(value) {
            Ok(entity) => entities.push(LocatedEntity {
                document: index,
                entity,
            }),
            Err(found) => problems.extend(found.into_iter().map(|field| Problem {
                file: file.to_owned(),
                document: Some(index),
                entity: known_as.clone(),
                field,
            })),
        }
    }
    FileContents { entities, problems }
}

/// The parser's message without its own location suffix (reported separately).
fn yaml_reason(error: &serde_norway::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_GOOD_ONE_BAD: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
# a comment-only document still takes a number
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web
  tags: [go, go 1.15.3]
spec:
  type: website
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: jo
spec:
  memberOf: [team-a]
";

    #[test]
    fn documents_are_numbered_as_written_and_one_bad_entity_does_not_stop_the_others() {
        let FileContents { entities, problems } = entities_in("org.yaml", TWO_GOOD_ONE_BAD);
        let names: Vec<(usize, String)> = entities
            .iter()
            .map(|e| (e.document, e.entity.reference().to_string()))
            .collect();
        assert_eq!(
            names,
            vec![
                (1, "group:default/team-a".into()),
                (4, "user:default/jo".into())
            ]
        );
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec!["org.yaml#3 component:default/web metadata.tags[1]: \"go 1.15.3\" is not a valid tag: \
                  lowercase letters, digits, ':', '+', '#' separated by '-', at most 63"]
        );
    }

    #[test]
    fn a_syntax_error_is_located() {
        let (documents, problems) = parse_yaml("bad.yaml", "kind: Group\n---\nkind: [unclosed\n");
        assert_eq!(documents.len(), 1);
        assert_eq!(problems.len(), 1);
        let message = problems[0].to_string();
        assert!(
            message.starts_with("bad.yaml#2: not valid YAML (line "),
            "{message}"
        );
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_refused() {
        let FileContents { entities, problems } = entities_in("list.yaml", "- a\n- b\n");
        assert!(entities.is_empty());
        assert_eq!(
            problems[0].to_string(),
            "list.yaml#1: a document must be a mapping with apiVersion, kind, metadata and spec"
        );
    }
}
