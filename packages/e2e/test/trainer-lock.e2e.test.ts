import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { seedProject } from '@alder/fixtures';
import { useTestServers } from '@alder/testkit';
import { startService, waitFor, type ServiceProcess } from '../src/service-process';

// The standalone trainer, as a container runs it (`services/trainer/src/main.ts`, its own
// process), with a short job lock: BullMQ renews a lock every half of its duration from the
// trainer's event loop. Training runs on the compute threads, so the lock is renewed throughout
// and the job completes at its first try; and the worker's own measure of how busy its event
// loop was during the job (a ratio, the same on a fast or a slow machine) shows the training
// did not run there.

const LOCK_MS = 2_000;
const servers = useTestServers();
let trainer: ServiceProcess | undefined;

afterAll(async () => {
  await trainer?.stop();
}, 60_000);

it('keeps renewing the job lock through a long training in the standalone trainer', async () => {
  // Every trec train question labeled: a training of a few seconds of CPU on a quiet core.
  const seeded = await seedProject(servers.db.pool, { poolSize: 5_452, labeled: 5_000, testSize: 200 });
  trainer = startService('trainer', {
    DATABASE_URL: servers.db.url,
    REDIS_URL: servers.redis.url,
    QUEUE_PREFIX: servers.redis.prefix,
    LOG_LEVEL: 'info',
    TRAINER_LOCK_MS: String(LOCK_MS),
    COMPUTE_THREADS: '1',
  });
  const connection = new Redis(servers.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('training', { connection, prefix: servers.redis.prefix });
  const eventsConnection = connection.duplicate();
  const events = new QueueEvents('training', { connection: eventsConnection, prefix: servers.redis.prefix });
  const stalled: string[] = [];
  events.on('stalled', ({ jobId }) => void stalled.push(jobId));
  try {
    await events.waitUntilReady();
    const job = await queue.add('train-model', { projectId: seeded.projectId, reason: 'manual' }, { jobId: 'lock-test', attempts: 1 });
    const lockKey = `${servers.redis.prefix}:training:${job.id}:lock`;

    // Sample the lock's remaining time while the job is active: each renewal resets it to LOCK_MS.
    await waitFor('the job to become active', async () => ((await job.getState()) === 'active' ? true : undefined), 120_000, 50);
    let lapsed = false;
    let renewals = 0;
    let last = Number.POSITIVE_INFINITY;
    const activeSince = Date.now();
    for (;;) {
      const state = await job.getState();
      if (state !== 'active') break;
      const ttl = await connection.pttl(lockKey);
      if (ttl === -2 && (await job.getState()) === 'active') lapsed = true;
      // Each renewal resets the lock's remaining time to LOCK_MS.
      if (ttl > last) renewals++;
      if (ttl >= 0) last = ttl;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const activeMs = Date.now() - activeSince;

    const finished = await queue.getJob(job.id!);
    expect({ lapsed, stalled, state: await finished!.getState(), failedReason: finished!.failedReason }).toEqual({
      lapsed: false,
      stalled: [],
      state: 'completed',
      failedReason: undefined,
    });
    expect(finished!.returnvalue).toMatchObject({ version: 1, trainCount: 5_000 });
    // A job active for longer than a lock period lived on renewals (a fast machine may train
    // faster than that; then there was nothing to renew).
    if (activeMs > 1.5 * LOCK_MS) expect(renewals).toBeGreaterThanOrEqual(1);
    // The training did not run on the trainer's event loop: the worker logs how busy that
    // loop was during the job (a ratio, whatever the machine's speed; ~1 if training ran on it).
    const completed = await waitFor('the job-completed log line', async () => {
      const line = trainer!.output().split('\n').find((l) => l.includes('"msg":"job completed"') && l.includes('"jobId":"lock-test"'));
      return line ? (JSON.parse(line) as { loopBusy: number; ms: number }) : undefined;
    }, 30_000);
    expect(completed.loopBusy).toBeLessThan(0.5);
  } finally {
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
  }
  expect(await trainer!.stop()).toBe(0);
}, 600_000);
