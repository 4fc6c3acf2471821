import { Queue, QueueEvents } from 'bullmq';
import { withTransaction } from '@alder/db';
import { createLogger } from '@alder/logger';
import { createRedis, forgetJob, isJobProcessed, type JobContext } from '@alder/queues';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { createComputePool } from '@alder/compute';
import { COLD_START_HEAD, processRankPool, RANKINGS_KEPT, startSampling } from '../src/index';
import { createRanking, publishRanking } from '../src/ranking.repository';
import { seedOf } from '../src/rankers';
import { coldStartOrder } from '@alder/learning';
import { seedProject, storeTrainedModel, trec, TREC_LABELS } from './fixtures';

let db: TestDatabase;
let redis: TestRedis;
const log = createLogger({ level: process.env.TEST_LOG ?? 'silent' });
let jobs = 0;
const context = (jobKey = `sampling:test-${++jobs}`): Pick<JobContext, 'jobKey' | 'log'> => ({ jobKey, log });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});
afterAll(async () => {
  await redis.cleanup();
  await db.drop();
});

interface Entry {
  item_id: number;
  priority: number;
  score: number | null;
  probs: number[] | null;
  rationale: string | null;
}

async function entries(rankingId: number): Promise<Entry[]> {
  const { rows } = await db.pool.query<Entry>(
    'SELECT item_id, priority, score, probs, rationale FROM ranking_entries WHERE ranking_id = $1 ORDER BY priority DESC, item_id',
    [rankingId],
  );
  return rows;
}

async function rankings(projectId: string) {
  const { rows } = await db.pool.query<{ id: number; status: string; model_id: number | null; strategy: string; item_count: number; request_key: string }>(
    'SELECT id, status, model_id, strategy, item_count, request_key FROM rankings WHERE project_id = $1 ORDER BY id',
    [projectId],
  );
  return rows;
}

async function currentRanking(projectId: string): Promise<number | null> {
  const { rows } = await db.pool.query('SELECT current_ranking_id FROM projects WHERE id = $1', [projectId]);
  return rows[0].current_ranking_id;
}

