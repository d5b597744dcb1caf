//! Command-line arguments, and the two URLs derived from `--url`.

use std::path::PathBuf;

use clap::Parser;

use crate::error::{Error, Result};

/// Opens many Phoenix-Channels v2 websocket clients on one topic of a Portico server,
/// publishes catalog changes one at a time and measures how fast each reaches every client.
#[derive(Parser, Debug)]
#[command(name = "channel-load", version)]
pub struct Args {
    /// The portal's base URL, e.g. http://127.0.0.1:3000
    #[arg(long)]
    pub url: String,
    /// An API token secret (role developer: the refresh endpoint needs it).
    #[arg(long)]
    pub token: String,
    /// How many websocket connections to open.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sockets: u32,
    /// How many events to publish, one at a time.
    #[arg(long)]
    pub events: u32,
    /// The channel topic every socket joins, e.g. entity:component:default/channel-load
    #[arg(long)]
    pub topic: String,
    /// The catalog file holding the entity; an annotation in it is rewritten per event.
    #[arg(long)]
    pub entity_file: PathBuf,
    /// The entity's reference, e.g. component:default/channel-load
    #[arg(long)]
    pub entity_ref: String,
    /// The server's process id: its RSS is read before and after the sockets join.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// How many websocket handshakes may be in flight at once.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connect_concurrency: u32,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Another portal on the same database (repeatable): sockets are spread over `--url`
    /// and these in turn, while changes go through `--url`, so deliveries cross instances.
    #[arg(long = "socket-server")]
    pub socket_servers: Vec<String>,
}

impl Args {
    /// The portal URL without a trailing slash, so paths can be appended.
    fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// The socket URL of `--url` and of every `--socket-server`, in that order.
    pub fn socket_urls(&self) -> Result<Vec<String>> {
        std::iter::once(&self.url)
            .chain(&self.socket_servers)
            .map(|url| self.socket_url_of(url))
            .collect()
    }

    /// `ws://HOST:PORT[/prefix]/socket/websocket?vsn=2.0.0&token=…`: the token goes in the
    /// query string because that is where Phoenix's JS client puts it (browsers cannot set
    /// headers on a websocket handshake).
    fn socket_url_of(&self, url: &str) -> Result<String> {
        let rest = url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| {
                Error::new(format!(
                    "{url:?}: only http:// URLs are supported (the tool speaks plain ws://)"
                ))
            })?;
        Ok(format!(
            "ws://{rest}/socket/websocket?vsn=2.0.0&token={}",
            percent_encode(&self.token)
        ))
    }

    pub fn refresh_url(&self) -> String {
        format!("{}/api/catalog/refresh", self.base())
    }
}

/// Query-string encoding of everything but RFC 3986's unreserved characters (the portal's
/// secrets are URL-safe already; this keeps any other token intact).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str, token: &str) -> Args {
        Args::parse_from([
            "channel-load",
            "--url",
            url,
            "--token",
            token,
            "--sockets",
            "2",
            "--events",
            "1",
            "--topic",
            "t",
            "--entity-file",
            "/tmp/x.yaml",
            "--entity-ref",
            "component:default/x",
        ])
    }

    #[test]
    fn socket_url_carries_version_and_token() {
        let a = args("http://127.0.0.1:3000/", "pt_a-b_c");
        assert_eq!(
            a.socket_urls().unwrap()[0],
            "ws://127.0.0.1:3000/socket/websocket?vsn=2.0.0&token=pt_a-b_c"
        );
        assert_eq!(a.refresh_url(), "http://127.0.0.1:3000/api/catalog/refresh");
        let mut spread = a;
        spread.socket_servers = vec!["http://127.0.0.1:3001".into()];
        let urls = spread.socket_urls().unwrap();
        assert_eq!(urls.len(), 2);
        assert!(urls[1].starts_with("ws://127.0.0.1:3001/socket/websocket?vsn=2.0.0&token="));
    }

    #[test]
    fn tokens_are_encoded_and_https_is_refused() {
        assert_eq!(percent_encode("a+b/c="), "a%2Bb%2Fc%3D");
        assert!(args("https://example.com", "x").socket_urls().is_err());
    }
}
