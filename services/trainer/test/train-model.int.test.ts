import { createComputePool, inlineCompute } from '@alder/compute';
import { Queue, QueueEvents } from 'bullmq';
import { createLogger } from '@alder/logger';
import { createRedis, isJobProcessed, type JobContext } from '@alder/queues';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { NO_LABELS_ERROR, processTrainModel, startTrainer, type ModelMetrics } from '../src/index';
import { beatTraining, beginTraining } from '../src/model.repository';
import { annotate, seedProject, TREC_LABELS } from '@alder/fixtures';
import { markTrainingRequested } from '@alder/retraining';
import { BALD_DROPOUT, deserializeModel } from '@alder/learning';

let db: TestDatabase;
let redis: TestRedis;
const log = createLogger({ level: 'silent' });
let jobs = 0;
const context = (jobKey = `training:test-${++jobs}`): Pick<JobContext, 'jobKey' | 'log'> => ({ jobKey, log });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});
afterAll(async () => {
  await redis.cleanup();
  await db.drop();
});

async function models(projectId: string) {
  const { rows } = await db.pool.query<{ id: number; version: number; status: string; error: string | null; request_key: string }>(
    'SELECT id, version, status, error, request_key FROM models WHERE project_id = $1 ORDER BY id',
    [projectId],
  );
  return rows;
}

async function outbox(projectId: string) {
  const { rows } = await db.pool.query<{ queue: string; job_name: string; payload: Record<string, unknown> }>(
    `SELECT queue, job_name, payload FROM outbox WHERE payload->>'projectId' = $1 ORDER BY id`,
    [projectId],
  );
  return rows;
}

