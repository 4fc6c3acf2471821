-- Retention (docs/architecture.md, "Retention"): a sweeper deletes, in small batches, published
-- outbox rows, job claims and ended leases older than RETENTION_HOURS. These indexes let each
-- batch find its oldest rows without reading the table. Plain CREATE INDEX (migrations run in a
-- transaction): on a large existing table it holds writes back while it builds.
CREATE INDEX outbox_published_at ON outbox (published_at);
CREATE INDEX processed_jobs_processed_at ON processed_jobs (processed_at);
-- A lease ended when it was submitted or released (ended_at) or, failing that, when it expired.
-- Annotated leases are never deleted (their annotation's provenance), so they are left out.
CREATE INDEX task_leases_ended ON task_leases ((coalesce(ended_at, expires_at))) WHERE outcome IS DISTINCT FROM 'annotated';
