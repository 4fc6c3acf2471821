import { createProject, insertItems, publishColdStart, startHarness, type Harness, type Member, expireLease, memberTasks, syncItemExpiry } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const { next, submit, release, heartbeat } = memberTasks;
const expire = (taskId: string) => expireLease(h.db.pool, taskId);

/** Per item of the project: live holders plus annotations, and the distinct users among them. */
async function occupancy(projectId: string): Promise<{ item_id: number; required: number; holders: number; users: number }[]> {
  const { rows } = await h.db.pool.query(
    `SELECT i.id AS item_id, i.required_annotations AS required,
            count(s.*) FILTER (WHERE s.expires_at IS NULL OR s.expires_at > now())::int AS holders,
            count(DISTINCT s.user_id) FILTER (WHERE s.expires_at IS NULL OR s.expires_at > now())::int AS users
     FROM items i LEFT JOIN item_slots s ON s.item_id = i.id
     WHERE i.project_id = $1 GROUP BY i.id ORDER BY i.id`,
    [projectId],
  );
  return rows;
}

describe('overlap', () => {
  it('gives each item of the overlap fraction to k distinct annotators, then labels it', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 3 } });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().overlap).toEqual({ annotators: 3, fraction: 1 });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((n) => h.as(projectId, n)));
    const tasks = [];
    for (const m of [a!, b!, c!]) {
      const res = await next(m, projectId);
      expect(res.statusCode).toBe(200);
      expect(res.json().item.id).toBe(item);
      tasks.push(res.json().task_id);
    }
    // Three holders: a fourth annotator gets nothing, and nobody gets the item twice.
    expect((await next(d!, projectId)).statusCode).toBe(204);
    expect((await next(a!, projectId)).statusCode).toBe(204);
    expect((await submit(a!, tasks[0]!)).statusCode).toBe(201);
    expect((await submit(b!, tasks[1]!, 'neg')).statusCode).toBe(201);
    expect((await h.db.pool.query('SELECT status FROM items WHERE id = $1', [item])).rows[0].status).toBe('unlabeled');
    // c gives up: d may take the slot; a, who labeled it, never gets it again.
    expect((await release(c!, tasks[2]!, 'unsure')).statusCode).toBe(204);
    expect((await next(a!, projectId)).statusCode).toBe(204);
    expect((await next(c!, projectId)).statusCode).toBe(204);
    const dTask = (await next(d!, projectId)).json();
    expect(dTask.item.id).toBe(item);
    expect((await submit(d!, dTask.task_id)).statusCode).toBe(201);
    expect((await h.db.pool.query('SELECT status FROM items WHERE id = $1', [item])).rows[0].status).toBe('labeled');
    const labels = await h.db.pool.query('SELECT user_id, label FROM annotations WHERE item_id = $1 ORDER BY id', [item]);
    expect(labels.rows).toEqual([
      { user_id: a!.userId, label: 'pos' },
      { user_id: b!.userId, label: 'neg' },
      { user_id: d!.userId, label: 'pos' },
    ]);
  });

  it('asks for k annotators on about the fraction of items, chosen by a stable hash, and once on the rest', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2, fraction: 0.3 } });
    await insertItems(h.db.pool, projectId, 400);
    const { rows } = await h.db.pool.query(
      'SELECT required_annotations AS k, count(*)::int AS n FROM items WHERE project_id = $1 GROUP BY 1 ORDER BY 1',
      [projectId],
    );
    expect(rows.map((r) => r.k)).toEqual([1, 2]);
    const share = rows[1].n / 400;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    // Turning overlap off applies to items not fully labeled; turning it on again gives the same items.
    const before = await h.db.pool.query('SELECT id FROM items WHERE project_id = $1 AND required_annotations = 2 ORDER BY id', [projectId]);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 1 } } })).statusCode).toBe(200);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM items WHERE project_id = $1 AND required_annotations > 1', [projectId])).rows[0].n).toBe(0);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 2, fraction: 0.3 } } })).statusCode).toBe(200);
    const after = await h.db.pool.query('SELECT id FROM items WHERE project_id = $1 AND required_annotations = 2 ORDER BY id', [projectId]);
    expect(after.rows).toEqual(before.rows);
  });

  it('never lowers an item below the holders it has when the overlap shrinks', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2 } });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => h.as(projectId, n)));
    const ta = (await next(a!, projectId)).json().task_id;
    const tb = (await next(b!, projectId)).json().task_id;
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 1 } } })).statusCode).toBe(200);
    expect((await h.db.pool.query('SELECT required_annotations FROM items WHERE id = $1', [item])).rows[0].required_annotations).toBe(2);
    expect((await submit(a!, ta)).statusCode).toBe(201);
    expect((await submit(b!, tb)).statusCode).toBe(201);
    expect((await h.db.pool.query('SELECT status FROM items WHERE id = $1', [item])).rows[0].status).toBe('labeled');
  });

  it('the database refuses a k+1-th holder or a user twice, whatever the SQL', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2 } });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => h.as(projectId, n)));
    const slot = (slotNo: number, userId: string) =>
      h.db.pool.query(
        `INSERT INTO item_slots (item_id, slot, required_annotations, lease_id, user_id, project_id, expires_at)
         VALUES ($1, $2, 2, gen_random_uuid(), $3, $4, now() + interval '1 minute')`,
        [item, slotNo, userId, projectId],
      );
    await slot(0, a!.userId);
    await expect(slot(0, b!.userId)).rejects.toThrow(/item_slots_pkey/);
    await expect(slot(1, a!.userId)).rejects.toThrow(/item_slots_item_id_user_id_key/);
    await slot(1, b!.userId);
    await expect(slot(2, c!.userId)).rejects.toThrow(/item_slots_check/);
    // A slot that claims another k than its item's is refused by the composite key.
    await expect(
      h.db.pool.query(
        `INSERT INTO item_slots (item_id, slot, required_annotations, lease_id, user_id, project_id) VALUES ($1, 2, 3, gen_random_uuid(), $2, $3)`,
        [item, c!.userId, projectId],
      ),
    ).rejects.toThrow(/item_slots_item_id_required_annotations_fkey/);
    // Lowering the item's k under its slots is refused too (the key cascades into the CHECK).
    await expect(h.db.pool.query('UPDATE items SET required_annotations = 1 WHERE id = $1', [item])).rejects.toThrow(/item_slots_check/);
  });

  it('holds the invariant while many clients hammer the claim path', async () => {
    const k = 3;
    const projectId = await createProject(h, { overlap: { annotators: k }, lease_seconds: 10 });
    await insertItems(h.db.pool, projectId, 8);
    await publishColdStart(h.db.pool, projectId);
    const members = await Promise.all(Array.from({ length: 12 }, (_, i) => h.as(projectId, `hammer-${i}`)));
    const violations: unknown[] = [];
    let stop = false;
    // A watcher reads the invariant throughout, from its own connection.
    const watcher = (async () => {
      while (!stop) {
        for (const row of await occupancy(projectId)) if (row.holders > row.required || row.users !== row.holders) violations.push(row);
      }
    })();
    const outcomes = new Map<number, number>();
    await Promise.all(
      members.map(async (m, i) => {
        for (let round = 0; round < 6; round++) {
          const res = await next(m, projectId);
          outcomes.set(res.statusCode, (outcomes.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode !== 200) continue;
          const taskId = res.json().task_id;
          // A mix of what annotators do: submit, skip, let the lease run out.
          const move = (i + round) % 3;
          if (move === 0) expect((await submit(m, taskId)).statusCode).toBe(201);
          else if (move === 1) expect((await release(m, taskId)).statusCode).toBe(204);
          else await expire(taskId);
        }
      }),
    );
    stop = true;
    await watcher;
    expect(violations).toEqual([]);
    expect([...outcomes.keys()].every((status) => status === 200 || status === 204)).toBe(true);
    const final = await occupancy(projectId);
    expect(final.every((row) => row.holders <= k)).toBe(true);
    const twice = await h.db.pool.query(
      `SELECT item_id, user_id FROM annotations WHERE project_id = $1 GROUP BY 1, 2 HAVING count(*) > 1`,
      [projectId],
    );
    expect(twice.rows).toEqual([]);
  });
});

