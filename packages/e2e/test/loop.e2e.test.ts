import { readFileSync } from 'node:fs';
import { startAlder, type AlderUnderTest } from '../src/alder-under-test';
import { waitFor } from '../src/service-process';

// The whole loop through the four services as separate processes: trec questions go in with
// their labels withheld, a simulated annotator labels what the API hands out, models train, the
// pool is re-ranked, and held-out accuracy must clearly beat the majority-class baseline.

interface Row { text: string; label: string }
const readJsonl = (path: string): Row[] => readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const train = readJsonl('../shared/datasets/trec/train.jsonl');
const test = readJsonl('../shared/datasets/trec/test.jsonl');
const labels = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

const POOL_SIZE = 1500;
const RETRAIN_EVERY = 40;
const ROUNDS = 5;

let alder: AlderUnderTest;
let api: string;
let ingestUrl: string;

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${alder.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const serviceLogs = () => alder.logs();

beforeAll(async () => {
  alder = await startAlder('services', { OUTBOX_POLL_MS: '200' });
  api = alder.api;
  ingestUrl = alder.ingest;
}, 90_000);

afterAll(async () => {
  // Every service shuts down cleanly on SIGTERM.
  expect(await alder.stop()).toEqual([0, 0, 0, 0]);
}, 60_000);

it('turns the active-learning loop through four services and beats the majority baseline', async () => {
  const project = await call(api, 'POST', '/v1/projects', { name: 'trec e2e', labels, retrain_every: RETRAIN_EVERY });
  expect(project.status).toBe(201);
  const projectId: string = project.body.id;

  const gold = new Map<string, string>();
  const poolItems = train.slice(0, POOL_SIZE).map((row, i) => {
    gold.set(`train-${i}`, row.label);
    return { external_id: `train-${i}`, text: row.text };
  });
  const testItems = test.map((row, i) => ({ external_id: `test-${i}`, text: row.text, label: row.label, split: 'test' }));
  const ingested = await call(ingestUrl, 'POST', `/v1/projects/${projectId}/items`, { items: [...poolItems, ...testItems] });
  expect(ingested.status).toBe(200);
  expect(ingested.body.inserted).toBe(POOL_SIZE + test.length);

  // Before any model, the first tasks come from the cold-start ranking, not file order.
  await waitFor('cold-start ranking', async () => {
    const progress = await call(api, 'GET', `/v1/projects/${projectId}/progress`);
    return progress.body?.ranking ? true : undefined;
  }, 60_000);

  const firstPicks: number[] = [];
  let lastVersion = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (let n = 0; n < RETRAIN_EVERY; n++) {
      const task = await call(api, 'POST', `/v1/projects/${projectId}/tasks/next`, {});
      expect(task.status).toBe(200);
      if (round === 1) {
        expect(task.body.selection.model_version).toBeNull();
        firstPicks.push(Number(task.body.item.external_id.slice('train-'.length)));
      } else {
        // After a model exists, tasks carry that model's scores.
        expect(task.body.selection.model_version).toBeGreaterThanOrEqual(1);
        expect(typeof task.body.selection.score).toBe('number');
        expect(Object.keys(task.body.selection.probabilities).sort()).toEqual([...labels].sort());
        expect(task.body.selection.rationale).toEqual(expect.any(String));
      }
      const label = gold.get(task.body.item.external_id)!;
      const submitted = await call(api, 'POST', `/v1/tasks/${task.body.task_id}/annotation`, { label, time_spent_ms: 1200 });
      expect(submitted.status).toBe(201);
    }
    // A new model version appears and the pool is re-ranked with it before the next round.
    const version = await waitFor(`model version after round ${round}`, async () => {
      const progress = await call(api, 'GET', `/v1/projects/${projectId}/progress`);
      const ranked = progress.body?.ranking?.model_version;
      return ranked && ranked > lastVersion ? (ranked as number) : undefined;
    }, 120_000).catch((error) => {
      throw new Error(`${error.message}\n${serviceLogs()}`);
    });
    lastVersion = version;
  }

  // The cold start is not the head of the file.
  expect(firstPicks.filter((index) => index < RETRAIN_EVERY).length).toBeLessThan(RETRAIN_EVERY / 2);

  const models = await call(api, 'GET', `/v1/projects/${projectId}/models`);
  expect(models.status).toBe(200);
  const ready = models.body.data.filter((m: any) => m.status === 'ready');
  expect(ready.length).toBeGreaterThanOrEqual(ROUNDS);
  const latest = ready.reduce((a: any, b: any) => (a.version > b.version ? a : b));
  const counts = new Map<string, number>();
  for (const row of test) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
  const majority = Math.max(...counts.values()) / test.length;
  expect(latest.test_count).toBe(test.length);
  expect(latest.train_count).toBeGreaterThanOrEqual(RETRAIN_EVERY * (ROUNDS - 1));
  // "A clear margin": at least 20 accuracy points over always answering the majority class.
  expect(latest.metrics.accuracy).toBeGreaterThan(majority + 0.2);

  // Every ready version carries the stopping evidence the trainer stored, and progress reports
  // the current one's. With this few labels (under the 200 minimum) no stop is recommended.
  expect(ready.every((m: any) => m.stopping && m.stopping.stop_set_size > 0)).toBe(true);
  const { body: progress } = await call(api, 'GET', `/v1/projects/${projectId}/progress`);
  expect(progress.stopping.evaluated_at_model_version).toBeGreaterThanOrEqual(latest.version);
  expect(progress.stopping.stop_set_size).toBe(ready[0].stopping.stop_set_size);
  expect(progress.stopping.stop_recommended).toBe(false);
  const stabilizing = progress.stopping.criteria.find((c: any) => c.name === 'stabilizing_predictions');
  expect(stabilizing).toMatchObject({ met: false, threshold: 0.99, decides: true });
}, 600_000);
