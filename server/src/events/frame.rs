//! Phoenix Channels v2 frames: JSON arrays `[join_ref, ref, topic, event, payload]`.

use portico_core::events::Event;
use serde_json::{json, Map, Value};

/// The topic of socket-level messages (heartbeats).
pub const PHOENIX: &str = "phoenix";

pub const JOIN: &str = "phx_join";
pub const LEAVE: &str = "phx_leave";
pub const REPLY: &str = "phx_reply";
pub const CLOSE: &str = "phx_close";
pub const HEARTBEAT: &str = "heartbeat";
pub const PRESENCE_STATE: &str = "presence_state";
pub const PRESENCE_DIFF: &str = "presence_diff";

/// A frame a client sent.
#[derive(Debug, PartialEq)]
pub struct Incoming {
    pub join_ref: Option<String>,
    /// Echoed in the reply; `None` for fire-and-forget pushes.
    pub reference: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

/// Why a text frame is not a Phoenix v2 frame. The message goes back to the client.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame must be a JSON array [join_ref, ref, topic, event, payload]")]
    NotAFrame,
    #[error("{0} must be a string or null")]
    BadRef(&'static str),
    #[error("topic and event must be non-empty strings")]
    BadName,
}

impl Incoming {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let Ok(Value::Array(parts)) = serde_json::from_str::<Value>(text) else {
            return Err(FrameError::NotAFrame);
        };
        let Ok([join_ref, reference, topic, event, payload]) = <[Value; 5]>::try_from(parts) else {
            return Err(FrameError::NotAFrame);
        };
        let (Value::String(topic), Value::String(event)) = (topic, event) else {
            return Err(FrameError::BadName);
        };
        if topic.is_empty() || event.is_empty() {
            return Err(FrameError::BadName);
        }
        Ok(Self {
            join_ref: reference_of(join_ref, "join_ref")?,
            reference: reference_of(reference, "ref")?,
            topic,
            event,
            payload,
        })
    }
}

/// Clients send refs as strings; numbers are accepted and echoed as strings.
fn reference_of(value: Value, field: &'static str) -> Result<Option<String>, FrameError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(FrameError::BadRef(field)),
    }
}

/// Any frame, as text.
pub fn encode(
    join_ref: Option<&str>,
    reference: Option<&str>,
    topic: &str,
    event: &str,
    payload: &Value,
) -> String {
    json!([join_ref, reference, topic, event, payload]).to_string()
}

/// The answer to a client's push: `{"status": "ok"|"error", "response": …}`.
pub fn reply(incoming: &Incoming, ok: bool, response: Value) -> String {
    encode(
        incoming.join_ref.as_deref(),
        incoming.reference.as_deref(),
        &incoming.topic,
        REPLY,
        &json!({"status": if ok { "ok" } else { "error" }, "response": response}),
    )
}

/// A refusal with a reason, as Phoenix clients expect (`{"reason": …}`).
pub fn refuse(incoming: &Incoming, reason: &str) -> String {
    reply(incoming, false, json!({ "reason": reason }))
}

/// The end of a join (after a leave, or when a new join replaces it): `phx_close`
/// with the join's ref in both places, as Phoenix sends it.
pub fn closed(join_ref: Option<&str>, topic: &str) -> String {
    encode(join_ref, join_ref, topic, CLOSE, &json!({}))
}

/// A server push on a topic: `[null, null, topic, event, payload]`.
pub fn push(topic: &str, event: &str, payload: &Value) -> String {
    encode(None, None, topic, event, payload)
}

/// An event of the log, as pushed to every subscriber of its topic: its payload with
/// `id` (the log id clients replay from) added.
pub fn event(event: &Event) -> String {
    let payload = match &event.payload {
        Value::Object(fields) => {
            let mut fields = fields.clone();
            fields.insert("id".into(), event.id.into());
            Value::Object(fields)
        }
        other => {
            let mut fields = Map::new();
            fields.insert("id".into(), event.id.into());
            fields.insert("data".into(), other.clone());
            Value::Object(fields)
        }
    };
    push(&event.topic, &event.event_type, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_with_string_number_or_null_refs() {
        let frame = Incoming::parse(r#"["1","2","catalog","phx_join",{"since":5}]"#).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("1"));
        assert_eq!(frame.reference.as_deref(), Some("2"));
        assert_eq!(frame.payload, json!({"since": 5}));
        let frame = Incoming::parse(r#"[null,7,"phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(frame.join_ref, None);
        assert_eq!(frame.reference.as_deref(), Some("7"));
    }

    #[test]
    fn malformed_frames_say_why() {
        for (text, error) in [
            ("not json", FrameError::NotAFrame),
            (r#"{"topic":"x"}"#, FrameError::NotAFrame),
            (r#"["1","1","catalog","phx_join"]"#, FrameError::NotAFrame),
            (r#"["1","1","","phx_join",{}]"#, FrameError::BadName),
            (r#"["1","1",3,"phx_join",{}]"#, FrameError::BadName),
            (
                r#"[{},"1","catalog","phx_join",{}]"#,
                FrameError::BadRef("join_ref"),
            ),
        ] {
            assert_eq!(Incoming::parse(text).unwrap_err(), error, "{text}");
        }
    }

    #[test]
    fn events_carry_their_log_id() {
        let event = Event {
            id: 42,
            topic: "catalog".into(),
            event_type: "entity.updated".into(),
            payload: json!({"ref": "component:default/web"}),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let frame: Value = serde_json::from_str(&super::event(&event)).unwrap();
        assert_eq!(
            frame,
            json!([null, null, "catalog", "entity.updated", {"ref": "component:default/web", "id": 42}])
        );
        let bare = Event {
            payload: json!("text"),
            ..event
        };
        let frame: Value = serde_json::from_str(&super::event(&bare)).unwrap();
        assert_eq!(frame[4], json!({"id": 42, "data": "text"}));
    }
}
