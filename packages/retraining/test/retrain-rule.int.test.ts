import { withTransaction } from '@alder/db';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { markTrainingRequested, recordLabels, requestFollowupIfDue } from '../src/index';
import { countLabels } from '../src/testing';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const MISSING = '00000000-0000-4000-8000-000000000000';

// A bare project row: this package sits below labeling-api, whose insertProject would be a cycle.
async function project(retrainEvery: number): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO projects (name, labels, retrain_every) VALUES ('rule', '{a,b}', $1) RETURNING id`, [retrainEvery]);
  return rows[0]!.id;
}

async function state(projectId: string) {
  const { rows } = await db.pool.query<{ label_count: number; train_requested_at_count: number }>(
    'SELECT label_count, train_requested_at_count FROM projects WHERE id = $1',
    [projectId],
  );
  return rows[0]!;
}

async function trainJobs(projectId: string): Promise<unknown[]> {
  const { rows } = await db.pool.query<{ payload: unknown }>(
    `SELECT payload FROM outbox WHERE queue = 'training' AND job_name = 'train-model' AND payload->>'projectId' = $1 ORDER BY id`,
    [projectId],
  );
  return rows.map((r) => r.payload);
}

describe('recordLabels', () => {
  it('requests a training each time the labels since the last request reach retrain_every', async () => {
    const id = await project(3);
    expect(await recordLabels(db.pool, id, 2)).toEqual({ labelCount: 2, trainDue: false });
    expect(await trainJobs(id)).toEqual([]);
    expect(await recordLabels(db.pool, id, 1)).toEqual({ labelCount: 3, trainDue: true });
    expect(await state(id)).toEqual({ label_count: 3, train_requested_at_count: 3 });
    expect(await recordLabels(db.pool, id, 2)).toEqual({ labelCount: 5, trainDue: false });
    expect(await recordLabels(db.pool, id, 4)).toEqual({ labelCount: 9, trainDue: true });
    expect(await trainJobs(id)).toEqual([
      { projectId: id, reason: 'labels' },
      { projectId: id, reason: 'labels' },
    ]);
  });

  it('re-checks the rule with no new label after retrain_every was lowered, and not twice', async () => {
    const id = await project(10);
    await recordLabels(db.pool, id, 4);
    expect((await recordLabels(db.pool, id, 0)).trainDue).toBe(false);
    await db.pool.query('UPDATE projects SET retrain_every = 3 WHERE id = $1', [id]);
    expect(await recordLabels(db.pool, id, 0)).toEqual({ labelCount: 4, trainDue: true });
    expect((await recordLabels(db.pool, id, 0)).trainDue).toBe(false);
    expect(await trainJobs(id)).toHaveLength(1);
  });

  it('writes nothing when the caller rolls back: the job exists only with the labels', async () => {
    const id = await project(1);
    await expect(
      withTransaction(db.pool, async (client) => {
        await recordLabels(client, id, 5);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await state(id)).toEqual({ label_count: 0, train_requested_at_count: 0 });
    expect(await trainJobs(id)).toEqual([]);
  });

  it('throws for a project that does not exist', async () => {
    await expect(recordLabels(db.pool, MISSING, 1)).rejects.toThrow(/does not exist/);
  });
});

describe('markTrainingRequested', () => {
  it('restarts the count towards the next automatic request', async () => {
    const id = await project(5);
    await recordLabels(db.pool, id, 4);
    expect(await markTrainingRequested(db.pool, id)).toBe(true);
    expect((await recordLabels(db.pool, id, 4)).trainDue).toBe(false);
    expect((await recordLabels(db.pool, id, 1)).trainDue).toBe(true);
    expect(await markTrainingRequested(db.pool, MISSING)).toBe(false);
  });
});

describe('requestFollowupIfDue', () => {
  it('enqueues a follow-up and marks the request when enough labels arrived after the snapshot', async () => {
    const id = await project(20);
    await countLabels(db.pool, id, 85);
    await db.pool.query('UPDATE projects SET train_requested_at_count = 60 WHERE id = $1', [id]);
    expect(await withTransaction(db.pool, (client) => requestFollowupIfDue(client, id, 60))).toBe(true);
    expect(await state(id)).toEqual({ label_count: 85, train_requested_at_count: 85 });
    expect(await trainJobs(id)).toEqual([{ projectId: id, reason: 'followup' }]);
  });

  it('enqueues one for a request made after the snapshot, and nothing when no label arrived', async () => {
    const asked = await project(20);
    await countLabels(db.pool, asked, 61);
    await markTrainingRequested(db.pool, asked);
    expect(await requestFollowupIfDue(db.pool, asked, 60)).toBe(true);

    const quiet = await project(1);
    await countLabels(db.pool, quiet, 60);
    await markTrainingRequested(db.pool, quiet);
    expect(await requestFollowupIfDue(db.pool, quiet, 60)).toBe(false);
    expect(await trainJobs(quiet)).toEqual([]);
    expect(await requestFollowupIfDue(db.pool, MISSING, 0)).toBe(false);
  });
});

describe('countLabels (fixtures only)', () => {
  it('counts without requesting a training, and refuses a missing project', async () => {
    const id = await project(1);
    await countLabels(db.pool, id, 7);
    expect(await state(id)).toEqual({ label_count: 7, train_requested_at_count: 0 });
    expect(await trainJobs(id)).toEqual([]);
    await expect(countLabels(db.pool, MISSING, 1)).rejects.toThrow(/does not exist/);
  });
});
