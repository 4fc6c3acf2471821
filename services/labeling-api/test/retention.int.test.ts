import { outboxRetention, processedJobsRetention, startRetention } from '@alder/queues';
import { createLogger } from '@alder/logger';
import { taskLeasesRetention } from '../src/index';
import { createProject, insertItems, insertRanking, startHarness, type Harness, type Member, expireLease, memberTasks, syncItemExpiry } from './harness';

const HORIZON_HOURS = 24;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const log = createLogger({ level: 'silent' });
const { submit, release } = memberTasks;

/** Moves a lease (and its slot, while it holds one) `hours` into the past, as if it had been made then. */
async function age(taskId: string, hours: number): Promise<void> {
  await h.db.pool.query(
    `UPDATE task_leases SET created_at = created_at - make_interval(hours => $2), expires_at = expires_at - make_interval(hours => $2),
                            ended_at = ended_at - make_interval(hours => $2) WHERE id = $1`,
    [taskId, hours],
  );
  await h.db.pool.query('UPDATE item_slots SET expires_at = expires_at - make_interval(hours => $2) WHERE lease_id = $1', [taskId, hours]);
  await syncItemExpiry(h.db.pool, taskId);
}

/** Lets a lease run out now (its slot stays with it until someone takes the item over). */
const expire = (taskId: string) => expireLease(h.db.pool, taskId);

async function leaseIds(): Promise<string[]> {
  return (await h.db.pool.query<{ id: string }>('SELECT id FROM task_leases ORDER BY id')).rows.map((r) => r.id);
}

/** A project with `count` pool items in a published cold-start ranking, and two annotators. */
async function rankedProject(count: number): Promise<{ projectId: string; ids: number[]; alice: Member; bob: Member }> {
  const projectId = await createProject(h, { lease_seconds: 60 });
  const ids = await insertItems(h.db.pool, projectId, count);
  await insertRanking(h.db.pool, projectId, null, 'cold_start', ids.map((itemId, i) => ({ itemId, priority: count - i, rationale: `cold start: diverse pick ${i + 1} of ${count}` })));
  return { projectId, ids, alice: await h.as(projectId, 'alice'), bob: await h.as(projectId, 'bob') };
}

/** The next task for the member: its id and item. */
async function lease(projectId: string, by: Member): Promise<{ id: string; itemId: number }> {
  const res = await by.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` });
  if (res.statusCode !== 200) throw new Error(`next: ${res.statusCode} ${res.body}`);
  return { id: res.json().task_id, itemId: res.json().item.id };
}

const outcome = async (taskId: string) => (await h.db.pool.query('SELECT outcome FROM task_leases WHERE id = $1', [taskId])).rows[0]?.outcome;

describe('task lease retention', () => {
  it('deletes ended leases past the horizon that nothing depends on, and keeps the rest', async () => {
    const { projectId, ids, alice, bob } = await rankedProject(7);
    // Alice lets her lease run out; bob takes the item over and labels it.
    const oldExpired = await lease(projectId, alice);
    await expire(oldExpired.id);
    const oldSubmitted = await lease(projectId, bob);
    expect(oldSubmitted.itemId).toBe(oldExpired.itemId);
    expect(await outcome(oldExpired.id)).toBe('expired');
    expect((await submit(bob, oldSubmitted.id)).statusCode).toBe(201);
    const oldReleased = await lease(projectId, alice);
    expect((await release(alice, oldReleased.id)).statusCode).toBe(204);
    const oldAbandoned = await lease(projectId, alice); // never answered, and nobody took its item over

    const recentReleased = await lease(projectId, alice);
    expect((await release(alice, recentReleased.id)).statusCode).toBe(204);
    const recentExpired = await lease(projectId, alice);
    await expire(recentExpired.id);
    // Alice takes her own expired item again: the old lease ended just now, inside the horizon.
    const active = await lease(projectId, alice);
    expect(active.itemId).toBe(recentExpired.itemId);
    expect(await outcome(recentExpired.id)).toBe('expired');
    for (const { id } of [oldExpired, oldSubmitted, oldReleased, oldAbandoned]) await age(id, 48);

    const sweeper = startRetention({ pool: h.db.pool, log, horizonHours: HORIZON_HOURS, intervalMs: 3_600_000, targets: [taskLeasesRetention] });
    try {
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { task_leases: 1 } });
    } finally {
      await sweeper.close();
    }
    // Kept: the submitted lease (its annotation's provenance), released ones (the record that the
    // user skipped the item), one still holding its slot (it may yet be submitted), recent ones.
    expect(await leaseIds()).toEqual([oldSubmitted, oldReleased, oldAbandoned, recentReleased, recentExpired, active].map((l) => l.id).sort());

    // The annotation keeps its lease, with what the annotator was shown.
    const { rows } = await h.db.pool.query(
      `SELECT l.selection_strategy, l.outcome FROM annotations a JOIN task_leases l ON l.id = a.lease_id WHERE a.lease_id = $1`,
      [oldSubmitted.id],
    );
    expect(rows).toEqual([{ selection_strategy: 'cold_start', outcome: 'annotated' }]);
    // A deleted lease is unknown now; the abandoned one is still taken, late; the active one works.
    expect((await submit(alice, oldExpired.id)).statusCode).toBe(404);
    const late = await submit(alice, oldAbandoned.id);
    expect(late.statusCode).toBe(201);
    expect(late.json()).toMatchObject({ late: true, user_id: alice.userId });
    const onTime = await submit(alice, active.id);
    expect(onTime.statusCode).toBe(201);
    expect(onTime.json().late).toBe(false);
    // Her skips outlived the sweep: she is never offered those items again.
    const rest = [await lease(projectId, alice), await lease(projectId, alice)].map((l) => l.itemId);
    expect(rest).toEqual([ids[5], ids[6]]);
    expect(rest).not.toContain(oldReleased.itemId);
    expect((await alice.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` })).statusCode).toBe(204);
  });

  it('sweeps outbox, job claims and leases together, in batches', async () => {
    const { projectId, alice, bob } = await rankedProject(6);
    const expired: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Each of alice's leases runs out and bob takes its item over.
      const mine = await lease(projectId, alice);
      await expire(mine.id);
      expect((await lease(projectId, bob)).itemId).toBe(mine.itemId);
      await age(mine.id, 100);
      expired.push(mine.id);
    }
    const skipped = await lease(projectId, alice);
    expect((await release(alice, skipped.id)).statusCode).toBe(204);
    await age(skipped.id, 100);
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
    expect(await leaseIds()).toEqual(before.filter((id) => !expired.includes(id)));
    expect(await leaseIds()).toContain(skipped.id);
  });
});
