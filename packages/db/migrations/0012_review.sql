-- Review, escalation, resolved labels, project policy and gold items (docs/architecture.md,
-- "Review and resolution").

-- Guidance shown with every task, and the rules the server enforces.
ALTER TABLE projects
  ADD COLUMN label_descriptions jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(label_descriptions) = 'object'),
  -- 'never', 'always', or 'labels' (only for the labels in rationale_labels).
  ADD COLUMN rationale_required text NOT NULL DEFAULT 'never' CHECK (rationale_required IN ('never', 'always', 'labels')),
  ADD COLUMN rationale_labels text[] NOT NULL DEFAULT '{}',
  -- A label the model contradicts with at least this probability goes to review (NULL: never).
  ADD COLUMN review_model_disagreement real DEFAULT 0.9 CHECK (review_model_disagreement IS NULL OR review_model_disagreement BETWEEN 0.5 AND 1),
  -- A label the model gives less than this probability goes to review (NULL: never).
  ADD COLUMN review_low_confidence real CHECK (review_low_confidence IS NULL OR review_low_confidence BETWEEN 0 AND 0.5),
  ADD COLUMN review_late boolean NOT NULL DEFAULT true,
  -- The share of an item's annotators that must agree on one label for it to resolve without review.
  ADD COLUMN min_agreement real NOT NULL DEFAULT 0.5 CHECK (min_agreement BETWEEN 0 AND 1),
  -- The share of tasks that are gold items (unannounced checks of the annotator).
  ADD COLUMN gold_rate real NOT NULL DEFAULT 0 CHECK (gold_rate BETWEEN 0 AND 0.5);

-- A gold item has a known answer; it is served to annotators as a check, never ranked, never
-- trained on, never completed (each annotator may answer it once).
ALTER TABLE items ADD COLUMN gold_answer text;
CREATE INDEX items_gold ON items (project_id, id) WHERE gold_answer IS NOT NULL;
-- Annotations of the item with an id at most this were rejected by a review (the item went back
-- to the pool); only later ones count towards its resolution.
ALTER TABLE items ADD COLUMN annotations_from bigint NOT NULL DEFAULT 0;

-- What needs a second look, ranked: one entry per item, until it is decided.
CREATE TABLE review_queue (
  item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  priority real NOT NULL,
  -- Why: disagreement, model_disagrees, low_confidence, gold_failure, late.
  reasons text[] NOT NULL CHECK (cardinality(reasons) > 0),
  -- The label the annotations point to (their plurality), null on a tie.
  proposed_label text,
  -- The annotator a gold failure is about (null otherwise).
  about_user_id uuid REFERENCES users (id),
  stage text NOT NULL DEFAULT 'review' CHECK (stage IN ('review', 'escalated', 'done')),
  -- The review that holds the entry now, and until when. On the entry's own row, so a claim
  -- that locks it sees a concurrent claim's lease (Postgres re-checks a locked row's own columns).
  review_id uuid,
  leased_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_queue_next ON review_queue (project_id, stage, priority DESC, item_id) WHERE stage <> 'done';

-- A review (or an expert's look at an escalation) is a lease on a queue entry, then a decision.
CREATE TABLE reviews (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  stage text NOT NULL CHECK (stage IN ('review', 'escalated')),
  reviewer_id uuid NOT NULL REFERENCES users (id),
  api_key_id uuid REFERENCES api_keys (id),
  expires_at timestamptz NOT NULL,
  decision text CHECK (decision IN ('accept', 'correct', 'reject', 'escalate', 'expired')),
  label text,
  note text,
  decided_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((decision = 'correct') = (label IS NOT NULL))
);
-- At most one open review per item; an expired one is closed ('expired') when another is taken.
CREATE UNIQUE INDEX reviews_one_open ON reviews (item_id) WHERE decision IS NULL;
CREATE INDEX reviews_project ON reviews (project_id, created_at);

-- Each item's resolved label, versioned: a correction is a new row, never an update. The item's
-- label is its latest row; the rule says how it was reached.
CREATE TABLE item_resolutions (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  label text NOT NULL,
  rule text NOT NULL CHECK (rule IN ('agreement', 'majority', 'reviewer', 'expert', 'single_annotator')),
  review_id uuid REFERENCES reviews (id) ON DELETE SET NULL,
  decided_by uuid REFERENCES users (id),
  -- The annotations it rests on.
  annotation_ids bigint[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_resolutions_item ON item_resolutions (item_id, id DESC);
CREATE INDEX item_resolutions_project ON item_resolutions (project_id, id);
CREATE TRIGGER item_resolutions_no_update BEFORE UPDATE ON item_resolutions
  FOR EACH ROW EXECUTE FUNCTION annotations_append_only();
CREATE TRIGGER item_resolutions_no_delete BEFORE DELETE ON item_resolutions
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION annotations_append_only();

-- The exact labels a model version was trained on (item, label, and where the label came from),
-- so its training set can be served as it was after later corrections.
CREATE TABLE model_training_set (
  model_id bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  item_id bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  label text NOT NULL,
  -- 'resolution': the item's resolved label; 'annotation': an unresolved item's label by the stated rule.
  source text NOT NULL CHECK (source IN ('resolution', 'annotation')),
  source_id bigint NOT NULL,
  PRIMARY KEY (model_id, item_id)
);
-- Which rule a model's training labels followed (its lineage).
ALTER TABLE models ADD COLUMN label_rule text;
