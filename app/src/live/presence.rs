//! Phoenix Presence on the client: the state a `presence_state` gives, updated by each
//! `presence_diff`, as the list of people a page shows.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Someone looking at the same page, with how many tabs they have open on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub key: String,
    pub name: String,
    pub tabs: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
struct Entry {
    metas: Vec<Meta>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
struct Meta {
    phx_ref: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Diff {
    #[serde(default)]
    joins: BTreeMap<String, Entry>,
    #[serde(default)]
    leaves: BTreeMap<String, Entry>,
}

/// Everyone on a topic: key → metas (one per tab).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PresenceState {
    entries: BTreeMap<String, Entry>,
}

impl PresenceState {
    /// Replaces the state with a `presence_state` payload (ignored if malformed).
    pub fn sync_state(&mut self, payload: &serde_json::Value) {
        if let Ok(entries) = serde_json::from_value(payload.clone()) {
            self.entries = entries;
        }
    }

    /// Applies a `presence_diff` payload: joins add tabs (once each), leaves remove them.
    pub fn sync_diff(&mut self, payload: &serde_json::Value) {
        let Ok(diff) = serde_json::from_value::<Diff>(payload.clone()) else {
            return;
        };
        for (key, joined) in diff.joins {
            let entry = self.entries.entry(key).or_default();
            for meta in joined.metas {
                if !entry.metas.iter().any(|m| m.phx_ref == meta.phx_ref) {
                    entry.metas.push(meta);
                }
            }
        }
        for (key, left) in diff.leaves {
            if let Some(entry) = self.entries.get_mut(&key) {
                entry
                    .metas
                    .retain(|m| !left.metas.iter().any(|l| l.phx_ref == m.phx_ref));
                if entry.metas.is_empty() {
                    self.entries.remove(&key);
                }
            }
        }
    }

    /// The people, by name.
    pub fn viewers(&self) -> Vec<Viewer> {
        let mut viewers: Vec<Viewer> = self
            .entries
            .iter()
            .map(|(key, entry)| Viewer {
                key: key.clone(),
                name: entry
                    .metas
                    .first()
                    .map(|m| m.name.clone())
                    .unwrap_or_default(),
                tabs: entry.metas.len(),
            })
            .collect();
        viewers.sort_by(|a, b| a.name.cmp(&b.name));
        viewers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_then_diffs_give_one_entry_per_person() {
        let mut presence = PresenceState::default();
        presence.sync_state(&json!({"u1": {"metas": [{"phx_ref": "a", "name": "ada"}]}}));
        presence.sync_diff(
            &json!({"joins": {"u1": {"metas": [{"phx_ref": "a", "name": "ada"}]}}, "leaves": {}}),
        );
        presence.sync_diff(&json!({"joins": {"u1": {"metas": [{"phx_ref": "b", "name": "ada"}]}, "u2": {"metas": [{"phx_ref": "c", "name": "bob"}]}}, "leaves": {}}));
        assert_eq!(
            presence.viewers(),
            [
                Viewer {
                    key: "u1".into(),
                    name: "ada".into(),
                    tabs: 2
                },
                Viewer {
                    key: "u2".into(),
                    name: "bob".into(),
                    tabs: 1
                },
            ]
        );
        presence.sync_diff(&json!({"joins": {}, "leaves": {"u2": {"metas": [{"phx_ref": "c"}]}, "u1": {"metas": [{"phx_ref": "a"}]}}}));
        assert_eq!(
            presence.viewers(),
            [Viewer {
                key: "u1".into(),
                name: "ada".into(),
                tabs: 1
            }]
        );
        presence.sync_diff(&json!("garbage"));
        assert_eq!(presence.viewers().len(), 1);
    }
}
