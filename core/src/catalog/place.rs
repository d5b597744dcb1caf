//! Where catalog text lives: a file on this machine or an http(s) URL, and how a
//! relative target written in one resolves against it.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

/// A catalog file (or directory) on disk, or a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    File(PathBuf),
    Url(Url),
}

impl Place {
    /// The place a registered location's origin (`file:/srv/x.yaml`, `url:https://…`)
    /// names, if it names one.
    pub fn from_origin(origin: &str) -> Option<Self> {
        if let Some(path) = origin.strip_prefix("file:") {
            Some(Self::File(PathBuf::from(path)))
        } else {
            let url = origin.strip_prefix("url:")?;
            Url::parse(url).ok().map(Self::Url)
        }
    }

    /// The origin form, as locations and Backstage's location annotations write it.
    pub fn origin(&self) -> String {
        match self {
            Self::File(path) => format!("file:{}", path.display()),
            Self::Url(url) => format!("url:{url}"),
        }
    }

    /// `target`, written in the file at this place, as a place of its own: relative to
    /// this file's directory (or URL). A file read from a URL can only point at URLs,
    /// never at this machine's files.
    pub fn join(&self, target: &str) -> Result<Self, String> {
        match self {
            Self::File(_) if target.contains("://") => Url::parse(target)
                .map(Self::Url)
                .map_err(|e| format!("not a URL: {e}")),
            Self::File(file) => Ok(Self::File(
                file.parent().unwrap_or(Path::new("/")).join(target),
            )),
            Self::Url(base) => {
                let url = base.join(target).map_err(|e| format!("not a URL: {e}"))?;
                if matches!(url.scheme(), "http" | "https") {
                    Ok(Self::Url(url))
                } else {
                    Err("a file read from a URL can only point at http(s) URLs".into())
                }
            }
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => write!(f, "{url}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Place {
        Place::Url(Url::parse(s).unwrap())
    }

    #[test]
    fn targets_resolve_against_the_file_they_are_written_in() {
        let file = Place::File("/srv/catalog/all.yaml".into());
        assert_eq!(
            file.join("./teams/a.yaml").unwrap(),
            Place::File("/srv/catalog/./teams/a.yaml".into())
        );
        assert_eq!(
            file.join("https://git.test/x.yaml").unwrap(),
            url("https://git.test/x.yaml")
        );
        let remote = url("https://git.test/org/repo/blob/main/catalog-info.yaml");
        assert_eq!(
            remote.join("./api/openapi.yaml").unwrap(),
            url("https://git.test/org/repo/blob/main/api/openapi.yaml")
        );
        assert_eq!(
            remote.join("../other.yaml").unwrap(),
            url("https://git.test/org/repo/blob/other.yaml")
        );
        assert!(remote.join("file:///etc/passwd").is_err());
    }

    #[test]
    fn origins_round_trip() {
        for origin in ["file:/srv/a.yaml", "url:https://git.test/a.yaml"] {
            assert_eq!(Place::from_origin(origin).unwrap().origin(), origin);
        }
        assert_eq!(Place::from_origin("demo:portico"), None);
    }
}
