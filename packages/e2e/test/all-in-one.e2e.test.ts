import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { startAllInOne, waitFor, type ServiceProcess } from '../src/service-process';

// `alder start` (what `pnpm start` runs): every route on one port, trainer and sampling in
// worker threads of the same process; one model version appears after `retrain_every` labels.

interface Row { text: string; label: string }
const readJsonl = (path: string): Row[] => readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const train = readJsonl('../shared/datasets/sms_spam/train.jsonl').slice(0, 300);
const test = readJsonl('../shared/datasets/sms_spam/test.jsonl').slice(0, 100);

let db: TestDatabase;
let redis: TestRedis;
let alder: ServiceProcess;
let base: string;
const key = `alder_aio_${randomBytes(16).toString('hex')}`;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  alder = startAllInOne({ DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, ALDER_ADMIN_KEY: key, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', OUTBOX_POLL_MS: '200' });
  await waitFor('all-in-one /readyz', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 60_000).catch((error) => {
    throw new Error(`${error.message}\n${alder.output()}`);
  });
}, 90_000);

afterAll(async () => {
  const code = await alder.stop();
  await redis?.cleanup();
  await db?.drop();
  expect(code).toBe(0);
}, 60_000);

it('serves ingest and labeling on one port and trains in its worker threads', async () => {
  expect(alder.output()).toContain(`${'base URL:'}`);
  expect(alder.output()).toContain('/docs');
  expect((await fetch(`${base}/docs`)).status).toBe(200);

  const project = await call('POST', '/v1/projects', { name: 'spam', labels: ['ham', 'spam'], retrain_every: 20 });
  expect(project.status).toBe(201);
  const id = project.body.id;
  const gold = new Map(train.map((row, i) => [`t${i}`, row.label]));
  const items = [
    ...train.map((row, i) => ({ external_id: `t${i}`, text: row.text })),
    ...test.map((row, i) => ({ external_id: `e${i}`, text: row.text, label: row.label, split: 'test' })),
  ];
  expect((await call('POST', `/v1/projects/${id}/items`, { items })).status).toBe(200);

  for (let n = 0; n < 20; n++) {
    const task = await call('POST', `/v1/projects/${id}/tasks/next`, { annotator: 'a' });
    expect(task.status).toBe(200);
    const done = await call('POST', `/v1/tasks/${task.body.task_id}/annotation`, { annotator: 'a', label: gold.get(task.body.item.external_id) });
    expect(done.status).toBe(201);
  }
  const model = await waitFor('model version 1', async () => {
    const models = await call('GET', `/v1/projects/${id}/models`);
    return models.body.data.find((m: any) => m.status === 'ready');
  }, 60_000).catch((error) => {
    throw new Error(`${error.message}\n${alder.output()}`);
  });
  expect(model.version).toBe(1);
  expect(model.train_count).toBe(20);
  expect(model.metrics.accuracy).toEqual(expect.any(Number));
}, 120_000);
