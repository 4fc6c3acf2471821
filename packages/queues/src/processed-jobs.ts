import type { Queryable } from '@alder/db';

/**
 * Records that a job's effect is being committed. Call it inside the effect's transaction:
 * false means an earlier delivery of the same job already committed, so do nothing.
 */
export async function claimJob(db: Queryable, jobKey: string): Promise<boolean> {
  const { rowCount } = await db.query('INSERT INTO processed_jobs (job_key) VALUES ($1) ON CONFLICT DO NOTHING', [jobKey]);
  return rowCount === 1;
}
