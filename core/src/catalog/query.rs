//! Catalog queries with Backstage's semantics: filters, ordering, full-text terms,
//! pages and facets, answered from the flattened search rows.
//!
//! Filters: each `filter` parameter is a list of `key=value` (or bare `key`: the field
//! exists) conditions separated by commas, all of which must hold; a key repeated within
//! one parameter matches any of its values; several `filter` parameters are alternatives.
//! Keys and values compare ignoring case.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::columns::column_for;
use super::text;
use crate::storage::sql::{escape_like, Sql};
use crate::storage::Backend;

/// One condition: the field `key` has one of `values` (or exists, when `values` is empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub key: String,
    pub values: Vec<String>,
}

/// Alternatives of all-of groups; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub any_of: Vec<Vec<Condition>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub field: String,
    pub descending: bool,
}

/// Words that must each appear as the start of a word in one of `fields`. Without
/// fields, the default ones are searched through the full-text index, best matches first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullText {
    pub term: String,
    pub fields: Vec<String>,
}

/// A query, as a page of it: also what a cursor carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub filter: Filter,
    pub order: Vec<Order>,
    pub full_text: Option<FullText>,
    pub offset: u64,
    pub limit: u64,
}

/// A bad query parameter: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    pub parameter: &'static str,
    pub message: String,
}

impl Filter {
    /// Parses `filter` parameters (see the module documentation).
    pub fn parse(params: &[String]) -> Result<Self, QueryError> {
        let mut any_of = Vec::new();
        for param in params {
            let mut group: Vec<Condition> = Vec::new();
            for part in param.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (key, value) = match part.split_once('=') {
                    Some((key, value)) => (key.trim(), Some(value.trim())),
                    None => (part, None),
                };
                if key.is_empty() {
                    return Err(QueryError {
                        parameter: "filter",
                        message: format!("{part:?} has no key (expected key=value or key)"),
                    });
                }
                let key = key.to_lowercase();
                let condition = match group.iter_mut().position(|c| c.key == key) {
                    Some(i) => &mut group[i],
                    None => {
                        group.push(Condition {
                            key,
                            values: Vec::new(),
                        });
                        group.last_mut().expect("just pushed")
                    }
                };
                if let Some(value) = value {
                    condition.values.push(value.to_lowercase());
                }
            }
            if !group.is_empty() {
                any_of.push(group);
            }
        }
        Ok(Self { any_of })
    }
}

impl Order {
    /// `metadata.name,asc` (by-query's `orderField`).
    pub fn parse_field(text: &str) -> Result<Self, QueryError> {
        let (field, direction) = text.split_once(',').unwrap_or((text, "asc"));
        Self::new(field, direction, "orderField")
    }

    /// `asc:metadata.name` (the list endpoint's `order`).
    pub fn parse_prefixed(text: &str) -> Result<Self, QueryError> {
        let (direction, field) = text.split_once(':').unwrap_or(("asc", text));
        Self::new(field, direction, "order")
    }

    fn new(field: &str, direction: &str, parameter: &'static str) -> Result<Self, QueryError> {
        let field = field.trim();
        if field.is_empty() {
            return Err(QueryError {
                parameter,
                message: "names no field".into(),
            });
        }
        let descending = match direction.trim() {
            "asc" => false,
            "desc" => true,
            other => {
                return Err(QueryError {
                    parameter,
                    message: format!("{other:?} is not a direction (asc or desc)"),
                })
            }
        };
        Ok(Self {
            field: field.to_lowercase(),
            descending,
        })
    }
}

impl Query {
    /// The opaque cursor for this query's page: the whole query, so a client only
    /// passes it back.
    pub fn to_cursor(&self) -> String {
        let json = serde_json::to_vec(self).expect("a query serialises");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn from_cursor(cursor: &str) -> Result<Self, QueryError> {
        let invalid = || QueryError {
            parameter: "cursor",
            message: "is not a cursor this catalog issued".into(),
        };
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| invalid())?;
        serde_json::from_slice(&json).map_err(|_| invalid())
    }
}

/// What a query reads and which rows it keeps: `FROM …` (with the ranked full-text
/// matches joined as `ft` when the term searches the default fields) and `WHERE …`.
struct Selection {
    from: String,
    filter: String,
    ranked: bool,
}

