-- The identifying fields as indexed columns, lower-cased as filters compare them, so
-- that the common filters (kind, type, lifecycle, owner, system), their counts, their
-- facets and name ordering read an index instead of joining the search rows.
-- NULL where the entity has no such field (or a list there, which the search rows answer).

ALTER TABLE catalog_entities ADD COLUMN kind_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN namespace_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN name_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN type_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN lifecycle_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN owner_key TEXT;
ALTER TABLE catalog_entities ADD COLUMN system_key TEXT;

-- Names, namespaces and kinds are ASCII by validation: lower() agrees with the code.
UPDATE catalog_entities SET
    kind_key = lower(kind),
    namespace_key = lower(namespace),
    name_key = lower(name),
    type_key = (SELECT MIN(s.value) FROM catalog_search s
                WHERE s.entity_id = catalog_entities.id AND s.key = 'spec.type'),
    lifecycle_key = (SELECT MIN(s.value) FROM catalog_search s
                     WHERE s.entity_id = catalog_entities.id AND s.key = 'spec.lifecycle'),
    owner_key = (SELECT MIN(s.value) FROM catalog_search s
                 WHERE s.entity_id = catalog_entities.id AND s.key = 'spec.owner'),
    system_key = (SELECT MIN(s.value) FROM catalog_search s
                  WHERE s.entity_id = catalog_entities.id AND s.key = 'spec.system');

-- Each index serves a filter, its count and its facet with the page order (ref_key)
-- as the last column, so a page of 100 stops after 100 index entries.
CREATE INDEX catalog_entities_kind ON catalog_entities (kind_key, ref_key);
CREATE INDEX catalog_entities_kind_name ON catalog_entities (kind_key, name_key);
CREATE INDEX catalog_entities_kind_type ON catalog_entities (kind_key, type_key, ref_key);
CREATE INDEX catalog_entities_kind_lifecycle ON catalog_entities (kind_key, lifecycle_key, ref_key);
CREATE INDEX catalog_entities_kind_owner ON catalog_entities (kind_key, owner_key, ref_key);
CREATE INDEX catalog_entities_owner ON catalog_entities (owner_key, ref_key);
CREATE INDEX catalog_entities_system ON catalog_entities (system_key, ref_key);
