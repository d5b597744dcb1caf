//! The `format` keyword, checked loosely: a form should catch typing mistakes without
//! refusing an address a mail server would take. Formats not listed here are ignored, as
//! JSON Schema allows.

/// The problem with `text` in format `name`, if it has one.
pub(crate) fn check(name: &str, text: &str) -> Option<&'static str> {
    let (valid, problem) = match name {
        "email" => (is_email(text), "must be an email address"),
        "uri" | "url" => (is_url(text), "must be a URL"),
        "date" => (is_date(text), "must be a date (YYYY-MM-DD)"),
        _ => return None,
    };
    (!valid).then_some(problem)
}

/// `local@domain.tld`: dot-separated atoms of the characters RFC 5322 allows unquoted,
/// then a host name with at least two labels.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atom_char));
    local_ok && is_host_name(domain) && domain.contains('.')
}

fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `scheme:rest` with no spaces; when the rest starts with `//`, a non-empty authority.
fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let authority_ok = match rest.strip_prefix("//") {
        Some(after) => !after.starts_with(['/', '?', '#']) && !after.is_empty(),
        None => true,
    };
    scheme_ok
        && !rest.is_empty()
        && authority_ok
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// RFC 3339's `full-date`, with the days of each month (and leap years) checked.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "a@example.com",
            "first.last+tag@mail.example.co.uk",
            "o'neil@x-y.io",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "x",
            "a@b",
            "@example.com",
            "a@",
            "a b@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "a@example..com",
            "a@exa mple.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for good in [
            "https://github.com/backstage/backstage",
            "http://localhost:7007/api?q=1#top",
            "mailto:team@example.com",
            "urn:isbn:0451450523",
        ] {
            assert!(is_url(good), "{good}");
        }
        for bad in [
            "github.com",
            "https://",
            "https:///path",
            "1http://x",
            "https://exa mple.com",
            ":nothing",
            "https:",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        for good in ["2024-02-29", "2000-02-29", "1999-12-31", "2025-01-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00:00Z",
            "２０２４-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_formats_pass() {
        assert_eq!(check("hostname", "not a host"), None);
        assert_eq!(check("email", "x"), Some("must be an email address"));
    }
}