fn selection(
    sql: &mut Sql,
    backend: Backend,
    filter: &Filter,
    full_text: Option<&FullText>,
) -> Selection {
    let ranked_words = full_text
        .filter(|t| t.fields.is_empty())
        .map(|t| text::words(&t.term))
        .filter(|words| !words.is_empty());
    let from = match &ranked_words {
        Some(words) => {
            let expression = sql.bind(text::match_expression(backend, words));
            format!(
                "catalog_entities e JOIN ({}) ft ON ft.entity_id = e.id",
                text::matches_sql(backend, &expression)
            )
        }
        None => "catalog_entities e".to_owned(),
    };
    Selection {
        from,
        filter: where_clause(sql, filter, full_text),
        ranked: ranked_words.is_some(),
    }
}

/// `WHERE …` for a filter and a full-text term on named fields, over `catalog_entities e`
/// (a term on the default fields is matched by [`selection`]'s join).
fn where_clause(sql: &mut Sql, filter: &Filter, full_text: Option<&FullText>) -> String {
    let mut parts = Vec::new();
    if !filter.any_of.is_empty() {
        let groups: Vec<String> = filter
            .any_of
            .iter()
            .map(|group| {
                let conditions: Vec<String> = group
                    .iter()
                                        .map(|c| {
                        if let Some(column) = column_for(&c.key) {
                            return if c.values.is_empty() {
                                format!("e.{column} IS NOT NULL")
                            } else {
                                let list: Vec<String> = c.values.iter().map(|v| sql.bind(v.clone())).collect();
                                format!("e.{column} IN ({})", list.join(", "))
                            };
                        }
                        let key = sql.bind(c.key.clone());
                        let values = if c.values.is_empty() {
                            String::new()
                        } else {
                            let list: Vec<String> = c.values.iter().map(|v| sql.bind(v.clone())).collect();
                            format!(" AND value IN ({})", list.join(", "))
                        };
                        format!("e.id IN (SELECT entity_id FROM catalog_search WHERE key = {key}{values})")
                    })
                    .collect();
                format!("({})", conditions.join(" AND "))
            })
            .collect();
        parts.push(format!("({})", groups.join(" OR ")));
    }
    if let Some(text) = full_text.filter(|t| !t.fields.is_empty()) {
        let fields: Vec<String> = text
            .fields
            .iter()
            .map(|f| sql.bind(f.to_lowercase()))
            .collect();
        for word in text.term.split_whitespace() {
            // A word matches where a token of the value starts with it: at the start, or
            // after a separator (`arch` finds wayback-archive, not wayback-search).
            let word = escape_like(&word.to_lowercase());
            let starts: Vec<String> = std::iter::once(format!("{word}%"))
                .chain(TOKEN_SEPARATORS.iter().map(|sep| format!("%{sep}{word}%")))
                .map(|pattern| format!("value LIKE {} ESCAPE '\\'", sql.bind(pattern)))
                .collect();
            parts.push(format!(
                "e.id IN (SELECT entity_id FROM catalog_search WHERE key IN ({}) AND ({}))",
                fields.join(", "),
                starts.join(" OR ")
            ));
        }
    }
    if parts.is_empty() {
        "1 = 1".to_owned()
    } else {
        parts.join(" AND ")
    }
}

/// What separates the tokens of names, titles and tags (`_` comes escaped for LIKE).
const TOKEN_SEPARATORS: &[&str] = &[" ", "-", "\\_", ".", "/", ":"];

/// The ids of a page of the query, in order, and how many entities match in all.
pub(super) async fn page_ids(
    conn: &mut AnyConnection,
    backend: Backend,
    query: &Query,
) -> Result<(Vec<String>, i64), sqlx::Error> {
    let mut sql = Sql::default();
    let Selection {
        from,
        filter,
        ranked,
    } = selection(&mut sql, backend, &query.filter, query.full_text.as_ref());
    let mut order_by = Vec::new();
    for order in &query.order {
        let direction = if order.descending { "DESC" } else { "ASC" };
        let value = match column_for(&order.field) {
            // Kind, namespace and name are never missing: the index gives the order.
            Some(column @ ("kind_key" | "namespace_key" | "name_key")) => {
                order_by.push(format!("e.{column} {direction}"));
                continue;
            }
            Some(column) => format!("e.{column}"),
            None => {
                let key = sql.bind(order.field.clone());
                format!(
                    "(SELECT MIN(s.value) FROM catalog_search s WHERE s.entity_id = e.id AND s.key = {key})"
                )
            }
        };
        // Entities without the field come last, whichever the direction.
        order_by.push(format!("CASE WHEN {value} IS NULL THEN 1 ELSE 0 END"));
        order_by.push(format!("{value} {direction}"));
    }
    // Best matches first, unless the client chose an order.
    if ranked {
        order_by.push("ft.score ASC".to_owned());
    }
    order_by.push("e.ref_key ASC".to_owned());
    // Integers, written into the SQL as numbers: nothing a client sends reaches the text.
    sql.text = format!(
        "SELECT e.id FROM {from} WHERE {filter} ORDER BY {} LIMIT {} OFFSET {}",
        order_by.join(", "),
        query.limit,
        query.offset
    );
    let ids: Vec<String> = sql
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;

    // A page that is not full, and is not past the end, says how many match.
    let fetched = ids.len() as u64;
    if fetched < query.limit && (fetched > 0 || query.offset == 0) {
        return Ok((ids, (query.offset + fetched) as i64));
    }
    let mut count = Sql::default();
    let Selection { from, filter, .. } =
        selection(&mut count, backend, &query.filter, query.full_text.as_ref());
    count.text = format!("SELECT COUNT(*) FROM {from} WHERE {filter}");
    let total: i64 = count.query().fetch_one(&mut *conn).await?.try_get(0)?;
    Ok((ids, total))
}

