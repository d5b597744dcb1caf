//! Small pieces shared by the SQL of every area: numbered placeholders, multi-row
//! inserts, and the stored form of timestamps.

use sqlx::AnyConnection;
use time::OffsetDateTime;

/// A query on the `Any` driver, as built with `sqlx::query`.
pub type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// SQL text with its bound values, numbered as it is built: for statements whose
/// conditions depend on the request (filters, searches).
#[derive(Default)]
pub struct Sql {
    pub text: String,
    binds: Vec<SqlValue>,
}

/// A value bound to a [`Sql`] statement, typed: PostgreSQL compares a number only with
/// a number.
pub enum SqlValue {
    Text(String),
    Int(i64),
}

impl From<String> for SqlValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for SqlValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<i64> for SqlValue {
    fn from(int: i64) -> Self {
        Self::Int(int)
    }
}

impl Sql {
    /// Binds `value` and returns its placeholder (`$3`).
    pub fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        self.binds.push(value.into());
        format!("${}", self.binds.len())
    }

    /// The statement with its values bound, to run.
    pub fn query(&self) -> AnyQuery<'_> {
        let mut query = sqlx::query(&self.text);
        for value in &self.binds {
            query = match value {
                SqlValue::Text(text) => query.bind(text),
                SqlValue::Int(int) => query.bind(*int),
            };
        }
        query
    }
}

/// `text` with LIKE's wildcards escaped, for patterns written with `ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How a statement whose values are all bound in order writes them. SQLite binds a
/// numbered `$n` by looking its name up, one linear search per value: a 2,000-value
/// insert spent a third of a catalog import there. Its anonymous `?` costs nothing.
/// PostgreSQL knows only `$n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholders {
    Anonymous,
    Numbered,
}

impl Placeholders {
    pub fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Self::Anonymous
        } else {
            Self::Numbered
        }
    }

    /// `$first, $first+1, …` (or `?, ?, …`) for `count` values.
    pub fn list(self, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|n| match self {
                Self::Anonymous => "?".to_owned(),
                Self::Numbered => format!("${n}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `prefix ($1, $2, $3), ($4, $5, $6)…` for `rows` rows of `columns` values.
    pub fn values(self, prefix: &str, rows: usize, columns: usize) -> String {
        let mut sql = String::from(prefix);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&self.list(row * columns + 1, columns));
            sql.push(')');
        }
        sql
    }
}

/// Inserts `rows` with multi-row statements of at most `per_statement` rows: a bulk
/// write costs a few round trips, not one per row. `bind` adds one row's `columns` values.
pub async fn insert_rows<T>(
    conn: &mut AnyConnection,
    prefix: &str,
    columns: usize,
    per_statement: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> Result<(), sqlx::Error> {
    insert_rows_around(conn, prefix, "", columns, per_statement, rows, bind).await
}

/// [`insert_rows`] with text after the values: `INSERT … SELECT … FROM (VALUES …) AS v (…)`.
pub async fn insert_rows_around<T>(
    conn: &mut AnyConnection,
    prefix: &str,
    suffix: &str,
    columns: usize,
    per_statement: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(per_statement) {
        let sql = Placeholders::of(conn).values(prefix, chunk.len(), columns) + suffix;
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Now, as stored: Unix time in milliseconds.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored timestamp for people: `2026-11-21 18:03 UTC`.
pub fn display_millis(millis: i64) -> String {
    let at = from_millis(millis);
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The start of a UTC day written `YYYY-MM-DD` (as an HTML date input sends it), in
/// Unix milliseconds; `None` for anything else.
pub fn millis_at_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// A stored timestamp back as a time (the epoch for values out of range).
pub fn from_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_shown_in_utc_to_the_minute() {
        assert_eq!(
            display_millis(1_795_219_200_000 + 61_000),
            "2026-11-21 00:01 UTC"
        );
    }

    #[test]
    fn dates_are_read_as_the_start_of_their_utc_day() {
        assert_eq!(millis_at_date("1970-01-02"), Some(86_400_000));
        assert_eq!(millis_at_date("2026-11-21"), Some(1_795_219_200_000));
        for bad in ["", "2026-13-01", "2026-02-30", "yesterday", "2026-11"] {
            assert_eq!(millis_at_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn multi_row_values_are_numbered_in_order() {
        assert_eq!(
            Placeholders::Numbered.values("INSERT INTO t (a, b) VALUES ", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            Placeholders::Anonymous.values("INSERT INTO t (a, b) VALUES ", 2, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(Placeholders::Numbered.list(3, 2), "$3, $4");
    }

    #[test]
    fn timestamps_round_trip_in_milliseconds() {
        let now = now_millis();
        assert_eq!(
            (from_millis(now).unix_timestamp_nanos() / 1_000_000) as i64,
            now
        );
    }
}
