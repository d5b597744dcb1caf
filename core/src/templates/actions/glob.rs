//! Glob patterns as templates write them (`*.png`, `docs/**`, `**/*.tmpl`): `*` and `?`
//! stay within one path segment, `**` spans any number of them.

/// Whether `path` (relative, `/`-separated) matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segments(&pattern, &path)
}

fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((name, tail)) => {
                segment(first.as_bytes(), name.as_bytes()) && segments(rest, tail)
            }
            None => false,
        },
    }
}

/// One segment: `*` any run of characters, `?` one character.
fn segment(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| segment(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && segment(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && segment(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        for (pattern, path, expected) in [
            ("*.png", "logo.png", true),
            ("*.png", "img/logo.png", false),
            ("**/*.png", "img/logo.png", true),
            ("**/*.png", "logo.png", true),
            ("docs/**", "docs/a/b.md", true),
            ("docs/**", "src/a.md", false),
            ("./src/?.rs", "src/a.rs", true),
            ("src/?.rs", "src/ab.rs", false),
            ("README.md", "README.md", true),
            ("README.md", "docs/README.md", false),
        ] {
            assert_eq!(matches(pattern, path), expected, "{pattern} {path}");
        }
    }
}
