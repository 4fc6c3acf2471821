import type { Queryable } from '@alder/db';

// The one module with SQL on `processed_jobs`, the idempotency record of every processor.

/**
 * Records that a job's effect is being committed. Call it inside the effect's transaction:
 * false means an earlier delivery of the same job already committed, so do nothing.
 */
export async function claimJob(db: Queryable, jobKey: string): Promise<boolean> {
  const { rowCount } = await db.query('INSERT INTO processed_jobs (job_key) VALUES ($1) ON CONFLICT DO NOTHING', [jobKey]);
  return rowCount === 1;
}

/** Whether a delivery of this job already committed its effect (a read outside the effect's transaction). */
export async function isJobProcessed(db: Queryable, jobKey: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM processed_jobs WHERE job_key = $1', [jobKey]);
  return rowCount === 1;
}

/**
 * Forgets that a job ran, so the next delivery with the same key runs it again (tests that re-run
 * a job with its seeds; an operator re-running one). Retention deletes old claims in bulk.
 */
export async function forgetJob(db: Queryable, jobKey: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM processed_jobs WHERE job_key = $1', [jobKey]);
  return rowCount === 1;
}

/**
 * Deletes up to `limit` claims recorded before `before`, oldest first (retention). A claim only
 * matters while its job can still be delivered again, which BullMQ does within minutes (retries
 * with backoff, stalled-job recovery; config.schema.ts, RETENTION_HOURS); job keys are never
 * reused, since every job id is `ob-<outbox id>`.
 */
export async function deleteProcessedBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM processed_jobs WHERE job_key IN (
       SELECT job_key FROM processed_jobs WHERE processed_at < $1 ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}
