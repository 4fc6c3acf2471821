import { loadConfig } from '@alder/config';
import { createLogger } from '@alder/logger';
import { createShutdown, ShutdownUnderway, type Shutdown } from '@alder/runtime';
import { createTestDatabase, useTestServers } from '@alder/testkit';
import { computePoolFor, computeThreads } from '@alder/compute';
import { defineService, runServices } from '../src/index';

// The one host: what it opens for a set of declared services, and that its one shutdown path
// closes all of it in the fixed order, also after a start that failed half-way.

const log = createLogger({ level: 'silent' });
const servers = useTestServers();

/** Connections the host opened to this test's database (its pool and the relay's listener). */
async function hostConnections(): Promise<number> {
  const { rows } = await servers.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'alder-%' AND application_name <> 'alder-test'`,
  );
  return rows[0]!.n;
}

/**
 * No connection of the host's is left. A backend disappears from pg_stat_activity a moment after
 * its client hung up, so this waits for it (with a budget, not a clock on a quiet machine).
 */
async function expectNoHostConnections(): Promise<void> {
  const deadline = Date.now() + 30_000;
  let left = await hostConnections();
  while (left > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = await hostConnections();
  }
  expect(left).toBe(0);
}

function testShutdown(): { shutdown: Shutdown; exits: number[] } {
  const exits: number[] = [];
  return { shutdown: createShutdown(log, 30_000, (code) => void exits.push(code)), exits };
}

const config = () => loadConfig({ ...process.env, QUEUE_PREFIX: servers.redis.prefix, LOG_LEVEL: 'silent', ALDER_ADMIN_KEY: 'alder_host_test_key_0123456789' });

it('serves the HTTP services on one port, runs the consumers, and closes everything in order', async () => {
  const order: string[] = [];
  const echo = defineService({
    name: 'echo',
    produces: true,
    cpuHeavy: false,
    handlers: () => ({ listProjects: async () => ({ data: [], total: 0, limit: 50, offset: 0 }) }),
  });
  const consumer = defineService({
    name: 'consumer',
    produces: false,
    cpuHeavy: true,
    compute: { threads: computeThreads, createPool: computePoolFor },
    async start({ compute }) {
      order.push(`started with ${compute.threads} compute threads`);
      return { close: async () => void order.push('consumer closed') };
    },
  });
  const { shutdown, exits } = testShutdown();
  const cfg = config();
  const host = await runServices([echo, consumer], { config: cfg, databaseUrl: servers.db.url, redisUrl: servers.redis.url, log, shutdown, listen: { host: '127.0.0.1', port: 0 } });
  expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(host.relay).not.toBeNull();
  expect(host.compute?.threads).toBe(computeThreads(cfg));
  expect(order).toEqual([`started with ${computeThreads(cfg)} compute threads`]);
  expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
  expect(await hostConnections()).toBeGreaterThan(0);
  const listed = await fetch(`${host.url}/v1/projects`, { headers: { authorization: 'Bearer alder_host_test_key_0123456789' } });
  expect(listed.status).toBe(200);

  await shutdown.run('test');
  expect(exits).toEqual([0]);
  expect(order).toEqual([`started with ${computeThreads(cfg)} compute threads`, 'consumer closed']);
  // HTTP is closed, and every connection the host opened is gone.
  await expect(fetch(`${host.url}/readyz`)).rejects.toThrow();
  await expectNoHostConnections();
});

it('closes what it opened when a service fails to start, and says why', async () => {
  const broken = defineService({
    name: 'broken',
    produces: true,
    cpuHeavy: false,
    async start() {
      throw new Error('cannot start: no such queue');
    },
  });
  const { shutdown, exits } = testShutdown();
  await expect(runServices([broken], { config: config(), databaseUrl: servers.db.url, redisUrl: servers.redis.url, log, shutdown })).rejects.toThrow('cannot start: no such queue');
  expect(await hostConnections()).toBeGreaterThan(0); // the relay's listener, at least
  // The caller runs the shutdown path: the pool, Redis and the relay opened so far all close.
  await shutdown.run('start failed', 1);
  expect(exits).toEqual([1]);
  await expectNoHostConnections();
});

it('stops opening things when a signal arrives during the start', async () => {
  const { shutdown, exits } = testShutdown();
  let closed = false;
  const slow = defineService({
    name: 'slow',
    produces: true,
    cpuHeavy: false,
    async start() {
      // Ctrl-C while this service starts.
      void shutdown.run('SIGINT');
      return { close: async () => void (closed = true) };
    },
  });
  const other = defineService({ name: 'other', produces: false, cpuHeavy: false, handlers: () => ({}) });
  await expect(runServices([slow, other], { config: config(), databaseUrl: servers.db.url, redisUrl: servers.redis.url, log, shutdown })).rejects.toThrow(ShutdownUnderway);
  await shutdown.run('joined');
  expect(exits).toEqual([0]);
  // What was opened (the slow service, the pool, the relay) is closed; HTTP was never opened.
  expect(closed).toBe(true);
  await expectNoHostConnections();
});

it('refuses to start on a database that is not migrated, saying what to run', async () => {
  const empty = await createTestDatabase({ migrated: false });
  const { shutdown } = testShutdown();
  try {
    const one = defineService({ name: 'one', produces: false, cpuHeavy: false });
    await expect(runServices([one], { config: config(), databaseUrl: empty.url, redisUrl: servers.redis.url, log, shutdown, migrationWaitMs: 0 })).rejects.toThrow(/missing \d+ migration\(s\) \(0001_foundation\.sql … .*run `pnpm migrate`/);
    await shutdown.run('start failed', 1);
  } finally {
    await empty.drop();
  }
});

it('refuses a service listed twice, and a consumer without start', () => {
  const one = defineService({ name: 'one', produces: false, cpuHeavy: false });
  const { shutdown } = testShutdown();
  return expect(runServices([one, one], { config: config(), databaseUrl: servers.db.url, redisUrl: servers.redis.url, log, shutdown })).rejects.toThrow(/listed twice/);
});

it('takes the compute threads from COMPUTE_THREADS, else SAMPLING_THREADS, at least one', () => {
  expect(computeThreads({ COMPUTE_THREADS: 3, SAMPLING_THREADS: 2 })).toBe(3);
  expect(computeThreads({ COMPUTE_THREADS: undefined, SAMPLING_THREADS: 2 })).toBe(2);
  expect(computeThreads({ COMPUTE_THREADS: undefined, SAMPLING_THREADS: 0 })).toBe(1);
  expect(() => defineService({ name: 'x', produces: false, cpuHeavy: false, consumes: { name: 'q', jobs: {}, defaultJobOptions: {} } })).toThrow(/has no start/);
  expect(() => defineService({ name: 'x', produces: false, cpuHeavy: true })).toThrow(/declares its compute pool/);
});