describe('rank-pool with a model', () => {
  it('scores every unlabeled pool item, and nothing else, then makes the ranking current', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 400, labeled: 100, testSize: 50 });
    const modelId = await storeTrainedModel(db.pool, seeded.projectId);
    const ctx = context();
    const result = await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId, reason: 'model-trained' }, ctx);
    expect(result).toMatchObject({ modelId, strategy: 'margin', itemCount: 300 });
    const rankingId = (result as { rankingId: number }).rankingId;

    const rows = await entries(rankingId);
    // In id order (a repeated text of the dataset lands after the rest of its chunk).
    const unlabeled = seeded.poolIds.slice(100).sort((a, b) => a - b);
    expect(rows.map((r) => r.item_id).sort((a, b) => a - b)).toEqual(unlabeled);
    for (const row of rows) {
      expect(row.probs).toHaveLength(6);
      expect(row.probs!.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
      expect(row.score).not.toBeNull();
      expect(row.score!).toBeGreaterThanOrEqual(0);
      expect(row.score!).toBeLessThanOrEqual(1);
      expect(row.priority).toBe(row.score);
      // Derivable from strategy and probs: not stored (the labeling API derives it).
      expect(row.rationale).toBeNull();
    }
    expect(rows[0]!.score!).toBeGreaterThan(rows[rows.length - 1]!.score!);

    expect(await rankings(seeded.projectId)).toEqual([
      { id: rankingId, status: 'ready', model_id: modelId, strategy: 'margin', item_count: 300, request_key: ctx.jobKey },
    ]);
    expect(await currentRanking(seeded.projectId)).toBe(rankingId);
    expect(await isJobProcessed(db.pool, ctx.jobKey)).toBe(true);

    // Re-delivery: nothing new.
    expect(await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, ctx)).toEqual({ skipped: 'done' });
    expect(await rankings(seeded.projectId)).toHaveLength(1);

    // A job for a model that is no longer current ranks with the current one (the newer
    // model's request may have merged into it).
    const newer = await storeTrainedModel(db.pool, seeded.projectId, 2);
    expect(await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, context())).toMatchObject({ modelId: newer, itemCount: 300 });
    expect(await rankings(seeded.projectId)).toHaveLength(2);

    // A job without modelId (new items) ranks with the current model.
    expect(await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, reason: 'items-ingested' }, context())).toMatchObject({
      modelId: newer,
      itemCount: 300,
    });
  });

  it('rebuilds a ranking its job left half-built', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 150, labeled: 60, testSize: 0, offset: 1000 });
    const modelId = await storeTrainedModel(db.pool, seeded.projectId);
    const ctx = context();
    const leftover = await createRanking(db.pool, { projectId: seeded.projectId, modelId, strategy: 'margin', requestKey: ctx.jobKey });
    await db.pool.query(`INSERT INTO ranking_entries (ranking_id, item_id, priority, rationale) VALUES ($1, $2, 99, 'half')`, [leftover, seeded.poolIds[100]]);

    const result = await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, ctx);
    expect(result).toMatchObject({ itemCount: 90 });
    const rows = await rankings(seeded.projectId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'ready', item_count: 90, request_key: ctx.jobKey });
    expect(rows[0]!.id).not.toBe(leftover);
    expect((await entries(rows[0]!.id)).some((e) => e.rationale === 'half')).toBe(false);
  });

  it('ranks with the random strategy reproducibly, and falls back to margin for an unknown one', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 120, labeled: 60, testSize: 0, offset: 2000, strategy: 'random' });
    const modelId = await storeTrainedModel(db.pool, seeded.projectId);
    const first = (await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, context('sampling:random'))) as { rankingId: number; strategy: string };
    expect(first.strategy).toBe('random');
    const rows = await entries(first.rankingId);
    expect(rows.every((r) => r.rationale === null && r.probs!.length === TREC_LABELS.length)).toBe(true);
    // Drawn from the project's fixed random order: a job that runs again draws the same scores.
    const again = await withTransaction(db.pool, async (tx) => {
      await forgetJob(tx, 'sampling:random');
      await tx.query('UPDATE projects SET current_ranking_id = NULL WHERE id = $1', [seeded.projectId]);
      await tx.query('DELETE FROM rankings WHERE id = $1', [first.rankingId]);
    }).then(() => processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, context('sampling:random')));
    const againRows = await entries((again as { rankingId: number }).rankingId);
    expect(againRows.map((r) => [r.item_id, r.score])).toEqual(rows.map((r) => [r.item_id, r.score]));

    await db.pool.query(`UPDATE projects SET strategy = 'expected_error_reduction' WHERE id = $1`, [seeded.projectId]);
    const second = (await processRankPool({ pool: db.pool }, { projectId: seeded.projectId }, context())) as { strategy: string };
    expect(second.strategy).toBe('margin');
  });

  it('puts a batch strategy\'s picks first and ranks the rest by margin', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 260, labeled: 60, testSize: 0, offset: 4000, strategy: 'auto', retrainEvery: 10 });
    const modelId = await storeTrainedModel(db.pool, seeded.projectId);
    await db.pool.query(
      'INSERT INTO model_training_labels (model_id, annotation_id) SELECT $1, id FROM annotations WHERE project_id = $2',
      [modelId, seeded.projectId],
    );
    for (const strategy of ['auto', 'hybrid', 'coreset', 'committee']) {
      await db.pool.query('UPDATE projects SET strategy = $2 WHERE id = $1', [seeded.projectId, strategy]);
      const result = (await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, context())) as { rankingId: number; strategy: string; itemCount: number };
      expect(result).toMatchObject({ strategy, itemCount: 200 });
      const rows = await entries(result.rankingId);
      const picks = rows.filter((r) => r.priority > 1);
      expect(picks).toHaveLength(10);
      expect(picks.map((r) => r.priority)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
      for (const r of rows.slice(10)) {
        expect(r.priority).toBe(r.score);
        expect(r.rationale).toBeNull();
      }
      if (strategy === 'hybrid') expect(picks[1]!.rationale).toMatch(/^margin \d\.\d\d between \w+ \(\d\.\d\d\) and \w+ \(\d\.\d\d\); pick 2 of 10, \d+\.\d\d from the nearest other pick$/);
      if (strategy === 'auto') expect(picks[0]!.rationale).toMatch(/^auto \(4% uncertainty at 60 labels\): /);
      if (strategy === 'committee') expect(picks[0]!.rationale).toMatch(/^committee of 4 split: vote entropy/);
    }
  });

  it('ranks on compute threads exactly as on the job\'s own thread, page after page', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 5400, labeled: 100, testSize: 0, strategy: 'margin', retrainEvery: 10 });
    const modelId = await storeTrainedModel(db.pool, seeded.projectId);
    await db.pool.query(
      'INSERT INTO model_training_labels (model_id, annotation_id) SELECT $1, id FROM annotations WHERE project_id = $2',
      [modelId, seeded.projectId],
    );
    const compute = createComputePool({ threads: 2 });
    try {
      for (const strategy of ['margin', 'auto']) {
        await db.pool.query('UPDATE projects SET strategy = $2 WHERE id = $1', [seeded.projectId, strategy]);
        // The same job key (so the same seeds), run on the job's thread, then on two threads.
        const inline = (await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, modelId }, context(`sampling:threads-${strategy}`))) as { rankingId: number; itemCount: number };
        const expected = await entries(inline.rankingId);
        await forgetJob(db.pool, `sampling:threads-${strategy}`);
        await db.pool.query('UPDATE rankings SET request_key = $2 WHERE id = $1', [inline.rankingId, `moved-${strategy}`]);
        const threaded = (await processRankPool({ pool: db.pool, compute }, { projectId: seeded.projectId, modelId }, context(`sampling:threads-${strategy}`))) as { rankingId: number; itemCount: number };
        expect(threaded.itemCount).toBe(5300);
        expect(await entries(threaded.rankingId)).toEqual(expected);
      }
    } finally {
      await compute.close();
    }
  });

  it('fails the page, not the process, when a compute thread cannot score', async () => {
    const compute = createComputePool({ threads: 1 });
    try {
      const model = compute.model(new Uint8Array([1, 2, 3]));
      await expect(model.score(['what is this ?'])).rejects.toThrow();
      // The thread survived the failed task and still works.
      await expect(compute.coldStart(['a b c', 'd e f', 'g h i'], 1)).resolves.toHaveLength(3);
    } finally {
      await compute.close();
    }
  });

  it('keeps the last rankings only', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 80, labeled: 40, testSize: 0, offset: 2500 });
    await storeTrainedModel(db.pool, seeded.projectId);
    for (let i = 0; i < RANKINGS_KEPT + 2; i++) await processRankPool({ pool: db.pool }, { projectId: seeded.projectId }, context());
    const rows = await rankings(seeded.projectId);
    expect(rows).toHaveLength(RANKINGS_KEPT);
    expect(rows[rows.length - 1]!.id).toBe(await currentRanking(seeded.projectId));
  });
});

