//! Presence across instances on one PostgreSQL database, without a broker: each
//! instance announces its joins and leaves on `portico_presence` (`NOTIFY`), says it is
//! alive every few seconds, and answers a newcomer's hello with everything it lists.
//! An instance silent for a while is forgotten and its people leave every page. An
//! instance that starts (or starts over after losing its connection) first says so
//! (`Reset`), so the others drop what it listed before, then sends its whole list.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The PostgreSQL channel of presence messages.
pub const CHANNEL: &str = "portico_presence";

/// How often an instance says it is alive.
pub const ALIVE_EVERY: Duration = Duration::from_secs(5);

/// An instance not heard from for this long is gone (stopped or cut off).
pub const SILENCE: Duration = Duration::from_secs(15);

/// PostgreSQL refuses notifications of 8000 bytes or more: diffs are split below this.
const MAX_PAYLOAD: usize = 7000;

/// What instances tell each other.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// A new instance (or one that lost track) asks for everyone's lists.
    Hello {
        from: String,
    },
    /// Forget what this instance listed: its whole list follows.
    Reset {
        from: String,
    },
    Alive {
        from: String,
    },
    /// Joins and leaves on a topic: a `presence_diff` payload.
    Diff {
        from: String,
        topic: String,
        joins: Map<String, Value>,
        leaves: Map<String, Value>,
    },
}

impl Message {
    pub fn from(&self) -> &str {
        match self {
            Self::Hello { from }
            | Self::Reset { from }
            | Self::Alive { from }
            | Self::Diff { from, .. } => from,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A `presence_diff` payload as messages small enough to send, each meta whole.
pub fn diff_messages(from: &str, topic: &str, diff: &Value) -> Vec<String> {
    let empty = || Message::Diff {
        from: from.to_owned(),
        topic: topic.to_owned(),
        joins: Map::new(),
        leaves: Map::new(),
    };
    let mut messages = Vec::new();
    let mut current = empty();
    let mut size = current.encode().len();
    for (side, is_join) in [("joins", true), ("leaves", false)] {
        for (key, entry) in diff[side].as_object().into_iter().flatten() {
            for meta in entry["metas"].as_array().into_iter().flatten() {
                let added = key.len() + meta.to_string().len() + 32;
                if size + added > MAX_PAYLOAD && size > 0 {
                    messages.push(current.encode());
                    current = empty();
                    size = current.encode().len();
                }
                if let Message::Diff { joins, leaves, .. } = &mut current {
                    let target = if is_join { joins } else { leaves };
                    let listed = target
                        .entry(key.clone())
                        .or_insert_with(|| serde_json::json!({ "metas": [] }));
                    if let Some(metas) = listed["metas"].as_array_mut() {
                        metas.push(meta.clone());
                    }
                }
                size += added;
            }
        }
    }
    if let Message::Diff { joins, leaves, .. } = &current {
        if !joins.is_empty() || !leaves.is_empty() {
            messages.push(current.encode());
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn large_diffs_are_split_under_the_notify_limit_and_lose_nothing() {
        let metas: Vec<Value> = (0..150)
            .map(|i| json!({"phx_ref": format!("r{i}"), "name": "x".repeat(60)}))
            .collect();
        let diff = json!({"joins": {"u-1": {"metas": metas}}, "leaves": {"u-2": {"metas": [{"phx_ref": "gone"}]}}});
        let messages = diff_messages("me", "environment:prod", &diff);
        assert!(messages.len() > 1);
        let mut joined = 0;
        let mut left = 0;
        for text in &messages {
            assert!(text.len() < 8000, "{}", text.len());
            match serde_json::from_str::<Message>(text).unwrap() {
                Message::Diff {
                    joins,
                    leaves,
                    from,
                    topic,
                } => {
                    assert_eq!((from.as_str(), topic.as_str()), ("me", "environment:prod"));
                    joined += joins
                        .values()
                        .map(|e| e["metas"].as_array().unwrap().len())
                        .sum::<usize>();
                    left += leaves
                        .values()
                        .map(|e| e["metas"].as_array().unwrap().len())
                        .sum::<usize>();
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((joined, left), (150, 1));
        assert!(diff_messages("me", "t", &json!({"joins": {}, "leaves": {}})).is_empty());
    }
}
