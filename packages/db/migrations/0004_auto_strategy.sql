-- New projects rank with `auto` (representative early, uncertainty plus diversity later; see
-- packages/learning/src/selection.ts). Existing projects keep the strategy they have.
ALTER TABLE projects ALTER COLUMN strategy SET DEFAULT 'auto';
