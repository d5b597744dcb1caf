//! Phoenix Channels v2 frames: JSON arrays `[join_ref, ref, topic, event, payload]`.
//!
//! Decoding walks the array once and reads only what the tool needs: the topic and event
//! as borrowed strings, then the payload's `id` (an `entity.updated` push) or `status`
//! (the reply to our join); every other payload is skipped without being built. Tens of
//! thousands of frames arrive per event, on a machine whose cores the server needs too.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

/// The join and ref of our one `phx_join` on each socket.
pub const JOIN_REF: &str = "1";
/// The event the portal pushes when a catalog entity changes.
pub const UPDATED: &str = "entity.updated";

/// `["1","1",topic,"phx_join",{}]`.
pub fn join(topic: &str) -> String {
    serde_json::json!([JOIN_REF, JOIN_REF, topic, "phx_join", {}]).to_string()
}

/// `[null,"<n>","phoenix","heartbeat",{}]`: keeps the server from closing an idle socket.
pub fn heartbeat(n: u64) -> String {
    format!(r#"[null,"{n}","phoenix","heartbeat",{{}}]"#)
}

/// What a received frame means to the tool.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// The reply to our join: `Ok`, or the server's reason for refusing.
    JoinReply(Result<(), String>),
    /// An `entity.updated` push on our topic, with its event-log id.
    Updated(u64),
    /// Anything else (heartbeat replies, presence, other events): ignored.
    Other,
}

/// Decodes one text frame received on a socket that joined `topic`.
pub fn parse(text: &str, topic: &str) -> Result<Frame, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let frame = FrameSeed { topic }.deserialize(&mut de)?;
    de.end()?;
    Ok(frame)
}

/// A string borrowed from the frame when it has no escapes (the usual case).
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct UpdatedPayload {
    id: u64,
}

#[derive(Deserialize)]
struct ReplyPayload<'a> {
    #[serde(borrow)]
    status: Text<'a>,
    #[serde(default)]
    response: serde_json::Value,
}

struct FrameSeed<'t> {
    topic: &'t str,
}

impl<'de> DeserializeSeed<'de> for FrameSeed<'_> {
    type Value = Frame;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Frame, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_> {
    type Value = Frame;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Phoenix v2 frame [join_ref, ref, topic, event, payload]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Frame, A::Error> {
        use serde::de::Error;
        let missing = |what| A::Error::custom(format_args!("frame without {what}"));
        seq.next_element::<IgnoredAny>()?
            .ok_or_else(|| missing("join_ref"))?;
        let reference: Option<Text> = seq.next_element()?.ok_or_else(|| missing("ref"))?;
        let topic: Text = seq.next_element()?.ok_or_else(|| missing("topic"))?;
        let event: Text = seq.next_element()?.ok_or_else(|| missing("event"))?;
        let ours = topic.0 == self.topic;
        let frame = if ours && event.0 == UPDATED {
            let payload: UpdatedPayload = seq.next_element()?.ok_or_else(|| missing("payload"))?;
            Frame::Updated(payload.id)
        } else if ours && event.0 == "phx_reply" && reference.is_some_and(|r| r.0 == JOIN_REF) {
            let reply: ReplyPayload = seq.next_element()?.ok_or_else(|| missing("payload"))?;
            Frame::JoinReply(if reply.status.0 == "ok" {
                Ok(())
            } else {
                Err(refusal(&reply.status.0, &reply.response))
            })
        } else {
            seq.next_element::<IgnoredAny>()?
                .ok_or_else(|| missing("payload"))?;
            Frame::Other
        };
        // Tolerate trailing elements rather than reject a frame for them.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(frame)
    }
}

/// `response.reason` when the server gave one, else the whole response.
fn refusal(status: &str, response: &serde_json::Value) -> String {
    match response.get("reason").and_then(|r| r.as_str()) {
        Some(reason) => reason.to_owned(),
        None => format!("status {status:?}, response {response}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "entity:component:default/channel-load";

    #[test]
    fn builds_join_and_heartbeat() {
        assert_eq!(
            join(TOPIC),
            r#"["1","1","entity:component:default/channel-load","phx_join",{}]"#
        );
        assert_eq!(heartbeat(7), r#"[null,"7","phoenix","heartbeat",{}]"#);
    }

    #[test]
    fn reads_join_replies() {
        let ok = r#"["1","1","entity:component:default/channel-load","phx_reply",{"status":"ok","response":{}}]"#;
        assert_eq!(parse(ok, TOPIC).unwrap(), Frame::JoinReply(Ok(())));
        let refused = r#"["1","1","entity:component:default/channel-load","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}]"#;
        assert_eq!(
            parse(refused, TOPIC).unwrap(),
            Frame::JoinReply(Err("unauthorized".into()))
        );
        let no_reason = r#"["1","1","entity:component:default/channel-load","phx_reply",{"status":"error","response":"nope"}]"#;
        assert_eq!(
            parse(no_reason, TOPIC).unwrap(),
            Frame::JoinReply(Err(r#"status "error", response "nope""#.into()))
        );
    }

    #[test]
    fn reads_the_id_of_updates_and_skips_the_rest_of_the_payload() {
        let push = r#"[null,null,"entity:component:default/channel-load","entity.updated",{"id":42,"ref":"component:default/channel-load","entity":{"metadata":{"id":"x"}},"at":"2025"}]"#;
        assert_eq!(parse(push, TOPIC).unwrap(), Frame::Updated(42));
        // An escaped topic is still recognised.
        let escaped =
            r#"[null,null,"entity:component:default\/channel-load","entity.updated",{"id":43}]"#;
        assert_eq!(parse(escaped, TOPIC).unwrap(), Frame::Updated(43));
    }

    #[test]
    fn ignores_other_frames() {
        for text in [
            r#"[null,"2","phoenix","phx_reply",{"status":"ok","response":{}}]"#,
            r#"["1",null,"entity:component:default/channel-load","presence_state",{"u1":{"metas":[{"id":"s"}]}}]"#,
            r#"["1",null,"entity:component:default/channel-load","presence_diff",{"joins":{},"leaves":{}}]"#,
            r#"[null,null,"entity:component:default/other","entity.updated",{"id":9}]"#,
            r#"["1","5","entity:component:default/channel-load","phx_reply",{"status":"ok","response":{}}]"#,
        ] {
            assert_eq!(parse(text, TOPIC).unwrap(), Frame::Other, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_frames() {
        for text in [
            r#"{"event":"x"}"#,
            r#"[null,null,"t"]"#,
            r#"[null,null,"entity:component:default/channel-load","entity.updated",{"id":"x"}]"#,
            r#"[null,null,"entity:component:default/channel-load","entity.updated",{}]"#,
            r#"[null,null,"t","e",{}] trailing"#,
        ] {
            assert!(parse(text, TOPIC).is_err(), "{text}");
        }
    }
}
