-- File import (issue 9): a JSONL or CSV file sent as multipart/form-data to POST .../items is a
-- batch of its own source, 'file', which keeps the file's format and the name the client gave it
-- (null when the part had none). Other sources have neither.
ALTER TABLE ingest_batches DROP CONSTRAINT ingest_batches_source_check;
ALTER TABLE ingest_batches ADD CONSTRAINT ingest_batches_source_check CHECK (source IN ('json', 'ndjson', 'webhook', 'file'));
ALTER TABLE ingest_batches
  ADD COLUMN file_format text CHECK (file_format IN ('jsonl', 'csv')),
  ADD COLUMN file_name text CHECK (length(file_name) <= 255),
  ADD CONSTRAINT ingest_batches_file_check CHECK ((source = 'file') = (file_format IS NOT NULL) AND (file_name IS NULL OR source = 'file'));
