-- Every lease handed out; the task id is the lease id. items.lease_* holds only the current
-- lease of an item, so without this table a late submit or release could not tell "expired",
-- "released" or "already annotated" from "unknown". The selection the annotator was shown is
-- copied here when the lease is made, so the annotation's provenance survives the ranking being
-- replaced or pruned meanwhile. A lease is active while items.lease_id = id and it has not
-- expired; `outcome` records how it ended when it ended by a request.
CREATE TABLE task_leases (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  annotator text NOT NULL,
  api_key_id uuid REFERENCES api_keys (id),
  -- Copied values, not foreign keys: rankings come and go.
  ranking_id bigint,
  model_id bigint,
  selection_score real,
  selection_strategy text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  outcome text CHECK (outcome IN ('annotated', 'released'))
);
CREATE INDEX task_leases_item ON task_leases (item_id);
CREATE INDEX task_leases_project ON task_leases (project_id, created_at);
