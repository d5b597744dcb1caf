//! A dry run's result as HTML, for the wizard's review and the editor: the files the run
//! would write as a tree (each opens on its contents), what it would leave as output,
//! and its log.

use std::fmt::Write;

use base64::Engine;
use portico_core::templates::dry_run::{DirectoryFile, DryRunResult};
use portico_forms::FieldError;
use serde_json::Value;

use super::fields::escape;

/// Lines of a file shown; the rest is counted.
const LINES_SHOWN: usize = 400;

pub fn dry_run(result: &DryRunResult) -> String {
    let mut html = String::new();
    if let Some(error) = &result.error {
        let _ = write!(
            html,
            r#"<p class="error-panel" role="alert">The dry run stopped: {}</p>"#,
            escape(error)
        );
    }
    let count = result.directory_contents.len();
    let _ = write!(
        html,
        r#"<h3 class="preview-heading">{count} file{} would be written</h3>"#,
        if count == 1 { "" } else { "s" }
    );
    if count > 0 {
        html.push_str(&tree(&result.directory_contents));
    }
    html.push_str(&output(&result.output));
    html.push_str(&log(result));
    html
}

/// The files, nested in their directories: a directory's entries follow one another
/// when paths are compared part by part.
fn tree(files: &[DirectoryFile]) -> String {
    let mut sorted: Vec<&DirectoryFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    let mut html = String::from(r#"<ul class="file-tree" aria-label="Files">"#);
    let mut open: Vec<&str> = Vec::new();
    for file in sorted {
        let parts: Vec<&str> = file.path.split('/').collect();
        let (directories, name) = parts.split_at(parts.len() - 1);
        let common = open
            .iter()
            .zip(directories)
            .take_while(|(a, b)| a == b)
            .count();
        for _ in common..open.len() {
            html.push_str("</ul></details></li>");
        }
        open.truncate(common);
        for directory in &directories[common..] {
            let _ = write!(
                html,
                r#"<li class="tree-dir"><details open><summary class="mono">{}/</summary><ul>"#,
                escape(directory)
            );
            open.push(directory);
        }
        let (size, body) = contents(file);
        let _ = write!(
            html,
            r#"<li class="tree-file"><details><summary><span class="mono">{}</span> <span class="muted small">{size}{}</span></summary>{body}</details></li>"#,
            escape(name[0]),
            if file.executable { ", executable" } else { "" }
        );
    }
    for _ in 0..open.len() {
        html.push_str("</ul></details></li>");
    }
    html.push_str("</ul>");
    html
}

/// A file's size as people read it, and its contents as HTML.
fn contents(file: &DirectoryFile) -> (String, String) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&file.base64_content)
        .unwrap_or_default();
    match String::from_utf8(bytes) {
        Ok(text) => {
            let total = text.lines().count();
            let mut shown = text
                .lines()
                .take(LINES_SHOWN)
                .collect::<Vec<_>>()
                .join("\n");
            if total > LINES_SHOWN {
                let _ = write!(shown, "\n… {} more lines", total - LINES_SHOWN);
            }
            let size = format!("{total} line{}", if total == 1 { "" } else { "s" });
            let body = if text.is_empty() {
                r#"<p class="muted small">Empty.</p>"#.to_owned()
            } else {
                format!(r#"<pre class="output-code">{}</pre>"#, escape(&shown))
            };
            (size, body)
        }
        Err(e) => {
            let size = format!("{} bytes", e.into_bytes().len());
            (size, r#"<p class="muted small">Binary.</p>"#.to_owned())
        }
    }
}

/// What the run would leave as output: its links (which do not exist yet) and texts.
fn output(output: &Value) -> String {
    let mut items = String::new();
    for link in output["links"].as_array().map_or(&[][..], Vec::as_slice) {
        let target = link["url"].as_str().or(link["entityRef"].as_str());
        let title = link["title"].as_str().or(target);
        if let (Some(title), Some(target)) = (title, target) {
            let _ = write!(
                items,
                r#"<dt>{}</dt><dd class="mono">{}</dd>"#,
                escape(title),
                escape(target)
            );
        }
    }
    for text in output["text"].as_array().map_or(&[][..], Vec::as_slice) {
        let content = match &text["content"] {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        let _ = write!(
            items,
            r#"<dt>{}</dt><dd class="pre-wrap">{}</dd>"#,
            escape(text["title"].as_str().unwrap_or("Note")),
            escape(&content)
        );
    }
    if items.is_empty() {
        return String::new();
    }
    format!(r#"<h3 class="preview-heading">Output</h3><dl class="preview-output">{items}</dl>"#)
}

/// The run's log, each line with its step.
fn log(result: &DryRunResult) -> String {
    let mut lines = String::new();
    for line in &result.log {
        let step = line.body["stepId"].as_str().unwrap_or_default();
        let step = result
            .steps
            .iter()
            .find(|s| s.id == step)
            .map_or(step, |s| s.name.as_str());
        let _ = write!(
            lines,
            r#"<div class="log-line"><span class="log-step">{}</span><span class="log-message">{}</span></div>"#,
            escape(step),
            escape(line.body["message"].as_str().unwrap_or_default())
        );
    }
    format!(
        r#"<details class="preview-log" open><summary><h3 class="preview-heading">Log</h3> <span class="muted small">{} line{}</span></summary><div class="log">{lines}</div></details>"#,
        result.log.len(),
        if result.log.len() == 1 { "" } else { "s" }
    )
}

/// The answers a dry run refused.
pub fn refused(errors: &[FieldError]) -> String {
    let items: String = errors
        .iter()
        .map(|e| format!("<li>{}: {}</li>", escape(&e.field), escape(&e.message)))
        .collect();
    format!(
        r#"<div class="error-panel" role="alert">The answers were refused:<ul>{items}</ul></div>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_core::templates::dry_run::DryRunLog;
    use serde_json::json;

    fn file(path: &str, text: &str) -> DirectoryFile {
        DirectoryFile {
            path: path.into(),
            base64_content: base64::engine::general_purpose::STANDARD.encode(text),
            executable: false,
        }
    }

    #[test]
    fn files_nest_in_their_directories_and_output_and_log_follow() {
        let result = DryRunResult {
            status: "completed",
            error: None,
            log: vec![DryRunLog {
                body: json!({"message": "wrote <3> files", "stepId": "fetch"}),
            }],
            directory_contents: vec![
                file("src/main.rs", "fn main() {}\n"),
                file("README.md", "# x\n"),
                file("src/bin/tool.rs", ""),
                file("src-extra/a.txt", "a"),
            ],
            output: json!({"links": [{"title": "Repository", "url": "https://git.example.test/o/r"}],
                           "text": [{"title": "Next", "content": "Push."}]}),
            steps: Vec::new(),
        };
        let html = dry_run(&result);
        assert!(html.contains("4 files would be written"));
        // README.md, then src/ with bin/ inside it, then src-extra/: each directory once.
        let order = [
            "README.md",
            "src/</summary>",
            "bin/</summary>",
            "tool.rs",
            "main.rs",
            "src-extra/</summary>",
            "a.txt",
        ];
        let at: Vec<usize> = order.iter().map(|s| html.find(s).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{html}");
        assert_eq!(html.matches("src/</summary>").count(), 1);
        assert_eq!(
            html.matches("<ul>").count() + 1,
            html.matches("</ul>").count(),
            "{html}"
        );
        assert!(html.contains("Empty."));
        assert!(html.contains("https://git.example.test/o/r"));
        assert!(html.contains("wrote &lt;3&gt; files"));
        assert!(html.contains("1 line<"));
    }
}
