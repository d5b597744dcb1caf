//! How server functions' answers travel: JSON, read in the browser as text.
//!
//! Leptos reads the data a page was rendered with (hydration) with `serde_json::from_str`,
//! and server_fn's own JSON encoding reads answers with `serde_json::from_slice`: every
//! answer type would be compiled into the browser bundle twice, once per reader. Reading
//! answers as text too keeps one reader per type, which takes more than a tenth off the
//! bundle (BENCHMARKS.md).

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;

/// JSON, read as text.
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's answer, as JSON text: `#[server(output = JsonText)]`.
pub type JsonText = Post<JsonTextEncoding>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_back_as_they_were_sent() {
        let sent = vec![("é".to_owned(), 3_u32)];
        let bytes = <JsonTextEncoding as Encodes<_>>::encode(&sent).unwrap();
        let read: Vec<(String, u32)> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(read, sent);
        let broken = <JsonTextEncoding as Decodes<u32>>::decode(Bytes::from_static(b"\xff"));
        assert!(broken.is_err());
    }
}
