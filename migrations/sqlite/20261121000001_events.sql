-- The event log: every state change, in the order it happened.
-- AUTOINCREMENT (not just INTEGER PRIMARY KEY) so ids are never reused after a delete:
-- clients replay from the last id they saw.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,          -- JSON document
    created_at BIGINT NOT NULL      -- Unix time in milliseconds
);

CREATE INDEX events_topic_id ON events (topic, id);

-- Small facts about this installation (for example, that the demo data was seeded).
CREATE TABLE portal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
