import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from '@alder/logger';
import { withTransaction } from '@alder/db';
import type { QueueDefinition } from './define-queue';
import { OUTBOX_CHANNEL } from './outbox';

export interface OutboxRelayOptions {
  pool: pg.Pool;
  connection: Redis;
  prefix: string;
  queues: readonly QueueDefinition[];
  log: Logger;
  pollMs: number;
  batchSize?: number;
}

export interface OutboxRelay {
  /** Publishes every pending row now; returns how many it published. */
  flush(): Promise<number>;
  close(): Promise<void>;
}

/** A row's job options: its outbox id as job id, and its deduplication key where its queue declares one. */
function jobOptions(queue: QueueDefinition, row: { id: number; job_name: string; payload: unknown }): JobsOptions {
  const key = (queue.deduplicate as Record<string, ((payload: unknown) => string) | undefined> | undefined)?.[row.job_name];
  return { jobId: `ob-${row.id}`, ...(key && { deduplication: { id: `${row.job_name}:${key(row.payload)}`, keepLastIfActive: true } }) };
}

/**
 * Publishes committed outbox rows to BullMQ, with `ob-<id>` as job id so a row published twice
 * (a crash between add and mark) is still one job. Several relays can run: rows are claimed with
 * SKIP LOCKED. Woken by NOTIFY, and polls in case a notification was missed.
 */
export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const { pool, connection, prefix, log, pollMs } = options;
  const batchSize = options.batchSize ?? 500;
  const queues = new Map(options.queues.map((q) => [q.name, new Queue(q.name, { connection, prefix, defaultJobOptions: q.defaultJobOptions })]));
  const definitions = new Map(options.queues.map((q) => [q.name, q]));
  let closed = false;
  let running: Promise<number> | null = null;

  async function publishBatch(): Promise<number> {
    return withTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: number; queue: string; job_name: string; payload: unknown }>(
        `SELECT id, queue, job_name, payload FROM outbox WHERE published_at IS NULL
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      for (const [name, queue] of queues) {
        const jobs = rows.filter((row) => row.queue === name).map((row) => ({ name: row.job_name, data: row.payload, opts: jobOptions(definitions.get(name)!, row) }));
        if (jobs.length) await queue.addBulk(jobs);
      }
      const unknown = rows.filter((row) => !queues.has(row.queue));
      if (unknown.length) log.error({ ids: unknown.map((r) => r.id) }, 'outbox rows for unknown queues left unpublished');
      const published = rows.filter((row) => queues.has(row.queue)).map((row) => row.id);
      if (published.length) await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1)', [published]);
      return published.length;
    });
  }

  async function flush(): Promise<number> {
    // A flush already under way may have read the outbox before the caller's row committed:
    // wait for it, then read again.
    if (running) return running.catch(() => 0).then(() => flush());
    running = (async () => {
      let total = 0;
      for (;;) {
        const n = await publishBatch();
        total += n;
        if (n < batchSize) return total;
      }
    })().finally(() => {
      running = null;
    });
    return running;
  }

  const tick = () => {
    if (closed) return;
    flush().catch((error) => log.warn({ err: error }, 'outbox relay could not publish; will retry'));
  };

  const listener = await pool.connect();
  await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  listener.on('notification', tick);
  listener.on('error', (error) => log.warn({ err: error }, 'outbox listener connection failed; polling only'));
  const timer = setInterval(tick, pollMs);
  tick();

  return {
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      listener.removeAllListeners('notification');
      await listener.query(`UNLISTEN ${OUTBOX_CHANNEL}`).catch(() => undefined);
      listener.release();
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
