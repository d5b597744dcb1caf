-- The catalog: entities as written, the relations their specs state, and a flattened
-- key/value index that answers filters and facets without reading entity bodies.

CREATE TABLE catalog_entities (
    id TEXT PRIMARY KEY,                 -- metadata.uid
    ref_key TEXT NOT NULL UNIQUE,        -- kind:namespace/name, lower-cased
    kind TEXT NOT NULL,                  -- as written
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,                  -- the validated entity (JSON), without server fields
    etag TEXT NOT NULL,
    generation BIGINT NOT NULL,
    origin TEXT NOT NULL,                -- the registered location that produced it
    problems TEXT NOT NULL,              -- processing problems (JSON array), shown in status
    orphan INTEGER NOT NULL DEFAULT 0,   -- 1 when its location no longer lists it
    created_at BIGINT NOT NULL,          -- Unix milliseconds
    updated_at BIGINT NOT NULL
);

CREATE INDEX catalog_entities_origin ON catalog_entities (origin);

-- Both directions of every relation, kept per originating entity so that re-ingesting
-- an entity replaces exactly what it stated. Targets may not exist (unresolved).
CREATE TABLE catalog_relations (
    originator_id TEXT NOT NULL REFERENCES catalog_entities (id) ON DELETE CASCADE,
    source_ref TEXT NOT NULL,            -- lower-cased refs
    relation_type TEXT NOT NULL,
    target_ref TEXT NOT NULL
);

CREATE INDEX catalog_relations_originator ON catalog_relations (originator_id);
CREATE INDEX catalog_relations_source ON catalog_relations (source_ref, relation_type);
CREATE INDEX catalog_relations_target ON catalog_relations (target_ref);

-- One row per (entity, flattened field path, value), keys lower-cased: kind, metadata.name,
-- spec.type, metadata.tags, relations.ownedby, … Lists give one row per item.
CREATE TABLE catalog_search (
    entity_id TEXT NOT NULL REFERENCES catalog_entities (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT,                          -- lower-cased: what filters compare
    original_value TEXT                  -- as written: what facets show
);

CREATE INDEX catalog_search_key_value ON catalog_search (key, value, entity_id);
CREATE INDEX catalog_search_entity ON catalog_search (entity_id);

-- Registered locations: what `portico import` and POST /locations read.
CREATE TABLE catalog_locations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,                  -- file or url
    target TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (type, target)
);
