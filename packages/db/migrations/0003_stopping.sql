-- Stopping criteria: when more labels stop paying off (docs/architecture.md, "Stopping").

-- The labels the team means to spend at most; NULL for no budget.
ALTER TABLE projects ADD COLUMN label_budget integer CHECK (label_budget IS NULL OR label_budget > 0);

-- The stop set (Bloodgood & Vijay-Shanker 2009): a fixed, deterministic sample of the project's
-- unlabeled pool items, chosen once, when the project's first model becomes ready, and never
-- changed. Every model predicts it; agreement between successive models on it says whether new
-- labels still change the model. Items labeled later stay in it: a set that shrank as items were
-- labeled would make the kappas of different model pairs incomparable, and at 2,000 of a pool the
-- few that get labeled barely move the agreement. `position` indexes model_stop_predictions.
-- The item foreign key has no action on purpose: an item in a stop set can only go with its project.
CREATE TABLE stop_set_items (
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  position integer NOT NULL CHECK (position >= 0),
  item_id bigint NOT NULL REFERENCES items (id),
  PRIMARY KEY (project_id, position),
  UNIQUE (project_id, item_id)
);

-- Each ready model's predicted label index (into models.labels) for every stop-set position.
CREATE TABLE model_stop_predictions (
  model_id bigint PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
  predictions smallint[] NOT NULL
);

-- The stopping evidence computed when the model became ready: { stop_recommended, criteria, ... }.
ALTER TABLE models ADD COLUMN stopping jsonb;
