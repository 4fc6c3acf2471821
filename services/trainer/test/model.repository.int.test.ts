import { withTransaction } from '@alder/db';
import { annotate, seedProject } from '@alder/fixtures';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { beginTraining, finishTraining, type FinishedTraining, type Training } from '../src/model.repository';

// The commit of a training, without training a model: what it decides about a follow-up
// (the retrain rule, @alder/retraining) given the labels that arrived while it ran.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

let jobs = 0;
async function begin(projectId: string): Promise<{ training: Training; jobKey: string }> {
  const jobKey = `training:commit-${++jobs}`;
  const start = await withTransaction(db.pool, (client) => beginTraining(client, { projectId, jobKey, reason: 'manual' }));
  if (start.kind !== 'started') throw new Error(`training did not start: ${start.reason}`);
  return { training: start.training, jobKey };
}

const finished = (labelCountSeen: number): FinishedTraining => ({
  params: new Uint8Array(8),
  metrics: {},
  backend: 'cpu',
  trainCount: labelCountSeen,
  testCount: 0,
  trainMs: 1,
  hyperparameters: {},
  annotationIds: [],
  examples: [],
  maxAnnotationId: null,
  labelCountSeen,
});

async function state(projectId: string) {
  const project = await db.pool.query('SELECT label_count, train_requested_at_count FROM projects WHERE id = $1', [projectId]);
  const outbox = await db.pool.query(`SELECT job_name, payload->>'reason' AS reason FROM outbox WHERE payload->>'projectId' = $1 ORDER BY id`, [projectId]);
  return { ...project.rows[0], jobs: outbox.rows.map((r) => `${r.job_name}:${r.reason}`) };
}

describe('finishTraining', () => {
  it('enqueues a follow-up when a retrain\'s worth of labels arrived during the training', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 100, labeled: 60, testSize: 0, retrainEvery: 20 });
    const { training, jobKey } = await begin(seeded.projectId);
    await annotate(db.pool, seeded.projectId, seeded.poolIds.slice(60, 85), Array(25).fill('HUM'));
    const outcome = await withTransaction(db.pool, (client) => finishTraining(client, training, jobKey, finished(60)));
    expect(outcome).toEqual({ kind: 'ready', current: true, followup: true });
    expect(await state(seeded.projectId)).toEqual({ label_count: 85, train_requested_at_count: 85, jobs: ['rank-pool:model-trained', 'train-model:followup'] });
  });

  it('enqueues none when fewer labels than retrain_every arrived and nobody asked', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 100, labeled: 60, testSize: 0, offset: 500, retrainEvery: 20 });
    const { training, jobKey } = await begin(seeded.projectId);
    await annotate(db.pool, seeded.projectId, seeded.poolIds.slice(60, 79), Array(19).fill('HUM'));
    const outcome = await withTransaction(db.pool, (client) => finishTraining(client, training, jobKey, finished(60)));
    expect(outcome).toEqual({ kind: 'ready', current: true, followup: false });
    expect(await state(seeded.projectId)).toEqual({ label_count: 79, train_requested_at_count: 60, jobs: ['rank-pool:model-trained'] });
  });
});
