-- What a re-sent item (an external_id the project has) with another text or meta does, by
-- project: 'skip' (counted, the stored item stays: the behaviour before this setting), 'update'
-- (the stored item takes the new text and meta, recorded in the audit trail; its labels stay),
-- or 'reject' (the row is refused: a JSON batch whole, a stream's line alone).
ALTER TABLE projects ADD COLUMN on_resend text NOT NULL DEFAULT 'skip' CHECK (on_resend IN ('skip', 'update', 'reject'));

-- A batch's re-sent rows that differed: updated, or (under 'skip') left as they were.
ALTER TABLE ingest_batches ADD COLUMN updated integer NOT NULL DEFAULT 0;
ALTER TABLE ingest_batches ADD COLUMN skipped_changes integer NOT NULL DEFAULT 0;
