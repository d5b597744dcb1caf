-- Ranked full-text search over the fields people search by. The text of each entity is
-- kept in catalog_text (one row per entity, deleted with it like the search rows); the
-- FTS5 index catalog_text_index follows it through triggers (SQLite's external-content
-- pattern), so the integer key the index needs never changes.

CREATE TABLE catalog_text (
    rowid INTEGER PRIMARY KEY,
    entity_id TEXT NOT NULL UNIQUE REFERENCES catalog_entities (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    tags TEXT NOT NULL,
    owner TEXT NOT NULL,
    type TEXT NOT NULL
);

-- unicode61 splits on '-', '_', '.', '/' and ':': `arch` finds wayback-archive.
CREATE VIRTUAL TABLE catalog_text_index USING fts5 (
    name, title, description, tags, owner, type,
    content = 'catalog_text', content_rowid = 'rowid',
    tokenize = 'unicode61'
);

CREATE TRIGGER catalog_text_added AFTER INSERT ON catalog_text BEGIN
    INSERT INTO catalog_text_index (rowid, name, title, description, tags, owner, type)
    VALUES (new.rowid, new.name, new.title, new.description, new.tags, new.owner, new.type);
END;

CREATE TRIGGER catalog_text_removed AFTER DELETE ON catalog_text BEGIN
    INSERT INTO catalog_text_index (catalog_text_index, rowid, name, title, description, tags, owner, type)
    VALUES ('delete', old.rowid, old.name, old.title, old.description, old.tags, old.owner, old.type);
END;

INSERT INTO catalog_text (entity_id, name, title, description, tags, owner, type)
SELECT id,
       COALESCE(json_extract(body, '$.metadata.name'), ''),
       COALESCE(json_extract(body, '$.metadata.title'), ''),
       COALESCE(json_extract(body, '$.metadata.description'), ''),
       COALESCE((SELECT group_concat(t.value, ' ') FROM json_each(body, '$.metadata.tags') t), ''),
       COALESCE(json_extract(body, '$.spec.owner'), ''),
       COALESCE(json_extract(body, '$.spec.type'), '')
FROM catalog_entities;
