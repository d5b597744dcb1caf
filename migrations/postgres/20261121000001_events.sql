-- The event log: every state change, in the order it happened.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,          -- JSON document (TEXT: read and written as a whole)
    created_at BIGINT NOT NULL      -- Unix time in milliseconds
);

CREATE INDEX events_topic_id ON events (topic, id);

-- Small facts about this installation (for example, that the demo data was seeded).
CREATE TABLE portal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
