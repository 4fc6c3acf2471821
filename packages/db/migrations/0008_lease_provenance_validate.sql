-- The rows task_leases held before 0007 checked against the provenance rule, while leases and
-- submits go on (VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE; each migration file is its own
-- transaction, so 0007's ACCESS EXCLUSIVE lock is released before this scan starts).
ALTER TABLE task_leases VALIDATE CONSTRAINT task_leases_provenance;
