import { createProject, insertItems, insertModel, insertRanking, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';
const perClass = [
  { label: 'pos', precision: 0.8, recall: 0.7, f1: 0.75, support: 10 },
  { label: 'neg', precision: 0.6, recall: 0.9, f1: 0.72, support: 8 },
];
/** models.metrics in API shape, and as the trainer stores it (with its test count). */
const metrics = (accuracy: number) => ({ accuracy, macro_f1: accuracy - 0.05, per_class: perClass });
const storedMetrics = (accuracy: number) => ({ ...metrics(accuracy), test_count: 18 });

describe('GET /v1/projects/{project_id}/progress', () => {
  it('reports counts, the retrain countdown, training, the current model and ranking', async () => {
    const projectId = await createProject(h, { retrain_every: 5 });
    const pool = await insertItems(h.db.pool, projectId, 6);
    await insertItems(h.db.pool, projectId, 3, 'test');
    await h.db.pool.query(`UPDATE items SET gold_label = 'pos' WHERE project_id = $1 AND split = 'test' AND external_id LIKE '%1'`, [projectId]);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, metrics: storedMetrics(0.75), current: true });
    await insertModel(h.db.pool, projectId, { version: 2, status: 'training' });
    await insertRanking(h.db.pool, projectId, modelId, 'margin', pool.map((itemId, i) => ({ itemId, priority: i / 10, score: i / 10, probs: [0.5, 0.5] })));

    const a = await h.as(projectId, 'a');
    const leased = await a.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` });
    expect((await a.http({ method: 'POST', url: `/v1/tasks/${leased.json().task_id}/annotation`, payload: { label: 'pos' } })).statusCode).toBe(201);
    expect((await a.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` })).statusCode).toBe(200);

    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      project_id: projectId,
      items: { total: 9, pool: 6, test: 3, test_labeled: 1, labeled: 1, unlabeled: 5, leased: 1 },
      annotations: { total: 1, from_annotators: 1, imported: 0 },
      label_count: 1,
      retrain_every: 5,
      labels_until_retrain: 4,
      training: { in_progress: true, version: 2, started_at: expect.any(String) },
      current_model: { version: 1, metrics: metrics(0.75), train_count: 10, finished_at: expect.any(String) },
      ranking: { id: expect.any(Number), strategy: 'margin', model_version: 1, item_count: 6, created_at: expect.any(String) },
      // A model without stopping evidence (trained before it existed): nothing judged yet.
      stopping: { stop_recommended: false, criteria: expect.any(Array), evaluated_at_model_version: null, stop_set_size: 0 },
    });
  });

  it('is empty but complete for a new project; 404 for an unknown one', async () => {
    const projectId = await createProject(h);
    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` });
    expect(res.json()).toMatchObject({
      items: { total: 0, pool: 0, test: 0, test_labeled: 0, labeled: 0, unlabeled: 0, leased: 0 },
      labels_until_retrain: 20,
      training: { in_progress: false, version: null, started_at: null },
      current_model: null,
      ranking: null,
    });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${MISSING}/progress` })).statusCode).toBe(404);
  });

  it('is readable by every member, a viewer too, and by nobody outside the project', async () => {
    const projectId = await createProject(h);
    const other = await createProject(h);
    for (const role of ['manager', 'annotator', 'reviewer', 'expert', 'viewer'] as const) {
      const member = await h.as(projectId, `progress ${role}`, role);
      for (const url of [`/v1/projects/${projectId}/progress`, `/v1/projects/${projectId}/models`, `/v1/projects/${projectId}/ranking`]) {
        expect([role, url, (await member.http({ method: 'GET', url })).statusCode]).toEqual([role, url, 200]);
      }
    }
    // An integrator feeds items, and reads no labeling state.
    const integrator = await h.as(projectId, 'progress integrator', 'integrator');
    expect((await integrator.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` })).statusCode).toBe(403);
    // A member of another project learns nothing about this one: 404, as for a missing project.
    const outsider = await h.as(other, 'outsider', 'manager');
    const res = await outsider.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` });
    expect(res.statusCode).toBe(404);
    expect(res.json().type).toBe('https://alder.dev/problems/not-found');
    expect((await outsider.http({ method: 'GET', url: `/v1/projects/${projectId}/models/1` })).statusCode).toBe(404);
  });
});

