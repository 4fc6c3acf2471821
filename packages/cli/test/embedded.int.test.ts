import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLogger } from '@alder/logger';
import { createPool, migrate } from '@alder/db';
import { startEmbeddedPostgres } from '../src/embedded-postgres';
import { startEmbeddedRedis } from '../src/embedded-redis';

// The servers `pnpm start` brings up when no DATABASE_URL / REDIS_URL is given.
const log = createLogger({ level: 'silent' });
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'alder-embedded-'));
  // Run as root, Postgres runs as the `postgres` user, which must be able to reach the folder.
  await chmod(dataDir, 0o755);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('runs an embedded Postgres that keeps its data across restarts and takes the migrations', async () => {
  const port = 55000 + Math.floor(Math.random() * 1000);
  let server = await startEmbeddedPostgres(dataDir, port, log);
  let pool = createPool(server.url, { max: 1 });
  expect((await migrate(pool)).length).toBeGreaterThan(0);
  await pool.query(`INSERT INTO projects (name, labels) VALUES ('kept', '{a,b}')`);
  await pool.end();
  await server.stop();

  server = await startEmbeddedPostgres(dataDir, port, log);
  pool = createPool(server.url, { max: 1 });
  expect(await migrate(pool)).toEqual([]);
  const { rows } = await pool.query(`SELECT name FROM projects`);
  expect(rows).toEqual([{ name: 'kept' }]);
  await pool.end();
  await server.stop();
}, 120_000);

it('runs an embedded Redis with AOF on and noeviction, under the data folder', async () => {
  const port = 56000 + Math.floor(Math.random() * 1000);
  const server = await startEmbeddedRedis(dataDir, port, log);
  const redis = new Redis(server.url);
  try {
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(existsSync(join(dataDir, 'redis'))).toBe(true);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}, 60_000);
