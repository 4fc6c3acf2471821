import { readFileSync } from 'node:fs';
import { startAlder, type AlderUnderTest } from '../src/alder-under-test';
import { nextTaskWhenRanked } from '../src/next-task';
import { waitFor } from '../src/service-process';

// `alder start` (what `pnpm start` runs): every route on one port, trainer and sampling in
// worker threads of the same process; one model version appears after `retrain_every` labels.

interface Row { text: string; label: string }
const readJsonl = (path: string): Row[] => readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const train = readJsonl('../shared/datasets/sms_spam/train.jsonl').slice(0, 300);
const test = readJsonl('../shared/datasets/sms_spam/test.jsonl').slice(0, 100);

let alder: AlderUnderTest;
let base: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${alder.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  alder = await startAlder('all-in-one', { OUTBOX_POLL_MS: '200' });
  base = alder.api;
}, 90_000);

afterAll(async () => {
  expect(await alder.stop()).toEqual([0]);
}, 60_000);

it('serves ingest and labeling on one port and trains in its worker threads', async () => {
  expect(alder.logs()).toContain(`${'base URL:'}`);
  expect(alder.logs()).toContain('/docs');
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
    // The first call may come before sampling has published the cold start (503 ranking-pending).
    const task = await nextTaskWhenRanked(base, alder.adminKey, id);
    expect(task.status).toBe(200);
    const done = await call('POST', `/v1/tasks/${task.body.task_id}/annotation`, { label: gold.get(task.body.item.external_id) });
    expect(done.status).toBe(201);
  }
  const model = await waitFor('model version 1', async () => {
    const models = await call('GET', `/v1/projects/${id}/models`);
    return models.body.data.find((m: any) => m.status === 'ready');
  }, 60_000).catch((error) => {
    throw new Error(`${error.message}\n${alder.logs()}`);
  });
  expect(model.version).toBe(1);
  expect(model.train_count).toBe(20);
  expect(model.metrics.accuracy).toEqual(expect.any(Number));
}, 120_000);
