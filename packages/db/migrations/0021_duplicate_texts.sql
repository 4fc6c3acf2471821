-- Repeated texts (issue 9): an item whose text (its content hash) the project already has under
-- another external_id is a duplicate text. What a batch does with one is the project's
-- `on_duplicate_text`: 'report' (it lands, is counted in the batch, and names its original in
-- `duplicate_of`: the default), 'skip' (it does not land; counted), or 'link' (it lands as a
-- 'linked' item naming its original, is never offered to annotators or ranked, and exports with
-- its original's label).
ALTER TABLE projects ADD COLUMN on_duplicate_text text NOT NULL DEFAULT 'report' CHECK (on_duplicate_text IN ('report', 'skip', 'link'));

-- The item a duplicate text repeats: the first of the project's items with that text. No foreign
-- key (a row key is checked for every inserted row, the cost migration 0019 took out): both are
-- the project's, deleted with it.
ALTER TABLE items ADD COLUMN duplicate_of bigint;
ALTER TABLE items DROP CONSTRAINT items_status_check;
ALTER TABLE items ADD CONSTRAINT items_status_check CHECK (status IN ('unlabeled', 'labeled', 'linked'));
ALTER TABLE items ADD CONSTRAINT items_linked_check CHECK ((status = 'linked') <= (duplicate_of IS NOT NULL));

-- Items from before this migration: the first of each text stays, later ones name it.
UPDATE items i SET duplicate_of = f.first
FROM (SELECT id, min(id) OVER (PARTITION BY project_id, content_hash) AS first FROM items) f
WHERE f.id = i.id AND f.first <> i.id;

-- One first item per text in a project: an insert of a new item with a text the project has
-- meets this key (COPY fails, INSERT ... ON CONFLICT DO NOTHING leaves the row out), so a repeated
-- text is found by the insertion itself, not by a lookup a row; the rows left out are then told
-- apart and landed as duplicates (naming their original: not in this index).
CREATE UNIQUE INDEX items_first_text ON items (project_id, content_hash) WHERE duplicate_of IS NULL;

ALTER TABLE ingest_batches ADD COLUMN duplicate_texts integer NOT NULL DEFAULT 0;
