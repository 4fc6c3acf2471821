import { outboxRetention, processedJobsRetention, startRetention } from '@alder/queues';
import { createLogger } from '@alder/logger';
import { taskLeasesRetention } from '../src/index';
import { createProject, insertItems, insertRanking, startHarness, type Harness } from './harness';

const HORIZON_HOURS = 24;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const log = createLogger({ level: 'silent' });
const next = (projectId: string, annotator: string) => h.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, payload: { annotator } });
const submit = (taskId: string, label = 'pos') => h.http({ method: 'POST', url: `/v1/tasks/${taskId}/annotation`, payload: { annotator: 'alice', label } });
const release = (taskId: string) => h.http({ method: 'DELETE', url: `/v1/tasks/${taskId}` });

/** Moves a lease (and its item's copy of it) `hours` into the past, as if it had been made then. */
async function age(taskId: string, hours: number): Promise<void> {
  await h.db.pool.query(
    `UPDATE task_leases SET created_at = created_at - make_interval(hours => $2), expires_at = expires_at - make_interval(hours => $2),
                            ended_at = ended_at - make_interval(hours => $2) WHERE id = $1`,
    [taskId, hours],
  );
  await h.db.pool.query('UPDATE items SET lease_expires_at = lease_expires_at - make_interval(hours => $2) WHERE lease_id = $1', [taskId, hours]);
}

async function leaseIds(): Promise<string[]> {
  return (await h.db.pool.query<{ id: string }>('SELECT id FROM task_leases ORDER BY id')).rows.map((r) => r.id);
}

/** A project with `count` pool items in a published cold-start ranking, so tasks can be leased. */
async function rankedProject(count: number): Promise<string> {
  const projectId = await createProject(h, { lease_seconds: 60 });
  const ids = await insertItems(h.db.pool, projectId, count);
  await insertRanking(h.db.pool, projectId, null, 'cold_start', ids.map((itemId, i) => ({ itemId, priority: count - i, rationale: `cold start: diverse pick ${i + 1} of ${count}` })));
  return projectId;
}

async function lease(projectId: string): Promise<string> {
  const res = await next(projectId, 'alice');
  if (res.statusCode !== 200) throw new Error(`next: ${res.statusCode} ${res.body}`);
  return res.json().task_id;
}

describe('task lease retention', () => {
  it('deletes ended leases past the horizon that no annotation came from, and keeps the rest', async () => {
    const projectId = await rankedProject(7);
    const oldReleased = await lease(projectId);
    expect((await release(oldReleased)).statusCode).toBe(204);
    const oldExpired = await lease(projectId); // never answered
    const oldSubmitted = await lease(projectId);
    expect((await submit(oldSubmitted)).statusCode).toBe(201);
    for (const id of [oldReleased, oldExpired, oldSubmitted]) await age(id, 48);

    const recentReleased = await lease(projectId);
    expect((await release(recentReleased)).statusCode).toBe(204);
    const recentExpired = await lease(projectId);
    await age(recentExpired, 2); // expired two hours ago: inside the horizon
    const active = await lease(projectId);

    const sweeper = startRetention({ pool: h.db.pool, log, horizonHours: HORIZON_HOURS, intervalMs: 3_600_000, targets: [taskLeasesRetention] });
    try {
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { task_leases: 2 } });
    } finally {
      await sweeper.close();
    }
    expect(await leaseIds()).toEqual([oldSubmitted, recentReleased, recentExpired, active].sort());

    // The annotation keeps its lease, with what the annotator was shown.
    const { rows } = await h.db.pool.query(
      `SELECT l.selection_strategy, l.outcome FROM annotations a JOIN task_leases l ON l.id = a.lease_id WHERE a.lease_id = $1`,
      [oldSubmitted],
    );
    expect(rows).toEqual([{ selection_strategy: 'cold_start', outcome: 'annotated' }]);
    // A deleted lease is unknown now; the active one still works.
    expect((await submit(oldExpired)).statusCode).toBe(404);
    expect((await submit(active)).statusCode).toBe(201);
  });

  it('sweeps outbox, job claims and leases together, in batches', async () => {
    const projectId = await rankedProject(5);
    const released: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await lease(projectId);
      expect((await release(id)).statusCode).toBe(204);
      await age(id, 100);
      released.push(id);
    }
    const before = await leaseIds();
    const sweeper = startRetention({
      pool: h.db.pool,
      log,
      horizonHours: HORIZON_HOURS,
      intervalMs: 3_600_000,
      targets: [outboxRetention, processedJobsRetention, taskLeasesRetention],
      batchSize: 2,
    });
    try {
      const sweep = await sweeper.sweepNow();
      expect(sweep.swept).toBe(true);
      expect(sweep.deleted.task_leases).toBe(5);
    } finally {
      await sweeper.close();
    }
    expect(await leaseIds()).toEqual(before.filter((id) => !released.includes(id)));
  });
});
