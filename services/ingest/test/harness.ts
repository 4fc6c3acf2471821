import { loadConfig, type Config } from '@alder/config';
import { createLogger } from '@alder/logger';
import type { Pool } from '@alder/db';
import { createRedis } from '@alder/queues';
import { buildHttpApp, createApiKey, type HttpApp } from '@alder/http';
import { testClient, type TestClient } from '@alder/http/testing';
import { createTestDatabase, createTestRedis, type TestDatabase } from '@alder/testkit';
import { createIngestHandlers } from '../src/index';

export interface Harness {
  db: TestDatabase;
  app: HttpApp;
  http: TestClient;
  adminKey: string;
  close(): Promise<void>;
}

/** The ingest app on a fresh database, with an admin key. */
export async function startHarness(overrides: Partial<Config> = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const redis = createTestRedis();
  const producer = createRedis(redis.url, 'producer');
  const config = { ...loadConfig({}), ...overrides };
  const log = createLogger({ level: 'silent' });
  const app = await buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers: createIngestHandlers({ config, pool: db.pool, log }) });
  const http = await testClient(app);
  const { key } = await createApiKey(db.pool, { name: 'test admin', role: 'admin' });
  return {
    db,
    app,
    http,
    adminKey: key,
    async close() {
      await app.close();
      producer.disconnect();
      await redis.cleanup();
      await db.drop();
    },
  };
}

export async function insertProject(pool: Pool, labels: string[] = ['pos', 'neg'], retrainEvery = 20): Promise<string> {
  const { rows } = await pool.query(`INSERT INTO projects (name, labels, retrain_every) VALUES ('t', $1, $2) RETURNING id`, [labels, retrainEvery]);
  return rows[0].id;
}

/** Row counts of everything a request could write. */
export async function counts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM annotations)::int AS annotations,
            (SELECT count(*) FROM outbox)::int AS outbox, (SELECT coalesce(sum(label_count), 0) FROM projects)::int AS label_count`,
  );
  return rows[0];
}

export async function outboxJobs(pool: Pool): Promise<{ queue: string; job_name: string; payload: Record<string, unknown> }[]> {
  const { rows } = await pool.query('SELECT queue, job_name, payload FROM outbox ORDER BY id');
  return rows;
}