describe('publishing a ranking', () => {
  it('never replaces the ranking of a newer model or a newer ranking', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 40, labeled: 20, testSize: 0, offset: 3000 });
    const oldModel = await storeTrainedModel(db.pool, seeded.projectId, 1);
    const stale = await createRanking(db.pool, { projectId: seeded.projectId, modelId: oldModel, strategy: 'margin', requestKey: 'k-stale' });
    const newer = await storeTrainedModel(db.pool, seeded.projectId, 2);
    // A model trained while the ranking was being built: the old ranking is dropped.
    expect(
      await withTransaction(db.pool, (tx) => publishRanking(tx, { projectId: seeded.projectId, rankingId: stale, modelId: oldModel, itemCount: 0, jobKey: 'k-stale' })),
    ).toBe('model-changed');
    expect(await currentRanking(seeded.projectId)).toBeNull();
    expect(await rankings(seeded.projectId)).toEqual([]);

    const early = await createRanking(db.pool, { projectId: seeded.projectId, modelId: newer, strategy: 'margin', requestKey: 'k-early' });
    const late = await createRanking(db.pool, { projectId: seeded.projectId, modelId: newer, strategy: 'margin', requestKey: 'k-late' });
    const publish = (rankingId: number, jobKey: string) =>
      withTransaction(db.pool, (tx) => publishRanking(tx, { projectId: seeded.projectId, rankingId, modelId: newer, itemCount: 0, jobKey }));
    expect(await publish(late, 'k-late')).toBe('published');
    expect(await publish(early, 'k-early')).toBe('newer-ranking');
    expect(await currentRanking(seeded.projectId)).toBe(late);
  });
});

