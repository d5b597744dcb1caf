//! Ranked full-text search over the fields people search by (name, title, description,
//! tags, owner, type), with prefix matching: SQLite's FTS5, PostgreSQL's text search.
//! The SQL differs per backend; what callers see does not.

use serde_json::Value;
use sqlx::AnyConnection;

use super::Entity;
use crate::storage::sql::insert_rows_around;
use crate::storage::Backend;

/// The searchable text of one entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityText {
    pub name: String,
    pub title: String,
    pub description: String,
    pub tags: String,
    pub owner: String,
    pub spec_type: String,
}

impl EntityText {
    pub fn of(entity: &Entity) -> Self {
        let text = |path: &[&str]| entity.text(path).unwrap_or_default().to_owned();
        let tags = entity
            .metadata()
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        Self {
            name: text(&["metadata", "name"]),
            title: text(&["metadata", "title"]),
            description: text(&["metadata", "description"]),
            tags,
            owner: text(&["spec", "owner"]),
            spec_type: text(&["spec", "type"]),
        }
    }
}

/// Writes the text of these entities (whose earlier text is already deleted).
pub async fn insert_all(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[(&str, EntityText)],
) -> Result<(), sqlx::Error> {
    let (prefix, suffix) = match backend {
        // The triggers of catalog_text keep the FTS5 index in step.
        Backend::Sqlite => (
            "INSERT INTO catalog_text (entity_id, name, title, description, tags, owner, type) VALUES ",
            "",
        ),
        Backend::Postgres => (
            "INSERT INTO catalog_text (entity_id, document) \
             SELECT v.id, \
                 setweight(to_tsvector('simple', v.name), 'A') \
              || setweight(to_tsvector('simple', v.title), 'A') \
              || setweight(to_tsvector('simple', v.tags), 'B') \
              || setweight(to_tsvector('simple', v.owner), 'B') \
              || setweight(to_tsvector('simple', v.type), 'B') \
              || setweight(to_tsvector('simple', v.description), 'C') \
             FROM (VALUES ",
            ") AS v (id, name, title, description, tags, owner, type)",
        ),
    };
    insert_rows_around(conn, prefix, suffix, 7, 100, rows, |query, (id, text)| {
        query
            .bind(*id)
            .bind(&text.name)
            .bind(&text.title)
            .bind(&text.description)
            .bind(&text.tags)
            .bind(&text.owner)
            .bind(&text.spec_type)
    })
    .await
}

/// The words of a search term, lower-cased, as the index splits text: runs of letters
/// and digits. Nothing else of the term reaches the match expression.
pub fn words(term: &str) -> Vec<String> {
    term.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The match expression for `words`: every word, as a prefix, somewhere in the text.
pub fn match_expression(backend: Backend, words: &[String]) -> String {
    match backend {
        Backend::Sqlite => words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND "),
        Backend::Postgres => words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// A sub-query of `(entity_id, score)` for the entities matching the bound expression
/// `param`; a lower score ranks higher.
pub fn matches_sql(backend: Backend, param: &str) -> String {
    match backend {
        // bm25 weights per column: name, title, description, tags, owner, type.
        Backend::Sqlite => format!(
            "SELECT t.entity_id, bm25(catalog_text_index, 10.0, 8.0, 1.0, 4.0, 2.0, 2.0) AS score \
             FROM catalog_text_index JOIN catalog_text t ON t.rowid = catalog_text_index.rowid \
             WHERE catalog_text_index MATCH {param}"
        ),
        Backend::Postgres => format!(
            "SELECT t.entity_id, -ts_rank(t.document, to_tsquery('simple', {param})) AS score \
             FROM catalog_text t WHERE t.document @@ to_tsquery('simple', {param})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn terms_become_prefix_matches_of_their_words() {
        let words = words("Wayback-Arch \"x\" OR *");
        assert_eq!(words, ["wayback", "arch", "x", "or"]);
        assert_eq!(
            match_expression(Backend::Sqlite, &words),
            "\"wayback\"* AND \"arch\"* AND \"x\"* AND \"or\"*"
        );
        assert_eq!(
            match_expression(Backend::Postgres, &words),
            "wayback:* & arch:* & x:* & or:*"
        );
    }

    #[test]
    fn the_text_of_an_entity() {
        let entity = Entity::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "web", "title": "Web shop", "tags": ["java", "web"]},
            "spec": {"type": "website", "lifecycle": "production", "owner": "team-a"},
        }))
        .unwrap();
        let text = EntityText::of(&entity);
        assert_eq!(text.tags, "java web");
        assert_eq!(text.owner, "team-a");
        assert_eq!(text.description, "");
    }
}
