import { DEFAULT_STOPPING_OPTIONS, recommendStop } from '@alder/learning/pure';
import { createProject, insertItems, insertModel, publishColdStart, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const criterion = (body: { criteria: { name: string }[] }, name: string) => body.criteria.find((c) => c.name === name);

/** `count` labels by an annotator of the project, through the API. */
async function label(projectId: string, count: number): Promise<void> {
  const annotator = await h.as(projectId, 'a');
  for (let i = 0; i < count; i++) {
    const task = await annotator.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` });
    expect(task.statusCode).toBe(200);
    const res = await annotator.http({ method: 'POST', url: `/v1/tasks/${task.json().task_id}/annotation`, payload: { label: 'pos' } });
    expect(res.statusCode).toBe(201);
  }
}

describe('label_budget', () => {
  it('is set on create, changed and cleared on update, and kept when other settings change', async () => {
    const created = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'b', labels: ['pos', 'neg'], label_budget: 500 } });
    expect(created.statusCode).toBe(201);
    expect(created.json().label_budget).toBe(500);
    const projectId = created.json().id;
    const patch = (payload: Record<string, unknown>) => h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload });

    expect((await patch({ label_budget: 300 })).json().label_budget).toBe(300);
    expect((await patch({ guidelines: 'x' })).json().label_budget).toBe(300);
    expect((await patch({ label_budget: null })).json().label_budget).toBeNull();
    // The budget is the project's managers' to set; the people labeling can only read it.
    const manager = await h.as(projectId, 'lead', 'manager');
    const annotator = await h.as(projectId, 'a');
    const setBy = (member: typeof manager, label_budget: number) => member.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { label_budget } });
    expect((await setBy(annotator, 10)).statusCode).toBe(403);
    expect((await setBy(manager, 250)).json().label_budget).toBe(250);
    expect((await annotator.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().label_budget).toBe(250);
    expect((await patch({ label_budget: null })).json().label_budget).toBeNull();
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().label_budget).toBeNull();
    expect((await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'n', labels: ['a', 'b'], label_budget: null } })).json().label_budget).toBeNull();
  });

  it('refuses a zero, negative, fractional or non-numeric budget with 422 and writes nothing', async () => {
    const projectId = await createProject(h, { label_budget: 40 });
    const before = await h.db.pool.query('SELECT count(*)::int AS n FROM projects');
    for (const label_budget of [0, -5, 1.5, 'ten', 100_000_001]) {
      const created = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'x', labels: ['a', 'b'], label_budget } });
      expect([label_budget, created.statusCode]).toEqual([label_budget, 422]);
      expect(created.json().errors.map((e: { path: string }) => e.path)).toContain('body/label_budget');
      const updated = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { label_budget, name: 'changed' } });
      expect([label_budget, updated.statusCode]).toEqual([label_budget, 422]);
    }
    const after = await h.db.pool.query('SELECT count(*)::int AS n FROM projects');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const row = await h.db.pool.query('SELECT name, label_budget FROM projects WHERE id = $1', [projectId]);
    expect(row.rows[0]).toEqual({ name: 'test', label_budget: 40 });
    // The database refuses one too, whoever writes.
    await expect(h.db.pool.query('UPDATE projects SET label_budget = 0 WHERE id = $1', [projectId])).rejects.toThrow(/check constraint/);
  });
});

describe('stopping state', () => {
  it('judges nothing before the first model, but a reached budget recommends stopping', async () => {
    const projectId = await createProject(h, { label_budget: 2 });
    await insertItems(h.db.pool, projectId, 4);
    await publishColdStart(h.db.pool, projectId);
    const progress = async () => (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` })).json().stopping;

    const fresh = await progress();
    expect(fresh).toMatchObject({ stop_recommended: false, evaluated_at_model_version: null, stop_set_size: 0 });
    expect(fresh.criteria.map((c: { name: string }) => c.name)).toEqual([
      'stabilizing_predictions',
      'min_labels',
      'budget',
      'overall_uncertainty',
      'classification_change',
    ]);
    expect(criterion(fresh, 'stabilizing_predictions')).toMatchObject({ met: false, value: null, threshold: 0.99, decides: true });
    expect(criterion(fresh, 'overall_uncertainty')).toMatchObject({ met: false, value: null, decides: false });
    expect(criterion(fresh, 'budget')).toEqual({ name: 'budget', met: false, value: 0, threshold: 2, decides: true, detail: '0 of 2 labels spent' });

    await label(projectId, 2);
    const spent = await progress();
    expect(spent.stop_recommended).toBe(true);
    expect(criterion(spent, 'budget')).toMatchObject({ met: true, value: 2, threshold: 2 });

    // Raising the budget takes the recommendation back at once; no budget never stops by budget.
    await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { label_budget: 3 } });
    expect((await progress()).stop_recommended).toBe(false);
    await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { label_budget: null } });
    expect(criterion(await progress(), 'budget')).toMatchObject({ met: false, value: 2, threshold: null });
  });

  it("reports the current model's evidence with the budget of now; models show their own", async () => {
    const projectId = await createProject(h, { label_budget: 1000 });
    const ids = await insertItems(h.db.pool, projectId, 3);
    await h.db.pool.query('INSERT INTO stop_set_items (project_id, position, item_id) SELECT $1, n - 1, id FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, n)', [projectId, ids]);
    // Evidence as the trainer stores it: the same predictions over a long enough run of models.
    const same = [0, 1, 1];
    const history = [400, 420, 440, 460].map((labels, i) => ({ labels, predictions: same, version: i + 1 }));
    const judged = recommendStop({ numClasses: 2, labelCount: 460, budget: 1000, history, probs: Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.3, 0.7]) });
    expect(judged.stop_recommended).toBe(true);
    const early = recommendStop({ numClasses: 2, labelCount: 400, budget: 1000, history: history.slice(0, 1), probs: null });
    await insertModel(h.db.pool, projectId, { version: 1, stopping: { ...early, label_count: 400, label_budget: 1000, stop_set_size: 3, options: DEFAULT_STOPPING_OPTIONS } });
    await insertModel(h.db.pool, projectId, { version: 2, current: true, stopping: { ...judged, label_count: 460, label_budget: 1000, stop_set_size: 3, options: DEFAULT_STOPPING_OPTIONS } });
    await insertModel(h.db.pool, projectId, { version: 3, status: 'training' });

    const stopping = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/progress` })).json().stopping;
    expect(stopping).toMatchObject({ stop_recommended: true, evaluated_at_model_version: 2, stop_set_size: 3 });
    expect(criterion(stopping, 'stabilizing_predictions')).toMatchObject({ met: true, value: 1, threshold: 0.99 });
    expect(criterion(stopping, 'classification_change')).toMatchObject({ met: true, value: 0, threshold: 0 });
    // The budget is judged with the label count of now (0 here: no annotations were made), not the stored one.
    expect(criterion(stopping, 'budget')).toMatchObject({ met: false, value: 0, threshold: 1000 });

    const models = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models` })).json().data;
    expect(models.map((m: { stopping: { stop_recommended: boolean } | null }) => m.stopping?.stop_recommended ?? null)).toEqual([false, true, null]);
    expect(models[1].stopping).toEqual({
      stop_recommended: true,
      criteria: expect.any(Array),
      label_count: 460,
      label_budget: 1000,
      stop_set_size: 3,
    });
    expect(criterion(models[1].stopping, 'budget')).toMatchObject({ met: false, value: 460, threshold: 1000 });
    const one = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/models/1` })).json();
    expect(criterion(one.stopping, 'stabilizing_predictions')).toMatchObject({ met: false, value: null });
  });
});
