-- Every way items come in (a JSON batch, an NDJSON stream, an integration's webhook) is a batch: its status, its counts
-- and the rows it refused, readable as GET /v1/projects/{project_id}/batches/{batch_id}.
-- A stream's batch row is written before its items (status 'receiving', counts as they are read)
-- and finished with them: 'completed' with the counts that landed, or 'aborted' with nothing
-- landed and the line it stopped at.
CREATE TABLE ingest_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  source text NOT NULL CHECK (source IN ('json', 'ndjson', 'webhook')),
  status text NOT NULL CHECK (status IN ('receiving', 'completed', 'aborted')),
  -- Rows read (JSON: items in the body; NDJSON: non-empty lines).
  received integer NOT NULL DEFAULT 0,
  -- New items written.
  accepted integer NOT NULL DEFAULT 0,
  -- Rows whose external_id the project already had: left as they were.
  duplicate integer NOT NULL DEFAULT 0,
  -- Rows refused (listed in ingest_batch_errors, up to a cap).
  rejected integer NOT NULL DEFAULT 0,
  labels_imported integer NOT NULL DEFAULT 0,
  -- Why a batch was aborted, and the last line read whole before it stopped.
  abort_reason text,
  stopped_at_line integer,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK ((status = 'receiving') = (finished_at IS NULL))
);
CREATE INDEX ingest_batches_project ON ingest_batches (project_id, created_at DESC);

-- The rows a batch refused: the line (NDJSON) or index (JSON, from 0) of the row, a JSON pointer
-- into it and the reason. At most a capped number a batch; the batch's `rejected` counts them all.
CREATE TABLE ingest_batch_errors (
  batch_id uuid NOT NULL REFERENCES ingest_batches (id) ON DELETE CASCADE,
  n integer NOT NULL,
  line integer NOT NULL,
  pointer text NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (batch_id, n)
);
