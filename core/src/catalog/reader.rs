//! Reading a location: a file (or every YAML file of a directory) or a URL, following
//! `Location` entities to the files they list, resolving placeholders.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::document::parse_yaml;
use super::place::Place;
use super::problem::{FieldProblem, Problem};
use super::remote::RemoteReader;
use super::{substitution, Entity};

/// An entity read from a file, with what went wrong while processing it (a placeholder
/// that could not be read): such an entity is stored, with the problems in its status.
#[derive(Clone, Debug)]
pub struct ReadEntity {
    pub entity: Entity,
    /// The file it came from (an absolute path, or a URL).
    pub file: Place,
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
    /// Every file on disk the location consists of (absolute): catalog files, including
    /// listed targets that do not exist yet, and the files placeholders read. A change
    /// to any of them calls for reading the location again.
    pub files: Vec<PathBuf>,
    /// Why the location itself could not be read, when it could not.
    pub unreadable: Option<String>,
    /// A URL could not be read for a reason that may pass (a timeout, a 5xx). Storing
    /// this read would orphan entities that still exist: callers keep what is stored.
    pub incomplete: bool,
}

/// Reads `root` from disk: a YAML file, or a directory whose `.yaml`/`.yml` files are
/// read in name order. Placeholders and targets that are URLs are refused.
pub fn read_location(root: &Path) -> LocationRead {
    read_place(&Place::File(root.to_owned()), &RemoteReader::default())
}

/// Reads `root`, a file, directory or URL. URLs (the root, targets, placeholders) are
/// read with `remote`, which refuses hosts that are not allowed; this blocks, so call it
/// from a blocking thread.
pub fn read_place(root: &Place, remote: &RemoteReader) -> LocationRead {
    let mut read = LocationRead::default();
    let mut visited = HashSet::new();
    let shown_from = match root {
        Place::File(path) => path.parent().unwrap_or(Path::new("")).to_owned(),
        Place::Url(_) => PathBuf::new(),
    };
    let reader = Reader {
        shown_from,
        remote,
        incomplete: Cell::new(false),
    };
    match root {
        Place::File(dir) if dir.is_dir() => {
            for file in yaml_files(dir) {
                let _ = reader.read_file(&Place::File(file), &mut visited, &mut read);
            }
        }
        _ => {
            if let Err(why) = reader.read_file(root, &mut visited, &mut read) {
                read.unreadable = Some(why);
            }
        }
    }
    read.incomplete = reader.incomplete.get();
    read
}

struct Reader<'a> {
    /// Files are named relative to this directory in problems (the location's parent),
    /// so messages read `examples/all.yaml#1`, not a long absolute path.
    shown_from: PathBuf,
    remote: &'a RemoteReader,
    /// Set by a read that failed for a reason that may pass.
    incomplete: Cell<bool>,
}

