//! Backstage's format rules for the identifying parts of an entity.
//!
//! Each check returns the rule in words when the value breaks it; [`violation`] turns
//! that into the message people read: `"go 1.15.3" is not a valid tag: lowercase
//! letters, digits, ':', '+', '#' separated by '-'`.

pub const NAME_RULE: &str =
    "1-63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
pub const NAMESPACE_RULE: &str = "1-63 lowercase letters and digits, separated by '-'";
pub const KIND_RULE: &str = "1-63 letters and digits, starting with a letter";
pub const API_VERSION_RULE: &str =
    "a version of letters and digits, optionally after a DNS name and '/' (backstage.io/v1alpha1)";
pub const TAG_RULE: &str = "lowercase letters, digits, ':', '+', '#' separated by '-', at most 63";
pub const KEY_RULE: &str = "an optional DNS-name prefix and '/', then 1-63 letters, digits, \
     '-', '_' and '.', starting and ending with a letter or digit";
pub const LABEL_VALUE_RULE: &str =
    "empty, or 1-63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/// `"value" is not a valid what: rule`.
pub fn violation(value: &str, what: &str, rule: &str) -> String {
    format!("{value:?} is not a valid {what}: {rule}")
}

/// Entity names: `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, 1 to 63 characters.
pub fn is_valid_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Namespaces are DNS labels: `^[a-z0-9]+(-[a-z0-9]+)*$`, 1 to 63 characters.
pub fn is_valid_namespace(value: &str) -> bool {
    value.len() <= 63
        && is_separated_runs(
            value,
            |b| b.is_ascii_lowercase() || b.is_ascii_digit(),
            b'-',
        )
}

/// Kinds: `^[a-zA-Z][a-zA-Z0-9]*$`, 1 to 63 characters.
pub fn is_valid_kind(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// `apiVersion`: `[dns-subdomain/]version`, the version letters and digits.
pub fn is_valid_api_version(value: &str) -> bool {
    let (prefix, version) = match value.split_once('/') {
        Some((prefix, version)) => (Some(prefix), version),
        None => (None, value),
    };
    (1..=63).contains(&version.len())
        && version.bytes().all(|b| b.is_ascii_alphanumeric())
        && prefix.is_none_or(is_valid_dns_subdomain)
}

/// Tags: `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`, 1 to 63 characters.
pub fn is_valid_tag(value: &str) -> bool {
    value.len() <= 63
        && is_separated_runs(
            value,
            |b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b':' | b'+' | b'#'),
            b'-',
        )
}

/// Label and annotation keys: `[dns-subdomain/]name`.
pub fn is_valid_key(value: &str) -> bool {
    match value.split_once('/') {
        Some((prefix, name)) => is_valid_dns_subdomain(prefix) && is_valid_name(name),
        None => is_valid_name(value),
    }
}

/// Label values: empty, or a valid name.
pub fn is_valid_label_value(value: &str) -> bool {
    value.is_empty() || is_valid_name(value)
}

/// A DNS subdomain: at most 253 characters of DNS labels joined by '.'.
fn is_valid_dns_subdomain(value: &str) -> bool {
    (1..=253).contains(&value.len()) && value.split('.').all(is_valid_namespace)
}

/// Non-empty runs of `allowed` bytes joined by single `separator`s.
fn is_separated_runs(value: &str, allowed: impl Fn(u8) -> bool, separator: u8) -> bool {
    !value.is_empty()
        && value
            .as_bytes()
            .split(|&b| b == separator)
            .all(|run| !run.is_empty() && run.iter().all(|&b| allowed(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rule: fn(&str) -> bool, accept: &[&str], reject: &[&str]) {
        for value in accept {
            assert!(rule(value), "should accept {value:?}");
        }
        for value in reject {
            assert!(!rule(value), "should reject {value:?}");
        }
    }

    #[test]
    fn names() {
        let longest = "a".repeat(63);
        let too_long = "a".repeat(64);
        check(
            is_valid_name,
            &[
                "a",
                "A9",
                "artist-lookup",
                "wayback_archive.v2",
                "a--b",
                &longest,
            ],
            &[
                "",
                "invalid component",
                "-a",
                "a-",
                ".a",
                "a_",
                "ä",
                "a/b",
                &too_long,
            ],
        );
    }

    #[test]
    fn namespaces() {
        check(
            is_valid_namespace,
            &["default", "development", "team-1", "a"],
            &[
                "",
                "Default",
                "a--b",
                "-a",
                "a-",
                "a_b",
                "a.b",
                &"a".repeat(64),
            ],
        );
    }

    #[test]
    fn kinds() {
        check(
            is_valid_kind,
            &["Component", "API", "x", "Kind2"],
            &["", "2Kind", "my-kind", "my_kind", &"K".repeat(64)],
        );
    }

    #[test]
    fn api_versions() {
        check(
            is_valid_api_version,
            &["backstage.io/v1alpha1", "v1", "my-company.net/v2beta1", "1"],
            &[
                "",
                "backstage.io/",
                "/v1",
                "Backstage.io/v1",
                "backstage.io/v1.2",
                "a/b/c",
            ],
        );
    }

    #[test]
    fn tags() {
        check(
            is_valid_tag,
            &["go", "java", "c++", "c#", "k8s:prod", "data-pipeline"],
            &[
                "",
                "go 1.15.3",
                "Go",
                "a--b",
                "-a",
                "a-",
                "a_b",
                "a.b",
                &"t".repeat(64),
            ],
        );
    }

    #[test]
    fn keys_and_label_values() {
        check(
            is_valid_key,
            &[
                "owner",
                "backstage.io/techdocs-ref",
                "example.com/a.b_c",
                "goVersion",
            ],
            &["", "/x", "Backstage.io/x", "a/b/c", "x/", "has space"],
        );
        check(
            is_valid_label_value,
            &["", "music", "go1.15.3"],
            &["go 1.15.3", "-x", &"v".repeat(64)],
        );
    }

    #[test]
    fn violations_read_as_sentences() {
        assert_eq!(
            violation("go 1.15.3", "tag", TAG_RULE),
            "\"go 1.15.3\" is not a valid tag: lowercase letters, digits, ':', '+', '#' \
             separated by '-', at most 63"
        );
    }
}
