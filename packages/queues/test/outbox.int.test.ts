import { Queue, QueueEvents } from 'bullmq';
import { z } from 'zod';
import { createLogger } from '@alder/logger';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { withTransaction } from '@alder/db';
import { claimJob, createRedis, defineQueue, enqueue, startOutboxRelay, startWorker } from '../src/index';

const testQueue = defineQueue({
  name: 'outbox-test',
  jobs: { ping: z.object({ n: z.number().int() }) },
  defaultJobOptions: { attempts: 1, removeOnComplete: false },
});

let db: TestDatabase;
let redis: TestRedis;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});
afterAll(async () => {
  await redis.cleanup();
  await db.drop();
});

describe('outbox', () => {
  it('publishes only committed rows, once, with the outbox id as job id', async () => {
    const connection = createRedis(redis.url, 'worker');
    const relay = await startOutboxRelay({ pool: db.pool, connection, prefix: redis.prefix, queues: [testQueue], log, pollMs: 60_000 });
    await expect(
      withTransaction(db.pool, async (client) => {
        await enqueue(client, testQueue, 'ping', { n: 1 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const id = await withTransaction(db.pool, (client) => enqueue(client, testQueue, 'ping', { n: 2 }));
    await relay.flush();
    await relay.flush();
    const queue = new Queue(testQueue.name, { connection, prefix: redis.prefix });
    const jobs = await queue.getJobs(['waiting', 'active', 'completed']);
    expect(jobs.map((job) => job.id)).toEqual([`ob-${id}`]);
    expect(jobs[0]!.data).toEqual({ n: 2 });
    await queue.close();
    await relay.close();
    connection.disconnect();
  });

  it('refuses an invalid payload at enqueue time', async () => {
    await expect(enqueue(db.pool, testQueue, 'ping', { n: 'x' } as never)).rejects.toThrow();
  });
});

const dedupQueue = defineQueue({
  name: 'outbox-dedup-test',
  jobs: { work: z.object({ key: z.string(), n: z.number().int() }) },
  defaultJobOptions: { attempts: 1, removeOnComplete: false },
  deduplicate: { work: (payload) => payload.key },
});

describe('deduplicated jobs', () => {
  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 20));
  };

  it('one waits per key: later rows merge into the waiting job; one added while its key runs waits, the latest kept', async () => {
    const connection = createRedis(redis.url, 'worker');
    const relay = await startOutboxRelay({ pool: db.pool, connection, prefix: redis.prefix, queues: [dedupQueue], log, pollMs: 60_000 });
    const queue = new Queue(dedupQueue.name, { connection, prefix: redis.prefix });
    const add = (key: string, n: number) => withTransaction(db.pool, (client) => enqueue(client, dedupQueue, 'work', { key, n }));
    for (const n of [1, 2, 3]) await add('a', n);
    await add('b', 1);
    await relay.flush();
    const waiting = await queue.getJobs(['waiting']);
    expect(waiting.map((job) => job.data).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'a', n: 1 },
      { key: 'b', n: 1 },
    ]);

    // A worker takes a's job and holds it; meanwhile more of a come.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ran: { key: string; n: number }[] = [];
    const runningOf = new Map<string, number>();
    let mostOfOneKey = 0;
    const workerConnection = createRedis(redis.url, 'worker');
    const worker = startWorker({
      queue: dedupQueue,
      processors: {
        work: async (payload) => {
          runningOf.set(payload.key, (runningOf.get(payload.key) ?? 0) + 1);
          mostOfOneKey = Math.max(mostOfOneKey, runningOf.get(payload.key)!);
          ran.push(payload);
          if (payload.key === 'a' && payload.n === 1) await held;
          runningOf.set(payload.key, runningOf.get(payload.key)! - 1);
        },
      },
      connection: workerConnection,
      prefix: redis.prefix,
      concurrency: 4,
      log,
    });
    await until(async () => ran.some((p) => p.key === 'a'));
    for (const n of [4, 5, 6]) await add('a', n);
    await relay.flush();
    release();
    await until(async () => ran.filter((p) => p.key === 'a').length === 2 && (await queue.getJobs(['waiting', 'active', 'delayed'])).length === 0);
    // a ran twice: the first, then the latest that came while it ran; never two at once.
    expect(ran.filter((p) => p.key === 'a')).toEqual([
      { key: 'a', n: 1 },
      { key: 'a', n: 6 },
    ]);
    expect(ran.filter((p) => p.key === 'b')).toEqual([{ key: 'b', n: 1 }]);
    expect(mostOfOneKey).toBe(1);
    await worker.close();
    workerConnection.disconnect();
    await queue.close();
    await relay.close();
    connection.disconnect();
  });
});

describe('worker', () => {
  it('refuses to start when a job has no processor', () => {
    const connection = createRedis(redis.url, 'worker');
    expect(() => startWorker({ queue: testQueue, processors: {} as never, connection, prefix: redis.prefix, concurrency: 1, log })).toThrow(/no processor for job\(s\) ping/);
    connection.disconnect();
  });

  it('validates payloads when consumed and fails bad ones without retrying', async () => {
    const connection = createRedis(redis.url, 'worker');
    const seen: number[] = [];
    const worker = startWorker({
      queue: testQueue,
      processors: { ping: async (payload) => void seen.push(payload.n) },
      connection,
      prefix: redis.prefix,
      concurrency: 1,
      log,
    });
    const queue = new Queue(testQueue.name, { connection, prefix: redis.prefix });
    const eventsConnection = createRedis(redis.url, 'worker');
    const events = new QueueEvents(testQueue.name, { connection: eventsConnection, prefix: redis.prefix });
    await events.waitUntilReady();
    const bad = await queue.add('ping', { n: 'not a number' }, { attempts: 3 });
    const good = await queue.add('ping', { n: 7 });
    await expect(bad.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid payload/);
    await good.waitUntilFinished(events, 10_000);
    expect(seen).toContain(7);
    expect(seen).not.toContain('not a number');
    expect((await queue.getJob(bad.id!))!.attemptsMade).toBe(1);
    await worker.close();
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
  });

  it('claimJob lets an effect commit once per job', async () => {
    expect(await claimJob(db.pool, 'q:1')).toBe(true);
    expect(await claimJob(db.pool, 'q:1')).toBe(false);
  });
});
