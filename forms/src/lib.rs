//! Template parameter forms: the JSON Schema pages of a Backstage Software Template
//! (`spec.parameters`), checked against the values a person enters.
//!
//! Portico validates these values twice: in the browser as they are typed, and on the
//! server before a task is created. Both sides call this crate, so they cannot disagree
//! about what a valid answer is. It depends on serde alone because it is compiled into the
//! browser bundle; regular expressions go through a [`PatternMatcher`] that the caller
//! supplies (JavaScript's `RegExp` in the browser, the `regex` crate on the server).
//!
//! The schemas are JSON Schema draft-07 as react-jsonschema-form uses it, the dialect
//! Backstage templates are written in. Keys starting with `ui:` are display hints and
//! take no part in validation; unknown keywords are ignored.
//!
//! Modules:
//! - [`pages`](crate::pages()): `spec.parameters` as a list of pages, whichever shape it has.
//! - [`fields`]: which properties a page shows for the current values ([`visible_fields`]),
//!   with `dependencies`, `if`/`then`/`else` and `allOf` resolved.
//! - [`validate`]: [`validate_page`] and the keywords it checks.
//! - [`defaults`]: [`apply_defaults`], the `default`s of fields that have no value yet.
//! - `format` and `json` (private): the `format` checks, and JSON equality and display.

pub mod defaults;
pub mod fields;
mod format;
mod json;
mod pages;
pub mod validate;

use serde::{Deserialize, Serialize};

pub use defaults::apply_defaults;
pub use fields::{visible_fields, Field};
pub use pages::pages;
pub use validate::validate_page;

/// One problem with one field of a form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldError {
    /// The property's path: `name`, `tags[1]`, `db.size`; empty for the page itself.
    pub field: String,
    /// Short lower-case text meant to follow the field's title: `is required`,
    /// `must be at most 63 characters`, `must match ^[a-z]+$`.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks the `pattern` keyword: a JSON Schema pattern is an ECMAScript regular expression
/// that may match anywhere in the text (it is not anchored), as `RegExp.prototype.test`
/// and `regex::Regex::is_match` do.
///
/// Compiling is the implementation's business; a server that validates many forms may
/// want to cache compiled patterns.
pub trait PatternMatcher {
    /// Whether `pattern` matches somewhere in `text`, or why `pattern` is not a valid
    /// regular expression (reported on the field as a problem with the template).
    fn is_match(&self, pattern: &str, text: &str) -> Result<bool, String>;
}

/// Any `Fn(pattern, text)` with the same contract is a matcher.
impl<F> PatternMatcher for F
where
    F: Fn(&str, &str) -> Result<bool, String>,
{
    fn is_match(&self, pattern: &str, text: &str) -> Result<bool, String> {
        self(pattern, text)
    }
}
