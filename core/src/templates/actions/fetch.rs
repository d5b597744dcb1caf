//! `fetch:template`, `fetch:template:file`, `fetch:plain`, `fetch:plain:file`: files
//! next to the template, copied (and rendered) into the workspace.
//!
//! Skeletons are read from the template's own directory tree only: a template cannot
//! copy the server's other files into a repository it publishes.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{flag, glob, object, text, ActionContext, ActionError, ActionInfo, ActionSchema};

/// Backstage's default extension for `templateFileExtension: true`.
const DEFAULT_TEMPLATE_EXTENSION: &str = ".njk";

pub fn template_info() -> ActionInfo {
    ActionInfo {
        id: "fetch:template",
        description: "Copies a skeleton directory next to the template into the workspace, \
                      rendering file contents and names with the given values.",
        schema: ActionSchema {
            input: object(
                &["url"],
                json!({
                    "url": {"type": "string", "description": "The skeleton directory, relative to the template (./skeleton)."},
                    "targetPath": {"type": "string", "description": "Where in the workspace to put the files.", "default": "./"},
                    "values": {"type": "object", "description": "Values the skeleton reads as ${{ values.x }}."},
                    "copyWithoutTemplating": {"type": "array", "items": {"type": "string"}, "description": "Globs of files copied as they are (their names are still rendered)."},
                    "copyWithoutRender": {"type": "array", "items": {"type": "string"}, "description": "Former name of copyWithoutTemplating."},
                    "templateFileExtension": {"type": ["boolean", "string"], "description": "Render only files with this extension (true: .njk), dropping it."},
                    "cookiecutterCompat": {"type": "boolean", "description": "Read {{ cookiecutter.x }} as well."},
                    "replace": {"type": "boolean", "description": "Overwrite files already in the workspace."}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub fn template_file_info() -> ActionInfo {
    ActionInfo {
        id: "fetch:template:file",
        description: "Renders one file next to the template into the workspace.",
        schema: ActionSchema {
            input: object(
                &["url", "targetPath"],
                json!({
                    "url": {"type": "string", "description": "The file, relative to the template."},
                    "targetPath": {"type": "string", "description": "The file to write in the workspace."},
                    "values": {"type": "object"},
                    "cookiecutterCompat": {"type": "boolean"},
                    "replace": {"type": "boolean"}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub fn plain_info() -> ActionInfo {
    ActionInfo {
        id: "fetch:plain",
        description: "Copies a directory next to the template into the workspace as it is.",
        schema: ActionSchema {
            input: object(
                &["url"],
                json!({
                    "url": {"type": "string", "description": "The directory, relative to the template."},
                    "targetPath": {"type": "string", "default": "./"},
                    "replace": {"type": "boolean"}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

pub fn plain_file_info() -> ActionInfo {
    ActionInfo {
        id: "fetch:plain:file",
        description: "Copies one file next to the template into the workspace as it is.",
        schema: ActionSchema {
            input: object(
                &["url", "targetPath"],
                json!({
                    "url": {"type": "string"},
                    "targetPath": {"type": "string"},
                    "replace": {"type": "boolean"}
                }),
            ),
            output: object(&[], json!({})),
        },
        supports_dry_run: true,
    }
}

/// How file contents are rendered.
struct Rendering {
    context: Value,
    cookiecutter: bool,
    /// Only files with this extension are rendered (and lose it); `None`: all files.
    extension: Option<String>,
    verbatim: Vec<String>,
}

impl Rendering {
    fn new(input: &Value) -> Self {
        let values = input
            .get("values")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let cookiecutter = flag(input, "cookiecutterCompat");
        let mut context = json!({ "values": values });
        if cookiecutter {
            context["cookiecutter"] = context["values"].clone();
        }
        let extension = match input.get("templateFileExtension") {
            Some(Value::Bool(true)) => Some(DEFAULT_TEMPLATE_EXTENSION.to_owned()),
            Some(Value::String(ext)) if !ext.is_empty() => Some(if ext.starts_with('.') {
                ext.clone()
            } else {
                format!(".{ext}")
            }),
            _ => None,
        };
        let verbatim = ["copyWithoutTemplating", "copyWithoutRender"]
            .iter()
            .filter_map(|key| input.get(*key).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        Self {
            context,
            cookiecutter,
            extension,
            verbatim,
        }
    }

    fn text(&self, ctx: &ActionContext<'_>, text: &str) -> Result<String, ActionError> {
        let rendered = if self.cookiecutter {
            ctx.expressions
                .render_text_cookiecutter(text, &self.context)
        } else {
            ctx.expressions.render_text(text, &self.context)
        };
        rendered.map_err(|e| ActionError::new(e.to_string()))
    }
}

pub async fn template(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let source = skeleton(ctx, input)?;
    let rendering = Rendering::new(input);
    let target = text(input, "targetPath").unwrap_or("./");
    let replace = flag(input, "replace");
    let mut written = 0;
    for (relative, file) in tree(&source)? {
        let bytes = read(&file)?;
        let verbatim_by_glob = rendering
            .verbatim
            .iter()
            .any(|g| glob::matches(g, &relative));
        let (name, render_contents) = match &rendering.extension {
            Some(ext) => match relative.strip_suffix(ext.as_str()) {
                Some(stem) => (stem.to_owned(), !verbatim_by_glob),
                None => (relative.clone(), false),
            },
            None => (relative.clone(), !verbatim_by_glob),
        };
        let name = rendering.text(ctx, &name)?;
        // A name that renders empty (a whole segment) leaves the file out: skeletons
        // use it for optional files.
        if name.split('/').any(str::is_empty) {
            ctx.log(format!("skipped {relative}: its name renders empty"));
            continue;
        }
        let contents = match (render_contents, String::from_utf8(bytes)) {
            (true, Ok(text)) => rendering
                .text(ctx, &text)
                .map_err(|e| ActionError::new(format!("{relative}: {e}")))?
                .into_bytes(),
            (_, Ok(text)) => text.into_bytes(),
            // Binary files are copied as they are.
            (_, Err(not_text)) => not_text.into_bytes(),
        };
        write(
            ctx,
            &join(target, &name),
            &contents,
            replace,
            executable(&file),
        )?;
        written += 1;
    }
    ctx.log(format!("rendered {written} files into {target}"));
    Ok(json!({}))
}

pub async fn template_file(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let file = template_path(ctx, input)?;
    if !file.is_file() {
        return Err(ActionError::new(format!(
            "url: {} is not a file",
            text(input, "url").unwrap_or_default()
        )));
    }
    let rendering = Rendering::new(input);
    let bytes = read(&file)?;
    let contents = match String::from_utf8(bytes) {
        Ok(text) => rendering.text(ctx, &text)?.into_bytes(),
        Err(binary) => binary.into_bytes(),
    };
    let target = text(input, "targetPath").unwrap_or_default();
    let target = rendering.text(ctx, target)?;
    write(
        ctx,
        &target,
        &contents,
        flag(input, "replace"),
        executable(&file),
    )?;
    ctx.log(format!("rendered {target}"));
    Ok(json!({}))
}

pub async fn plain(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let source = skeleton(ctx, input)?;
    let target = text(input, "targetPath").unwrap_or("./");
    let replace = flag(input, "replace");
    let files = tree(&source)?;
    for (relative, file) in &files {
        write(
            ctx,
            &join(target, relative),
            &read(file)?,
            replace,
            executable(file),
        )?;
    }
    ctx.log(format!("copied {} files into {target}", files.len()));
    Ok(json!({}))
}

pub async fn plain_file(ctx: &ActionContext<'_>, input: &Value) -> Result<Value, ActionError> {
    let file = template_path(ctx, input)?;
    if !file.is_file() {
        return Err(ActionError::new(format!(
            "url: {} is not a file",
            text(input, "url").unwrap_or_default()
        )));
    }
    let target = text(input, "targetPath").unwrap_or_default();
    write(
        ctx,
        target,
        &read(&file)?,
        flag(input, "replace"),
        executable(&file),
    )?;
    ctx.log(format!("copied {target}"));
    Ok(json!({}))
}

/// The directory `url` names, which must be inside the template's directory.
fn skeleton(ctx: &ActionContext<'_>, input: &Value) -> Result<PathBuf, ActionError> {
    let dir = template_path(ctx, input)?;
    if !dir.is_dir() {
        return Err(ActionError::new(format!(
            "url: {} is not a directory next to the template",
            text(input, "url").unwrap_or_default()
        )));
    }
    Ok(dir)
}

/// `url` resolved against the template's directory, refusing anything outside it.
fn template_path(ctx: &ActionContext<'_>, input: &Value) -> Result<PathBuf, ActionError> {
    let url = text(input, "url").unwrap_or_default();
    if url.contains("://") {
        return Err(ActionError::new(format!(
            "url: {url} is not next to the template; Portico reads skeletons from the \
             template's own directory (write it as ./skeleton)"
        )));
    }
    let root = ctx.template_dir("url")?;
    let root = root
        .canonicalize()
        .map_err(|e| ActionError::new(format!("the template's directory: {e}")))?;
    let path = root
        .join(url)
        .canonicalize()
        .map_err(|_| ActionError::new(format!("url: {url} does not exist next to the template")))?;
    if !path.starts_with(&root) {
        return Err(ActionError::new(format!(
            "url: {url} leaves the template's directory"
        )));
    }
    Ok(path)
}

/// Every file under `dir`, with its path relative to `dir` (`/`-separated), sorted.
/// Symbolic links are refused: they could point anywhere on the server.
fn tree(dir: &Path) -> Result<Vec<(String, PathBuf)>, ActionError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|e| ActionError::new(format!("{}: {e}", current.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| ActionError::new(e.to_string()))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| ActionError::new(format!("{}: {e}", path.display())))?;
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if kind.is_symlink() {
                return Err(ActionError::new(format!(
                    "{relative}: symbolic links in skeletons are not copied"
                )));
            } else if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                out.push((relative, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read(file: &Path) -> Result<Vec<u8>, ActionError> {
    std::fs::read(file).map_err(|e| ActionError::new(format!("{}: {e}", file.display())))
}

fn join(target: &str, name: &str) -> String {
    let target = target.trim_end_matches('/');
    if target.is_empty() || target == "." {
        name.to_owned()
    } else {
        format!("{target}/{name}")
    }
}

#[cfg(unix)]
fn executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(_: &Path) -> bool {
    false
}

/// Writes one file into the workspace; an existing file is kept unless `replace`.
fn write(
    ctx: &ActionContext<'_>,
    relative: &str,
    contents: &[u8],
    replace: bool,
    executable: bool,
) -> Result<(), ActionError> {
    let path = ctx.workspace.resolve(relative)?;
    if path.exists() && !replace {
        return Err(ActionError::new(format!(
            "{relative} is already in the workspace (set replace: true to overwrite it)"
        )));
    }
    let path = ctx.workspace.write_file(relative, contents)?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| ActionError::new(format!("{relative}: {e}")))?;
    }
    let _ = (path, executable);
    Ok(())
}