impl Reader<'_> {
    fn name(&self, place: &Place) -> String {
        match place {
            Place::File(file) => file
                .strip_prefix(&self.shown_from)
                .unwrap_or(file)
                .display()
                .to_string(),
            Place::Url(url) => url.to_string(),
        }
    }

    /// The text at `place`; a file's place is made canonical first, so the same file
    /// reached two ways is recognised.
    fn fetch(&self, place: &Place) -> Result<(Place, String), String> {
        match place {
            Place::File(file) => {
                let file = file.canonicalize().map_err(|e| describe_io(&e))?;
                let text = std::fs::read_to_string(&file).map_err(|e| describe_io(&e))?;
                Ok((Place::File(file), text))
            }
            Place::Url(url) => match self.remote.read_blocking(url) {
                Ok(text) => Ok((place.clone(), text)),
                Err(e) => {
                    if e.transient {
                        self.incomplete.set(true);
                    }
                    Err(e.message)
                }
            },
        }
    }

    /// Reads one catalog file; the error (also recorded as a warning) says why it could
    /// not be read at all.
    fn read_file(
        &self,
        place: &Place,
        visited: &mut HashSet<Place>,
        read: &mut LocationRead,
    ) -> Result<(), String> {
        if let Place::File(file) = place {
            if let Ok(canonical) = file.canonicalize() {
                if visited.contains(&Place::File(canonical)) {
                    return Ok(()); // already read through another Location: a diamond or a cycle
                }
            }
        }
        let (place, text) = match self.fetch(place) {
            Ok(fetched) => fetched,
            Err(message) => {
                let name = self.name(place);
                read.warnings
                    .push(whole_file(name.clone(), message.clone()));
                return Err(format!("{name}: {message}"));
            }
        };
        if !visited.insert(place.clone()) {
            return Ok(());
        }
        if let Place::File(file) = &place {
            read.files.push(file.clone());
        }
        let name = self.name(&place);
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
            let unresolved = substitution::resolve(&mut value, &mut |target| {
                self.read_placeholder(&place, target, &mut read.files)
            });
            for problem in &unresolved {
                remove_field(&mut value, &problem.path);
            }
            let failed: Vec<&str> = unresolved.iter().map(|p| p.path.as_str()).collect();
            match Entity::from_value_ignoring(value, &failed) {
                Ok(entity) => {
                    if entity.kind().eq_ignore_ascii_case("Location") {
                        self.follow(&entity, &place, document.index, &name, visited, read);
                    }
                    read.entities.push(ReadEntity {
                        entity,
                        file: place.clone(),
                        document: document.index,
                        problems: unresolved.into_iter().map(locate).collect(),
                    });
                }
                Err(found) => read
                    .rejected
                    .extend(unresolved.into_iter().chain(found).map(locate)),
            }
        }
        Ok(())
    }

    /// The text a placeholder in the file at `place` names. A file it reads is watched
    /// with the location, even when it is missing (it may be created later).
    fn read_placeholder(
        &self,
        place: &Place,
        target: &str,
        files: &mut Vec<PathBuf>,
    ) -> Result<String, String> {
        let source = place.join(target)?;
        if let Place::File(file) = &source {
            files.push(absolute(file));
        }
        self.fetch(&source).map(|(_, text)| text)
    }

    fn follow(
        &self,
        location: &Entity,
        place: &Place,
        index: usize,
        name: &str,
        visited: &mut HashSet<Place>,
        read: &mut LocationRead,
    ) {
        let spec = location.spec();
        let kind = spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or(match place {
                Place::File(_) => "file",
                Place::Url(_) => "url",
            });
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
            let resolved = match (kind, place.join(target)) {
                (_, Err(why)) => Err(why),
                ("file", Ok(Place::Url(_))) if matches!(place, Place::File(_)) => {
                    Err("a file target cannot be a URL (use type: url)".to_owned())
                }
                ("url", Ok(Place::File(_))) => {
                    Err("a url target must be an http(s) URL".to_owned())
                }
                ("file" | "url", Ok(target)) => Ok(target),
                (other, _) => Err(format!("type {other:?} is not read (file or url)")),
            };
            let target_place = match resolved {
                Ok(target) => target,
                Err(why) => {
                    read.warnings.push(problem(format!("{target}: {why}")));
                    continue;
                }
            };
            if let Place::File(file) = &target_place {
                if !file.exists() {
                    // Watched all the same: the target may be created later.
                    read.files.push(absolute(file));
                    read.warnings
                        .push(problem(format!("{target}: target not found")));
                    continue;
                }
            }
            let seen = match &target_place {
                Place::File(file) => file
                    .canonicalize()
                    .is_ok_and(|c| visited.contains(&Place::File(c))),
                Place::Url(_) => visited.contains(&target_place),
            };
            if seen {
                read.warnings.push(problem(format!(
                    "{target}: already read (a Location cycle)"
                )));
            } else {
                // A target that cannot be read is a warning, recorded by `read_file`.
                let _ = self.read_file(&target_place, visited, read);
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