/// For a facet key, the values (as written) and how many matching entities have each,
/// most frequent first.
pub(super) async fn facet_counts(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &str,
    filter: &Filter,
    full_text: Option<&FullText>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let key = key.to_lowercase();
    let mut sql = Sql::default();
    let Selection {
        from,
        filter: clause,
        ..
    } = selection(&mut sql, backend, filter, full_text);
    sql.text = match column_for(&key) {
        // Counted from the column's index; the value as written is read from one of
        // the entities that has it.
        Some(column) => {
            let key = sql.bind(key.clone());
            format!(
                "SELECT COALESCE((SELECT MIN(s.original_value) FROM catalog_search s \
                 JOIN catalog_entities x ON x.id = s.entity_id \
                 WHERE x.ref_key = g.first AND s.key = {key}), g.value), g.n \
                 FROM (SELECT e.{column} AS value, COUNT(*) AS n, MIN(e.ref_key) AS first \
                                  FROM {from} WHERE e.{column} IS NOT NULL AND {clause} \
                 GROUP BY e.{column}) g ORDER BY 2 DESC, 1 ASC"
            )
        }
        None => {
            let key = sql.bind(key.clone());
            format!(
                "SELECT MIN(s.original_value), COUNT(DISTINCT s.entity_id) FROM {from} \
                 JOIN catalog_search s ON s.entity_id = e.id \
                 WHERE s.key = {key} AND {clause} GROUP BY s.value ORDER BY 2 DESC, 1 ASC"
            )
        }
    };
    sql.query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(key: &str, values: &[&str]) -> Condition {
        Condition {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn filters_parse_with_backstage_semantics() {
        let filter = Filter::parse(&[
            "kind=Component,spec.type=service,kind=API".into(),
            "metadata.annotations.backstage.io/techdocs-ref".into(),
        ])
        .unwrap();
        assert_eq!(
            filter.any_of,
            vec![
                vec![
                    condition("kind", &["component", "api"]),
                    condition("spec.type", &["service"])
                ],
                vec![condition(
                    "metadata.annotations.backstage.io/techdocs-ref",
                    &[]
                )],
            ]
        );
        assert_eq!(Filter::parse(&[]).unwrap(), Filter::default());
        assert_eq!(
            Filter::parse(&["=x".into()]).unwrap_err().to_string(),
            "filter: \"=x\" has no key (expected key=value or key)"
        );
    }

    #[test]
    fn orders_parse_in_both_spellings() {
        assert_eq!(
            Order::parse_field("metadata.name,desc").unwrap(),
            Order {
                field: "metadata.name".into(),
                descending: true
            }
        );
        assert_eq!(
            Order::parse_field("kind").unwrap(),
            Order {
                field: "kind".into(),
                descending: false
            }
        );
        assert!(
            Order::parse_prefixed("desc:metadata.name")
                .unwrap()
                .descending
        );
        assert!(Order::parse_field("kind,up")
            .unwrap_err()
            .to_string()
            .starts_with("orderField: \"up\""));
    }

    #[test]
    fn cursors_carry_the_whole_query() {
        let query = Query {
            filter: Filter::parse(&["kind=component".into()]).unwrap(),
            order: vec![Order::parse_field("metadata.name,asc").unwrap()],
            full_text: Some(FullText {
                term: "play".into(),
                fields: vec![],
            }),
            offset: 40,
            limit: 20,
        };
        assert_eq!(Query::from_cursor(&query.to_cursor()).unwrap(), query);
        assert_eq!(
            Query::from_cursor("not-a-cursor").unwrap_err().parameter,
            "cursor"
        );
    }
}
