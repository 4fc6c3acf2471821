import type pg from 'pg';
import { ADVISORY_LOCKS, type Queryable } from '@alder/db';
import type { Logger } from '@alder/logger';
import { deletePublishedBefore } from './outbox';
import { deleteProcessedBefore } from './processed-jobs';

/** One table the sweeper keeps short; its owning module holds the DELETE. */
export interface RetentionTarget {
  table: string;
  /** Deletes at most `limit` rows that are past retention at `before`; returns how many went. */
  deleteBatch(db: Queryable, before: Date, limit: number): Promise<number>;
}

/** Published outbox rows. */
export const outboxRetention: RetentionTarget = { table: 'outbox', deleteBatch: deletePublishedBefore };
/** Job claims (processed_jobs). */
export const processedJobsRetention: RetentionTarget = { table: 'processed_jobs', deleteBatch: deleteProcessedBefore };

/** The smallest horizon the sweeper accepts; config.schema.ts (RETENTION_HOURS) says why. */
export const MIN_RETENTION_HOURS = 1;

export interface RetentionOptions {
  pool: pg.Pool;
  log: Logger;
  /** Rows older than this many hours go. */
  horizonHours: number;
  /** Time between sweeps; the first runs one interval after start. */
  intervalMs: number;
  targets: readonly RetentionTarget[];
  /** Rows per DELETE: each batch is its own short statement, so a backlog never holds long locks. */
  batchSize?: number;
}

export interface RetentionSweep {
  /** False when another process was sweeping (it held the lock), so this one did nothing. */
  swept: boolean;
  /** Rows deleted, per table. */
  deleted: Record<string, number>;
}

export interface Retention {
  /** Sweeps now (after a sweep already under way) and says what it deleted. */
  sweepNow(): Promise<RetentionSweep>;
  /** Stops the timer; waits for a running sweep, which stops at its next batch. */
  close(): Promise<void>;
}

/**
 * Deletes rows past retention from each target, in batches, every `intervalMs`. Any number of
 * processes may run it: a sweep holds `pg_try_advisory_lock(ADVISORY_LOCKS.retention)` on a
 * connection of its own, and a process that finds it taken skips that sweep.
 */
export function startRetention(options: RetentionOptions): Retention {
  const { pool, log, horizonHours, intervalMs, targets } = options;
  const batchSize = options.batchSize ?? 1_000;
  if (!(horizonHours >= MIN_RETENTION_HOURS)) throw new Error(`retention horizon must be at least ${MIN_RETENTION_HOURS} hour(s), got ${horizonHours}`);
  let closed = false;
  let running: Promise<RetentionSweep> | null = null;

  async function sweep(): Promise<RetentionSweep> {
    const deleted: Record<string, number> = Object.fromEntries(targets.map((t) => [t.table, 0]));
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [ADVISORY_LOCKS.retention]);
      if (!lock.rows[0]!.locked) {
        log.debug('another process is sweeping: skipped');
        return { swept: false, deleted };
      }
      try {
        // Postgres's clock, not this process's, so every replica draws the same line.
        const horizon = await client.query<{ before: Date }>("SELECT now() - $1::float8 * interval '1 hour' AS before", [horizonHours]);
        const before = horizon.rows[0]!.before;
        for (const target of targets) {
          for (;;) {
            const n = await target.deleteBatch(client, before, batchSize);
            deleted[target.table] += n;
            if (n < batchSize || closed) break;
          }
          if (closed) break;
        }
        const total = Object.values(deleted).reduce((a, b) => a + b, 0);
        if (total) log.info({ deleted, before }, 'retention: deleted rows past the horizon');
        else log.debug({ before }, 'retention: nothing past the horizon');
        return { swept: true, deleted };
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.retention]).catch((error: Error) => {
          broken = error;
        });
      }
    } catch (error) {
      broken ??= error as Error;
      throw error;
    } finally {
      // A connection that may still hold the session lock must not go back to the pool.
      client.release(broken);
    }
  }

  async function sweepNow(): Promise<RetentionSweep> {
    while (running) await running.catch(() => undefined);
    const current = sweep();
    running = current;
    try {
      return await current;
    } finally {
      if (running === current) running = null;
    }
  }

  const timer = setInterval(() => {
    if (closed || running) return;
    sweepNow().catch((error) => log.warn({ err: error }, 'retention sweep failed; will try again'));
  }, intervalMs);
  // The sweep is housekeeping: it must never keep a process alive.
  timer.unref();

  return {
    sweepNow,
    async close() {
      closed = true;
      clearInterval(timer);
      while (running) await running.catch(() => undefined);
    },
  };
}
