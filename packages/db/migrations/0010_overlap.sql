-- Leases and overlap (docs/architecture.md, "Leases and overlap"): an item may be annotated by
-- up to k distinct people; each holder of the item, live or done, occupies one of its k slots.

-- overlap: k distinct annotators on a fraction f of the items (k = 1: every item once).
ALTER TABLE projects
  ADD COLUMN overlap_annotators smallint NOT NULL DEFAULT 1 CHECK (overlap_annotators BETWEEN 1 AND 20),
  ADD COLUMN overlap_fraction real NOT NULL DEFAULT 1 CHECK (overlap_fraction > 0 AND overlap_fraction <= 1);

-- How many annotations this item needs: k for items in the overlap fraction, else 1. Fixed per
-- item when it is ingested (a stable hash of its external id decides), changed only by the
-- project's overlap setting and never below the slots already taken.
ALTER TABLE items ADD COLUMN required_annotations smallint NOT NULL DEFAULT 1 CHECK (required_annotations BETWEEN 1 AND 20);
-- The item's slot rows (live leases, expired ones not yet taken over, annotations) and the
-- earliest expiry among its leases: kept on the item's own row, so a claim that locks the item
-- sees a concurrent claim's slot (Postgres re-checks a locked row's own columns, not other tables).
ALTER TABLE items ADD COLUMN holders smallint NOT NULL DEFAULT 0 CHECK (holders >= 0 AND holders <= required_annotations),
  ADD COLUMN slots_expire_at timestamptz;
-- Target of the slots' composite foreign key: a slot carries its item's k, and the key makes it
-- equal to the item's current k (ON UPDATE CASCADE), so the CHECK below bounds the slots by it.
ALTER TABLE items ADD CONSTRAINT items_id_required UNIQUE (id, required_annotations);

-- One row per slot of an item that someone holds: a live lease (expires_at in the future), a
-- lease that expired and was not yet taken over (expires_at past: a new claim takes the slot over
-- by updating the row), or a submitted annotation (expires_at NULL: held for good).
-- The invariant "live holders plus annotations never exceed k, never the same person twice" is
-- the database's, under any concurrency: (item_id, slot) is the key and slot < k, so an item has
-- at most k rows; (item_id, user_id) is unique.
CREATE TABLE item_slots (
  item_id bigint NOT NULL,
  slot smallint NOT NULL,
  required_annotations smallint NOT NULL,
  lease_id uuid NOT NULL,
  user_id uuid REFERENCES users (id),
  project_id uuid NOT NULL,
  -- The ranking the lease came from (sampling keeps a ranking a live lease was served from).
  ranking_id bigint,
  expires_at timestamptz,
  PRIMARY KEY (item_id, slot),
  UNIQUE (item_id, user_id),
  UNIQUE (lease_id),
  CHECK (slot >= 0 AND slot < required_annotations),
  FOREIGN KEY (item_id, required_annotations) REFERENCES items (id, required_annotations) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX item_slots_live ON item_slots (project_id, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX item_slots_ranking ON item_slots (ranking_id) WHERE expires_at IS NOT NULL;

-- Live leases of the single-holder model move into slots; their item columns go.
INSERT INTO item_slots (item_id, slot, required_annotations, lease_id, user_id, project_id, ranking_id, expires_at)
SELECT i.id, 0, i.required_annotations, i.lease_id, l.user_id, i.project_id, i.lease_ranking_id, i.lease_expires_at
FROM items i JOIN task_leases l ON l.id = i.lease_id
WHERE i.lease_id IS NOT NULL AND i.status = 'unlabeled';
UPDATE items i SET holders = 1, slots_expire_at = s.expires_at FROM item_slots s WHERE s.item_id = i.id;
DROP INDEX items_lease;
ALTER TABLE items DROP COLUMN lease_id, DROP COLUMN leased_by, DROP COLUMN lease_expires_at, DROP COLUMN lease_ranking_id;

-- How a lease ended: submitted, released (with the reason), or taken over after it expired.
ALTER TABLE task_leases DROP CONSTRAINT task_leases_outcome_check;
ALTER TABLE task_leases ADD CONSTRAINT task_leases_outcome_check CHECK (outcome IN ('annotated', 'released', 'expired'));
ALTER TABLE task_leases ADD COLUMN release_reason text CHECK (release_reason IN ('skip', 'unsure', 'irrelevant'));
-- "Never again an item they labeled or skipped": looked up per candidate on the claim path.
CREATE INDEX task_leases_item_user ON task_leases (item_id, user_id);

-- A submission after the lease expired is kept and flagged.
ALTER TABLE annotations ADD COLUMN late boolean NOT NULL DEFAULT false;

-- Whether an item is in its project's overlap fraction: a stable hash of (project, external id)
-- mapped to [0, 1). Ingest and a changed overlap setting decide by it alike.
CREATE FUNCTION overlap_member(project_id uuid, external_id text, fraction real) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT fraction >= 1 OR (('x' || substr(md5(project_id::text || ':' || external_id), 1, 8))::bit(32)::bigint)::float8 / 4294967296.0 < fraction
$$;

-- What the annotator was shown, whole: the probabilities too (the audit records them with the label).
ALTER TABLE task_leases ADD COLUMN selection_probs real[];
