import { createLogger } from '@alder/logger';
import type { JobContext } from '@alder/queues';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { processTrainModel, type StoppingEvidence, type TrainModelDeps } from '../src/index';
import { annotate, insertItems, seedProject, trec } from '@alder/fixtures';

let db: TestDatabase;
const log = createLogger({ level: 'silent' });
let jobs = 0;
const context = (): Pick<JobContext, 'jobKey' | 'log'> => ({ jobKey: `training:stop-${++jobs}`, log });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const train = (projectId: string, deps: Partial<TrainModelDeps> = {}) =>
  processTrainModel({ pool: db.pool, ...deps }, { projectId, reason: 'manual' }, context());

async function stopSet(projectId: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ item_id: number }>('SELECT item_id FROM stop_set_items WHERE project_id = $1 ORDER BY position', [projectId]);
  return rows.map((r) => r.item_id);
}

async function modelsOf(projectId: string) {
  const { rows } = await db.pool.query<{ version: number; status: string; stopping: StoppingEvidence | null; predictions: number[] | null }>(
    `SELECT m.version, m.status, m.stopping, s.predictions
       FROM models m LEFT JOIN model_stop_predictions s ON s.model_id = m.id
      WHERE m.project_id = $1 ORDER BY m.version`,
    [projectId],
  );
  return rows;
}

const criterion = (evidence: StoppingEvidence | null, name: string) => evidence?.criteria.find((c) => c.name === name);

