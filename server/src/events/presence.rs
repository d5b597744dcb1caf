//! Who is looking at a page: Phoenix Presence's `presence_state` and `presence_diff`.
//!
//! One entry per person (keyed by principal id) with one meta per joined tab, each
//! meta carrying a unique `phx_ref` as the Phoenix client expects.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::hub::SocketId;

/// The most tabs listed on one topic. Every listed join and leave is sent to everyone
/// on the topic, so the cost grows with the square of the list: beyond this, further
/// tabs still see the list but are not added to it.
pub const MAX_TABS: usize = 100;

#[derive(Default)]
pub struct Presence {
    /// topic → key → metas.
    topics: HashMap<String, HashMap<String, Vec<Meta>>>,
    /// topic → the joins and leaves not yet sent (see [`Presence::take_diffs`]).
    pending: HashMap<String, Diff>,
}

struct Meta {
    socket: SocketId,
    value: Value,
}

/// `{joins: {key: {metas}}, leaves: {key: {metas}}}` being gathered.
#[derive(Default)]
struct Diff {
    joins: Map<String, Value>,
    leaves: Map<String, Value>,
}

impl Diff {
    fn add(side: &mut Map<String, Value>, key: &str, meta: Value) {
        let entry = side
            .entry(key.to_owned())
            .or_insert_with(|| json!({ "metas": [] }));
        if let Some(metas) = entry["metas"].as_array_mut() {
            metas.push(meta);
        }
    }
}

/// Who joins: the key and what others are shown.
pub struct Visitor<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
}

impl Presence {
    /// Records `socket`'s join of `topic` (unless the list is full); the others learn
    /// of it with the next [`Presence::take_diffs`].
    pub fn join(&mut self, topic: &str, socket: SocketId, visitor: &Visitor<'_>, phx_ref: &str) {
        let keys = self.topics.entry(topic.to_owned()).or_default();
        if keys.values().map(Vec::len).sum::<usize>() >= MAX_TABS {
            return;
        }
        let meta = json!({
            "phx_ref": phx_ref,
            "name": visitor.name,
            "kind": visitor.kind,
            "online_at": time::OffsetDateTime::now_utc().unix_timestamp(),
        });
        keys.entry(visitor.key.to_owned()).or_default().push(Meta {
            socket,
            value: meta.clone(),
        });
        let diff = self.pending.entry(topic.to_owned()).or_default();
        Diff::add(&mut diff.joins, visitor.key, meta);
    }

    /// Forgets `socket`'s presence on `topic`, if it was listed.
    pub fn leave(&mut self, topic: &str, socket: SocketId) {
        let Some(keys) = self.topics.get_mut(topic) else {
            return;
        };
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
        if let Some((key, meta)) = left {
            let diff = self.pending.entry(topic.to_owned()).or_default();
            Diff::add(&mut diff.leaves, &key, meta);
        }
    }

    /// Every topic's list, as `presence_diff` joins: what a new instance is told.
    pub fn states(&self) -> Vec<(String, Value)> {
        self.topics
            .keys()
            .map(|topic| {
                let payload = json!({ "joins": self.state(topic), "leaves": {} });
                (topic.clone(), payload)
            })
            .collect()
    }

    /// Everyone on `topic` here: `{key: {metas: [...]}}`.
    pub fn state(&self, topic: &str) -> Value {
        let mut state = Map::new();
        for (key, metas) in self.topics.get(topic).into_iter().flatten() {
            let metas: Vec<Value> = metas.iter().map(|m| m.value.clone()).collect();
            state.insert(key.clone(), json!({ "metas": metas }));
        }
        Value::Object(state)
    }

    /// The joins and leaves since the last call, one `presence_diff` payload per topic.
    /// Gathering them first means a burst of joins costs one frame per socket, not one
    /// per join per socket.
    pub fn take_diffs(&mut self) -> Vec<(String, Value)> {
        self.pending
            .drain()
            .map(|(topic, diff)| {
                let payload = json!({ "joins": diff.joins, "leaves": diff.leaves });
                (topic, payload)
            })
            .collect()
    }
}

/// Presence on the other instances (on PostgreSQL), as they announce it: instance →
/// topic → key → metas.
#[derive(Default)]
pub struct Peers {
    peers: HashMap<String, Peer>,
}

struct Peer {
    heard: Instant,
    topics: HashMap<String, HashMap<String, Vec<Value>>>,
}

impl Peers {
    /// Notes that `peer` is alive.
    pub fn heard(&mut self, peer: &str) {
        self.peers
            .entry(peer.to_owned())
            .or_insert_with(|| Peer {
                heard: Instant::now(),
                topics: HashMap::new(),
            })
            .heard = Instant::now();
    }

    /// Applies a `presence_diff` payload from `peer` (metas matched by `phx_ref`).
    pub fn apply(&mut self, peer: &str, topic: &str, diff: &Value) {
        self.heard(peer);
        let Some(known) = self.peers.get_mut(peer) else {
            return;
        };
        let keys = known.topics.entry(topic.to_owned()).or_default();
        for (key, entry) in diff["joins"].as_object().into_iter().flatten() {
            let metas = keys.entry(key.clone()).or_default();
            for meta in entry["metas"].as_array().into_iter().flatten() {
                if !metas.iter().any(|m| m["phx_ref"] == meta["phx_ref"]) {
                    metas.push(meta.clone());
                }
            }
        }
        for (key, entry) in diff["leaves"].as_object().into_iter().flatten() {
            if let Some(metas) = keys.get_mut(key) {
                let gone = entry["metas"].as_array().cloned().unwrap_or_default();
                metas.retain(|m| !gone.iter().any(|g| g["phx_ref"] == m["phx_ref"]));
                if metas.is_empty() {
                    keys.remove(key);
                }
            }
        }
        if keys.is_empty() {
            known.topics.remove(topic);
        }
    }

