use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::EventError;

/// Longest topic or type accepted: topics embed entity references, which are bounded.
const MAX_NAME_LEN: usize = 255;

/// A recorded state change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log: strictly increasing in commit order, never reused.
    pub id: i64,
    /// Where the event is published, e.g. `catalog` or `environment:production`.
    pub topic: String,
    /// What happened, e.g. `entity.upserted`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An event about to be appended.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub topic: String,
    pub event_type: String,
    pub payload: serde_json::Value,
}

impl NewEvent {
    pub fn new(
        topic: impl Into<String>,
        event_type: impl Into<String>,
        payload: serde_json::Value,
    ) -> Self {
        Self {
            topic: topic.into(),
            event_type: event_type.into(),
            payload,
        }
    }

    /// Checks the rules a stored event must follow.
    pub fn validate(&self) -> Result<(), EventError> {
        check_name("topic", &self.topic)?;
        check_name("type", &self.event_type)
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), EventError> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > MAX_NAME_LEN {
        "must be at most 255 bytes"
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "must not contain white space or control characters"
    } else {
        return Ok(());
    };
    Err(EventError::Invalid { field, reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_checked() {
        let ok = NewEvent::new("entity:component:default/web", "entity.upserted", json!({}));
        assert!(ok.validate().is_ok());
        let cases = [
            ("", "a.b", "topic: must not be empty"),
            ("catalog", "", "type: must not be empty"),
            (
                "cat alog",
                "a.b",
                "topic: must not contain white space or control characters",
            ),
            (
                "catalog",
                "a\nb",
                "type: must not contain white space or control characters",
            ),
        ];
        for (topic, event_type, expected) in cases {
            let err = NewEvent::new(topic, event_type, json!(null))
                .validate()
                .unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        let long = "t".repeat(256);
        let err = NewEvent::new(long, "a", json!(null))
            .validate()
            .unwrap_err();
        assert_eq!(err.to_string(), "topic: must be at most 255 bytes");
    }

    #[test]
    fn events_serialise_with_type_and_rfc3339_time() {
        let event = Event {
            id: 7,
            topic: "catalog".into(),
            event_type: "entity.upserted".into(),
            payload: json!({"ref": "component:default/web"}),
            created_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        };
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["type"], "entity.upserted");
        assert_eq!(value["created_at"], "2023-11-14T22:13:20Z");
        assert_eq!(serde_json::from_value::<Event>(value).unwrap(), event);
    }
}
