//! A task's workspace: the directory a template run builds its files in, and the only
//! place its steps may write.
//!
//! Paths come from template inputs (`targetPath: ./src`), so they are untrusted: a
//! template must not reach the server's other files, whether by `..`, by an absolute
//! path, or by a symbolic link that one of its own skeletons planted in the workspace.
//!
//! The checks look at the disk and then act on it, so they assume nothing else changes
//! the workspace meanwhile. That holds: a task's steps run one at a time, and only
//! Portico writes into the workspace (skeleton copies refuse symbolic links, so a link
//! can only be there if something outside Portico put it there).
//!
//! The methods block on the file system; async callers run them where blocking is
//! acceptable (short writes of template files) or in `spawn_blocking`.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// A task's scratch directory.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Canonical, so that a workspace under a symlinked directory (`/tmp` on some
    /// systems) still compares by prefix with the paths it hands out.
    root: PathBuf,
}

/// Why a path cannot be used in the workspace. Each message starts with the path as it
/// was written, so the task log points at the template input to fix.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path is absolute (`/etc/passwd`, `C:\x`, `\\server\share`) where a path
    /// relative to the workspace belongs.
    #[error("{0}: must be relative to the task's workspace")]
    Absolute(String),
    /// The path has a `..` component, or names a directory outside the workspace.
    /// `..` is refused even when it would stay inside (`a/../b`): templates have no
    /// need for it, and refusing it outright leaves nothing to get wrong.
    #[error("{0}: leaves the task's workspace")]
    Escapes(String),
    /// A component of the path that exists is a symbolic link, which could send a
    /// read or a write anywhere on the server.
    #[error("{0}: is or passes through a symbolic link, which Portico does not follow")]
    Symlink(String),
    /// The path is not one a file can have: it holds a NUL byte, or (listing files) a
    /// name is not UTF-8.
    #[error("{0}: not a usable file name")]
    Invalid(String),
    /// The file system refused (permissions, a file where a directory is needed, …).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl Workspace {
    /// The workspace at `root`, created if missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    /// The workspace's directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path as a template input writes it (`./src`, `a/b.txt`; empty or `.` is the
    /// workspace itself) as an absolute path inside the workspace.
    ///
    /// Both `/` and `\` separate components: templates are written on every system,
    /// and a `\` kept as part of a name would turn `..\x` into a file name rather than
    /// the escape its author meant, while a drive (`C:`) would be an odd directory.
    /// Refuses absolute paths and drives, `..` components, NUL bytes, and any part of
    /// the path that exists and is a symbolic link.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, PathError> {
        let shown = || shown(relative);
        if relative.contains('\0') {
            return Err(PathError::Invalid(shown()));
        }
        if relative.starts_with(['/', '\\']) || has_drive(relative) {
            return Err(PathError::Absolute(shown()));
        }
        let mut path = self.root.clone();
        // Once a component does not exist, nothing below it can be a link.
        let mut checking = true;
        for part in relative.split(['/', '\\']) {
            match part {
                "" | "." => continue,
                ".." => return Err(PathError::Escapes(shown())),
                name => path.push(name),
            }
            if checking {
                match fs::symlink_metadata(&path) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        return Err(PathError::Symlink(shown()))
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => checking = false,
                    Err(source) => {
                        return Err(PathError::Io {
                            path: shown(),
                            source,
                        })
                    }
                }
            }
        }
        Ok(path)
    }

    /// Every regular file under `dir` (a path inside the workspace, such as
    /// [`resolve`](Self::resolve) returns), as
    /// `/`-separated paths relative to the workspace root, sorted. A `dir` that is a
    /// file lists itself. Symbolic links met on the way are an error rather than
    /// skipped: whatever reads the list (a publish, a catalog registration) would
    /// otherwise silently miss what the template meant to produce. Other special
    /// files (sockets, FIFOs) are left out.
    pub fn files(&self, dir: &Path) -> Result<Vec<String>, PathError> {
        let start = self.relative(dir)?;
        // Checked again as a template path: `dir` may not have come from `resolve`, and
        // a link above it would send the listing outside.
        let dir = self.resolve(&start)?;
        let meta = fs::symlink_metadata(&dir).map_err(|source| PathError::Io {
            path: shown_or_root(&start),
            source,
        })?;
        if meta.file_type().is_symlink() {
            return Err(PathError::Symlink(shown_or_root(&start)));
        }
        if meta.is_file() {
            return Ok(vec![start]);
        }
        let mut out = Vec::new();
        let mut pending = vec![(dir, start)];
        while let Some((current, name)) = pending.pop() {
            let io = |source| PathError::Io {
                path: shown_or_root(&name),
                source,
            };
            for entry in fs::read_dir(&current).map_err(io)? {
                let entry = entry.map_err(io)?;
                let child = join(&name, &file_name(&name, &entry.file_name())?);
                let kind = entry.file_type().map_err(|source| PathError::Io {
                    path: child.clone(),
                    source,
                })?;
                if kind.is_symlink() {
                    return Err(PathError::Symlink(child));
                } else if kind.is_dir() {
                    pending.push((entry.path(), child));
                } else if kind.is_file() {
                    out.push(child);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes `contents` to the file at `relative` (see [`resolve`](Self::resolve)),
    /// creating missing parent directories and replacing an existing file. Returns the
    /// file's absolute path.
    pub fn write_file(&self, relative: &str, contents: &[u8]) -> Result<PathBuf, PathError> {
        let target = self.resolve(relative)?;
        if target == self.root {
            return Err(PathError::Invalid(shown(relative)));
        }
        let io = |source| PathError::Io {
            path: shown(relative),
            source,
        };
        // One directory at a time, each checked once it exists: `create_dir_all` would
        // follow a symbolic link without a word.
        let parent = target.parent().unwrap_or(&self.root);
        let mut dir = self.root.clone();
        for part in parent
            .strip_prefix(&self.root)
            .unwrap_or(Path::new(""))
            .iter()
        {
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let meta = fs::symlink_metadata(&dir).map_err(io)?;
                    if meta.file_type().is_symlink() {
                        return Err(PathError::Symlink(shown(relative)));
                    }
                }
                Err(e) => return Err(io(e)),
            }
        }
        fs::write(&target, contents).map_err(io)?;
        Ok(target)
    }

    /// `path` relative to the root, `/`-separated; refuses paths outside the workspace.
    fn relative(&self, path: &Path) -> Result<String, PathError> {
        let inside = path
            .strip_prefix(&self.root)
            .map_err(|_| PathError::Escapes(path.display().to_string()))?;
        let mut parts = Vec::new();
        for component in inside.components() {
            match component {
                Component::Normal(name) => parts.push(
                    name.to_str()
                        .ok_or_else(|| PathError::Invalid(path.display().to_string()))?,
                ),
                Component::CurDir => {}
                _ => return Err(PathError::Escapes(path.display().to_string())),
            }
        }
        Ok(parts.join("/"))
    }
}

/// `C:`, `c:\x`, `C:x`: Windows drive prefixes, absolute or drive-relative, never a
/// name a template means inside the workspace.
fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

fn file_name(parent: &str, name: &OsStr) -> Result<String, PathError> {
    name.to_str()
        .map(str::to_owned)
        .ok_or_else(|| PathError::Invalid(join(parent, &name.to_string_lossy())))
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// `path` as messages show it: as written, with control characters (a NUL, a line
/// break) escaped so that the message stays one readable line.
fn shown(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The root is written `.` in messages: an empty name reads as a missing word.
fn shown_or_root(relative: &str) -> String {
    if relative.is_empty() {
        ".".to_owned()
    } else {
        relative.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let workspace = Workspace::new(dir.path().join("task")).unwrap();
        (dir, workspace)
    }

    #[test]
    fn new_creates_the_directory_and_canonicalises_it() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = Workspace::new(dir.path().join("a/b/../c")).unwrap();
        assert!(workspace.root().is_dir());
        assert_eq!(
            workspace.root(),
            dir.path().canonicalize().unwrap().join("a/c")
        );
    }

    #[test]
    fn relative_paths_resolve_inside() {
        let (_dir, ws) = workspace();
        let root = ws.root().to_owned();
        for (input, expected) in [
            ("", root.clone()),
            (".", root.clone()),
            ("./", root.clone()),
            ("./src", root.join("src")),
            ("a/b.txt", root.join("a/b.txt")),
            ("a//b/./c", root.join("a/b/c")),
            ("a\\b.txt", root.join("a/b.txt")),
            ("docs/", root.join("docs")),
            ("notes:v2", root.join("notes:v2")),
            ("...", root.join("...")),
            (
                ".github/workflows/ci.yaml",
                root.join(".github/workflows/ci.yaml"),
            ),
        ] {
            assert_eq!(ws.resolve(input).unwrap(), expected, "{input:?}");
        }
    }

    #[test]
    fn paths_that_leave_are_refused_with_their_name() {
        let (_dir, ws) = workspace();
        for (input, message) in [
            ("..", "..: leaves the task's workspace"),
            ("../x", "../x: leaves the task's workspace"),
            ("a/../../b", "a/../../b: leaves the task's workspace"),
            ("a/../b", "a/../b: leaves the task's workspace"),
            ("a\\..\\..\\b", "a\\..\\..\\b: leaves the task's workspace"),
            (
                "/etc/passwd",
                "/etc/passwd: must be relative to the task's workspace",
            ),
            ("C:\\x", "C:\\x: must be relative to the task's workspace"),
            ("c:x", "c:x: must be relative to the task's workspace"),
            (
                "\\\\server\\share",
                "\\\\server\\share: must be relative to the task's workspace",
            ),
            ("a\0b", "a\\0b: not a usable file name"),
            ("a\nb/..", "a\\nb/..: leaves the task's workspace"),
        ] {
            let error = ws.resolve(input).unwrap_err();
            assert_eq!(error.to_string(), message, "{input:?}");
        }
        assert!(matches!(ws.resolve("../x"), Err(PathError::Escapes(_))));
        assert!(matches!(ws.resolve("/x"), Err(PathError::Absolute(_))));
        assert!(matches!(ws.resolve("a\0"), Err(PathError::Invalid(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_directory_cannot_redirect_a_write() {
        let (dir, ws) = workspace();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, ws.root().join("link")).unwrap();

        for path in ["link", "link/x.txt", "link/deeper/x.txt", "./link/../x"] {
            assert!(ws.resolve(path).is_err(), "{path}");
        }
        let error = ws.write_file("link/x.txt", b"owned").unwrap_err();
        assert!(matches!(error, PathError::Symlink(_)), "{error}");
        assert_eq!(
            error.to_string(),
            "link/x.txt: is or passes through a symbolic link, which Portico does not follow"
        );
        let error = ws.write_file("link/deeper/x.txt", b"owned").unwrap_err();
        assert!(matches!(error, PathError::Symlink(_)), "{error}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_cannot_be_written_through() {
        let (dir, ws) = workspace();
        let secret = dir.path().join("secret");
        fs::write(&secret, "keep").unwrap();
        fs::create_dir(ws.root().join("a")).unwrap();
        std::os::unix::fs::symlink(&secret, ws.root().join("a/file")).unwrap();
        // A dangling link is refused too: writing would create its target.
        std::os::unix::fs::symlink(dir.path().join("new"), ws.root().join("dangling")).unwrap();

        assert!(matches!(
            ws.write_file("a/file", b"owned"),
            Err(PathError::Symlink(_))
        ));
        assert!(matches!(
            ws.write_file("dangling", b"owned"),
            Err(PathError::Symlink(_))
        ));
        assert_eq!(fs::read_to_string(&secret).unwrap(), "keep");
        assert!(!dir.path().join("new").exists());
    }

    #[test]
    fn write_file_creates_parents_and_replaces() {
        let (_dir, ws) = workspace();
        let path = ws.write_file("./a/b/c.txt", b"one").unwrap();
        assert_eq!(path, ws.root().join("a/b/c.txt"));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        ws.write_file("a/b/c.txt", b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        ws.write_file("top.txt", b"").unwrap();
        assert!(ws.root().join("top.txt").is_file());

        assert!(matches!(
            ws.write_file("", b"x"),
            Err(PathError::Invalid(_))
        ));
        assert!(matches!(
            ws.write_file(".", b"x"),
            Err(PathError::Invalid(_))
        ));
        // A directory in the way of a file is the file system's refusal.
        assert!(matches!(
            ws.write_file("a/b", b"x"),
            Err(PathError::Io { .. })
        ));
        // So is a file in the way of a directory.
        let error = ws.write_file("top.txt/x", b"x").unwrap_err();
        assert!(matches!(error, PathError::Io { .. }), "{error}");
        assert!(error.to_string().starts_with("top.txt/x: "), "{error}");
    }

    #[test]
    fn files_lists_regular_files_sorted_and_relative_to_the_root() {
        let (_dir, ws) = workspace();
        for path in ["b.txt", "a/z.txt", "a/b/c.txt", ".hidden", "a/.gitkeep"] {
            ws.write_file(path, b"x").unwrap();
        }
        fs::create_dir_all(ws.root().join("empty/inner")).unwrap();

        assert_eq!(
            ws.files(ws.root()).unwrap(),
            [".hidden", "a/.gitkeep", "a/b/c.txt", "a/z.txt", "b.txt"]
        );
        let a = ws.resolve("./a").unwrap();
        assert_eq!(
            ws.files(&a).unwrap(),
            ["a/.gitkeep", "a/b/c.txt", "a/z.txt"]
        );
        let file = ws.resolve("a/z.txt").unwrap();
        assert_eq!(ws.files(&file).unwrap(), ["a/z.txt"]);
        assert!(ws.files(&ws.resolve("empty").unwrap()).unwrap().is_empty());
    }

    #[test]
    fn files_refuses_directories_outside_and_missing_ones() {
        let (dir, ws) = workspace();
        assert!(matches!(ws.files(dir.path()), Err(PathError::Escapes(_))));
        assert!(matches!(
            ws.files(&ws.root().join("a/../..")),
            Err(PathError::Escapes(_))
        ));
        let error = ws.files(&ws.root().join("missing")).unwrap_err();
        assert!(matches!(error, PathError::Io { .. }));
        assert!(error.to_string().starts_with("missing: "), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn files_refuses_symlinks_rather_than_following_them() {
        let (dir, ws) = workspace();
        ws.write_file("src/main.rs", b"fn main() {}").unwrap();
        fs::write(dir.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), ws.root().join("src/key")).unwrap();
        let error = ws.files(ws.root()).unwrap_err();
        assert!(
            matches!(&error, PathError::Symlink(p) if p == "src/key"),
            "{error}"
        );

        fs::remove_file(ws.root().join("src/key")).unwrap();
        std::os::unix::fs::symlink(dir.path(), ws.root().join("up")).unwrap();
        assert!(matches!(ws.files(ws.root()), Err(PathError::Symlink(p)) if p == "up"));
        assert!(matches!(
            ws.files(&ws.root().join("up")),
            Err(PathError::Symlink(p)) if p == "up"
        ));
        // A path below a link, handed over without `resolve`, is refused all the same.
        fs::create_dir(dir.path().join("elsewhere")).unwrap();
        fs::write(dir.path().join("elsewhere/secret.txt"), "x").unwrap();
        assert!(matches!(
            ws.files(&ws.root().join("up/elsewhere")),
            Err(PathError::Symlink(p)) if p == "up/elsewhere"
        ));
    }
}