describe('train-model processor', () => {
  it('trains, evaluates and commits the model with lineage, current model and a rank-pool job', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 260, labeled: 200, testSize: 100 });
    // A correction: the latest annotation of an item is the one trained on.
    const [correction] = await annotate(db.pool, seeded.projectId, [seeded.labeledIds[0]!], ['NUM']);
    // A label outside the project's label set is skipped.
    const [outside] = await annotate(db.pool, seeded.projectId, [seeded.poolIds[250]!], ['NOT_A_LABEL']);
    await markTrainingRequested(db.pool, seeded.projectId);

    const ctx = context();
    const result = await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId, reason: 'labels' }, ctx);
    expect(result).toMatchObject({ version: 1, trainCount: 200, testCount: 100, followup: false });

    const { rows } = await db.pool.query<{
      id: number; status: string; metrics: ModelMetrics; backend: string; train_count: number; test_count: number;
      train_ms: number; max_annotation_id: number; params: Buffer; labels: string[]; hyperparameters: Record<string, unknown>; finished_at: Date | null;
    }>('SELECT * FROM models WHERE project_id = $1', [seeded.projectId]);
    const model = rows[0]!;
    expect(model.status).toBe('ready');
    expect(model.labels).toEqual(TREC_LABELS);
    expect(model.backend).toMatch(/^(wasm|cpu|tensorflow)$/);
    expect(model.train_count).toBe(200);
    expect(model.test_count).toBe(100);
    expect(model.train_ms).toBeGreaterThan(0);
    expect(model.params.length).toBeGreaterThan(1000);
    expect(model.finished_at).not.toBeNull();
    expect(model.hyperparameters).toMatchObject({ seed: 1, dropout: 0 });
    expect(model.metrics.test_count).toBe(100);
    expect(model.metrics.accuracy).toBeGreaterThan(0.3);
    expect(model.metrics.macro_f1).toBeGreaterThan(0);
    expect(model.metrics.per_class.map((c) => c.label)).toEqual(TREC_LABELS);
    expect(model.metrics.per_class.reduce((s, c) => s + c.support, 0)).toBe(100);
    expect(Object.keys(model.metrics.per_class[0]!).sort()).toEqual(['f1', 'label', 'precision', 'recall', 'support']);
    // Every annotation up to the highest one read was considered, the skipped one included.
    expect(model.max_annotation_id).toBe(outside);

    const lineage = await db.pool.query<{ annotation_id: number }>('SELECT annotation_id FROM model_training_labels WHERE model_id = $1 ORDER BY 1', [model.id]);
    const expected = [...seeded.annotationIds.slice(1), correction!].sort((a, b) => a - b);
    expect(lineage.rows.map((r) => r.annotation_id)).toEqual(expected);

    const project = await db.pool.query('SELECT current_model_id FROM projects WHERE id = $1', [seeded.projectId]);
    expect(project.rows[0].current_model_id).toBe(model.id);
    expect(await outbox(seeded.projectId)).toEqual([
      { queue: 'sampling', job_name: 'rank-pool', payload: { projectId: seeded.projectId, modelId: model.id, reason: 'model-trained' } },
    ]);
    expect(await isJobProcessed(db.pool, ctx.jobKey)).toBe(true);

    // A redelivery of the same job changes nothing.
    expect(await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId }, ctx)).toEqual({ skipped: 'done' });
    expect(await models(seeded.projectId)).toHaveLength(1);
    expect(await outbox(seeded.projectId)).toHaveLength(1);

    // A label-triggered job for a project whose current model saw every annotation is a no-op;
    // a manual one trains version 2.
    expect(await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId, reason: 'labels' }, context())).toEqual({ skipped: 'up-to-date' });
    expect(await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId, reason: 'manual' }, context())).toMatchObject({ version: 2 });
  });

  it('trains a bald project with MC dropout at the rate bald samples with, and records it', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 120, labeled: 100, testSize: 40, strategy: 'bald' });
    const result = await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId, reason: 'labels' }, context());
    expect(result).toMatchObject({ version: 1, trainCount: 100 });
    const { rows } = await db.pool.query<{ hyperparameters: Record<string, unknown>; params: Buffer }>(
      `SELECT hyperparameters, params FROM models WHERE project_id = $1 AND status = 'ready'`,
      [seeded.projectId],
    );
    expect(rows[0]!.hyperparameters).toMatchObject({ dropout: BALD_DROPOUT });
    expect(deserializeModel(rows[0]!.params).meta.dropout).toBe(BALD_DROPOUT);
  });

  it('waits while another training beats, never two training rows, and trains once it has ended', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 1000 });
    await db.pool.query(
      `INSERT INTO models (project_id, version, status, request_key, labels, heartbeat_at) VALUES ($1, 1, 'training', 'training:other', $2, now())`,
      [seeded.projectId, TREC_LABELS],
    );
    // Never stale within the test: the job can only go on once the other training ends.
    const job = processTrainModel({ pool: db.pool, heartbeatMs: 20, staleSeconds: 3600 }, { projectId: seeded.projectId }, context());
    let settled = false;
    void job.finally(() => (settled = true));
    const waited = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM models WHERE project_id = $1`, [seeded.projectId]);
    expect([waited.rows[0]!.n, settled]).toEqual([1, false]);
    await db.pool.query(`UPDATE models SET status = 'failed', error = 'its trainer gave up', finished_at = now() WHERE request_key = 'training:other'`);
    expect(await job).toMatchObject({ version: 2, trainCount: 60 });
    expect((await models(seeded.projectId)).map((m) => [m.version, m.status])).toEqual([
      [1, 'failed'],
      [2, 'ready'],
    ]);
  });

  it('takes over a training whose heartbeat stopped (its trainer died) at once', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 2000 });
    await db.pool.query(
      `INSERT INTO models (project_id, version, status, request_key, labels, started_at, heartbeat_at)
       VALUES ($1, 1, 'training', 'training:dead', $2, now() - interval '2 minutes', now() - interval '1 minute')`,
      [seeded.projectId, TREC_LABELS],
    );
    const result = await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId }, context());
    expect(result).toMatchObject({ version: 2, trainCount: 60, testCount: 0 });
    const rows = await models(seeded.projectId);
    expect(rows.map((m) => [m.version, m.status, m.error])).toEqual([[1, 'failed', 'stale'], [2, 'ready', null]]);
    const metrics = await db.pool.query('SELECT metrics FROM models WHERE id = $1', [rows[1]!.id]);
    expect(metrics.rows[0].metrics).toEqual({ accuracy: null, macro_f1: null, per_class: [], test_count: 0 });
  });

  it('keeps the heartbeat of its own training only', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 3000 });
    const client = await db.pool.connect();
    const start = await beginTraining(client, { projectId: seeded.projectId, jobKey: 'training:beat' }).finally(() => client.release());
    if (start.kind !== 'started') throw new Error('expected a training');
    await db.pool.query(`UPDATE models SET heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [start.training.modelId]);
    const age = async () => (await db.pool.query<{ s: number }>('SELECT extract(epoch FROM now() - heartbeat_at)::float AS s FROM models WHERE id = $1', [start.training.modelId])).rows[0]!.s;
    await beatTraining(db.pool, start.training);
    expect(await age()).toBeLessThan(30);
    // Taken over (or restarted): the old attempt's beats no longer count for the row.
    await db.pool.query(`UPDATE models SET started_at = now() + interval '1 second', heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [start.training.modelId]);
    await beatTraining(db.pool, start.training);
    expect(await age()).toBeGreaterThan(30);
  });

  it('lets only one of two concurrent jobs train: the other waits for it, then finds the model up to date', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 2500 });
    const results = await Promise.all([
      processTrainModel({ pool: db.pool, heartbeatMs: 20 }, { projectId: seeded.projectId, reason: 'labels' }, context()),
      processTrainModel({ pool: db.pool, heartbeatMs: 20 }, { projectId: seeded.projectId, reason: 'labels' }, context()),
    ]);
    expect(results.filter((r) => 'skipped' in r)).toEqual([{ skipped: 'up-to-date' }]);
    expect((await models(seeded.projectId)).map((m) => m.status)).toEqual(['ready']);
  });

  it('fails a project without training labels for good', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 20, labeled: 0, testSize: 10, offset: 3000 });
    const ctx = context();
    const result = await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId }, ctx);
    expect(result).toMatchObject({ failed: 'no-labels' });
    expect((await models(seeded.projectId)).map((m) => [m.status, m.error])).toEqual([['failed', NO_LABELS_ERROR]]);
    // Claimed: a redelivery does not try again.
    expect(await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId }, ctx)).toEqual({ skipped: 'done' });
    expect(await outbox(seeded.projectId)).toEqual([]);
  });

  it('marks the model failed on an error, rethrows, and the retry of the job restarts it', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 0, offset: 3500 });
    const ctx = context();
    // Training itself fails (on the compute threads, an error comes back as a rejected task).
    const inline = inlineCompute();
    const failing = { pool: db.pool, compute: { ...inline, train: () => Promise.reject(new Error('boom in epoch')) } };
    await expect(processTrainModel(failing, { projectId: seeded.projectId }, ctx)).rejects.toThrow('boom in epoch');
    expect((await models(seeded.projectId)).map((m) => [m.status, m.error])).toEqual([['failed', 'boom in epoch']]);

    const retried = await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId }, ctx);
    expect(retried).toMatchObject({ version: 1 });
    expect((await models(seeded.projectId)).map((m) => [m.status, m.error, m.request_key])).toEqual([['ready', null, ctx.jobKey]]);
  });

  it('enqueues a follow-up when enough labels arrived during training', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 120, labeled: 60, testSize: 0, offset: 4000, retrainEvery: 20 });
    const inline = inlineCompute();
    const deps = {
      pool: db.pool,
      compute: {
        ...inline,
        // The labeling API keeps annotating while the trainer trains.
        train: async (input: Parameters<typeof inline.train>[0]) => {
          const trained = inline.train(input);
          await annotate(db.pool, seeded.projectId, seeded.poolIds.slice(60, 85), Array(25).fill('HUM'));
          return trained;
        },
      },
    };
    const result = await processTrainModel(deps, { projectId: seeded.projectId }, context());
    expect(result).toMatchObject({ trainCount: 60, followup: true });
    const project = await db.pool.query('SELECT label_count, train_requested_at_count FROM projects WHERE id = $1', [seeded.projectId]);
    expect(project.rows[0]).toEqual({ label_count: 85, train_requested_at_count: 85 });
    expect((await outbox(seeded.projectId)).map((r) => [r.job_name, r.payload.reason])).toEqual([
      ['rank-pool', 'model-trained'],
      ['train-model', 'followup'],
    ]);
    // The follow-up trains on everything.
    expect(await processTrainModel({ pool: db.pool }, { projectId: seeded.projectId, reason: 'followup' }, context())).toMatchObject({
      version: 2,
      trainCount: 85,
      followup: false,
    });
  });
});

describe('trainer worker', () => {
  it('trains through BullMQ and refuses an invalid payload without retrying', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 60, labeled: 60, testSize: 20, offset: 5000 });
    const connection = createRedis(redis.url, 'worker');
    // Training runs on a compute thread, as the host runs it.
    const compute = createComputePool({ threads: 1 });
    const trainer = await startTrainer({
      config: { TRAINER_CONCURRENCY: 1, TRAINER_LOCK_MS: 60_000 },
      pool: db.pool,
      connection,
      prefix: redis.prefix,
      log,
      compute,
    });
    expect(trainer.backend).toMatch(/^(wasm|cpu|tensorflow)$/);
    const queue = new Queue('training', { connection, prefix: redis.prefix });
    const eventsConnection = createRedis(redis.url, 'worker');
    const events = new QueueEvents('training', { connection: eventsConnection, prefix: redis.prefix });
    await events.waitUntilReady();
    try {
      const bad = await queue.add('train-model', { projectId: 'not-a-uuid' }, { attempts: 3 });
      await expect(bad.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid payload/);
      expect((await queue.getJob(bad.id!))!.attemptsMade).toBe(1);

      const job = await queue.add('train-model', { projectId: seeded.projectId, reason: 'manual' }, { jobId: 'ob-1' });
      const result = await job.waitUntilFinished(events, 30_000);
      expect(result).toMatchObject({ version: 1, trainCount: 60, testCount: 20 });
      const rows = await models(seeded.projectId);
      expect(rows.map((m) => [m.status, m.request_key])).toEqual([['ready', 'training:ob-1']]);
    } finally {
      await trainer.close();
      await compute.close();
      await events.close();
      await queue.close();
      eventsConnection.disconnect();
      connection.disconnect();
    }
  });
});
