-- Ranked full-text search over the fields people search by: one document per entity,
-- deleted with it like the search rows. The 'simple' configuration keeps names as they
-- are (no stemming, no stop words); weights rank name and title above tags, owner and
-- type, and those above the description.

CREATE TABLE catalog_text (
    entity_id TEXT PRIMARY KEY REFERENCES catalog_entities (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);

CREATE INDEX catalog_text_document ON catalog_text USING GIN (document);

INSERT INTO catalog_text (entity_id, document)
SELECT id,
       setweight(to_tsvector('simple', COALESCE(body::jsonb #>> '{metadata,name}', '')), 'A')
    || setweight(to_tsvector('simple', COALESCE(body::jsonb #>> '{metadata,title}', '')), 'A')
    || setweight(to_tsvector('simple', COALESCE((SELECT string_agg(t, ' ')
                   FROM jsonb_array_elements_text(
                       CASE WHEN jsonb_typeof(body::jsonb #> '{metadata,tags}') = 'array'
                            THEN body::jsonb #> '{metadata,tags}' ELSE '[]'::jsonb END) t), '')), 'B')
    || setweight(to_tsvector('simple', COALESCE(body::jsonb #>> '{spec,owner}', '')), 'B')
    || setweight(to_tsvector('simple', COALESCE(body::jsonb #>> '{spec,type}', '')), 'B')
    || setweight(to_tsvector('simple', COALESCE(body::jsonb #>> '{metadata,description}', '')), 'C')
FROM catalog_entities;
