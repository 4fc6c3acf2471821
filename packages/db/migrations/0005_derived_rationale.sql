-- A ranking entry's rationale is stored only when it cannot be derived from what the row holds:
-- for per-item scores (and the margin order of the rest of a batch ranking) it is a function of
-- the ranking's strategy, the stored probabilities and the model's labels, and the labeling API
-- derives it when it reads the entry. Building and encoding those strings took longer than
-- encoding all the rest of the row (measured per 100,000 entries). Batch picks and cold-start
-- entries keep theirs.
ALTER TABLE ranking_entries ALTER COLUMN rationale DROP NOT NULL;
