import { z } from 'zod';
import { ADVISORY_LOCKS, type Queryable } from '@alder/db';
import { createLogger } from '@alder/logger';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import {
  claimJob,
  defineQueue,
  enqueue,
  isJobProcessed,
  outboxRetention,
  processedJobsRetention,
  startRetention,
  type RetentionOptions,
  type RetentionTarget,
} from '../src/index';

const testQueue = defineQueue({ name: 'retention-test', jobs: { ping: z.object({ n: z.number().int() }) }, defaultJobOptions: {} });
const HORIZON_HOURS = 24;
const HOUR = 60 * 60 * 1000;

let db: TestDatabase;
const log = createLogger({ level: 'silent' });
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await db.pool.query('DELETE FROM outbox');
  await db.pool.query('DELETE FROM processed_jobs');
});

const retention = (overrides: Partial<RetentionOptions> = {}) =>
  startRetention({ pool: db.pool, log, horizonHours: HORIZON_HOURS, intervalMs: HOUR, targets: [outboxRetention, processedJobsRetention], ...overrides });

/** An outbox row written `ageHours` ago and, when `published`, published then too. */
async function outboxRow(ageHours: number, published: boolean): Promise<number> {
  const id = await enqueue(db.pool, testQueue, 'ping', { n: ageHours });
  await db.pool.query(
    `UPDATE outbox SET created_at = now() - make_interval(hours => $2),
                       published_at = CASE WHEN $3 THEN now() - make_interval(hours => $2) END WHERE id = $1`,
    [id, ageHours, published],
  );
  return id;
}

async function claim(jobKey: string, ageHours: number): Promise<void> {
  await claimJob(db.pool, jobKey);
  await db.pool.query('UPDATE processed_jobs SET processed_at = now() - make_interval(hours => $2) WHERE job_key = $1', [jobKey, ageHours]);
}

async function outboxIds(): Promise<number[]> {
  return (await db.pool.query<{ id: number }>('SELECT id FROM outbox ORDER BY id')).rows.map((r) => r.id);
}

/** A target that stops inside its first batch until `release()`: a sweep caught in the middle. */
function gatedTarget(): { target: RetentionTarget; entered: Promise<void>; release(): void } {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const target: RetentionTarget = {
    table: 'gated',
    async deleteBatch() {
      enter();
      await gate;
      return 0;
    },
  };
  return { target, entered, release };
}

describe('retention', () => {
  it('deletes published outbox rows past the horizon, never unpublished ones, and keeps recent ones', async () => {
    const oldPublished = [await outboxRow(48, true), await outboxRow(25, true)];
    const oldUnpublished = await outboxRow(72, false);
    const recent = await outboxRow(23, true);
    const fresh = await outboxRow(0, false);
    const sweeper = retention();
    try {
      const sweep = await sweeper.sweepNow();
      expect(sweep).toEqual({ swept: true, deleted: { outbox: 2, processed_jobs: 0 } });
      expect(await outboxIds()).toEqual([oldUnpublished, recent, fresh]);
      expect(await outboxIds()).not.toEqual(expect.arrayContaining(oldPublished));
      expect((await sweeper.sweepNow()).deleted.outbox).toBe(0);
    } finally {
      await sweeper.close();
    }
  });

  it('deletes job claims past the horizon and keeps recent ones', async () => {
    await claim('retention:old-1', 30);
    await claim('retention:old-2', 500);
    await claim('retention:recent', 23);
    await claimJob(db.pool, 'retention:now');
    const sweeper = retention();
    try {
      expect((await sweeper.sweepNow()).deleted).toEqual({ outbox: 0, processed_jobs: 2 });
      expect(await isJobProcessed(db.pool, 'retention:old-1')).toBe(false);
      expect(await isJobProcessed(db.pool, 'retention:old-2')).toBe(false);
      expect(await isJobProcessed(db.pool, 'retention:recent')).toBe(true);
      expect(await isJobProcessed(db.pool, 'retention:now')).toBe(true);
    } finally {
      await sweeper.close();
    }
  });

  it('works through a backlog in batches of at most batchSize rows', async () => {
    for (let i = 0; i < 7; i++) await outboxRow(100 + i, true);
    const limits: number[] = [];
    const counted: RetentionTarget = {
      table: 'outbox',
      async deleteBatch(db: Queryable, before: Date, limit: number) {
        const n = await outboxRetention.deleteBatch(db, before, limit);
        limits.push(n);
        return n;
      },
    };
    const sweeper = retention({ targets: [counted], batchSize: 3 });
    try {
      expect((await sweeper.sweepNow()).deleted).toEqual({ outbox: 7 });
      expect(limits).toEqual([3, 3, 1]);
      expect(await outboxIds()).toEqual([]);
    } finally {
      await sweeper.close();
    }
  });

  it('lets one process sweep at a time: another skips while the lock is held', async () => {
    await outboxRow(48, true);
    const gated = gatedTarget();
    const first = retention({ targets: [gated.target, outboxRetention] });
    const second = retention();
    try {
      const running = first.sweepNow();
      await gated.entered;
      expect(await second.sweepNow()).toEqual({ swept: false, deleted: { outbox: 0, processed_jobs: 0 } });
      expect(await outboxIds()).toHaveLength(1);
      gated.release();
      expect(await running).toEqual({ swept: true, deleted: { gated: 0, outbox: 1 } });
      // The lock went with the sweep.
      expect((await second.sweepNow()).swept).toBe(true);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('skips while any other session holds the retention lock', async () => {
    await outboxRow(48, true);
    const holder = await db.pool.connect();
    const sweeper = retention();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.retention]);
      expect((await sweeper.sweepNow()).swept).toBe(false);
      await holder.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.retention]);
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { outbox: 1, processed_jobs: 0 } });
    } finally {
      holder.release();
      await sweeper.close();
    }
  });

  it('close waits for the sweep under way', async () => {
    const gated = gatedTarget();
    const sweeper = retention({ targets: [gated.target] });
    const running = sweeper.sweepNow();
    await gated.entered;
    let closed = false;
    const closing = sweeper.close().then(() => {
      closed = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    gated.release();
    await closing;
    expect(closed).toBe(true);
    expect((await running).swept).toBe(true);
  });

  it('fails the sweep when a target fails, and releases the lock for the next one', async () => {
    await outboxRow(48, true);
    const broken: RetentionTarget = {
      table: 'broken',
      deleteBatch: (db) => db.query('DELETE FROM no_such_table').then(() => 0),
    };
    const sweeper = retention({ targets: [broken] });
    const healthy = retention();
    try {
      await expect(sweeper.sweepNow()).rejects.toThrow(/no_such_table/);
      expect(await healthy.sweepNow()).toEqual({ swept: true, deleted: { outbox: 1, processed_jobs: 0 } });
    } finally {
      await Promise.all([sweeper.close(), healthy.close()]);
    }
  });

  it('sweeps on its own every interval', async () => {
    await outboxRow(48, true);
    const sweeper = retention({ intervalMs: 20 });
    try {
      // No timing assumption: wait for the effect, however long the machine takes.
      while ((await outboxIds()).length) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await sweeper.close();
    }
  });

  it('refuses a horizon under an hour', () => {
    expect(() => retention({ horizonHours: 0.5 })).toThrow(/at least 1 hour/);
    expect(() => retention({ horizonHours: Number.NaN })).toThrow(/at least 1 hour/);
  });
});
