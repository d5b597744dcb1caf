//! Who is looking at a page: Phoenix Presence's `presence_state` and `presence_diff`.
//!
//! One entry per person (keyed by principal id) with one meta per joined tab, each
//! meta carrying a unique `phx_ref` as the Phoenix client expects.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::hub::SocketId;

#[derive(Default)]
pub struct Presence {
    /// topic → key → metas.
    topics: HashMap<String, HashMap<String, Vec<Meta>>>,
}

struct Meta {
    socket: SocketId,
    value: Value,
}

/// Who joins: the key and what others are shown.
pub struct Visitor<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
}

impl Presence {
    /// Records `socket`'s join of `topic`; returns the diff to broadcast.
    pub fn join(
        &mut self,
        topic: &str,
        socket: SocketId,
        visitor: &Visitor<'_>,
        phx_ref: &str,
    ) -> Value {
        let meta = json!({
            "phx_ref": phx_ref,
            "name": visitor.name,
            "kind": visitor.kind,
            "online_at": time::OffsetDateTime::now_utc().unix_timestamp(),
        });
        self.topics
            .entry(topic.to_owned())
            .or_default()
            .entry(visitor.key.to_owned())
            .or_default()
            .push(Meta {
                socket,
                value: meta.clone(),
            });
        diff(visitor.key, meta, true)
    }

    /// Forgets `socket`'s presence on `topic`; returns the diff to broadcast, if it
    /// was there.
    pub fn leave(&mut self, topic: &str, socket: SocketId) -> Option<Value> {
        let keys = self.topics.get_mut(topic)?;
        let mut left = None;
        keys.retain(|key, metas| {
            if let Some(at) = metas.iter().position(|m| m.socket == socket) {
                left = Some((key.clone(), metas.remove(at).value));
            }
            !metas.is_empty()
        });
        if keys.is_empty() {
            self.topics.remove(topic);
        }
        left.map(|(key, meta)| diff(&key, meta, false))
    }

    /// Everyone on `topic`: `{key: {metas: [...]}}`.
    pub fn state(&self, topic: &str) -> Value {
        let mut state = Map::new();
        for (key, metas) in self.topics.get(topic).into_iter().flatten() {
            let metas: Vec<Value> = metas.iter().map(|m| m.value.clone()).collect();
            state.insert(key.clone(), json!({ "metas": metas }));
        }
        Value::Object(state)
    }
}

fn diff(key: &str, meta: Value, joined: bool) -> Value {
    let entry = json!({ key: { "metas": [meta] } });
    if joined {
        json!({ "joins": entry, "leaves": {} })
    } else {
        json!({ "joins": {}, "leaves": entry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: Visitor<'static> = Visitor {
        key: "u-1",
        name: "ada",
        kind: "user",
    };

    #[test]
    fn one_entry_per_person_with_one_meta_per_tab() {
        let mut presence = Presence::default();
        let topic = "entity:component:default/web";
        let diff = presence.join(topic, 1, &ADA, "r1");
        assert_eq!(diff["joins"]["u-1"]["metas"][0]["phx_ref"], "r1");
        presence.join(topic, 2, &ADA, "r2");
        let state = presence.state(topic);
        assert_eq!(state.as_object().unwrap().len(), 1);
        assert_eq!(state["u-1"]["metas"].as_array().unwrap().len(), 2);

        let diff = presence.leave(topic, 1).unwrap();
        assert_eq!(diff["leaves"]["u-1"]["metas"][0]["phx_ref"], "r1");
        assert_eq!(
            presence.state(topic)["u-1"]["metas"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        presence.leave(topic, 2).unwrap();
        assert_eq!(presence.state(topic), json!({}));
        assert!(presence.leave(topic, 2).is_none());
        assert!(presence.topics.is_empty(), "empty topics are forgotten");
    }
}