describe('rank-pool cold start', () => {
  it('orders the pool for diversity, not in file order, with no scores', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 300, labeled: 0, testSize: 30, offset: 3500 });
    const result = await processRankPool({ pool: db.pool }, { projectId: seeded.projectId, reason: 'items-ingested' }, context());
    expect(result).toMatchObject({ modelId: null, strategy: 'cold_start', itemCount: 300 });
    const rankingId = (result as { rankingId: number }).rankingId;
    const rows = await entries(rankingId);
    const order = rows.map((r) => r.item_id);
    expect([...order].sort((a, b) => a - b)).toEqual(seeded.poolIds);
    expect(order).not.toEqual(seeded.poolIds);
    expect(order.slice(0, 10)).not.toEqual(seeded.poolIds.slice(0, 10));
    expect(rows.every((r) => r.score === null && r.probs === null)).toBe(true);
    expect(rows.map((r) => r.priority)).toEqual(Array.from({ length: 300 }, (_, i) => 300 - i));
    expect(rows[2]!.rationale).toBe(`cold start: diverse pick 3 of ${COLD_START_HEAD}`);
    expect(rows[299]!.rationale).toBe('cold start: representative of the pool');

    // The order is the learning package's cold start over the pool in id order, seeded by the
    // project: its quality (label coverage, no near-duplicates) is tested there over fixed seeds,
    // since a random project id makes any one draw's coverage a coin toss.
    const byId = seeded.poolIds.map((id, i) => ({ id, text: trec('train')[3500 + i]!.text })).sort((a, b) => a.id - b.id);
    const expected = coldStartOrder(byId.map((p) => p.text), { seed: seedOf(seeded.projectId) }).map((i) => byId[i]!.id);
    expect(order).toEqual(expected);
    expect(await currentRanking(seeded.projectId)).toBe(rankingId);
  });
});

describe('sampling worker', () => {
  it('ranks through BullMQ and refuses an invalid payload without retrying', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 50, labeled: 0, testSize: 0, offset: 4000 });
    const connection = createRedis(redis.url, 'worker');
    const compute = createComputePool({ threads: 1 });
    const sampling = await startSampling({ config: { SAMPLING_CONCURRENCY: 2, SAMPLING_LOCK_MS: 60_000 }, pool: db.pool, connection, prefix: redis.prefix, log, compute });
    const queue = new Queue('sampling', { connection, prefix: redis.prefix });
    const eventsConnection = createRedis(redis.url, 'worker');
    const events = new QueueEvents('sampling', { connection: eventsConnection, prefix: redis.prefix });
    await events.waitUntilReady();
    try {
      const bad = await queue.add('rank-pool', { projectId: seeded.projectId, modelId: 'one' }, { attempts: 3 });
      await expect(bad.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid payload/);
      expect((await queue.getJob(bad.id!))!.attemptsMade).toBe(1);

      const job = await queue.add('rank-pool', { projectId: seeded.projectId, reason: 'items-ingested' }, { jobId: 'ob-7' });
      expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ itemCount: 50, modelId: null });
      expect((await rankings(seeded.projectId)).map((r) => [r.status, r.request_key])).toEqual([['ready', 'sampling:ob-7']]);
    } finally {
      await sampling.close();
      await compute.close();
      await events.close();
      await queue.close();
      eventsConnection.disconnect();
      connection.disconnect();
    }
  });
});
