//! Changing the entity between events: one annotation of its catalog file is rewritten,
//! which is the smallest edit that makes the portal record an `entity.updated` event.

use std::path::Path;

use crate::error::{Context, Error, Result};

/// The annotation the tool owns in the entity file.
pub const ANNOTATION: &str = "portico.dev/load-sequence";

/// Sets `ANNOTATION: "value"` in the file, written beside it and renamed over it as
/// editors do, so the server's watcher never reads a half-written file.
pub fn set_sequence(path: &Path, value: &str) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the entity file {}", path.display()))?;
    let edited = with_sequence(&text, value)
        .map_err(|e| Error::new(format!("editing {}: {e}", path.display())))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, edited)
        .with_context(|| format!("writing {}", Path::new(&temporary).display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("renaming the new entity file over {}", path.display()))
}

/// The YAML text with the annotation set: replaced where it is, else added under
/// `metadata.annotations` (created when missing). A line edit rather than a YAML
/// round trip, so the rest of the file stays byte for byte as the harness wrote it.
pub fn with_sequence(yaml: &str, value: &str) -> std::result::Result<String, String> {
    let mut lines: Vec<String> = yaml.lines().map(str::to_owned).collect();
    let entry = |indent: usize| format!("{}{ANNOTATION}: \"{value}\"", " ".repeat(indent));
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let key = format!("{ANNOTATION}:");

    if let Some(i) = lines.iter().position(|l| l.trim_start().starts_with(&key)) {
        lines[i] = entry(indent_of(&lines[i]));
    } else if let Some(i) = lines
        .iter()
        .position(|l| indent_of(l) > 0 && l.trim() == "annotations:")
    {
        let indent = indent_of(&lines[i]) + 2;
        lines.insert(i + 1, entry(indent));
    } else if let Some(i) = lines.iter().position(|l| l.trim_end() == "metadata:") {
        if lines
            .iter()
            .any(|l| l.trim_start().starts_with("annotations:"))
        {
            return Err("its annotations are not a block mapping the tool can add to".into());
        }
        let indent = lines
            .get(i + 1)
            .map(|l| indent_of(l))
            .filter(|&n| n > 0)
            .unwrap_or(2);
        lines.insert(i + 1, format!("{}annotations:", " ".repeat(indent)));
        lines.insert(i + 2, entry(indent * 2));
    } else {
        return Err("no top-level `metadata:` line".into());
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: channel-load\nspec:\n  type: service\n";

    #[test]
    fn adds_annotations_then_replaces_the_value() {
        let first = with_sequence(PLAIN, "1").unwrap();
        assert_eq!(
            first,
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  annotations:\n    portico.dev/load-sequence: \"1\"\n  name: channel-load\nspec:\n  type: service\n"
        );
        let second = with_sequence(&first, "2").unwrap();
        assert_eq!(second, first.replace("\"1\"", "\"2\""));
    }

    #[test]
    fn adds_to_existing_annotations() {
        let yaml = "kind: Component\nmetadata:\n  name: x\n  annotations:\n    a: b\n";
        assert_eq!(
            with_sequence(yaml, "3").unwrap(),
            "kind: Component\nmetadata:\n  name: x\n  annotations:\n    portico.dev/load-sequence: \"3\"\n    a: b\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_edit() {
        assert!(with_sequence("kind: Component\n", "1").is_err());
        assert!(with_sequence("metadata:\n  name: x\n  annotations: {a: b}\n", "1").is_err());
    }
}