describe('POST /v1/tasks/{task_id}/heartbeat', () => {
  it('extends a live lease, revives an expired one nobody took, and 409s one taken over', async () => {
    const projectId = await createProject(h, { lease_seconds: 60 });
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => h.as(projectId, n)));
    const task = (await next(a!, projectId)).json();
    await h.db.pool.query(`UPDATE item_slots SET expires_at = now() + interval '5 seconds' WHERE lease_id = $1`, [task.task_id]);
    await syncItemExpiry(h.db.pool, task.task_id);
    const beat = await heartbeat(a!, task.task_id);
    expect(beat.statusCode).toBe(200);
    expect(Date.parse(beat.json().expires_at) - Date.now()).toBeGreaterThan(50_000);
    expect((await heartbeat(b!, task.task_id)).statusCode).toBe(403);
    await expire(task.task_id);
    expect((await heartbeat(a!, task.task_id)).statusCode).toBe(200);
    expect((await next(b!, projectId)).statusCode).toBe(204);
    await expire(task.task_id);
    const bTask = (await next(b!, projectId)).json();
    const taken = await heartbeat(a!, task.task_id);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().type).toBe('https://alder.dev/problems/lease-expired');
    expect((await submit(b!, bTask.task_id)).statusCode).toBe(201);
    expect((await heartbeat(b!, bTask.task_id)).json().type).toBe('https://alder.dev/problems/already-annotated');
  });
});

describe('releasing', () => {
  it('records the reason, and the user is never offered the item again', async () => {
    const projectId = await createProject(h);
    const [first, second] = await insertItems(h.db.pool, projectId, 2);
    await publishColdStart(h.db.pool, projectId);
    const a = await h.as(projectId, 'a');
    const task = (await next(a, projectId)).json();
    expect(task.item.id).toBe(first);
    expect((await release(a, task.task_id, 'irrelevant')).statusCode).toBe(204);
    expect((await next(a, projectId)).json().item.id).toBe(second);
    const leases = await h.db.pool.query('SELECT outcome, release_reason FROM task_leases WHERE id = $1', [task.task_id]);
    expect(leases.rows[0]).toEqual({ outcome: 'released', release_reason: 'irrelevant' });
    expect((await next(await h.as(projectId, 'b'), projectId)).json().item.id).toBe(first);
  });

  it('a removed member loses their leases at once; the items go to others', async () => {
    const projectId = await createProject(h);
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const [a, b] = await Promise.all(['a', 'b'].map((n) => h.as(projectId, n)));
    const task = (await next(a!, projectId)).json();
    expect((await next(b!, projectId)).statusCode).toBe(204);
    expect((await h.http({ method: 'DELETE', url: `/v1/projects/${projectId}/members/${a!.userId}` })).statusCode).toBe(204);
    // Their key no longer reaches the project, and their lease is gone.
    expect((await submit(a!, task.task_id)).statusCode).toBe(404);
    expect((await next(a!, projectId)).statusCode).toBe(404);
    expect((await next(b!, projectId)).json().item.id).toBe(item);
  });
});