describe('models', () => {
  it('lists versions oldest first with their metrics (the learning curve)', async () => {
    const projectId = await createProject(h);
    await insertModel(h.db.pool, projectId, { version: 1, metrics: storedMetrics(0.6) });
    await insertModel(h.db.pool, projectId, { version: 2, metrics: storedMetrics(0.7), current: true });
    await insertModel(h.db.pool, projectId, { version: 3, status: 'failed', metrics: { accuracy: null, macro_f1: null, per_class: [], test_count: 0 } });
    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ total: 3, limit: 100, offset: 0 });
    expect(body.data.map((m: { version: number; is_current: boolean }) => [m.version, m.is_current])).toEqual([[1, false], [2, true], [3, false]]);
    expect(body.data[1]).toEqual({
      version: 2,
      status: 'ready',
      is_current: true,
      labels: ['pos', 'neg'],
      backend: 'cpu',
      train_count: 20,
      test_count: 5,
      metrics: metrics(0.7),
      stopping: null,
      train_ms: 120,
      error: null,
      created_at: expect.any(String),
      finished_at: expect.any(String),
    });
    expect(body.data[2].metrics).toEqual({ accuracy: null, macro_f1: null, per_class: [] });
    const page = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models?limit=1&offset=1` });
    expect(page.json().data.map((m: { version: number }) => m.version)).toEqual([2]);
  });

  it('answers 500 stored-data-invalid for metrics or stopping evidence that break their contract; never guesses', async () => {
    const projectId = await createProject(h);
    // camelCase, as evaluate() returns it: the trainer never stores that, so the API does not read it.
    await insertModel(h.db.pool, projectId, { version: 1, metrics: { accuracy: 0.5, macroF1: 0.4, perClass: [], test_count: 3 } });
    await insertModel(h.db.pool, projectId, { version: 2, current: true, metrics: storedMetrics(0.7), stopping: { stop_recommended: 'yes', criteria: [] } });
    const expectInvalid = async (url: string, contract: string) => {
      const res = await h.http({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, 500]);
      expect(res.json()).toMatchObject({ type: 'https://alder.dev/problems/stored-data-invalid', status: 500, request_id: expect.any(String) });
      expect(res.json().detail).toContain(`(${contract})`);
      expect(res.json().detail).not.toMatch(/macroF1|stop_recommended/);
    };
    await expectInvalid(`/v1/projects/${projectId}/models`, 'models.metrics');
    await expectInvalid(`/v1/projects/${projectId}/models/1`, 'models.metrics');
    await expectInvalid(`/v1/projects/${projectId}/models/2`, 'models.stopping');
    await expectInvalid(`/v1/projects/${projectId}/progress`, 'models.stopping');
    // Nothing else is affected: the project itself still reads.
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).statusCode).toBe(200);
  });

  it('gets one version; 404 for an unknown version or project', async () => {
    const projectId = await createProject(h);
    await insertModel(h.db.pool, projectId, { version: 1 });
    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models/1` });
    expect(res.json()).toMatchObject({ version: 1, metrics: null, is_current: false });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models/2` })).statusCode).toBe(404);
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models/abc` })).statusCode).toBe(404);
    expect((await h.http({ method: 'GET', url: `/v1/projects/${MISSING}/models` })).statusCode).toBe(404);
  });
});

describe('GET /v1/projects/{project_id}/ranking', () => {
  it('pages through the unlabeled queue, highest priority first', async () => {
    const projectId = await createProject(h);
    const ids = await insertItems(h.db.pool, projectId, 4);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, labels: ['neg', 'pos'], current: true });
    await h.db.pool.query(`UPDATE items SET text = repeat('x', 500) WHERE id = $1`, [ids[3]]);
    await insertRanking(h.db.pool, projectId, modelId, 'least_confidence', [
      { itemId: ids[0]!, priority: 0.1, score: 0.1, probs: [0.95, 0.05], rationale: 'sure' },
      { itemId: ids[1]!, priority: 0.9, score: 0.9, probs: [0.5, 0.5], rationale: 'coin flip' },
      { itemId: ids[2]!, priority: 0.5, score: 0.5, probs: [0.25, 0.75], rationale: 'unsure' },
      { itemId: ids[3]!, priority: 0.7, score: 0.7, probs: [0.35, 0.65], rationale: 'long text' },
    ]);
    await h.db.pool.query(`UPDATE items SET status = 'labeled' WHERE id = $1`, [ids[2]]);
    expect((await (await h.as(projectId, 'a')).http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` })).statusCode).toBe(200);

    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/ranking?limit=2` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.ranking).toEqual({ id: expect.any(Number), strategy: 'least_confidence', model_version: 1, item_count: 4, created_at: expect.any(String) });
    expect(body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(body.data[0]).toEqual({
      position: 1,
      item: { id: ids[1], external_id: 'i-pool-2', text_excerpt: 'text of i-pool-2' },
      priority: 0.9,
      score: 0.9,
      probabilities: { neg: 0.5, pos: 0.5 },
      rationale: 'coin flip',
      leased: true,
    });
    expect(body.data[1]).toMatchObject({ position: 2, item: { id: ids[3] }, leased: false });
    expect(body.data[1].item.text_excerpt).toHaveLength(200);
    const rest = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/ranking?limit=2&offset=2` })).json();
    expect(rest.data.map((e: { position: number; item: { id: number } }) => [e.position, e.item.id])).toEqual([[3, ids[0]]]);
  });

  it('is null before the first ranking; 404 for an unknown project', async () => {
    const projectId = await createProject(h);
    const res = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/ranking` });
    expect(res.json()).toEqual({ ranking: null, data: [], total: 0, limit: 50, offset: 0 });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${MISSING}/ranking` })).statusCode).toBe(404);
  });
});
