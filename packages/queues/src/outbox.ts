import type { Queryable } from '@alder/db';
import type { PayloadOf, QueueDefinition } from './define-queue';

/** Postgres NOTIFY channel that wakes the relay as soon as an outbox row commits. */
export const OUTBOX_CHANNEL = 'alder_outbox';

/**
 * Writes follow-up work into the outbox inside the caller's transaction: the job exists if and
 * only if the change that caused it committed. The payload is validated here too.
 */
export async function enqueue<Q extends QueueDefinition, J extends keyof Q['jobs'] & string>(
  db: Queryable,
  queue: Q,
  jobName: J,
  payload: PayloadOf<Q, J>,
): Promise<number> {
  const schema = queue.jobs[jobName];
  if (!schema) throw new Error(`queue ${queue.name} has no job named ${jobName}`);
  const valid = schema.parse(payload);
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO outbox (queue, job_name, payload) VALUES ($1, $2, $3) RETURNING id',
    [queue.name, jobName, JSON.stringify(valid)],
  );
  await db.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, queue.name]);
  return rows[0]!.id;
}

/**
 * Deletes up to `limit` outbox rows published before `before`, oldest first (retention). A row
 * not yet published is never deleted: it is work the relay still owes.
 */
export async function deletePublishedBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox WHERE published_at < $1 ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}
