import { insertItems } from '@alder/fixtures';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { modelMetricsSchema, rankingEntrySchema, stoppingEvidenceSchema, toStoredPrecision } from '@alder/contracts';
import { rationale, withCurrentBudget, type CriterionResult } from '@alder/learning/pure';
import { createLogger } from '@alder/logger';
import { processRankPool } from '@alder/sampling';
import { processTrainModel } from '@alder/trainer';
import { createProject, startHarness, type Harness, type Member } from './harness';

// What the workers write, read back through the API, with nothing in between but Postgres: the
// real sampling cold start ranks a TREC pool, annotators label through the API, the real trainer
// trains and stores metrics and stopping evidence, the real sampling ranks with the model (per
// item, then a batch strategy), and every stored row parses with its contract and reads back
// through the API as the contract says.

const LABELS = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];
const POOL = 300;
const TEST = 100;
const FIRST_LABELS = 40;
const BATCH = 10;

interface Row { text: string; label: string }
const trec = (split: 'train' | 'test'): Row[] =>
  readFileSync(resolve(process.cwd(), `../shared/datasets/trec/${split}.jsonl`), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));

const log = createLogger({ level: 'silent' });
let jobs = 0;
const job = (queue: string) => ({ jobKey: `${queue}:contracts-${++jobs}`, log });

