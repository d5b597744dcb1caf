//! Reading a location from disk: a file (or every YAML file of a directory), following
//! `Location` entities to the files they list, resolving placeholders.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::document::parse_yaml;
use super::problem::{FieldProblem, Problem};
use super::{substitution, Entity};

/// An entity read from a file, with what went wrong while processing it (a placeholder
/// that could not be read): such an entity is stored, with the problems in its status.
#[derive(Clone, Debug)]
pub struct ReadEntity {
    pub entity: Entity,
    /// The file it came from (absolute).
    pub file: PathBuf,
    pub document: usize,
    pub problems: Vec<Problem>,
}

/// Everything one location gave.
#[derive(Clone, Debug, Default)]
pub struct LocationRead {
    pub entities: Vec<ReadEntity>,
    /// Documents that were rejected, and the reason.
    pub rejected: Vec<Problem>,
    /// Problems that rejected nothing: a listed target that is missing, a cycle.
    pub warnings: Vec<Problem>,
    /// Every catalog file the location consists of (absolute), including listed targets
    /// that do not exist yet: a change to any of them calls for reading it again.
    pub files: Vec<PathBuf>,
}

/// Reads `root`: a YAML file, or a directory whose `.yaml`/`.yml` files are read in name order.
pub fn read_location(root: &Path) -> LocationRead {
    let mut read = LocationRead::default();
    let mut visited = HashSet::new();
    let shown_from = root.parent().unwrap_or(Path::new("")).to_owned();
    let reader = Reader { shown_from };
    if root.is_dir() {
        for file in yaml_files(root) {
            reader.read_file(&file, &mut visited, &mut read);
        }
    } else {
        reader.read_file(root, &mut visited, &mut read);
    }
    read
}

struct Reader {
    /// Files are named relative to this directory in problems (the location's parent),
    /// so messages read `examples/all.yaml#1`, not a long absolute path.
    shown_from: PathBuf,
}

impl Reader {
    fn name(&self, file: &Path) -> String {
        file.strip_prefix(&self.shown_from)
            .unwrap_or(file)
            .display()
            .to_string()
    }

    fn read_file(&self, file: &Path, visited: &mut HashSet<PathBuf>, read: &mut LocationRead) {
        let file = match file.canonicalize() {
            Ok(file) => file,
            Err(e) => {
                read.warnings
                    .push(whole_file(self.name(file), describe_io(&e)));
                return;
            }
        };
        if !visited.insert(file.clone()) {
            return; // already read through another Location: a diamond or a cycle
        }
        read.files.push(file.clone());
        let name = self.name(&file);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                read.warnings.push(whole_file(name, describe_io(&e)));
                return;
            }
        };
        let dir = file.parent().unwrap_or(Path::new("/")).to_owned();
        let (documents, syntax) = parse_yaml(&name, &text);
        read.rejected.extend(syntax);

        for document in documents {
            let mut value = document.value;
            let known_as = Entity::reference_of(&value).map(|r| r.to_string());
            let locate = |field: FieldProblem| Problem {
                file: name.clone(),
                document: Some(document.index),
                entity: known_as.clone(),
                field,
            };
            // An unreadable placeholder leaves no field behind, and the rule that field
            // then breaks (`spec.definition: is required`) is the placeholder's problem, not
            // a second one: such an entity is kept, with the problem in its status, as
            // Backstage keeps it.
            let unresolved = substitution::resolve(&mut value, &dir);
            for problem in &unresolved {
                remove_field(&mut value, &problem.path);
            }
            let failed: Vec<&str> = unresolved.iter().map(|p| p.path.as_str()).collect();
            match Entity::from_value_ignoring(value, &failed) {
                Ok(entity) => {
                    if entity.kind().eq_ignore_ascii_case("Location") {
                        self.follow(&entity, &dir, document.index, &name, visited, read);
                    }
                    read.entities.push(ReadEntity {
                        entity,
                        file: file.clone(),
                        document: document.index,
                        problems: unresolved.into_iter().map(locate).collect(),
                    });
                }
                Err(found) => read
                    .rejected
                    .extend(unresolved.into_iter().chain(found).map(locate)),
            }
        }
    }

    fn follow(
        &self,
        location: &Entity,
        dir: &Path,
        index: usize,
        name: &str,
        visited: &mut HashSet<PathBuf>,
        read: &mut LocationRead,
    ) {
        let spec = location.spec();
        let kind = spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("file");
        let mut targets: Vec<(String, &str)> = Vec::new();
        if let Some(target) = spec.and_then(|s| s.get("target")).and_then(Value::as_str) {
            targets.push(("spec.target".to_owned(), target));
        }
        if let Some(list) = spec
            .and_then(|s| s.get("targets"))
            .and_then(Value::as_array)
        {
            for (i, target) in list.iter().enumerate() {
                if let Some(target) = target.as_str() {
                    targets.push((format!("spec.targets[{i}]"), target));
                }
            }
        }
        for (path, target) in targets {
            let problem = |message: String| Problem {
                file: name.to_owned(),
                document: Some(index),
                entity: Some(location.reference().to_string()),
                field: FieldProblem::new(path.clone(), message),
            };
            if kind != "file" || target.contains("://") {
                read.warnings.push(problem(format!(
                    "{target}: only file targets are read from a file location"
                )));
                continue;
            }
            let file = dir.join(target);
            if !file.exists() {
                // Watched all the same: the target may be created later.
                read.files.push(absolute(&file));
                read.warnings
                    .push(problem(format!("{target}: target not found")));
                continue;
            }
            match file.canonicalize() {
                Ok(canonical) if visited.contains(&canonical) => read.warnings.push(problem(
                    format!("{target}: already read (a Location cycle)"),
                )),
                _ => self.read_file(&file, visited, read),
            }
        }
    }
}

/// `path` with its directory resolved (the file itself may not exist).
fn absolute(path: &Path) -> PathBuf {
    match (
        path.parent().and_then(|d| d.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Removes the object field at a dotted `path` (`spec.definition`); list items stay as
/// the `null` the failed placeholder left.
fn remove_field(value: &mut Value, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut current = value;
    for part in parts {
        match current.get_mut(part) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Some(map) = current.as_object_mut() {
        map.remove(last);
    }
}

fn whole_file(file: String, message: String) -> Problem {
    Problem {
        file,
        document: None,
        entity: None,
        field: FieldProblem::new("", message),
    }
}

fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_owned(),
        _ => format!("cannot read the file: {error}"),
    }
}
