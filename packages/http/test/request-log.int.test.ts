import { Redis } from 'ioredis';
import { loadConfig } from '@alder/config';
import { createLogger, type LogDestination } from '@alder/logger';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { buildHttpApp, createUserWithKey, type HandlerMap, type HttpApp } from '../src/index';
import { testClient, type TestClient } from '../src/testing';

// What the HTTP app writes to the log for each request, captured from a real app on a socket.
const PROJECT_ID = '6f1c1d3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f';
const handlers: HandlerMap = {
  getProject: async () => {
    throw new Error('handler failed');
  },
};

interface Started {
  app: HttpApp;
  http: TestClient;
  lines: Record<string, unknown>[];
}

let db: TestDatabase;
let redis: TestRedis;
let producer: Redis;
const apps: HttpApp[] = [];

async function start(level: string): Promise<Started> {
  const lines: Record<string, unknown>[] = [];
  const destination: LogDestination = { write: (line) => lines.push(JSON.parse(line)) };
  const log = createLogger({ level, format: 'json', destination });
  const app = await buildHttpApp({ config: loadConfig({}), pool: db.pool, redis: producer, log, handlers });
  apps.push(app);
  return { app, http: await testClient(app), lines };
}

const requestLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'request completed' || l.msg === 'incoming request');

beforeAll(async () => {
  db = await createTestDatabase();
  // The access hook finds the project before the (failing) handler runs.
  await db.pool.query(`INSERT INTO projects (id, name, labels) VALUES ($1, 'p', '{a,b}')`, [PROJECT_ID]);
  redis = createTestRedis();
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  producer?.disconnect();
  await redis?.cleanup();
  await db?.drop();
});

it('logs each request as one debug line with method, URL, status and milliseconds', async () => {
  const { http, lines } = await start('debug');
  expect((await http({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}` })).statusCode).toBe(401);
  expect(requestLines(lines)).toEqual([
    expect.objectContaining({ level: 20, module: 'http', method: 'GET', url: '/openapi.json', statusCode: 200, responseTime: expect.any(Number), reqId: expect.any(String) }),
    expect.objectContaining({ level: 20, method: 'GET', url: `/v1/projects/${PROJECT_ID}`, statusCode: 401 }),
  ]);
});

it('logs no request line at info, and none for probes at any level', async () => {
  const info = await start('info');
  await info.http({ method: 'GET', url: '/openapi.json' });
  await info.http({ method: 'GET', url: '/healthz' });
  expect(requestLines(info.lines)).toEqual([]);

  const trace = await start('trace');
  await trace.http({ method: 'GET', url: '/healthz' });
  await trace.http({ method: 'GET', url: '/readyz' });
  expect(requestLines(trace.lines)).toEqual([]);
  await trace.http({ method: 'GET', url: '/docs' });
  expect(requestLines(trace.lines).map((l) => [l.level, l.msg, l.url])).toEqual([
    [10, 'incoming request', '/docs'],
    [20, 'request completed', '/docs'],
  ]);
});

it('still logs a failing handler at error, and no key', async () => {
  const { key } = await createUserWithKey(db.pool, { name: 'admin', role: 'admin' });
  const { http, lines } = await start('info');
  const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: { authorization: `Bearer ${key}` } });
  expect(res.statusCode).toBe(500);
  expect(lines.filter((l) => (l.level as number) >= 50).map((l) => l.msg)).toEqual(['unhandled error']);
  expect(requestLines(lines)).toEqual([]);
  expect(JSON.stringify(lines)).not.toContain(key);
});
