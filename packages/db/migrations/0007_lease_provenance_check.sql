-- Lease provenance is written by one statement on the annotator's hot path (leaseNextItem), so
-- the writer's check of its contract (@alder/contracts, leaseProvenanceSchema) is made here, by
-- Postgres, as the row is written: unranked has no ranking, model or score; the cold start a
-- ranking without model or score; every other strategy all three. Readers parse the same rule.
ALTER TABLE task_leases ADD CONSTRAINT task_leases_provenance CHECK (
  (selection_strategy = 'unranked') = (ranking_id IS NULL)
  AND (selection_strategy IN ('unranked', 'cold_start')) = (model_id IS NULL)
  AND (selection_strategy IN ('unranked', 'cold_start')) = (selection_score IS NULL)
) NOT VALID;
-- New rows are checked from here on; the rows already there are checked by 0008, in a
-- transaction of its own: ADD CONSTRAINT holds an ACCESS EXCLUSIVE lock until its transaction
-- ends, VALIDATE only a SHARE UPDATE EXCLUSIVE one, which leases and submits do not wait for.
