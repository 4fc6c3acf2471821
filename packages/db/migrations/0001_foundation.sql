-- Projects: the label set is ordered; model outputs index into it.
CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  labels text[] NOT NULL CHECK (cardinality(labels) >= 2),
  guidelines text NOT NULL DEFAULT '',
  strategy text NOT NULL DEFAULT 'margin',
  retrain_every integer NOT NULL DEFAULT 20 CHECK (retrain_every > 0),
  lease_seconds integer NOT NULL DEFAULT 600 CHECK (lease_seconds BETWEEN 10 AND 86400),
  -- labels counted so far, and the count at which the last retrain was requested (debounce).
  label_count integer NOT NULL DEFAULT 0,
  train_requested_at_count integer NOT NULL DEFAULT 0,
  current_model_id bigint,
  current_ranking_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hashes; the plain key is shown once, at creation.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  role text NOT NULL DEFAULT 'admin',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE items (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  external_id text NOT NULL,
  text text NOT NULL,
  meta jsonb NOT NULL DEFAULT '{}'::jsonb,
  split text NOT NULL CHECK (split IN ('pool', 'test')),
  -- A gold label that came with the item: truth for `test` items, an imported label for `pool` ones.
  gold_label text,
  content_hash bytea NOT NULL,
  status text NOT NULL DEFAULT 'unlabeled' CHECK (status IN ('unlabeled', 'labeled')),
  lease_id uuid,
  leased_by text,
  lease_expires_at timestamptz,
  -- The ranking the item was leased from: the model, score and strategy shown to the annotator.
  lease_ranking_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, external_id)
);
CREATE INDEX items_free_pool ON items (project_id, id) WHERE split = 'pool' AND status = 'unlabeled';
CREATE INDEX items_lease ON items (lease_id) WHERE lease_id IS NOT NULL;

-- Models: one row per version; `params` is the serialized model.
CREATE TABLE models (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('training', 'ready', 'failed')),
  request_key text NOT NULL,
  labels text[] NOT NULL,
  backend text,
  train_count integer NOT NULL DEFAULT 0,
  test_count integer NOT NULL DEFAULT 0,
  -- The highest annotation id the model saw: lineage is also kept row by row in model_training_labels.
  max_annotation_id bigint,
  metrics jsonb,
  hyperparameters jsonb NOT NULL DEFAULT '{}'::jsonb,
  params bytea,
  error text,
  train_ms integer,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (project_id, version),
  UNIQUE (request_key)
);
-- Never two trainings at once per project.
CREATE UNIQUE INDEX models_one_training ON models (project_id) WHERE status = 'training';

ALTER TABLE projects ADD CONSTRAINT projects_current_model_fk FOREIGN KEY (current_model_id) REFERENCES models (id) DEFERRABLE INITIALLY DEFERRED;

-- Annotations are append-only (see trigger below): corrections are new rows.
CREATE TABLE annotations (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  label text NOT NULL,
  rationale text,
  time_spent_ms integer CHECK (time_spent_ms >= 0),
  annotator text NOT NULL,
  source text NOT NULL CHECK (source IN ('annotator', 'import')),
  lease_id uuid,
  api_key_id uuid REFERENCES api_keys (id),
  -- Provenance of the selection the annotator saw.
  model_id bigint REFERENCES models (id),
  selection_score real,
  selection_strategy text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX annotations_project ON annotations (project_id, id);
CREATE INDEX annotations_item ON annotations (item_id);
CREATE UNIQUE INDEX annotations_one_per_lease ON annotations (lease_id) WHERE lease_id IS NOT NULL;

CREATE FUNCTION annotations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'annotations are append-only';
END $$;
CREATE TRIGGER annotations_no_update BEFORE UPDATE ON annotations
  FOR EACH ROW EXECUTE FUNCTION annotations_append_only();
CREATE TRIGGER annotations_no_delete BEFORE DELETE ON annotations
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION annotations_append_only();

CREATE TABLE model_training_labels (
  model_id bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  annotation_id bigint NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, annotation_id)
);

-- A ranking is one ordering of the pool: by a model's scores, or the cold start (model_id NULL).
CREATE TABLE rankings (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  model_id bigint REFERENCES models (id) ON DELETE CASCADE,
  strategy text NOT NULL,
  request_key text NOT NULL UNIQUE,
  item_count integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'ready')),
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
ALTER TABLE projects ADD CONSTRAINT projects_current_ranking_fk FOREIGN KEY (current_ranking_id) REFERENCES rankings (id) DEFERRABLE INITIALLY DEFERRED;

-- Per item and ranking: the priority (higher first), the model's probabilities (ordered as
-- the model's labels) and the uncertainty score, with the rationale an annotator is shown.
CREATE TABLE ranking_entries (
  ranking_id bigint NOT NULL REFERENCES rankings (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  priority real NOT NULL,
  score real,
  probs real[],
  rationale text NOT NULL,
  PRIMARY KEY (ranking_id, item_id)
);
CREATE INDEX ranking_entries_order ON ranking_entries (ranking_id, priority DESC);

-- Transactional outbox: follow-up work is written in the same transaction as the change that
-- causes it; the relay publishes it to BullMQ with `ob-<id>` as job id.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  job_name text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Idempotency: a processor records the job it handled in the same transaction as its effect.
CREATE TABLE processed_jobs (
  job_key text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
