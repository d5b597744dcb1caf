//! The `${{ … }}` expressions of Backstage software templates (`scaffolder.backstage.io/v1beta3`).
//!
//! Backstage evaluates them with nunjucks; Portico evaluates them with minijinja, a Jinja
//! engine whose language is nunjucks' close cousin, and closes the gaps templates written
//! for Backstage actually fall into:
//!
//! - JavaScript operators (`===`, `!==`, `&&`, `||`, prefix `!`) are rewritten to Jinja's
//!   (`==`, `!=`, `and`, `or`, `not`) before compiling, outside string literals; `null`
//!   and `undefined` are names for none and undefined; object literals may leave their
//!   keys unquoted (`{ defaultKind: "group" }`), as in JavaScript.
//! - Values print as JavaScript prints them: none and undefined as nothing, booleans as
//!   `true`/`false`, `2.0` as `2`, lists as `a,b`. (Objects print as JSON rather than
//!   JavaScript's useless `[object Object]`.)
//! - Backstage's filters (`parseRepoUrl`, `parseEntityRef`, `pick`, `projectSlug`) and
//!   nunjucks' `dump` are added to minijinja's built-ins, and the common string methods
//!   (`name.toLowerCase()`, `url.split('?')`) work.
//! - Lookups are lenient the way nunjucks is: a missing key, or a key of a missing or
//!   null value, is undefined, which prints as nothing.
//!
//! Known differences that remain: `===` compares like `==` (Jinja has no loose equality,
//! so `3 == "3"` is false either way); prefix `!` binds like Jinja's `not`, which is
//! looser than JavaScript's (`!a == b` reads as `not (a == b)`); `+` does not join a
//! string and a number (use `~`); `{% for k, v in object %}` needs `object | items`;
//! `.length` is `| length`; `{% macro %}` is not available; and inside `{% if %}`, empty
//! lists and objects are false as in Jinja (the step `if`, judged by
//! [`Expressions::is_truthy`], follows Backstage).
//!
//! Where Backstage quietly keeps a string whose expression fails (an unknown filter, a
//! syntax error), Portico reports an error naming the expression: a template that would
//! run with a literal `${{ … }}` in a repository name is better stopped.
//!
//! Rendering is sandboxed: nothing is read from disk (no loader, and the engine is built
//! without `include`/`import`/`extends`), every render has a budget of work ("fuel"),
//! nesting and output size are bounded, and user input never panics.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Serde, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};
use serde_json::Value as Json;

/// Instructions one render may execute. A loop with a dozen expressions in its body runs
/// over some 20,000 items within it, far more than a skeleton loops over; a loop that
/// runs away stops within a fraction of a second instead of holding a worker forever.
const FUEL: u64 = 1_000_000;

/// How deeply blocks and recursive loops may nest at run time. Templates nest a handful
/// of levels; the bound keeps a `recursive` loop that recurses forever from exhausting the
/// stack of the thread it runs on (async workers have small stacks).
const RECURSION_LIMIT: usize = 100;

/// The most text one render may produce: far beyond any file a skeleton holds, and small
/// enough that a loop printing a huge string fails before it exhausts memory.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// How much of a failing expression an error repeats: enough to recognise it.
const MAX_SHOWN: usize = 120;

/// The expression engine, configured once and shared: cheap to clone.
#[derive(Clone)]
pub struct Expressions {
    engines: Arc<Engines>,
}

struct Engines {
    /// `${{ }}` values, `{% %}` blocks, `{# #}` comments: step inputs and `if`s, outputs,
    /// skeleton files and their names.
    dollar: Environment<'static>,
    /// Jinja's own `{{ }}`, for skeletons written for cookiecutter.
    cookiecutter: Environment<'static>,
}

/// Why an expression could not be evaluated. Each variant carries the failing text
/// (shortened, and prefixed with its line when the text has several) and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpressionError {
    /// The text is not well formed: an unclosed `${{`, a dangling operator, an unknown
    /// or unclosed tag.
    #[error("{expression}: syntax error: {message}")]
    Syntax { expression: String, message: String },
    /// The text uses a filter, test, function or method that does not exist.
    #[error("{expression}: {message}")]
    Unknown { expression: String, message: String },
    /// A filter rejected its input, or an operation does not apply to its operands.
    #[error("{expression}: {message}")]
    Evaluation { expression: String, message: String },
    /// The text needs more work, nesting or output than one render is allowed.
    #[error("{expression}: {message}")]
    Limit { expression: String, message: String },
}

impl ExpressionError {
    /// The failing text, as shown in the message.
    pub fn expression(&self) -> &str {
        match self {
            Self::Syntax { expression, .. }
            | Self::Unknown { expression, .. }
            | Self::Evaluation { expression, .. }
            | Self::Limit { expression, .. } => expression,
        }
    }
}