    /// Forgets the instances not heard from for `silence`; returns, per topic, the
    /// `presence_diff` that takes their people off the list.
    pub fn expire(&mut self, silence: Duration) -> Vec<(String, Value)> {
        let gone: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, peer)| peer.heard.elapsed() >= silence)
            .map(|(id, _)| id.clone())
            .collect();
        gone.iter().flat_map(|id| self.forget(id)).collect()
    }

    /// Forgets what `peer` listed (it starts over); returns, per topic, the
    /// `presence_diff` that takes its people off the list.
    pub fn forget(&mut self, peer: &str) -> Vec<(String, Value)> {
        let Some(peer) = self.peers.remove(peer) else {
            return Vec::new();
        };
        peer.topics
            .into_iter()
            .map(|(topic, keys)| {
                let leaves: Map<String, Value> = keys
                    .into_iter()
                    .map(|(key, metas)| (key, json!({ "metas": metas })))
                    .collect();
                (topic, json!({ "joins": {}, "leaves": leaves }))
            })
            .collect()
    }

    /// Forgets everything (this instance lost track and asks again).
    pub fn clear(&mut self) {
        self.peers.clear();
    }

    /// Adds the other instances' people on `topic` to `state`.
    pub fn add_to(&self, topic: &str, state: &mut Value) {
        let Some(state) = state.as_object_mut() else {
            return;
        };
        for peer in self.peers.values() {
            for (key, metas) in peer.topics.get(topic).into_iter().flatten() {
                let entry = state
                    .entry(key.clone())
                    .or_insert_with(|| json!({ "metas": [] }));
                if let Some(listed) = entry["metas"].as_array_mut() {
                    listed.extend(metas.iter().cloned());
                }
            }
        }
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
        presence.join(topic, 1, &ADA, "r1");
        presence.join(topic, 2, &ADA, "r2");
        let state = presence.state(topic);
        assert_eq!(state.as_object().unwrap().len(), 1);
        assert_eq!(state["u-1"]["metas"].as_array().unwrap().len(), 2);
        let diffs = presence.take_diffs();
        assert_eq!(diffs.len(), 1, "one diff per topic for a burst");
        assert_eq!(diffs[0].1["joins"]["u-1"]["metas"][1]["phx_ref"], "r2");
        assert!(presence.take_diffs().is_empty());

        presence.leave(topic, 1);
        let diffs = presence.take_diffs();
        assert_eq!(diffs[0].1["leaves"]["u-1"]["metas"][0]["phx_ref"], "r1");
        assert_eq!(diffs[0].1["joins"], json!({}));
        assert_eq!(
            presence.state(topic)["u-1"]["metas"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        presence.leave(topic, 2);
        assert_eq!(presence.state(topic), json!({}));
        presence.leave(topic, 2);
        assert!(presence.topics.is_empty(), "empty topics are forgotten");
    }

    #[test]
    fn the_list_stops_growing_at_its_limit() {
        let mut presence = Presence::default();
        for socket in 0..(MAX_TABS as u64 + 5) {
            presence.join("environment:prod", socket, &ADA, &socket.to_string());
        }
        let state = presence.state("environment:prod");
        assert_eq!(state["u-1"]["metas"].as_array().unwrap().len(), MAX_TABS);
        // A tab that was never listed leaves no trace.
        presence.take_diffs();
        presence.leave("environment:prod", MAX_TABS as u64 + 1);
        assert!(presence.take_diffs().is_empty());
    }

    #[test]
    fn other_instances_people_are_added_and_leave_when_their_instance_goes_quiet() {
        let mut peers = Peers::default();
        let topic = "environment:prod";
        let bob =
            json!({"joins": {"u-2": {"metas": [{"phx_ref": "b1", "name": "bob"}]}}, "leaves": {}});
        peers.apply("other", topic, &bob);
        peers.apply("other", topic, &bob); // told twice: listed once
        let mut state = json!({"u-1": {"metas": [{"phx_ref": "a1", "name": "ada"}]}});
        peers.add_to(topic, &mut state);
        assert_eq!(state["u-2"]["metas"].as_array().unwrap().len(), 1);
        assert_eq!(state["u-1"]["metas"].as_array().unwrap().len(), 1);

        assert!(peers.expire(Duration::from_secs(60)).is_empty());
        let diffs = peers.expire(Duration::ZERO);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].1["leaves"]["u-2"]["metas"][0]["phx_ref"], "b1");
        let mut state = json!({});
        peers.add_to(topic, &mut state);
        assert_eq!(state, json!({}));

        peers.apply("other", topic, &bob);
        peers.apply(
            "other",
            topic,
            &json!({"joins": {}, "leaves": {"u-2": {"metas": [{"phx_ref": "b1"}]}}}),
        );
        let mut state = json!({});
        peers.add_to(topic, &mut state);
        assert_eq!(state, json!({}));
    }
}