let h: Harness;
let projectId: string;
const gold = new Map<string, string>();
const get = async (url: string) => {
  const res = await h.http({ method: 'GET', url });
  expect([url, res.statusCode]).toEqual([url, 200]);
  return res.json();
};
/** The annotator labeling through the API, and someone who only looks at the first task. */
let ann: Member;
let peek: Member;
const next = (by: Member = ann) => by.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` });

beforeAll(async () => {
  h = await startHarness();
  projectId = await createProject(h, { labels: LABELS, strategy: 'margin', retrain_every: BATCH });
  ann = await h.as(projectId, 'ann');
  peek = await h.as(projectId, 'first look');
  const pool = trec('train').slice(0, POOL);
  const test = trec('test').slice(0, TEST);
  pool.forEach((row, i) => gold.set(`p-${i}`, row.label));
  // Written the way ingest writes them, through its own repository (via the shared fixtures).
  await insertItems(h.db.pool, projectId, pool, 'pool', 'p');
  await insertItems(h.db.pool, projectId, test, 'test', 't');
}, 120_000);
afterAll(async () => {
  await h?.close();
});

async function labelThroughApi(count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const task = (await next()).json();
    const res = await ann.http({ method: 'POST', url: `/v1/tasks/${task.task_id}/annotation`, payload: { label: gold.get(task.item.external_id) } });
    expect(res.statusCode).toBe(201);
  }
}

async function storedEntries(rankingId: number) {
  const { rows } = await h.db.pool.query(
    'SELECT item_id, priority, score, probs, rationale FROM ranking_entries WHERE ranking_id = $1 ORDER BY priority DESC, item_id',
    [rankingId],
  );
  return rows as { item_id: number; priority: number; score: number | null; probs: number[] | null; rationale: string | null }[];
}

it('serves the real cold start once it exists, in its order and with its stored rationale', async () => {
  expect((await next()).statusCode).toBe(503);
  const ranked = await processRankPool({ pool: h.db.pool }, { projectId, reason: 'items-ingested' }, job('sampling'));
  expect(ranked).toMatchObject({ strategy: 'cold_start', itemCount: POOL });
  const entries = await storedEntries((ranked as { rankingId: number }).rankingId);
  for (const e of entries) rankingEntrySchema.parse(e);
  expect(entries.every((e) => e.probs === null && e.score === null && e.rationale !== null)).toBe(true);

  const page = await get(`/v1/projects/${projectId}/ranking?limit=5`);
  expect(page.ranking).toMatchObject({ strategy: 'cold_start', model_version: null, item_count: POOL });
  expect(page.data.map((e: { item: { id: number } }) => e.item.id)).toEqual(entries.slice(0, 5).map((e) => e.item_id));
  expect(page.data.map((e: { rationale: string }) => e.rationale)).toEqual(entries.slice(0, 5).map((e) => e.rationale));
  // Looked at and given back by someone else: a release keeps that user off the item, not the annotator.
  const first = (await next(peek)).json();
  expect(first.item.id).toBe(entries[0]!.item_id);
  expect(first.selection).toEqual({ model_version: null, strategy: 'cold_start', score: null, probabilities: null, rationale: entries[0]!.rationale });
  expect((await peek.http({ method: 'DELETE', url: `/v1/tasks/${first.task_id}?reason=skip` })).statusCode).toBe(204);
}, 120_000);

it("reads the real trainer's metrics and stopping evidence as the contracts declare them", async () => {
  await labelThroughApi(FIRST_LABELS);
  const trained = await processTrainModel({ pool: h.db.pool }, { projectId, reason: 'labels' }, job('training'));
  expect(trained).toMatchObject({ version: 1, trainCount: FIRST_LABELS, testCount: TEST });

  const { rows } = await h.db.pool.query('SELECT metrics, stopping FROM models WHERE project_id = $1 AND version = 1', [projectId]);
  const metrics = modelMetricsSchema.parse(rows[0].metrics);
  const stopping = stoppingEvidenceSchema.parse(rows[0].stopping);
  expect(metrics.test_count).toBe(TEST);
  expect(metrics.per_class.map((c) => c.label)).toEqual(LABELS);
  expect(stopping).toMatchObject({ label_count: FIRST_LABELS, label_budget: null, stop_set_size: POOL - FIRST_LABELS });

  const model = await get(`/v1/projects/${projectId}/models/1`);
  expect(model.metrics).toEqual({ accuracy: metrics.accuracy, macro_f1: metrics.macro_f1, per_class: metrics.per_class });
  expect(model.stopping).toEqual({
    stop_recommended: stopping.stop_recommended,
    criteria: stopping.criteria,
    label_count: stopping.label_count,
    label_budget: stopping.label_budget,
    stop_set_size: stopping.stop_set_size,
  });
  expect((await get(`/v1/projects/${projectId}/models`)).data[0]).toEqual(model);

  const progress = await get(`/v1/projects/${projectId}/progress`);
  expect(progress.current_model).toEqual({ version: 1, metrics: model.metrics, train_count: FIRST_LABELS, finished_at: expect.any(String) });
  const now = withCurrentBudget({ stop_recommended: stopping.stop_recommended, criteria: stopping.criteria as CriterionResult[] }, FIRST_LABELS, null);
  expect(progress.stopping).toEqual({ stop_recommended: now.stop_recommended, criteria: now.criteria, evaluated_at_model_version: 1, stop_set_size: stopping.stop_set_size });
}, 240_000);

it("shows the real sampling's model ranking with derived rationales, and carries its provenance into the annotation", async () => {
  const { rows: current } = await h.db.pool.query('SELECT current_model_id FROM projects WHERE id = $1', [projectId]);
  const modelId = Number(current[0].current_model_id);
  const ranked = await processRankPool({ pool: h.db.pool }, { projectId, modelId, reason: 'model-trained' }, job('sampling'));
  expect(ranked).toMatchObject({ strategy: 'margin', modelId, itemCount: POOL - FIRST_LABELS });
  const rankingId = (ranked as { rankingId: number }).rankingId;
  const entries = await storedEntries(rankingId);
  for (const e of entries) rankingEntrySchema.parse(e);
  // Per-item scores store no rationale: the API derives it. Priority is the score.
  expect(entries.every((e) => e.rationale === null && e.probs!.length === LABELS.length && e.priority === e.score)).toBe(true);

  const page = await get(`/v1/projects/${projectId}/ranking?limit=20`);
  expect(page.ranking).toMatchObject({ id: rankingId, strategy: 'margin', model_version: 1 });
  page.data.forEach((shown: { item: { id: number }; priority: number; score: number; probabilities: Record<string, number>; rationale: string }, i: number) => {
    const stored = entries[i]!;
    expect(shown.item.id).toBe(stored.item_id);
    expect(shown.score).toBe(toStoredPrecision(stored.score!));
    expect(Object.keys(shown.probabilities)).toEqual(LABELS);
    expect(Object.values(shown.probabilities)).toEqual(stored.probs!.map(toStoredPrecision));
    expect(shown.rationale).toBe(rationale('margin', stored.probs!, LABELS));
  });
  const priorities = page.data.map((e: { priority: number }) => e.priority);
  expect(priorities).toEqual([...priorities].sort((a, b) => b - a));

  const task = (await next()).json();
  expect(task.item.id).toBe(entries[0]!.item_id);
  expect(task.selection).toEqual({
    model_version: 1,
    strategy: 'margin',
    score: toStoredPrecision(entries[0]!.score!),
    probabilities: page.data[0].probabilities,
    rationale: page.data[0].rationale,
  });
  const lease = await h.db.pool.query('SELECT ranking_id, model_id, selection_score, selection_strategy FROM task_leases WHERE id = $1', [task.task_id]);
  expect(lease.rows[0]).toEqual({ ranking_id: rankingId, model_id: modelId, selection_score: entries[0]!.score, selection_strategy: 'margin' });
  const submitted = await ann.http({ method: 'POST', url: `/v1/tasks/${task.task_id}/annotation`, payload: { label: gold.get(task.item.external_id) } });
  expect(submitted.json().selection).toEqual({ model_version: 1, strategy: 'margin', score: task.selection.score });
  expect(submitted.json()).toMatchObject({ annotator: 'ann', user_id: ann.userId, late: false });
  const annotation = await h.db.pool.query('SELECT model_id, selection_score, selection_strategy FROM annotations WHERE id = $1', [submitted.json().id]);
  expect(annotation.rows[0]).toEqual({ model_id: modelId, selection_score: entries[0]!.score, selection_strategy: 'margin' });
}, 240_000);

it('stores the rationale of batch picks only, above every score, and derives the rest as margin', async () => {
  expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { strategy: 'coreset' } })).statusCode).toBe(200);
  const ranked = await processRankPool({ pool: h.db.pool }, { projectId, reason: 'strategy-changed' }, job('sampling'));
  expect(ranked).toMatchObject({ strategy: 'coreset' });
  const entries = await storedEntries((ranked as { rankingId: number }).rankingId);
  for (const e of entries) rankingEntrySchema.parse(e);
  const picks = entries.slice(0, BATCH);
  expect(picks.every((e) => e.rationale !== null && e.priority > 1)).toBe(true);
  expect(entries.slice(BATCH).every((e) => e.rationale === null && e.priority <= 1)).toBe(true);

  const page = await get(`/v1/projects/${projectId}/ranking?limit=${BATCH + 3}`);
  expect(page.data.slice(0, BATCH).map((e: { rationale: string }) => e.rationale)).toEqual(picks.map((e) => e.rationale));
  expect(page.data.slice(BATCH).map((e: { rationale: string }) => e.rationale)).toEqual(
    entries.slice(BATCH, BATCH + 3).map((e) => rationale('margin', e.probs!, LABELS)),
  );
  const task = (await next()).json();
  expect(task.selection).toMatchObject({ model_version: 1, strategy: 'coreset', rationale: picks[0]!.rationale });
}, 240_000);

it('has Postgres refuse lease provenance that breaks its contract, as the one-statement lease writes it', async () => {
  const { rows } = await h.db.pool.query<{ id: number }>('SELECT id FROM items WHERE project_id = $1 LIMIT 1', [projectId]);
  const lease = (ranking: number | null, model: number | null, score: number | null, strategy: string) =>
    h.db.pool.query(
      `INSERT INTO task_leases (id, project_id, item_id, annotator, ranking_id, model_id, selection_score, selection_strategy, expires_at)
       VALUES (gen_random_uuid(), $1, $2, 'check', $3, $4, $5, $6, now())`,
      [projectId, rows[0]!.id, ranking, model, score, strategy],
    );
  const refused = /task_leases_provenance/;
  await expect(lease(1, null, null, 'unranked')).rejects.toThrow(refused);
  await expect(lease(1, 1, null, 'margin')).rejects.toThrow(refused);
  await expect(lease(1, 1, 0.4, 'cold_start')).rejects.toThrow(refused);
  await expect(lease(null, null, null, 'margin')).rejects.toThrow(refused);
  // What leaseNextItem writes: each of the three shapes.
  await expect(lease(null, null, null, 'unranked')).resolves.toBeTruthy();
  await expect(lease(1, null, null, 'cold_start')).resolves.toBeTruthy();
  await expect(lease(1, 1, 0.4, 'margin')).resolves.toBeTruthy();
  await h.db.pool.query(`DELETE FROM task_leases WHERE annotator = 'check'`);
});