impl Expressions {
    pub fn new() -> Self {
        let mut dollar = sandboxed(
            SyntaxConfig::builder()
                .variable_delimiters("${{", "}}")
                .keep_trailing_newline(true)
                .build()
                .expect("the ${{ }} delimiters are valid"),
        );
        // `null` is how templates written for JavaScript say none; `undefined` needs no
        // entry, since every unknown name already is undefined.
        dollar.add_global("null", Value::from(()));
        dollar.set_unknown_method_callback(js_method);

        // Cookiecutter renders with Jinja, which keeps trailing newlines in its
        // configuration, and `jsonify` is cookiecutter's name for `dump`.
        let mut cookiecutter = sandboxed(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        cookiecutter.add_filter("jsonify", dump);
        cookiecutter.set_unknown_method_callback(python_method);

        Self {
            engines: Arc::new(Engines {
                dollar,
                cookiecutter,
            }),
        }
    }

    /// Renders every string inside `value` (recursively through arrays and objects, keys
    /// untouched) against `context` (a JSON object with keys like `parameters`, `steps`,
    /// `secrets`, `user`, `each`).
    ///
    /// A string that is exactly one `${{ expr }}` (surrounding whitespace allowed) takes the
    /// expression's JSON type: `${{ parameters.count }}` is the number 3, not "3". Other
    /// strings with `${{` are rendered as text; strings without it are kept as they are.
    ///
    /// As in Backstage, a string whose expression is undefined, or whose text renders
    /// empty, is *absent*: an object drops the key (so an optional action input that
    /// was not filled in is missing rather than null), an array holds null in its place,
    /// and a `value` that is itself such a string renders as null. An expression that is
    /// a defined empty string keeps it.
    pub fn render_value(&self, value: &Json, context: &Json) -> Result<Json, ExpressionError> {
        let context = Value::from(Serde(context));
        Ok(self.render_node(value, &context)?.unwrap_or(Json::Null))
    }

    /// Renders a text (a skeleton file's contents or name): `${{ }}` for values, `{% %}`
    /// for blocks (`if`, `for`, `set`, `raw`, …), `{# #}` for comments.
    pub fn render_text(&self, text: &str, context: &Json) -> Result<String, ExpressionError> {
        let context = Value::from(Serde(context));
        let source = translate_template(text);
        render(&self.engines.dollar, &source, text, &context)
    }

    /// Renders a text written for cookiecutter: Jinja's `{{ }}`, `{% %}`, `{# #}`, no
    /// JavaScript operators. The caller passes the values as both `values` and
    /// `cookiecutter`, so `{{ cookiecutter.name }}` and `{{ values.name }}` both work.
    pub fn render_text_cookiecutter(
        &self,
        text: &str,
        context: &Json,
    ) -> Result<String, ExpressionError> {
        let context = Value::from(Serde(context));
        render(&self.engines.cookiecutter, text, text, &context)
    }

    /// Judges a step's or an output item's `if`.
    ///
    /// A bool is itself; anything else is rendered as by [`Expressions::render_value`]
    /// and judged by Backstage's rule (`isTruthy` in `plugins/scaffolder-backend`,
    /// `src/scaffolder/tasks`: `isArray(value) ? value.length > 0 : !!value`): false are
    /// `false`, `0`, `""`, `null`, an undefined or absent result, and the empty array;
    /// everything else is true, including the string `"false"`, the string `"0"` and the
    /// empty object. So `if: ${{ parameters.enableCI === "Yes" }}` and
    /// `if: ${{ parameters.enableMonitoring }}` mean what they say, while a literal
    /// `if: "false"` is true, in Portico as in Backstage.
    ///
    /// (Backstage consults a step's `if` only when it is itself truthy in JavaScript, so
    /// there a step with `if: false` or `if: ""` runs; here both are false.)
    pub fn is_truthy(&self, condition: &Json, context: &Json) -> Result<bool, ExpressionError> {
        if let Json::Bool(b) = condition {
            return Ok(*b);
        }
        let context = Value::from(Serde(context));
        Ok(match self.render_node(condition, &context)? {
            None | Some(Json::Null) => false,
            Some(Json::Bool(b)) => b,
            Some(Json::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
            Some(Json::String(s)) => !s.is_empty(),
            Some(Json::Array(items)) => !items.is_empty(),
            Some(Json::Object(_)) => true,
        })
    }

    /// Renders one node; `None` is absent (see [`Expressions::render_value`]).
    fn render_node(&self, node: &Json, context: &Value) -> Result<Option<Json>, ExpressionError> {
        match node {
            Json::String(text) => self.render_string(text, context),
            Json::Array(items) => items
                .iter()
                .map(|item| Ok(self.render_node(item, context)?.unwrap_or(Json::Null)))
                .collect::<Result<Vec<_>, _>>()
                .map(|items| Some(Json::Array(items))),
            Json::Object(members) => {
                let mut rendered = serde_json::Map::with_capacity(members.len());
                for (key, member) in members {
                    if let Some(member) = self.render_node(member, context)? {
                        rendered.insert(key.clone(), member);
                    }
                }
                Ok(Some(Json::Object(rendered)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn render_string(&self, text: &str, context: &Value) -> Result<Option<Json>, ExpressionError> {
        if !text.contains("${{") {
            return Ok(Some(Json::String(text.to_owned())));
        }
        let env = &self.engines.dollar;
        if let Some(expression) = whole_expression(text) {
            // Lines in the engine's errors count from the `${{`, not from the string's
            // start, so they are not repeated.
            let fail = |e: Error| classify(excerpt(text, None), &e);
            let compiled = env
                .compile_expression_owned(translate_expression(expression))
                .map_err(fail)?;
            let value = compiled.eval(context.clone()).map_err(fail)?;
            return to_json(&value).map_err(fail);
        }
        let rendered = render(env, &translate_template(text), text, context)?;
        Ok((!rendered.is_empty()).then_some(Json::String(rendered)))
    }
}

impl Default for Expressions {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Expressions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expressions").finish_non_exhaustive()
    }
}

/// An engine with Portico's limits, leniency, printing and filters.
fn sandboxed(syntax: SyntaxConfig) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // nunjucks answers every lookup on a missing or null value with undefined; templates
    // rely on it (`steps.publish.output.remoteUrl` when `publish` was skipped).
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_formatter(|out, _state, value| {
        let mut text = String::new();
        write_js(&mut text, value);
        out.write_str(&text)?;
        Ok(())
    });
    env.add_filter("dump", dump);
    env.add_filter("parseRepoUrl", parse_repo_url);
    env.add_filter("projectSlug", project_slug);
    env.add_filter("parseEntityRef", parse_entity_ref);
    env.add_filter("pick", pick);
    env
}

/// Renders `source` (already translated) to text; `shown` is what the user wrote, for
/// errors. Translation keeps line breaks where they were, so error lines match both.
fn render(
    env: &Environment<'_>,
    source: &str,
    shown: &str,
    context: &Value,
) -> Result<String, ExpressionError> {
    let template = env
        .template_from_str(source)
        .map_err(|e| failure(shown, &e))?;
    let mut out = CappedOutput(Vec::new());
    template
        .render_captured_to(context.clone(), &mut out)
        .map_err(|e| failure(shown, &e))?;
    String::from_utf8(out.0).map_err(|_| ExpressionError::Evaluation {
        expression: excerpt(shown, None),
        message: "the rendered text is not UTF-8".to_owned(),
    })
}

/// Collects rendered text, refusing to grow past [`MAX_OUTPUT`].
struct CappedOutput(Vec<u8>);

impl io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(io::Error::other("output limit reached"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Turns an engine error from rendering `text` into ours, naming the text (or the
/// failing line of it) that failed.
fn failure(text: &str, error: &Error) -> ExpressionError {
    classify(excerpt(text, error.line()), error)
}

fn classify(expression: String, error: &Error) -> ExpressionError {
    let detail = error.detail().map(str::to_owned);
    match error.kind() {
        ErrorKind::SyntaxError => ExpressionError::Syntax {
            expression,
            message: detail.unwrap_or_else(|| "unexpected input".to_owned()),
        },
        kind @ (ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod) => {
            // The engine says "filter nope is unknown"; "unknown filter nope" reads better
            // after the expression.
            let message = match detail {
                Some(d) => match d.strip_suffix(" is unknown") {
                    Some(what) => {
                        let name = ["filter ", "test ", "function "]
                            .iter()
                            .find_map(|noun| what.strip_prefix(noun))
                            .unwrap_or(what);
                        format!("{kind} {name}")
                    }
                    None => format!("{kind}: {d}"),
                },
                None => kind.to_string(),
            };
            ExpressionError::Unknown {
                expression,
                message,
            }
        }
        ErrorKind::OutOfFuel => ExpressionError::Limit {
            expression,
            message: format!(
                "the template needs more than {FUEL} steps of work (a loop that runs too long?)"
            ),
        },
        // The only writer is `CappedOutput`, so a failed write is the output limit.
        ErrorKind::WriteFailure => ExpressionError::Limit {
            expression,
            message: format!(
                "the template renders more than {} MiB of text",
                MAX_OUTPUT / (1024 * 1024)
            ),
        },
        ErrorKind::InvalidOperation if detail.as_deref() == Some("recursion limit exceeded") => {
            ExpressionError::Limit {
                expression,
                message: format!("the template nests more than {RECURSION_LIMIT} levels deep"),
            }
        }
        kind => ExpressionError::Evaluation {
            expression,
            message: detail.unwrap_or_else(|| kind.to_string()),
        },
    }
}

/// The failing text as an error shows it: the whole text when it is one line, else the
/// failing line; shortened to [`MAX_SHOWN`] characters.
fn excerpt(text: &str, line: Option<usize>) -> String {
    let shown = match line {
        Some(n) if text.trim().contains('\n') => match text.lines().nth(n.saturating_sub(1)) {
            Some(l) => format!("line {n}: {}", l.trim()),
            None => text.trim().to_owned(),
        },
        _ => text.trim().to_owned(),
    };
    if shown.chars().count() <= MAX_SHOWN {
        return shown;
    }
    let mut short: String = shown.chars().take(MAX_SHOWN - 1).collect();
    short.push('…');
    short
}

// ---------------------------------------------------------------------------------------
// Reading templates: where the expressions are, and rewriting their JavaScript.

/// The expression of a string that is exactly one `${{ … }}`, surrounding whitespace
/// allowed, without its whitespace-control marks (`${{- x -}}`).
fn whole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${{")?;
    let end = find_close(inner, "}}")?;
    if end + 2 != inner.len() {
        return None;
    }
    let inner = &inner[..end];
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    Some(inner.strip_suffix(['-', '+']).unwrap_or(inner))
}

/// Where `close` ends the tag whose inside starts `inner`: outside string literals and
/// outside braces, so `${{ {'a': '}}'} }}` closes at the end.
fn find_close(inner: &str, close: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 && inner[i..].starts_with(close) => return Some(i),
            _ => {}
        }
    }
    None
}

/// Rewrites the JavaScript inside every `${{ }}` and `{% %}` of a template; text,
/// comments and `{% raw %}` blocks stay as written, and so does anything unclosed (the
/// engine then reports it).
fn translate_template(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = next_opening(rest) {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        if tag.starts_with("{#") {
            let end = tag.find("#}").map_or(tag.len(), |i| i + 2);
            out.push_str(&tag[..end]);
            rest = &tag[end..];
            continue;
        }
        let (open, close) = if tag.starts_with("${{") {
            ("${{", "}}")
        } else {
            ("{%", "%}")
        };
        let inside = &tag[open.len()..];
        let Some(end) = find_close(inside, close) else {
            out.push_str(tag);
            return out;
        };
        let expression = &inside[..end];
        out.push_str(open);
        out.push_str(&translate_expression(expression));
        out.push_str(close);
        rest = &inside[end + close.len()..];
        if open == "{%" && tag_name(expression) == "raw" {
            let end = end_of_raw(rest);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The earliest `${{`, `{%` or `{#` in `text`.
fn next_opening(text: &str) -> Option<usize> {
    ["${{", "{%", "{#"]
        .iter()
        .filter_map(|open| text.find(open))
        .min()
}

/// `raw` for `{%- raw %}`: the first word of a block tag.
fn tag_name(inside: &str) -> &str {
    let inside = inside.trim_start_matches(['-', '+']).trim_start();
    let end = inside
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(inside.len());
    &inside[..end]
}

/// How much of `text` a raw block keeps verbatim: up to its `{% endraw %}`, or all of it
/// when it is unclosed (the engine then reports it).
fn end_of_raw(text: &str) -> usize {
    let mut from = 0;
    while let Some(i) = text[from..].find("{%") {
        let start = from + i;
        if tag_name(&text[start + 2..]) == "endraw" {
            return start;
        }
        from = start + 2;
    }
    text.len()
}

/// Rewrites JavaScript operators to Jinja's and quotes bare object-literal keys, outside
/// string literals. The spaces added around words keep `a&&b` from becoming `aandb`.
fn translate_expression(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len() + 8);
    let mut quote = None;
    let mut escaped = false;
    // What each open bracket is, so a `key:` inside `{ }` can be told from a slice
    // `[1:2]`; and whether the next token would be the first of an object entry.
    let mut brackets: Vec<char> = Vec::new();
    let mut entry_start = false;
    let mut chars = expression.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let rest = &expression[i..];
        let mut skip = 0;
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '=' if rest.starts_with("===") => {
                out.push_str("==");
                skip = 2;
            }
            '!' if rest.starts_with("!==") => {
                out.push_str("!=");
                skip = 2;
            }
            '!' if rest.starts_with("!=") => {
                out.push_str("!=");
                skip = 1;
            }
            '!' => out.push_str(" not "),
            '&' if rest.starts_with("&&") => {
                out.push_str(" and ");
                skip = 1;
            }
            '|' if rest.starts_with("||") => {
                out.push_str(" or ");
                skip = 1;
            }
            '{' | '[' | '(' => {
                brackets.push(c);
                out.push(c);
            }
            '}' | ']' | ')' => {
                brackets.pop();
                out.push(c);
            }
            c if entry_start && (c.is_ascii_alphabetic() || c == '_') => {
                let len = rest
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .unwrap_or(rest.len());
                let word = &rest[..len];
                if rest[len..].trim_start().starts_with(':') {
                    let _ = write!(out, "'{word}'");
                } else {
                    out.push_str(word);
                }
                skip = len - 1;
            }
            c => out.push(c),
        }
        for _ in 0..skip {
            chars.next();
        }
        if !c.is_whitespace() {
            entry_start = matches!(c, '{' | ',') && brackets.last() == Some(&'{');
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Values: printing them as JavaScript does, and turning them back into JSON.

/// Writes a value as nunjucks prints it (JavaScript's `String(value)`), except objects,
/// which print as JSON.
fn write_js(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number if !value.is_integer() => match f64::try_from(value.clone()) {
            Ok(n) => write_js_number(out, n),
            Err(_) => {
                let _ = write!(out, "{value}");
            }
        },
        ValueKind::Seq | ValueKind::Iterable => {
            // `Array.prototype.toString`: the items joined by commas.
            if let Ok(items) = value.try_iter() {
                for (n, item) in items.enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write_js(out, &item);
                }
            }
        }
        ValueKind::Map => match to_json(value) {
            Ok(Some(json)) => out.push_str(&json.to_string()),
            _ => {
                let _ = write!(out, "{value}");
            }
        },
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

fn write_js_number(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("NaN");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // Rust prints whole floats as `2`, as JavaScript does, and the rest in their
        // shortest form.
        let _ = write!(out, "{n}");
    }
}

/// The JSON a value stands for; `None` for undefined (absent, as `JSON.stringify` leaves
/// it). Whole floats become integers, since JavaScript does not tell `2.0` from `2`.
fn to_json(value: &Value) -> Result<Option<Json>, Error> {
    Ok(Some(match value.kind() {
        ValueKind::Undefined => return Ok(None),
        ValueKind::None => Json::Null,
        ValueKind::Bool => Json::Bool(value.is_true()),
        ValueKind::Number => number_to_json(value),
        ValueKind::String => Json::String(value.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bytes => {
            Json::String(String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut items = Vec::new();
            for item in value.try_iter()? {
                items.push(to_json(&item)?.unwrap_or(Json::Null));
            }
            Json::Array(items)
        }
        ValueKind::Map => {
            let mut members = serde_json::Map::new();
            for key in value.try_iter()? {
                if let Some(member) = to_json(&value.get_item(&key)?)? {
                    let key = match key.as_str() {
                        Some(k) => k.to_owned(),
                        None => key.to_string(),
                    };
                    members.insert(key, member);
                }
            }
            Json::Object(members)
        }
        kind => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("the expression gives a {kind}, which has no JSON form"),
            ))
        }
    }))
}

fn number_to_json(value: &Value) -> Json {
    if value.is_integer() {
        if let Ok(n) = i64::try_from(value.clone()) {
            return Json::from(n);
        }
        if let Ok(n) = u64::try_from(value.clone()) {
            return Json::from(n);
        }
    }
    match f64::try_from(value.clone()) {
        // Exactly representable whole numbers, as JavaScript would print them.
        Ok(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => Json::from(n as i64),
        // `JSON.stringify` writes NaN and the infinities as null.
        Ok(n) => serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number),
        Err(_) => Json::Null,
    }
}

// ---------------------------------------------------------------------------------------
// Filters. Their errors name the filter but not the value, which may be a secret.

/// nunjucks' `dump`: the value as JSON text (`JSON.stringify(value, null, indent)`),
/// so `"name": ${{ values.name | dump }}` is valid JSON. Undefined stays undefined.
fn dump(value: Value, indent: Option<Value>) -> Result<Value, Error> {
    let Some(json) = to_json(&value)? else {
        return Ok(Value::UNDEFINED);
    };
    // JavaScript takes a count of spaces or an indent string, both capped at 10.
    let indent: String = match &indent {
        Some(i) if i.kind() == ValueKind::Number => " ".repeat(i.as_usize().unwrap_or(0).min(10)),
        Some(i) => i.as_str().unwrap_or_default().chars().take(10).collect(),
        None => String::new(),
    };
    if indent.is_empty() {
        return Ok(Value::from(json.to_string()));
    }
    let mut text = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
    serde::Serialize::serialize(&json, &mut serializer)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, format!("dump: {e}")))?;
    Ok(Value::from(String::from_utf8_lossy(&text).into_owned()))
}

/// The parts of a RepoUrlPicker value, `host?owner=…&repo=…` (also `organization`,
/// `workspace`, `project`, for the hosts that use them).
struct RepoUrl {
    host: String,
    parts: Vec<(&'static str, String)>,
}

impl RepoUrl {
    const KEYS: [&'static str; 5] = ["owner", "repo", "organization", "workspace", "project"];

    fn parse(filter: &str, url: &Value) -> Result<Self, Error> {
        let invalid = |why: &str| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{filter}: {why} (expected host?owner=…&repo=…)"),
            )
        };
        let url = url
            .as_str()
            .ok_or_else(|| invalid(&format!("the repo URL is a {}, not a string", url.kind())))?;
        let (address, query) = url
            .trim()
            .split_once('?')
            .ok_or_else(|| invalid("the repo URL has no `?`"))?;
        // Backstage reads the value as `https://` + value, so the host is what comes
        // before any path, with its port, in lower case.
        let host = address
            .split(['/', '#'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(invalid("the repo URL has no host"));
        }
        let query = query.split('#').next().unwrap_or_default();
        let mut parts: Vec<(&'static str, String)> = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key);
            if let Some(known) = Self::KEYS.iter().find(|k| **k == key) {
                // `URLSearchParams.get` answers with the first of repeated keys.
                if !parts.iter().any(|(k, _)| k == known) {
                    parts.push((known, percent_decode(value)));
                }
            }
        }
        let repo = parts.iter().find(|(k, _)| *k == "repo");
        if repo.is_none_or(|(_, v)| v.is_empty()) {
            return Err(invalid("the repo URL has no repo"));
        }
        Ok(Self { host, parts })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes a query component as `URLSearchParams` does: `+` is a space, `%XX` a byte.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(|h| {
                std::str::from_utf8(h)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            }) {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `parseRepoUrl`: `github.com?owner=o&repo=r` → `{host, owner, repo}`, plus
/// `organization`, `workspace` and `project` when the URL has them.
fn parse_repo_url(url: Value) -> Result<Value, Error> {
    let parsed = RepoUrl::parse("parseRepoUrl", &url)?;
    let host = std::iter::once(("host", parsed.host.as_str()));
    let parts = parsed.parts.iter().map(|(k, v)| (*k, v.as_str()));
    Ok(Value::from_pairs(host.chain(parts)))
}

/// `projectSlug`: `github.com?owner=o&repo=r` → `o/r`.
fn project_slug(url: Value) -> Result<Value, Error> {
    let parsed = RepoUrl::parse("projectSlug", &url)?;
    let owner = parsed
        .get("owner")
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                "projectSlug: the repo URL has no owner (expected host?owner=…&repo=…)",
            )
        })?;
    let repo = parsed.get("repo").unwrap_or_default();
    Ok(Value::from(format!("{owner}/{repo}")))
}

/// `parseEntityRef`: `component:default/web` → `{kind, namespace, name}`, following
/// Backstage's `parseEntityRef`: kind and namespace may be left out when the argument
/// `{defaultKind, defaultNamespace}` supplies them (the namespace defaults to `default`),
/// a `/` before the first `:` makes the colon part of the name, and every part keeps
/// the case it was written in. The reference may also be an object with `kind`,
/// `namespace` and `name`, and the defaults may also be given Jinja's way, as keyword
/// arguments (`parseEntityRef(defaultKind='group')`).
fn parse_entity_ref(
    reference: Value,
    defaults: Option<Value>,
    keywords: Kwargs,
) -> Result<Value, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("parseEntityRef: {why} (expected [kind:][namespace/]name)"),
        )
    };
    let default_kind: Option<String> = keywords.get("defaultKind")?;
    let default_namespace: Option<String> = keywords.get("defaultNamespace")?;
    keywords.assert_all_used()?;
    let default = |key: &str, keyword: Option<String>| {
        keyword
            .or_else(|| {
                defaults
                    .as_ref()
                    .and_then(|d| d.get_attr(key).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .filter(|v| !v.is_empty())
    };
    let (kind, namespace, name) = match reference.kind() {
        ValueKind::String => {
            let text = reference.as_str().unwrap_or_default();
            if text.is_empty() {
                return Err(invalid("the reference is empty"));
            }
            let (kind, namespace, name) = split_entity_ref(text);
            if kind == Some("") || namespace == Some("") || name.is_empty() {
                return Err(invalid("a part of the reference is empty"));
            }
            (
                kind.map(str::to_owned),
                namespace.map(str::to_owned),
                name.to_owned(),
            )
        }
        ValueKind::Map => {
            let part = |key: &str| {
                reference
                    .get_attr(key)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            };
            (
                part("kind"),
                part("namespace"),
                part("name").unwrap_or_default(),
            )
        }
        _ => return Err(invalid("the reference is neither a string nor an object")),
    };
    let kind = kind
        .filter(|k| !k.is_empty())
        .or_else(|| default("defaultKind", default_kind))
        .ok_or_else(|| invalid("the reference names no kind, and no defaultKind is given"))?;
    let namespace = namespace
        .filter(|n| !n.is_empty())
        .or_else(|| default("defaultNamespace", default_namespace))
        .unwrap_or_else(|| "default".to_owned());
    if name.is_empty() {
        return Err(invalid("the reference names no name"));
    }
    Ok(Value::from_pairs([
        ("kind", kind),
        ("namespace", namespace),
        ("name", name),
    ]))
}

/// Splits `[kind:][namespace/]name` as Backstage's `parseRefString` does.
fn split_entity_ref(text: &str) -> (Option<&str>, Option<&str>, &str) {
    let slash = text.find('/');
    let colon = text.find(':').filter(|c| slash.is_none_or(|s| s > *c));
    let kind = colon.map(|c| &text[..c]);
    let after_kind = colon.map_or(0, |c| c + 1);
    let namespace = slash.map(|s| &text[after_kind..s]);
    let name = &text[slash.map_or(after_kind, |s| s + 1)..];
    (kind, namespace, name)
}

/// `pick(key)`: lodash's `get`, which the Backstage filter is: a property, or a path
/// such as `metadata.name` or `items[0].name`. Missing is undefined.
fn pick(value: Value, key: Value) -> Result<Value, Error> {
    let Some(path) = key.as_str() else {
        return value.get_item(&key);
    };
    // lodash tries the key as a whole before reading it as a path.
    let whole = value.get_item(&key)?;
    if !whole.is_undefined() {
        return Ok(whole);
    }
    let mut current = value;
    for segment in path_segments(path) {
        let item = match (current.kind(), segment.parse::<usize>()) {
            (ValueKind::Seq, Ok(index)) => current.get_item(&Value::from(index))?,
            _ => current.get_item(&Value::from(segment))?,
        };
        if item.is_undefined() {
            return Ok(Value::UNDEFINED);
        }
        current = item;
    }
    Ok(current)
}

/// `a.b[0]["c"]` → `a`, `b`, `0`, `c`.
fn path_segments(path: &str) -> Vec<&str> {
    path.split(['.', '[', ']'])
        .map(|s| s.trim_matches(['"', '\'']))
        .filter(|s| !s.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Methods: nunjucks runs on JavaScript values, so templates call their methods; Jinja
// templates (cookiecutter) call Python's.

fn string_args<'a>(name: &str, args: &'a [Value], count: usize) -> Result<Vec<&'a str>, Error> {
    if args.len() < count {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            format!("{name}() needs {count} argument(s)"),
        ));
    }
    args.iter()
        .map(|a| {
            a.as_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{name}() takes strings, not a {}", a.kind()),
                )
            })
        })
        .collect()
}

fn js_method(_: &mut State, value: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return Ok(match name {
            "toLowerCase" => Value::from(s.to_lowercase()),
            "toUpperCase" => Value::from(s.to_uppercase()),
            "trim" => Value::from(s.trim()),
            "startsWith" => Value::from(s.starts_with(string_args(name, args, 1)?[0])),
            "endsWith" => Value::from(s.ends_with(string_args(name, args, 1)?[0])),
            "includes" => Value::from(s.contains(string_args(name, args, 1)?[0])),
            "split" => {
                let sep = string_args(name, args, 1)?[0];
                let parts: Vec<Value> = if sep.is_empty() {
                    s.chars().map(|c| Value::from(c.to_string())).collect()
                } else {
                    s.split(sep).map(Value::from).collect()
                };
                Value::from(parts)
            }
            // JavaScript's `replace` with a string pattern replaces the first match only.
            "replace" => {
                let a = string_args(name, args, 2)?;
                Value::from(s.replacen(a[0], a[1], 1))
            }
            "replaceAll" => {
                let a = string_args(name, args, 2)?;
                Value::from(s.replace(a[0], a[1]))
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        });
    }
    if value.kind() == ValueKind::Seq {
        return match name {
            "includes" => {
                let needle = args.first().cloned().unwrap_or(Value::UNDEFINED);
                Ok(Value::from(value.try_iter()?.any(|item| item == needle)))
            }
            "join" => {
                let sep = match args.first() {
                    Some(s) => string_args(name, std::slice::from_ref(s), 1)?[0].to_owned(),
                    None => ",".to_owned(),
                };
                let mut out = String::new();
                for (n, item) in value.try_iter()?.enumerate() {
                    if n > 0 {
                        out.push_str(&sep);
                    }
                    write_js(&mut out, &item);
                }
                Ok(Value::from(out))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        };
    }
    Err(Error::from(ErrorKind::UnknownMethod))
}

fn python_method(_: &mut State, value: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return Ok(match name {
            "lower" => Value::from(s.to_lowercase()),
            "upper" => Value::from(s.to_uppercase()),
            "strip" => Value::from(s.trim()),
            "startswith" => Value::from(s.starts_with(string_args(name, args, 1)?[0])),
            "endswith" => Value::from(s.ends_with(string_args(name, args, 1)?[0])),
            "replace" => {
                let a = string_args(name, args, 2)?;
                Value::from(s.replace(a[0], a[1]))
            }
            "split" => {
                let parts: Vec<Value> = match args.first() {
                    Some(sep) => {
                        let sep = string_args(name, std::slice::from_ref(sep), 1)?[0];
                        if sep.is_empty() {
                            return Err(Error::new(
                                ErrorKind::InvalidOperation,
                                "split() separator is empty",
                            ));
                        }
                        s.split(sep).map(Value::from).collect()
                    }
                    None => s.split_whitespace().map(Value::from).collect(),
                };
                Value::from(parts)
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        });
    }
    if value.kind() == ValueKind::Map {
        let keys = || value.try_iter();
        return match name {
            "items" => Ok(Value::from(
                keys()?
                    .map(|k| {
                        let v = value.get_item(&k)?;
                        Ok(Value::from(vec![k, v]))
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            )),
            "keys" => Ok(Value::from(keys()?.collect::<Vec<_>>())),
            "values" => Ok(Value::from(
                keys()?
                    .map(|k| value.get_item(&k))
                    .collect::<Result<Vec<_>, _>>()?,
            )),
            "get" => {
                let key = args.first().cloned().unwrap_or(Value::UNDEFINED);
                let found = value.get_item(&key)?;
                Ok(if found.is_undefined() {
                    args.get(1).cloned().unwrap_or(Value::from(()))
                } else {
                    found
                })
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        };
    }
    Err(Error::from(ErrorKind::UnknownMethod))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;

    fn context() -> Json {
        json!({
            "parameters": {
                "name": "web",
                "count": 3,
                "ratio": 0.5,
                "whole": 4.0,
                "flag": true,
                "off": false,
                "zero": 0,
                "empty": "",
                "falseText": "false",
                "nothing": null,
                "tags": ["a", "b"],
                "noTags": [],
                "noFields": {},
                "owner": "group:default/Team-A",
                "repoUrl": "github.com?owner=acme&repo=web",
                "enableCI": "Yes",
                "cloudProvider": "AWS",
                "enableMonitoring": true,
                "catalog": {"metadata": {"name": "web"}, "items": [{"name": "first"}]},
            },
            "steps": {
                "publish": {"output": {
                    "remoteUrl": "https://github.com/acme/web",
                    "repoContentsUrl": "https://github.com/acme/web/blob/main",
                }},
            },
            "secrets": {"token": "s3cret"},
            "user": {"ref": "user:default/ada", "entity": {"metadata": {"name": "ada"}}},
            "values": {"name": "web", "port": 8080},
            "cookiecutter": {"name": "web", "port": 8080},
        })
    }

    fn value(text: &str) -> Result<Json, ExpressionError> {
        Expressions::new().render_value(&json!(text), &context())
    }

    fn text(template: &str) -> Result<String, ExpressionError> {
        Expressions::new().render_text(template, &context())
    }

    #[track_caller]
    fn check_values(cases: &[(&str, Json)]) {
        for (input, expected) in cases {
            match value(input) {
                Ok(got) => assert_eq!(&got, expected, "{input}"),
                Err(e) => panic!("{input}: {e}"),
            }
        }
    }

    #[track_caller]
    fn check_errors(cases: &[&str]) {
        for input in cases {
            assert!(
                value(input).is_err(),
                "{input} should fail: {:?}",
                value(input)
            );
        }
    }

    #[test]
    fn a_whole_expression_keeps_its_json_type() {
        check_values(&[
            ("${{ parameters.count }}", json!(3)),
            ("${{ parameters.ratio }}", json!(0.5)),
            ("${{ parameters.whole }}", json!(4)),
            ("${{ parameters.count / 1 }}", json!(3)),
            ("${{ parameters.flag }}", json!(true)),
            ("${{ parameters.tags }}", json!(["a", "b"])),
            (
                "${{ parameters.catalog }}",
                context()["parameters"]["catalog"].clone(),
            ),
            ("${{ parameters.nothing }}", json!(null)),
            ("${{ parameters.empty }}", json!("")),
            ("${{ parameters.name }}", json!("web")),
            ("  ${{ parameters.count }}\n", json!(3)),
            ("${{parameters.count}}", json!(3)),
            ("${{- parameters.count -}}", json!(3)),
            ("${{ -parameters.count }}", json!(-3)),
            (
                "${{ {'a': [1, {'b': '}}'}]} }}",
                json!({"a": [1, {"b": "}}"}]}),
            ),
            ("${{ null }}", json!(null)),
            ("${{ true }}", json!(true)),
            (
                "${{ [parameters.count, parameters.name] }}",
                json!([3, "web"]),
            ),
            ("${{ parameters.name | dump }}", json!("\"web\"")),
            ("${{ parameters.tags | length }}", json!(2)),
        ]);
    }

    #[test]
    fn other_strings_render_as_text() {
        check_values(&[
            ("v${{ parameters.count }}", json!("v3")),
            (
                "${{ parameters.count }}${{ parameters.count }}",
                json!("33"),
            ),
            (
                "${{ parameters.count }} and ${{ parameters.name }}",
                json!("3 and web"),
            ),
            ("flag=${{ parameters.flag }}", json!("flag=true")),
            ("tags=${{ parameters.tags }}", json!("tags=a,b")),
            ("half=${{ parameters.ratio }}", json!("half=0.5")),
            ("two=${{ 4 / 2 }}", json!("two=2")),
            ("[${{ parameters.nothing }}]", json!("[]")),
            ("[${{ parameters.missing }}]", json!("[]")),
            ("o=${{ {'a': 1} }}", json!("o={\"a\":1}")),
            (
                "{% if parameters.flag %}on{% else %}off{% endif %}: ${{ parameters.name }}",
                json!("on: web"),
            ),
            ("Hello! ${{ parameters.name }}", json!("Hello! web")),
        ]);
    }

    #[test]
    fn strings_without_expressions_are_kept_as_written() {
        check_values(&[
            ("plain", json!("plain")),
            ("", json!("")),
            ("{{ handlebars }}", json!("{{ handlebars }}")),
            (
                "{% not rendered %} {# either #}",
                json!("{% not rendered %} {# either #}"),
            ),
            ("echo ${#ARR[@]} ${HOME}", json!("echo ${#ARR[@]} ${HOME}")),
        ]);
    }

    #[test]
    fn step_addresses_work_with_brackets_and_dots() {
        check_values(&[
            (
                "${{ steps['publish'].output.remoteUrl }}",
                json!("https://github.com/acme/web"),
            ),
            (
                "${{ steps.publish.output.repoContentsUrl }}",
                json!("https://github.com/acme/web/blob/main"),
            ),
            (
                "${{ steps[\"publish\"].output[\"remoteUrl\"] }}",
                json!("https://github.com/acme/web"),
            ),
            ("${{ user.entity.metadata.name }}", json!("ada")),
            ("${{ secrets.token }}", json!("s3cret")),
        ]);
    }

    #[test]
    fn missing_values_are_lenient() {
        check_values(&[
            // A missing value, or anything looked up on it, is undefined: absent, which
            // renders as null at the top.
            ("${{ parameters.missing }}", json!(null)),
            ("${{ steps.skipped.output.remoteUrl }}", json!(null)),
            ("${{ parameters.nothing.deeper }}", json!(null)),
            ("${{ undefined }}", json!(null)),
            (
                "${{ parameters.missing | default('fallback') }}",
                json!("fallback"),
            ),
            ("${{ parameters.missing is defined }}", json!(false)),
            ("${{ parameters.missing | lower }}", json!("")),
            ("${{ parameters.nothing === null }}", json!(true)),
        ]);
    }

    #[test]
    fn nested_inputs_render_every_string_and_drop_absent_ones() {
        let input = json!({
            "url": "./skeleton",
            "targetPath": "${{ parameters.name }}",
            "values": {
                "name": "${{ parameters.name }}",
                "port": "${{ parameters.count }}",
                "destination": "${{ parameters.repoUrl | parseRepoUrl }}",
                "optional": "${{ parameters.missing }}",
                "blank": "${{ parameters.missing }}${{ parameters.empty }}",
                "empty": "${{ parameters.empty }}",
                "${{ parameters.name }}": "keys stay as written",
            },
            "tags": ["${{ parameters.name }}", "${{ parameters.missing }}", "fixed", 7, true, null],
            "number": 1,
        });
        let rendered = Expressions::new()
            .render_value(&input, &context())
            .expect("renders");
        assert_eq!(
            rendered,
            json!({
                "url": "./skeleton",
                "targetPath": "web",
                "values": {
                    "name": "web",
                    "port": 3,
                    "destination": {"host": "github.com", "owner": "acme", "repo": "web"},
                    "empty": "",
                    "${{ parameters.name }}": "keys stay as written",
                },
                "tags": ["web", null, "fixed", 7, true, null],
                "number": 1,
            })
        );
    }

    #[test]
    fn a_backstage_template_renders_as_in_backstage() {
        let steps = json!([
            {"id": "publish", "input": {
                "allowedHosts": ["github.com"],
                "description": "This is ${{ parameters.name }}",
                "repoUrl": "${{ parameters.repoUrl }}",
                "gitCommitMessage": "Create ${{ parameters.name | upper }}",
            }},
            {"id": "register", "input": {
                "repoContentsUrl": "${{ steps['publish'].output.repoContentsUrl }}",
                "catalogInfoPath": "/catalog-info.yaml",
            }},
        ]);
        let output = json!({"links": [
            {"title": "Repository", "url": "${{ steps['publish'].output.remoteUrl }}"},
            {"title": "Open in catalog", "icon": "catalog",
             "entityRef": "${{ steps['register'].output.entityRef }}"},
        ]});
        let expressions = Expressions::new();
        assert_eq!(
            expressions.render_value(&steps, &context()).expect("steps"),
            json!([
                {"id": "publish", "input": {
                    "allowedHosts": ["github.com"],
                    "description": "This is web",
                    "repoUrl": "github.com?owner=acme&repo=web",
                    "gitCommitMessage": "Create WEB",
                }},
                {"id": "register", "input": {
                    "repoContentsUrl": "https://github.com/acme/web/blob/main",
                    "catalogInfoPath": "/catalog-info.yaml",
                }},
            ])
        );
        assert_eq!(
            expressions
                .render_value(&output, &context())
                .expect("output"),
            json!({"links": [
                {"title": "Repository", "url": "https://github.com/acme/web"},
                {"title": "Open in catalog", "icon": "catalog"},
            ]})
        );
    }

    #[test]
    fn javascript_operators_are_translated_outside_strings() {
        let cases = [
            ("a === b", "a == b"),
            ("a !== b", "a != b"),
            ("a == b", "a == b"),
            ("a != b", "a != b"),
            ("a && b", "a  and  b"),
            ("a&&b", "a and b"),
            ("a || b", "a  or  b"),
            ("a | lower", "a | lower"),
            ("!a", " not a"),
            ("!(a && b)", " not (a  and  b)"),
            ("'a === b'", "'a === b'"),
            ("\"x && !y || z\"", "\"x && !y || z\""),
            ("'it\\'s !' === a", "'it\\'s !' == a"),
            (
                "{ defaultKind: \"group\", ns : 'x' }",
                "{ 'defaultKind': \"group\", 'ns' : 'x' }",
            ),
            (
                "{ 'quoted': 1, a: { b: 2 } }",
                "{ 'quoted': 1, 'a': { 'b': 2 } }",
            ),
            ("x[1:2]", "x[1:2]"),
            ("f(a, b)", "f(a, b)"),
            ("{a: b}", "{'a': b}"),
        ];
        for (input, expected) in cases {
            assert_eq!(translate_expression(input), expected, "{input}");
        }
    }

    #[test]
    fn javascript_operators_evaluate() {
        check_values(&[
            ("${{ parameters.enableCI === \"Yes\" }}", json!(true)),
            ("${{ parameters.enableCI === 'No' }}", json!(false)),
            ("${{ parameters.cloudProvider === 'AWS' }}", json!(true)),
            ("${{ parameters.cloudProvider !== 'AWS' }}", json!(false)),
            (
                "${{ parameters.flag && parameters.count > 2 }}",
                json!(true),
            ),
            ("${{ parameters.off || parameters.name }}", json!("web")),
            ("${{ !parameters.flag }}", json!(false)),
            ("${{ !parameters.off && !parameters.missing }}", json!(true)),
            ("${{ parameters.name != 'api' }}", json!(true)),
            ("${{ 'a === b' }}", json!("a === b")),
            ("${{ 'x && !y || z' }}", json!("x && !y || z")),
            ("${{ parameters.nothing === null }}", json!(true)),
            ("${{ parameters.missing === undefined }}", json!(true)),
        ]);
    }

    #[test]
    fn block_tags_are_translated_but_text_comments_and_raw_are_not() {
        let template = "Hello! {% if parameters.cloudProvider === 'AWS' && !parameters.off %}aws{% endif %}\n\
                        {# a comment with === && ! #}{% raw %}${{ 'kept' === x }} {% if %}{% endraw %}\n\
                        {%- raw -%} ${{ also kept }} {%- endraw %}";
        // `{%- raw -%}` trims the whitespace around it, as Jinja does.
        assert_eq!(
            text(template).expect("renders"),
            "Hello! aws\n${{ 'kept' === x }} {% if %}${{ also kept }}"
        );
    }

    #[test]
    fn render_text_runs_blocks() {
        let cases = [
            (
                "{% if parameters.flag %}yes{% else %}no{% endif %}",
                "yes",
            ),
            (
                "{% for tag in parameters.tags %}- ${{ tag }}\n{% endfor %}",
                "- a\n- b\n",
            ),
            (
                "{% for tag in parameters.tags %}${{ loop.index }}:${{ tag }}{% if not loop.last %},{% endif %}{% endfor %}",
                "1:a,2:b",
            ),
            ("{% set n = parameters.count * 2 %}${{ n }}", "6"),
            ("a{# comment #}b", "ab"),
            ("kept trailing newline\n", "kept trailing newline\n"),
            ("{{ jinja braces }} stay", "{{ jinja braces }} stay"),
            ("${{ values.name }}.md", "web.md"),
            ("name: ${{ values.name | dump }}", "name: \"web\""),
            ("${{ parameters.nothing }}|${{ parameters.missing }}|${{ parameters.off }}", "||false"),
            ("", ""),
        ];
        for (template, expected) in cases {
            assert_eq!(text(template).expect(template), expected, "{template}");
        }
    }

    #[test]
    fn cookiecutter_texts_use_jinja_braces() {
        let expressions = Expressions::new();
        let cases = [
            ("{{ cookiecutter.name }}-{{ values.name }}", "web-web"),
            ("port = {{ cookiecutter.port }}\n", "port = 8080\n"),
            ("{{ cookiecutter.name | jsonify }}", "\"web\""),
            ("{{ cookiecutter.name | upper }}", "WEB"),
            ("{{ cookiecutter.name.upper() }}", "WEB"),
            ("{{ 'a b'.split() | join('-') }}", "a-b"),
            (
                "{% for k, v in cookiecutter.items() %}{{ k }}={{ v }};{% endfor %}",
                "name=web;port=8080;",
            ),
            ("{{ cookiecutter.get('missing', 'x') }}", "x"),
            ("{% if cookiecutter.port > 80 %}high{% endif %}", "high"),
            ("${{ cookiecutter.name }}", "$web"),
        ];
        for (template, expected) in cases {
            let got = expressions
                .render_text_cookiecutter(template, &context())
                .expect(template);
            assert_eq!(got, expected, "{template}");
        }
    }

    #[test]
    fn parse_repo_url_gives_the_parts_present() {
        check_values(&[
            (
                "${{ parameters.repoUrl | parseRepoUrl }}",
                json!({"host": "github.com", "owner": "acme", "repo": "web"}),
            ),
            (
                "${{ 'dev.azure.com?organization=org&project=p&repo=r' | parseRepoUrl }}",
                json!({"host": "dev.azure.com", "organization": "org", "project": "p", "repo": "r"}),
            ),
            (
                "${{ 'bitbucket.org?workspace=w&project=P&repo=r' | parseRepoUrl }}",
                json!({"host": "bitbucket.org", "workspace": "w", "project": "P", "repo": "r"}),
            ),
            (
                "${{ 'GitLab.Example.com:8443?owner=a%2Fb&repo=my+repo&repo=second' | parseRepoUrl }}",
                json!({"host": "gitlab.example.com:8443", "owner": "a/b", "repo": "my repo"}),
            ),
            ("${{ (parameters.repoUrl | parseRepoUrl).owner }}", json!("acme")),
            ("${{ parameters.repoUrl | parseRepoUrl | pick('repo') }}", json!("web")),
        ]);
        check_errors(&[
            "${{ 'github.com' | parseRepoUrl }}",
            "${{ 'github.com?owner=o' | parseRepoUrl }}",
            "${{ 'github.com?owner=o&repo=' | parseRepoUrl }}",
            "${{ '?owner=o&repo=r' | parseRepoUrl }}",
            "${{ parameters.count | parseRepoUrl }}",
            "${{ parameters.missing | parseRepoUrl }}",
        ]);
    }

    #[test]
    fn project_slug_is_owner_and_repo() {
        check_values(&[
            ("${{ parameters.repoUrl | projectSlug }}", json!("acme/web")),
            (
                "${{ 'gitlab.com?owner=group%2Fsub&repo=r' | projectSlug }}",
                json!("group/sub/r"),
            ),
        ]);
        check_errors(&[
            "${{ 'gitlab.com?project=12&repo=r' | projectSlug }}",
            "${{ 'gitlab.com' | projectSlug }}",
        ]);
    }

    #[test]
    fn parse_entity_ref_follows_backstage() {
        let cases = [
            ("'component:default/web' | parseEntityRef", json!(["component", "default", "web"])),
            ("'Group:Payments/Team-A' | parseEntityRef", json!(["Group", "Payments", "Team-A"])),
            ("'group:techdocs' | parseEntityRef", json!(["group", "default", "techdocs"])),
            (
                "'web' | parseEntityRef({ defaultKind: 'component' })",
                json!(["component", "default", "web"]),
            ),
            (
                "'techdocs' | parseEntityRef({ defaultKind:\"group\", defaultNamespace:\"another-namespace\" })",
                json!(["group", "another-namespace", "techdocs"]),
            ),
            (
                "'team' | parseEntityRef(defaultKind='group', defaultNamespace='ops')",
                json!(["group", "ops", "team"]),
            ),
            (
                "'api:ns/x' | parseEntityRef({ 'defaultKind': 'group', 'defaultNamespace': 'other' })",
                json!(["api", "ns", "x"]),
            ),
            // A `/` before the first `:` makes the colon part of the name.
            (
                "'ns/a:b' | parseEntityRef({ defaultKind: 'component' })",
                json!(["component", "ns", "a:b"]),
            ),
            (
                "{'kind': 'User', 'name': 'ada'} | parseEntityRef",
                json!(["User", "default", "ada"]),
            ),
            ("parameters.owner | parseEntityRef", json!(["group", "default", "Team-A"])),
        ];
        for (expression, parts) in cases {
            let expected = json!({"kind": parts[0], "namespace": parts[1], "name": parts[2]});
            let input = format!("${{{{ {expression} }}}}");
            assert_eq!(value(&input).expect(&input), expected, "{input}");
        }
        check_values(&[(
            "${{ parameters.owner | parseEntityRef | pick('name') }}",
            json!("Team-A"),
        )]);
        check_errors(&[
            "${{ 'web' | parseEntityRef }}",
            "${{ '' | parseEntityRef }}",
            "${{ 'component:' | parseEntityRef }}",
            "${{ ':web' | parseEntityRef }}",
            "${{ 'component:/web' | parseEntityRef }}",
            "${{ {'kind': 'User'} | parseEntityRef }}",
            "${{ 3 | parseEntityRef }}",
            "${{ 'web' | parseEntityRef(defaultKnd='group') }}",
        ]);
    }

    #[test]
    fn pick_reads_a_property_or_a_path() {
        check_values(&[
            (
                "${{ parameters.catalog | pick('metadata') }}",
                json!({"name": "web"}),
            ),
            (
                "${{ parameters.catalog | pick('metadata.name') }}",
                json!("web"),
            ),
            (
                "${{ parameters.catalog | pick('items[0].name') }}",
                json!("first"),
            ),
            (
                "${{ parameters.catalog | pick('items.0.name') }}",
                json!("first"),
            ),
            ("${{ {'a.b': 1} | pick('a.b') }}", json!(1)),
            (
                "${{ parameters.catalog | pick('nope.deeper') }}",
                json!(null),
            ),
            ("${{ parameters.tags | pick(1) }}", json!("b")),
        ]);
    }

    #[test]
    fn dump_writes_json_text() {
        check_values(&[
            ("${{ parameters.name | dump }}", json!("\"web\"")),
            ("${{ parameters.count | dump }}", json!("3")),
            ("${{ parameters.nothing | dump }}", json!("null")),
            ("${{ parameters.tags | dump }}", json!("[\"a\",\"b\"]")),
            (
                "${{ {'a': [1, 2]} | dump(2) }}",
                json!("{\n  \"a\": [\n    1,\n    2\n  ]\n}"),
            ),
            ("${{ {'a': 1} | dump('\\t') }}", json!("{\n\t\"a\": 1\n}")),
            ("${{ 'say \"hi\"' | dump }}", json!("\"say \\\"hi\\\"\"")),
            ("x${{ parameters.missing | dump }}x", json!("xx")),
        ]);
    }

    #[test]
    fn builtin_filters_remain() {
        check_values(&[
            ("${{ parameters.name | upper }}", json!("WEB")),
            ("${{ 'WEB' | lower }}", json!("web")),
            ("${{ parameters.name | replace('w', 'W') }}", json!("Web")),
            ("${{ parameters.tags | join('-') }}", json!("a-b")),
            ("${{ parameters.tags | length }}", json!(2)),
            ("${{ parameters.tags | first }}", json!("a")),
            ("${{ '  x  ' | trim }}", json!("x")),
            ("${{ parameters.missing | default('d') }}", json!("d")),
            ("${{ parameters.empty | default('d', true) }}", json!("d")),
            ("${{ parameters.name | title }}", json!("Web")),
            ("${{ 'a b&c' | urlencode }}", json!("a%20b%26c")),
            ("${{ '8' | int + 1 }}", json!(9)),
            ("${{ parameters.tags | reverse | list }}", json!(["b", "a"])),
            ("${{ 'x' ~ parameters.count }}", json!("x3")),
            ("${{ 'a' + 'b' }}", json!("ab")),
        ]);
    }

    #[test]
    fn common_javascript_methods_work() {
        check_values(&[
            ("${{ parameters.name.toUpperCase() }}", json!("WEB")),
            ("${{ 'WeB'.toLowerCase() }}", json!("web")),
            ("${{ ' x '.trim() }}", json!("x")),
            (
                "${{ parameters.repoUrl.split('?')[0] }}",
                json!("github.com"),
            ),
            ("${{ 'a-b-a'.replace('a', 'x') }}", json!("x-b-a")),
            ("${{ 'a-b-a'.replaceAll('a', 'x') }}", json!("x-b-x")),
            ("${{ parameters.name.startsWith('we') }}", json!(true)),
            ("${{ parameters.name.endsWith('x') }}", json!(false)),
            ("${{ parameters.name.includes('e') }}", json!(true)),
            ("${{ parameters.tags.includes('b') }}", json!(true)),
            ("${{ parameters.tags.join('+') }}", json!("a+b")),
        ]);
        check_errors(&[
            "${{ parameters.name.frobnicate() }}",
            "${{ parameters.name.startsWith() }}",
            "${{ parameters.name.split(3) }}",
        ]);
    }

    #[test]
    fn truthiness_follows_backstage() {
        let cases = [
            (json!(true), true),
            (json!(false), false),
            (json!("${{ parameters.enableCI === \"Yes\" }}"), true),
            (json!("${{ parameters.enableCI === 'No' }}"), false),
            (json!("${{ parameters.cloudProvider === 'AWS' }}"), true),
            (json!("${{ parameters.cloudProvider === 'GCP' }}"), false),
            (json!("${{ parameters.enableMonitoring }}"), true),
            (json!("${{ parameters.flag }}"), true),
            (json!("${{ parameters.off }}"), false),
            (json!("${{ parameters.count }}"), true),
            (json!("${{ parameters.zero }}"), false),
            (json!("${{ parameters.ratio }}"), true),
            (json!("${{ parameters.empty }}"), false),
            (json!("${{ parameters.nothing }}"), false),
            (json!("${{ parameters.missing }}"), false),
            (json!("${{ steps.skipped.output.ok }}"), false),
            (json!("${{ parameters.tags }}"), true),
            (json!("${{ parameters.noTags }}"), false),
            (json!("${{ parameters.noFields }}"), true),
            (json!("${{ parameters.falseText }}"), true),
            (json!("${{ not parameters.flag }}"), false),
            (json!("${{ !parameters.off }}"), true),
            (json!("${{ parameters.name }}-suffix"), true),
            (
                json!("${{ parameters.missing }}${{ parameters.empty }}"),
                false,
            ),
            (json!("false"), true),
            (json!("0"), true),
            (json!(""), false),
            (json!(0), false),
            (json!(1), true),
            (json!(null), false),
            (json!([]), false),
            (json!(["${{ parameters.missing }}"]), true),
            (json!({}), true),
        ];
        let expressions = Expressions::new();
        for (condition, expected) in cases {
            let got = expressions
                .is_truthy(&condition, &context())
                .unwrap_or_else(|e| panic!("{condition}: {e}"));
            assert_eq!(got, expected, "{condition}");
        }
        assert!(expressions
            .is_truthy(&json!("${{ parameters.x | nope }}"), &context())
            .is_err());
    }

    #[test]
    fn errors_name_the_expression() {
        let cases = [
            (
                "${{ parameters.x | nope }}",
                "${{ parameters.x | nope }}: unknown filter nope",
            ),
            (
                "${{ parameters.x | }}",
                "${{ parameters.x | }}: syntax error: unexpected end of input, expected identifier",
            ),
            (
                "v${{ parameters.x | nope }}",
                "v${{ parameters.x | nope }}: unknown filter nope",
            ),
            (
                "v${{ parameters.x",
                "v${{ parameters.x: syntax error: unexpected end of input, expected end of variable block",
            ),
            (
                "${{ 'github.com' | parseRepoUrl }}",
                "${{ 'github.com' | parseRepoUrl }}: parseRepoUrl: the repo URL has no `?` (expected host?owner=…&repo=…)",
            ),
            (
                "${{ nope() }}",
                "${{ nope() }}: unknown function nope",
            ),
        ];
        for (input, expected) in cases {
            let error = value(input).expect_err(input);
            assert_eq!(error.to_string(), expected, "{input}");
            assert!(error.expression().starts_with(&input[..4]));
        }
        assert!(matches!(
            value("${{ a | }}"),
            Err(ExpressionError::Syntax { .. })
        ));
        assert!(matches!(
            value("${{ a | nope }}"),
            Err(ExpressionError::Unknown { .. })
        ));
        assert!(matches!(
            value("${{ 'x' | parseRepoUrl }}"),
            Err(ExpressionError::Evaluation { .. })
        ));
    }

    #[test]
    fn errors_in_long_texts_show_the_line() {
        let error = text("line one\nline two\n  ${{ values.name | nope }}  \nline four")
            .expect_err("unknown filter");
        assert_eq!(
            error.to_string(),
            "line 3: ${{ values.name | nope }}: unknown filter nope"
        );
        let error = text("a\n{% if %}\nb").expect_err("syntax");
        assert!(
            error
                .to_string()
                .starts_with("line 2: {% if %}: syntax error"),
            "{error}"
        );
        let error = text("{% for x in y %}").expect_err("unclosed");
        assert!(matches!(error, ExpressionError::Syntax { .. }), "{error}");
        let error = text("{% macro m() %}{% endmacro %}").expect_err("no macros");
        assert!(matches!(error, ExpressionError::Syntax { .. }), "{error}");
        let error = text("{% include 'secrets.txt' %}").expect_err("no includes");
        assert!(matches!(error, ExpressionError::Syntax { .. }), "{error}");
    }

    #[test]
    fn long_expressions_are_shortened_in_errors() {
        let long = format!("${{{{ parameters.x | nope }}}}{}", "y".repeat(500));
        let error = value(&long).expect_err("fails");
        assert_eq!(error.expression().chars().count(), MAX_SHOWN);
        assert!(error.expression().ends_with('…'));
    }

    #[test]
    fn a_runaway_loop_runs_out_of_fuel() {
        let start = Instant::now();
        let error = text(
            "{% for i in range(100000) %}{% for j in range(100000) %}${{ j }}{% endfor %}{% endfor %}",
        )
        .expect_err("too much work");
        assert!(matches!(error, ExpressionError::Limit { .. }), "{error}");
        assert!(error.to_string().contains("steps of work"), "{error}");
        assert!(start.elapsed() < Duration::from_secs(10));

        let error = value("${{ 'x' }}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
            .expect_err("too much work");
        assert!(matches!(error, ExpressionError::Limit { .. }), "{error}");
    }

    #[test]
    fn output_is_bounded() {
        let error = text("{% for i in range(100) %}${{ 'x' * 1000000 }}{% endfor %}")
            .expect_err("too much text");
        assert!(matches!(error, ExpressionError::Limit { .. }), "{error}");
        assert!(error.to_string().contains("MiB"), "{error}");
    }

    #[test]
    fn deep_nesting_fails_cleanly_on_a_small_stack() {
        // Async workers run on 2 MiB stacks; neither deep parsing nor runaway recursion
        // may overflow one.
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let recursive = text("{% for x in [1] recursive %}${{ loop([1]) }}{% endfor %}");
                let nested = value(&format!(
                    "${{{{ {}1{} }}}}",
                    "(".repeat(5000),
                    ")".repeat(5000)
                ));
                (recursive, nested)
            })
            .expect("thread starts");
        let (recursive, nested) = worker.join().expect("no stack overflow");
        assert!(
            matches!(recursive, Err(ExpressionError::Limit { .. })),
            "{recursive:?}"
        );
        assert!(
            matches!(nested, Err(ExpressionError::Syntax { .. })),
            "{nested:?}"
        );
    }

    #[test]
    fn odd_input_never_panics() {
        let inputs = [
            "${{",
            "${{ }}",
            "${{ '",
            "${{ 'unterminated }}",
            "${{ \"\\",
            "${{ {'a': }}",
            "${{ ! }}",
            "${{ a[ }}",
            "${{ }}}}",
            "${{ {{ }}",
            "{% raw %}${{",
            "${{ x }}{% raw %}",
            "${{ x }}{%",
            "${{ x }}{#",
            "${{ x }}{% endraw %}",
            "${{ 'é' }}ü${{ 'ß' | upper }}",
            "${{ parameters.tags[99] }}",
            "${{ parameters.name[1:] }}",
            "${{ 1 / 0 }}",
            "${{ parameters | dump }}",
            "${{ range }}",
            "${{ range(3) }}",
            "${{ parameters.name | pick() }}",
            "${{ parameters.name | parseEntityRef(3) }}",
            "${{ parameters.name | dump(-1) }}",
            "${{ '%' | parseRepoUrl }}",
            "${{ 'h?repo=%zz&owner=%' | parseRepoUrl }}",
            "${{ '€?repo=r' | projectSlug }}",
        ];
        for input in inputs {
            let _ = value(input);
            let _ = text(input);
            let _ = Expressions::new().render_text_cookiecutter(input, &context());
            let _ = Expressions::new().is_truthy(&json!(input), &context());
        }
    }

    #[test]
    fn whole_expression_detection() {
        let cases = [
            ("${{ a }}", Some(" a ")),
            ("  ${{ a }}\n", Some(" a ")),
            ("${{- a -}}", Some(" a ")),
            ("${{ '}}' }}", Some(" '}}' ")),
            ("${{ a }} ${{ b }}", None),
            ("${{ a }}b", None),
            ("a${{ b }}", None),
            ("${{ a", None),
        ];
        for (input, expected) in cases {
            assert_eq!(whole_expression(input), expected, "{input}");
        }
    }

    #[test]
    fn expressions_are_shared_across_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Expressions>();
        let expressions = Expressions::default();
        let copy = expressions.clone();
        let rendered =
            std::thread::spawn(move || copy.render_text("${{ values.name }}", &context()))
                .join()
                .expect("thread");
        assert_eq!(rendered.expect("renders"), "web");
        assert_eq!(format!("{expressions:?}"), "Expressions { .. }");
    }
}