describe('stopping evidence of trained models', () => {
  it('chooses a fixed stop set at the first model and stores predictions and evidence for every model', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 300, labeled: 100, testSize: 0, offset: 4500 });
    const first = await train(seeded.projectId);
    expect(first).toMatchObject({ version: 1, stopRecommended: false });

    // Every unlabeled pool item (fewer than 2,000), in a hashed order rather than the file's.
    const chosen = await stopSet(seeded.projectId);
    const unlabeled = seeded.poolIds.slice(100);
    expect([...chosen].sort((a, b) => a - b)).toEqual(unlabeled);
    expect(chosen).not.toEqual(unlabeled);

    let [v1] = await modelsOf(seeded.projectId);
    expect(v1!.predictions).toHaveLength(200);
    expect(v1!.predictions!.every((c) => Number.isInteger(c) && c >= 0 && c < 6)).toBe(true);
    expect(v1!.stopping).toMatchObject({ stop_recommended: false, label_count: 100, label_budget: null, stop_set_size: 200 });
    expect(v1!.stopping!.options).toMatchObject({ kappa: 0.99, window: 3 });
    expect(criterion(v1!.stopping, 'stabilizing_predictions')).toMatchObject({ met: false, value: null, threshold: 0.99, decides: true });
    expect(criterion(v1!.stopping, 'classification_change')).toMatchObject({ value: null, decides: false });
    expect(criterion(v1!.stopping, 'overall_uncertainty')!.value).toBeGreaterThan(0);

    // Labels on stop-set items do not change the stop set: the next model predicts the same items.
    const more = [...chosen.slice(0, 5), ...unlabeled.filter((id) => !chosen.slice(0, 5).includes(id)).slice(0, 15)];
    const rows = trec('train').slice(4500, 4800);
    await annotate(db.pool, seeded.projectId, more, more.map((id) => rows[seeded.poolIds.indexOf(id)]!.label));
    expect(await train(seeded.projectId)).toMatchObject({ version: 2, trainCount: 120, stopRecommended: false });
    expect(await stopSet(seeded.projectId)).toEqual(chosen);

    let v2;
    [v1, v2] = await modelsOf(seeded.projectId);
    const changed = v1!.predictions!.filter((c, i) => c !== v2!.predictions![i]).length / 200;
    expect(criterion(v2!.stopping, 'classification_change')!.value).toBeCloseTo(changed, 4);
    expect(criterion(v2!.stopping, 'stabilizing_predictions')!.detail).toMatch(/1 of 3 .*v1→v2/);
    expect(v2!.stopping).toMatchObject({ label_count: 120, stop_set_size: 200 });

    // A budget reached recommends stopping, whatever the predictions do.
    await db.pool.query('UPDATE projects SET label_budget = 120 WHERE id = $1', [seeded.projectId]);
    expect(await train(seeded.projectId)).toMatchObject({ version: 3, stopRecommended: true });
    const v3 = (await modelsOf(seeded.projectId))[2]!;
    expect(criterion(v3.stopping, 'budget')).toMatchObject({ met: true, value: 120, threshold: 120, decides: true });
    // A retrain on the same labels is no new check: still one pair compared.
    expect(criterion(v3.stopping, 'stabilizing_predictions')!.detail).toMatch(/1 of 3 .*v1→v3/);
  });

  it('recommends stopping once the window of successive models is compared (thresholds from deps)', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 200, labeled: 100, testSize: 0, offset: 3000 });
    // kappa 0 is met by any two real models: this checks the window and minimum wiring, not the threshold.
    const deps = { stoppingOptions: { kappa: 0, window: 2, minLabels: 100 } };
    const results = [];
    for (let i = 0; i < 3; i++) {
      if (i) await annotate(db.pool, seeded.projectId, [seeded.poolIds[100 + i]!], [trec('train')[3100 + i]!.label]);
      results.push(await train(seeded.projectId, deps));
    }
    expect(results.map((r) => ('stopRecommended' in r ? r.stopRecommended : r))).toEqual([false, false, true]);
    const last = (await modelsOf(seeded.projectId))[2]!.stopping;
    expect(last!.options).toMatchObject({ kappa: 0, window: 2, minLabels: 100 });
    expect(criterion(last, 'stabilizing_predictions')).toMatchObject({ met: true, threshold: 0 });
    expect(criterion(last, 'stabilizing_predictions')!.detail).toMatch(/v1→v2 .*v2→v3/);
  });

  it('waits for unlabeled pool items before choosing a stop set', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 2000 });
    await train(seeded.projectId);
    expect(await stopSet(seeded.projectId)).toEqual([]);
    const [v1] = await modelsOf(seeded.projectId);
    expect(v1!.predictions).toBeNull();
    expect(v1!.stopping).toMatchObject({ stop_recommended: false, stop_set_size: 0 });
    expect(criterion(v1!.stopping, 'overall_uncertainty')).toMatchObject({ met: false, value: null });

    const added = await insertItems(db.pool, seeded.projectId, trec('train').slice(2060, 2090), 'pool', 'late');
    await train(seeded.projectId);
    expect((await stopSet(seeded.projectId)).sort((a, b) => a - b)).toEqual(added);
    expect((await modelsOf(seeded.projectId))[1]!.stopping).toMatchObject({ stop_set_size: 30 });
  });

  it('commits the model without evidence when the stopping evaluation fails', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 120, labeled: 60, testSize: 0, offset: 1000 });
    await train(seeded.projectId);
    // A stored prediction outside the label set makes the comparison throw.
    await db.pool.query(
      `UPDATE model_stop_predictions SET predictions[1] = 99 WHERE model_id = (SELECT id FROM models WHERE project_id = $1 AND version = 1)`,
      [seeded.projectId],
    );
    await annotate(db.pool, seeded.projectId, [seeded.poolIds[60]!], [trec('train')[1060]!.label]);
    const result = await train(seeded.projectId);
    expect(result).toMatchObject({ version: 2, stopRecommended: null });
    const [, v2] = await modelsOf(seeded.projectId);
    // Rolled back to the savepoint: no evidence and no predictions, but the model is ready and current.
    expect(v2).toMatchObject({ status: 'ready', stopping: null, predictions: null });
    const project = await db.pool.query('SELECT (SELECT version FROM models WHERE id = current_model_id) AS v FROM projects WHERE id = $1', [seeded.projectId]);
    expect(project.rows[0].v).toBe(2);
  });
});
