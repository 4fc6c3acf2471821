import { randomBytes } from 'node:crypto';
import { createTestDatabase, createTestRedis, freePort } from '@alder/testkit';
import { startAllInOne, startService, waitFor, type ServiceProcess } from './service-process';

/** A running Alder for an end-to-end test: its own database, queue prefix, ports and admin key. */
export interface AlderUnderTest {
  /** Labeling API base URL. */
  api: string;
  /** Ingest base URL (the same as `api` for the all-in-one). */
  ingest: string;
  adminKey: string;
  /** The last lines every process wrote, for failure messages. */
  logs(): string;
  /** SIGTERM to every process; returns their exit codes, then drops the database and keys. */
  stop(): Promise<(number | null)[]>;
}

/**
 * Starts Alder as the four services in separate processes (`mode: 'services'`) or as `alder
 * start` (`mode: 'all-in-one'`) against a fresh test database and queue prefix, and waits until
 * every HTTP process answers /readyz.
 */
export async function startAlder(mode: 'services' | 'all-in-one', extraEnv: Record<string, string> = {}): Promise<AlderUnderTest> {
  const db = await createTestDatabase();
  const redis = createTestRedis();
  const adminKey = `alder_e2e_${randomBytes(16).toString('hex')}`;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    ALDER_ADMIN_KEY: adminKey,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    OUTBOX_POLL_MS: '100',
    ...extraEnv,
  };
  const [apiPort, ingestPort] = [await freePort(), await freePort()];
  const processes: ServiceProcess[] =
    mode === 'all-in-one'
      ? [startAllInOne({ ...env, PORT: String(apiPort) })]
      : [
          startService('labeling-api', { ...env, PORT: String(apiPort) }),
          startService('ingest', { ...env, PORT: String(ingestPort) }),
          startService('trainer', env),
          startService('sampling', env),
        ];
  const api = `http://127.0.0.1:${apiPort}`;
  const ingest = mode === 'all-in-one' ? api : `http://127.0.0.1:${ingestPort}`;
  const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-4_000)}`).join('\n');
  const stop = async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await redis.cleanup();
    await db.drop();
    return codes;
  };
  try {
    for (const base of new Set([api, ingest])) {
      // A budget for a machine ten times slower than a quiet one, not a clock on this one.
      await waitFor(`${base}/readyz`, async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 240_000);
    }
  } catch (error) {
    const message = `${(error as Error).message}\n${logs()}`;
    await stop();
    throw new Error(message);
  }
  return { api, ingest, adminKey, logs, stop };
}
