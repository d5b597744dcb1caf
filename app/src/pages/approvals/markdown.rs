//! A request's description, written in markdown, as HTML that is safe to show: raw
//! HTML in it is shown as text, and links only go to http(s), mail or portal pages.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

pub fn to_html(text: &str) -> String {
    let events = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Link {
                link_type,
                dest_url: safe(dest_url),
                title,
                id,
            }),
            Event::Start(Tag::Image { dest_url, .. }) => Event::Text(dest_url),
            other => other,
        })
        .filter(|event| !matches!(event, Event::End(pulldown_cmark::TagEnd::Image)));
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// A link's target, or none (`#`) when it could run script or leave to somewhere odd.
fn safe(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let allowed = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"));
    if allowed {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_nothing_runs() {
        let html = to_html("Refunds in **one** step.\n\n- [runbook](https://wiki.example/r)\n- [x](javascript:alert(1))\n\n<script>alert(1)</script>\n\n![i](https://evil.example/t.png)");
        assert!(html.contains("<strong>one</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://wiki.example/r">runbook</a>"#),
            "{html}"
        );
        assert!(html.contains(r##"<a href="#">x</a>"##), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }
}
