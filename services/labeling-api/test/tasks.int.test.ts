import type { TestRequest, TestResponse } from '@alder/http/testing';
import { insertSubscription, refreshEventMask } from '@alder/ingest';
import { returnToPool } from '../src/resolution.repository';
import { counts, createProject, insertItems, insertModel, insertRanking, outboxFor, publishColdStart, startHarness, type Harness, type Member, expireLease } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';
/** Who leased each task, so a submit or release goes with the holder's key unless told otherwise. */
const holderOf = new Map<string, Member>();
/** tasks/next as the project's annotator `name` (a user of their own, made on first use). */
async function next(projectId: string, name: string): Promise<TestResponse> {
  const member = await h.as(projectId, name);
  const res = await member.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, payload: {} });
  if (res.statusCode === 200) holderOf.set(res.json().task_id, member);
  return res;
}
const asHolder = (taskId: string, by: Member | undefined, request: TestRequest) => (by ?? holderOf.get(taskId))?.http(request) ?? h.http(request);
const submit = (taskId: string, body: Record<string, unknown>, by?: Member) =>
  asHolder(taskId, by, { method: 'POST', url: `/v1/tasks/${taskId}/annotation`, payload: body });
const release = (taskId: string, query = '', by?: Member) => asHolder(taskId, by, { method: 'DELETE', url: `/v1/tasks/${taskId}${query}` });
const heartbeat = (taskId: string, by?: Member) => asHolder(taskId, by, { method: 'POST', url: `/v1/tasks/${taskId}/heartbeat` });
const expire = (taskId: string) => expireLease(h.db.pool, taskId);

describe('POST /v1/projects/{project_id}/tasks/next', () => {
  it('leases the highest-priority item of the current ranking, with what the model thinks', async () => {
    const projectId = await createProject(h, { lease_seconds: 300 });
    const [a, b, c] = await insertItems(h.db.pool, projectId, 3);
    const modelId = await insertModel(h.db.pool, projectId, { version: 2, labels: ['neg', 'pos'], current: true });
    await insertRanking(h.db.pool, projectId, modelId, 'margin', [
      { itemId: a!, priority: 0.2, score: 0.2, probs: [0.1, 0.9], rationale: 'confident' },
      { itemId: b!, priority: 0.9, score: 0.9, probs: [0.45, 0.55], rationale: 'margin 0.10 between pos and neg' },
      { itemId: c!, priority: 0.5, score: 0.5, probs: [0.3, 0.7], rationale: 'middling' },
    ]);
    const before = Date.now();
    const res = await next(projectId, 'alice');
    expect(res.statusCode).toBe(200);
    const task = res.json();
    expect(task).toEqual({
      task_id: expect.any(String),
      project_id: projectId,
      item: { id: b, external_id: 'i-pool-2', text: 'text of i-pool-2', meta: {} },
      expires_at: expect.any(String),
      guidelines: '',
      label_descriptions: {},
      selection: { model_version: 2, strategy: 'margin', score: 0.9, probabilities: { neg: 0.45, pos: 0.55 }, rationale: 'margin 0.10 between pos and neg' },
    });
    const expiresIn = Date.parse(task.expires_at) - before;
    expect(expiresIn).toBeGreaterThan(290_000);
    expect(expiresIn).toBeLessThan(310_000);
    const alice = await h.as(projectId, 'alice');
    const { rows } = await h.db.pool.query('SELECT user_id, lease_id, slot FROM item_slots WHERE item_id = $1', [b]);
    expect(rows).toEqual([{ user_id: alice.userId, lease_id: task.task_id, slot: 0 }]);
    const logged = await h.db.pool.query('SELECT user_id, annotator, api_key_id FROM task_leases WHERE id = $1', [task.task_id]);
    expect(logged.rows[0]).toEqual({ user_id: alice.userId, annotator: 'alice', api_key_id: alice.keyId });
    expect((await next(projectId, 'bob')).json().item.id).toBe(c);
    expect((await next(projectId, 'carol')).json().item.id).toBe(a);
    expect((await next(projectId, 'dave')).statusCode).toBe(204);
  });

  it('derives the rationale of an entry stored without one from the ranking\'s strategy and probabilities', async () => {
    const projectId = await createProject(h);
    const [a, b] = await insertItems(h.db.pool, projectId, 2);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, labels: ['neg', 'pos'], current: true });
    const rankingId = await insertRanking(h.db.pool, projectId, modelId, 'auto', [
      { itemId: a!, priority: 2, score: 0.3, probs: [0.2, 0.8], rationale: 'auto (0% uncertainty at 40 labels): random draw' },
      { itemId: b!, priority: 0.6, score: 0.6, probs: [0.7, 0.3] },
    ]);
    await h.db.pool.query('UPDATE ranking_entries SET rationale = NULL WHERE ranking_id = $1 AND item_id = $2', [rankingId, b]);
    expect((await next(projectId, 'alice')).json().selection.rationale).toBe('auto (0% uncertainty at 40 labels): random draw');
    // The rest of a batch ranking is in margin order: margin's rationale.
    expect((await next(projectId, 'alice')).json().selection.rationale).toBe('model torn between neg (0.70) and pos (0.30)');
    const listed = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/ranking` })).json();
    expect(listed.data.map((e: { rationale: string }) => e.rationale)).toEqual(['auto (0% uncertainty at 40 labels): random draw', 'model torn between neg (0.70) and pos (0.30)']);
  });

  it('answers 503 ranking-pending with Retry-After before the first ranking, and leases nothing', async () => {
    const projectId = await createProject(h);
    const [first, second, third] = await insertItems(h.db.pool, projectId, 3);
    await h.as(projectId, 'alice');
    const before = await counts(h.db.pool);
    const pending = await next(projectId, 'alice');
    expect(pending.statusCode).toBe(503);
    expect(pending.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(pending.headers['retry-after']).toBe('2');
    expect(pending.json()).toMatchObject({
      type: 'https://alder.dev/problems/ranking-pending',
      status: 503,
      detail: expect.stringMatching(/no ranking yet.*Retry after 2 s/),
    });
    expect(await counts(h.db.pool)).toEqual(before);
    // Once the cold start is published its picks come first, in its order, not the file's.
    await insertRanking(h.db.pool, projectId, null, 'cold_start', [
      { itemId: third!, priority: 2, rationale: 'cold start: diverse pick 1 of 2' },
      { itemId: first!, priority: 1, rationale: 'cold start: diverse pick 2 of 2' },
    ]);
    const cold = await next(projectId, 'alice');
    expect(cold.statusCode).toBe(200);
    expect(cold.json().item.id).toBe(third);
    expect(cold.json().selection).toEqual({ model_version: null, strategy: 'cold_start', score: null, probabilities: null, rationale: 'cold start: diverse pick 1 of 2' });
    expect((await next(projectId, 'alice')).json().item.id).toBe(first);
    // An item the ranking does not cover (ingested after it was made) is served after it, oldest first.
    const unranked = (await next(projectId, 'alice')).json();
    expect(unranked.item.id).toBe(second);
    expect(unranked.selection).toEqual({ model_version: null, strategy: 'unranked', score: null, probabilities: null, rationale: expect.stringMatching(/oldest first/) });
    const lease = await h.db.pool.query('SELECT ranking_id, model_id, selection_score, selection_strategy FROM task_leases WHERE id = $1', [unranked.task_id]);
    expect(lease.rows[0]).toEqual({ ranking_id: null, model_id: null, selection_score: null, selection_strategy: 'unranked' });
    expect((await next(projectId, 'alice')).statusCode).toBe(204);
  });

  it('treats an empty ranking (published before the items arrived) as pending too', async () => {
    const projectId = await createProject(h);
    await insertRanking(h.db.pool, projectId, null, 'cold_start', []);
    await insertItems(h.db.pool, projectId, 2);
    const pending = await next(projectId, 'alice');
    expect(pending.statusCode).toBe(503);
    expect(pending.json().type).toBe('https://alder.dev/problems/ranking-pending');
    const [ranked] = await insertItems(h.db.pool, projectId, 1, 'pool', 'late');
    await insertRanking(h.db.pool, projectId, null, 'cold_start', [{ itemId: ranked!, priority: 1 }]);
    expect((await next(projectId, 'alice')).json().item.id).toBe(ranked);
    // Now that a ranking with entries exists, what it does not cover is served oldest first.
    expect((await next(projectId, 'alice')).json().selection.strategy).toBe('unranked');
  });

  it('answers 500 stored-data-invalid, without internals, for a ranking entry that breaks its contract', async () => {
    const projectId = await createProject(h);
    const [item] = await insertItems(h.db.pool, projectId, 1);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, current: true });
    // A scored entry without probabilities: sampling never writes one.
    const rankingId = await insertRanking(h.db.pool, projectId, modelId, 'margin', []);
    await h.db.pool.query(`INSERT INTO ranking_entries (ranking_id, item_id, priority, score, probs, rationale) VALUES ($1, $2, 0.5, 0.5, NULL, 'picked')`, [rankingId, item]);
    const res = await next(projectId, 'alice');
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toEqual({
      type: 'https://alder.dev/problems/stored-data-invalid',
      title: 'Stored data breaks its contract',
      status: 500,
      detail: expect.stringMatching(/declared contract \(ranking_entries\).*request_id/),
      instance: `/v1/projects/${projectId}/tasks/next`,
      request_id: expect.any(String),
    });
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('never leases test items or labeled items; 204 when nothing is free; 404 for an unknown project', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 2, 'test');
    const [labeled] = await insertItems(h.db.pool, projectId, 1, 'pool', 'done');
    await h.db.pool.query(`UPDATE items SET status = 'labeled' WHERE id = $1`, [labeled]);
    const res = await next(projectId, 'alice');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const missing = await h.http({ method: 'POST', url: `/v1/projects/${MISSING}/tasks/next`, payload: {} });
    expect(missing.statusCode).toBe(404);
    // Nobody leases on another's behalf: a body naming an annotator is refused.
    const onBehalf = await h.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, payload: { annotator: 'alice' } });
    expect(onBehalf.statusCode).toBe(422);
    expect(onBehalf.json().errors).toEqual([{ path: 'body/annotator', message: 'is not a known property' }]);
  });

  it('never gives two concurrent callers the same item', async () => {
    const projectId = await createProject(h);
    const ids = await insertItems(h.db.pool, projectId, 12);
    await insertRanking(h.db.pool, projectId, null, 'cold_start', ids.slice(0, 6).map((itemId, i) => ({ itemId, priority: i })));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => next(projectId, `annotator-${i}`)));
    const leased = results.filter((r) => r.statusCode === 200).map((r) => r.json().item.id);
    expect(leased).toHaveLength(12);
    expect(new Set(leased).size).toBe(12);
    expect(results.filter((r) => r.statusCode === 204)).toHaveLength(8);
    const { rows } = await h.db.pool.query('SELECT count(DISTINCT s.lease_id)::int AS n FROM item_slots s JOIN items i ON i.id = s.item_id WHERE i.project_id = $1', [projectId]);
    expect(rows[0].n).toBe(12);
  });

  it('keeps serving while sampling writes the next ranking (its foreign keys share-lock the items)', async () => {
    const projectId = await createProject(h);
    const ids = await insertItems(h.db.pool, projectId, 3);
    await insertRanking(h.db.pool, projectId, null, 'cold_start', ids.map((itemId, i) => ({ itemId, priority: i })));
    // What the sampling service does while it builds a ranking: entries referencing every item
    // are written in an open transaction, which holds FOR KEY SHARE locks on those items.
    const building = await h.db.pool.connect();
    try {
      await building.query('BEGIN');
      const { rows } = await building.query(`INSERT INTO rankings (project_id, strategy, request_key, status) VALUES ($1, 'margin', gen_random_uuid()::text, 'building') RETURNING id`, [projectId]);
      await building.query("INSERT INTO ranking_entries (ranking_id, item_id, priority, rationale) SELECT $1, unnest($2::bigint[]), 0, 'next'", [rows[0].id, ids]);
      const served = await next(projectId, 'alice');
      expect(served.statusCode).toBe(200);
      expect(served.json().item.id).toBe(ids[2]);
      const submitted = await submit(served.json().task_id, { label: 'pos' });
      expect(submitted.statusCode).toBe(201);
    } finally {
      await building.query('ROLLBACK');
      building.release();
    }
  });

  it('returns an item whose lease expired to the pool', async () => {
    const projectId = await createProject(h);
    const [only] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const first = (await next(projectId, 'alice')).json();
    expect((await next(projectId, 'bob')).statusCode).toBe(204);
    await expire(first.task_id);
    const again = await next(projectId, 'bob');
    expect(again.statusCode).toBe(200);
    expect(again.json().item.id).toBe(only);
    expect(again.json().task_id).not.toBe(first.task_id);
  });
});

describe('POST /v1/tasks/{task_id}/annotation', () => {
  it('writes item.labeled and item.resolved webhook events only for a project that has a subscription wanting them', async () => {
    const events = async (projectId: string) => (await outboxFor(h.db.pool, projectId)).filter((j) => j.queue === 'webhooks').map((j) => [j.payload.type, j.payload.data]);
    const labelOne = async (projectId: string, name: string) => {
      const task = (await next(projectId, name)).json();
      const res = await submit(task.task_id, { label: 'pos' });
      expect(res.statusCode).toBe(201);
      return { task, annotation: res.json() };
    };
    const quiet = await createProject(h);
    await insertItems(h.db.pool, quiet, 2);
    await publishColdStart(h.db.pool, quiet);
    await labelOne(quiet, 'alice');
    expect(await events(quiet)).toEqual([]);

    const listened = await createProject(h);
    await insertItems(h.db.pool, listened, 2);
    await publishColdStart(h.db.pool, listened);
    const admin = await h.db.pool.query(`SELECT id FROM users WHERE role = 'admin' LIMIT 1`);
    await insertSubscription(h.db.pool, { projectId: listened, url: 'http://127.0.0.1:9/', events: ['item.labeled', 'item.resolved'], description: '', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', createdBy: admin.rows[0].id });
    await refreshEventMask(h.db.pool, listened);
    const { task, annotation } = await labelOne(listened, 'bob');
    const bob = await h.as(listened, 'bob');
    expect(await events(listened)).toEqual([
      ['item.labeled', { external_id: task.item.external_id, annotation_id: annotation.id, label: 'pos', user_id: bob.userId, task_id: task.task_id, late: false }],
      ['item.resolved', { external_id: task.item.external_id, resolution_id: expect.any(Number), label: 'pos', rule: 'single_annotator' }],
    ]);
  });

  it('stores the label with its provenance, ends the lease and counts the label', async () => {
    const projectId = await createProject(h);
    const [item] = await insertItems(h.db.pool, projectId, 1);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, current: true });
    await insertRanking(h.db.pool, projectId, modelId, 'entropy', [{ itemId: item!, priority: 0.7, score: 0.7, probs: [0.6, 0.4] }]);
    const task = (await next(projectId, 'alice')).json();
    // A newer ranking replacing the one the task came from must not change its provenance.
    await insertRanking(h.db.pool, projectId, modelId, 'margin', []);

    const res = await submit(task.task_id, { label: 'neg', rationale: 'sarcasm', time_spent_ms: 4200 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(Number),
      task_id: task.task_id,
      project_id: projectId,
      item_id: item,
      external_id: 'i-pool-1',
      label: 'neg',
      rationale: 'sarcasm',
      time_spent_ms: 4200,
      annotator: 'alice',
      user_id: (await h.as(projectId, 'alice')).userId,
      late: false,
      source: 'annotator',
      selection: { model_version: 1, strategy: 'entropy', score: 0.7 },
      created_at: expect.any(String),
    });
    const annotation = await h.db.pool.query('SELECT * FROM annotations WHERE id = $1', [res.json().id]);
    expect(annotation.rows[0]).toMatchObject({
      project_id: projectId,
      item_id: item,
      label: 'neg',
      source: 'annotator',
      lease_id: task.task_id,
      api_key_id: expect.any(String),
      model_id: modelId,
      selection_strategy: 'entropy',
    });
    expect(annotation.rows[0].selection_score).toBeCloseTo(0.7, 5);
    const row = await h.db.pool.query('SELECT status FROM items WHERE id = $1', [item]);
    expect(row.rows[0]).toEqual({ status: 'labeled' });
    // The slot is the annotation's for good; the lease ended as annotated.
    const slot = await h.db.pool.query('SELECT expires_at FROM item_slots WHERE lease_id = $1', [task.task_id]);
    expect(slot.rows).toEqual([{ expires_at: null }]);
    const ended = await h.db.pool.query('SELECT outcome FROM task_leases WHERE id = $1', [task.task_id]);
    expect(ended.rows[0].outcome).toBe('annotated');
    const project = await h.db.pool.query('SELECT label_count FROM projects WHERE id = $1', [projectId]);
    expect(project.rows[0].label_count).toBe(1);
  });

  it('409 for a second submit of the same task, and nothing more is written', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    expect((await submit(task.task_id, { label: 'pos' })).statusCode).toBe(201);
    const before = await counts(h.db.pool);
    const again = await submit(task.task_id, { label: 'neg' });
    expect(again.statusCode).toBe(409);
    expect(again.json().type).toBe('https://alder.dev/problems/already-annotated');
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('keeps a late submission flagged late while its slot is free; 409 overlap-full once someone took it, nothing written', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 2);
    await publishColdStart(h.db.pool, projectId);
    const kept = (await next(projectId, 'alice')).json();
    await expire(kept.task_id);
    const late = await submit(kept.task_id, { label: 'pos' });
    expect(late.statusCode).toBe(201);
    expect(late.json().late).toBe(true);
    const stored = await h.db.pool.query('SELECT late FROM annotations WHERE id = $1', [late.json().id]);
    expect(stored.rows[0].late).toBe(true);

    const lost = (await next(projectId, 'alice')).json();
    await expire(lost.task_id);
    const bobs = (await next(projectId, 'bob')).json();
    expect(bobs.item.id).toBe(lost.item.id);
    expect((await h.db.pool.query('SELECT outcome FROM task_leases WHERE id = $1', [lost.task_id])).rows[0].outcome).toBe('expired');
    const before = await counts(h.db.pool);
    const refused = await submit(lost.task_id, { label: 'pos' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().type).toBe('https://alder.dev/problems/overlap-full');
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await submit(bobs.task_id, { label: 'pos' })).statusCode).toBe(201);
  });

  it('403 when the annotator is not the lease holder; nothing written', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    const mallory = await h.as(projectId, 'mallory');
    const before = await counts(h.db.pool);
    const res = await submit(task.task_id, { label: 'pos' }, mallory);
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toBe('https://alder.dev/problems/forbidden');
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('422 for a label the project does not have; nothing written and the lease stays', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    const before = await counts(h.db.pool);
    const res = await submit(task.task_id, { label: 'maybe' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'body/label', message: 'must be one of: pos, neg' }]);
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await submit(task.task_id, { label: 'pos' })).statusCode).toBe(201);
  });

  it('404 for an unknown or malformed task id; 422 for a bad body or one naming the annotator, nothing written', async () => {
    expect((await submit(MISSING, { label: 'pos' })).statusCode).toBe(404);
    expect((await submit('not-a-uuid', { label: 'pos' })).statusCode).toBe(404);
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    const before = await counts(h.db.pool);
    for (const body of [
      { label: 'pos', time_spent_ms: -1 },
      {},
      { label: 'pos', annotator: 'alice' },
      { label: 'pos', user_id: MISSING },
      { label: 'pos', status: 'labeled' },
      { label: 'pos', created_at: '2020-01-01T00:00:00Z' },
      { label: 'pos ' },
      { label: ' pos' },
      { label: 'Pos' },
      // Cyrillic er and Latin o, s: a look-alike of "pos".
      { label: '\u0440os' },
      { label: 'pos\u0000' },
      { label: 'pos', rationale: 'x'.repeat(10_001) },
    ]) {
      const res = await submit(task.task_id, body);
      expect([res.statusCode, JSON.stringify(body)]).toEqual([422, JSON.stringify(body)]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await submit(task.task_id, { label: 'pos', rationale: 'fine' })).statusCode).toBe(201);
  });

  it('enqueues exactly one train-model when the labels reach retrain_every', async () => {
    const projectId = await createProject(h, { retrain_every: 3 });
    await insertItems(h.db.pool, projectId, 5);
    await publishColdStart(h.db.pool, projectId);
    const trainings = async () => (await outboxFor(h.db.pool, projectId)).filter((j) => j.queue === 'training');
    for (let n = 1; n <= 5; n++) {
      const task = (await next(projectId, 'alice')).json();
      expect((await submit(task.task_id, { label: 'pos' })).statusCode).toBe(201);
      expect(await trainings()).toHaveLength(n >= 3 ? 1 : 0);
    }
    expect(await trainings()).toEqual([{ queue: 'training', job_name: 'train-model', payload: { projectId, reason: 'labels' } }]);
    const { rows } = await h.db.pool.query('SELECT label_count, train_requested_at_count FROM projects WHERE id = $1', [projectId]);
    expect(rows[0]).toEqual({ label_count: 5, train_requested_at_count: 3 });
  });

  it('accepts concurrent submits of one task exactly once', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    const results = await Promise.all(Array.from({ length: 5 }, () => submit(task.task_id, { label: 'pos' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM annotations WHERE lease_id = $1', [task.task_id]);
    expect(rows[0].n).toBe(1);
  });

  it('takes many annotators submitting to one project at once: each label stored, resolved, recorded and counted once', async () => {
    // Every submit to a project counts its label on the project's row in the statement that
    // writes the label (one annotator needed: the resolution and audit event too). An earlier
    // form of that counter deadlocked under such load (the benchmark hit it within seconds;
    // this test caught it in some runs).
    const annotators = 16;
    const rounds = 5;
    const retrainEvery = 4;
    const projectId = await createProject(h, { retrain_every: retrainEvery });
    await insertItems(h.db.pool, projectId, annotators * rounds);
    await publishColdStart(h.db.pool, projectId);
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: annotators }, async (_, i) => {
        for (let round = 0; round < rounds; round++) {
          const task = await next(projectId, `crowd-${i}`);
          statuses.push(task.statusCode);
          if (task.statusCode === 200) statuses.push((await submit(task.json().task_id, { label: round % 2 ? 'pos' : 'neg' })).statusCode);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);
    const total = annotators * rounds;
    const { rows } = await h.db.pool.query(
      `SELECT p.label_count, p.train_requested_at_count,
              (SELECT count(*)::int FROM annotations a WHERE a.project_id = p.id) AS annotations,
              (SELECT count(*)::int FROM item_resolutions r WHERE r.project_id = p.id AND r.rule = 'single_annotator') AS resolutions,
              (SELECT count(*)::int FROM audit_events e WHERE e.project_id = p.id AND e.kind = 'annotation.created' AND e.after ? 'resolution') AS events,
              (SELECT count(*)::int FROM ranking_entries re WHERE re.ranking_id = p.current_ranking_id AND re.item_labeled) AS flagged
       FROM projects p WHERE p.id = $1`,
      [projectId],
    );
    expect(rows[0]).toEqual({ label_count: total, train_requested_at_count: total, annotations: total, resolutions: total, events: total, flagged: total });
    // One training request each time the count reached retrain_every, whatever the interleaving.
    expect((await outboxFor(h.db.pool, projectId)).filter((j) => j.job_name === 'train-model')).toHaveLength(total / retrainEvery);
  });

  it('records the resolution and the audit event of a single annotator in the annotation\'s statement, as the general path would', async () => {
    const projectId = await createProject(h);
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    const stored = (await submit(task.task_id, { label: 'pos', rationale: 'clear', time_spent_ms: 1200 })).json();
    const resolution = await h.db.pool.query('SELECT id, label, rule, annotation_ids::int[] FROM item_resolutions WHERE item_id = $1', [item]);
    expect(resolution.rows).toEqual([{ id: expect.any(Number), label: 'pos', rule: 'single_annotator', annotation_ids: [stored.id] }]);
    const events = await h.db.pool.query(`SELECT kind, subject_type, subject_id, item_id, item_external_id, actor_user_id, actor_key_id, after FROM audit_events WHERE item_id = $1 AND kind = 'annotation.created'`, [item]);
    const alice = await h.as(projectId, 'alice');
    expect(events.rows).toEqual([
      {
        kind: 'annotation.created',
        subject_type: 'annotation',
        subject_id: String(stored.id),
        item_id: item,
        item_external_id: task.item.external_id,
        actor_user_id: alice.userId,
        actor_key_id: alice.keyId,
        after: {
          annotation_id: stored.id,
          task_id: task.task_id,
          user_id: alice.userId,
          label: 'pos',
          rationale: 'clear',
          time_spent_ms: 1200,
          late: false,
          shown: { model_version: null, strategy: 'cold_start', score: null, probabilities: null },
          resolution: { resolution_id: resolution.rows[0].id, label: 'pos', rule: 'single_annotator' },
        },
      },
    ]);
  });
});

describe('ranking entries of labeled items', () => {
  it('are flagged in the current ranking as their items are labeled and back in the pool, so claims walk past none of them', async () => {
    const projectId = await createProject(h);
    const [a] = await insertItems(h.db.pool, projectId, 2);
    const older = await publishColdStart(h.db.pool, projectId);
    const current = await publishColdStart(h.db.pool, projectId);
    const flags = async () =>
      (await h.db.pool.query('SELECT ranking_id, item_id, item_labeled FROM ranking_entries WHERE ranking_id = ANY($1) ORDER BY ranking_id, item_id', [[older, current]])).rows.map(
        (r) => `${r.ranking_id === current ? 'current' : 'older'}:${r.item_id === a ? 'a' : 'b'}:${r.item_labeled}`,
      );
    const task = (await next(projectId, 'alice')).json();
    expect(task.item.id).toBe(a);
    await submit(task.task_id, { label: 'pos' });
    expect(await flags()).toEqual(['older:a:false', 'older:b:false', 'current:a:true', 'current:b:false']);
    // Back in the pool (a reviewer's reject), it is offered again from the ranking.
    await returnToPool(h.db.pool, a!);
    expect(await flags()).toEqual(['older:a:false', 'older:b:false', 'current:a:false', 'current:b:false']);
    expect((await next(projectId, 'bob')).json()).toMatchObject({ item: { id: a }, selection: { strategy: 'cold_start' } });
  });
});

describe('DELETE /v1/tasks/{task_id}', () => {
  it('frees the item at once; a later submit is a 409', async () => {
    const projectId = await createProject(h);
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    expect((await release(task.task_id, '', await h.as(projectId, 'mallory'))).statusCode).toBe(403);
    expect((await release(task.task_id, '?reason=bored')).statusCode).toBe(422);
    expect((await release(task.task_id, '?reason=unsure')).statusCode).toBe(204);
    expect((await release(task.task_id)).statusCode).toBe(204);
    const logged = await h.db.pool.query('SELECT outcome, release_reason FROM task_leases WHERE id = $1', [task.task_id]);
    expect(logged.rows[0]).toEqual({ outcome: 'released', release_reason: 'unsure' });
    const late = await submit(task.task_id, { label: 'pos' });
    expect(late.statusCode).toBe(409);
    expect(late.json().type).toBe('https://alder.dev/problems/lease-released');
    expect((await next(projectId, 'bob')).json().item.id).toBe(item);
  });

  it('409 for an annotated task; 404 for an unknown one', async () => {
    const projectId = await createProject(h);
    await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const task = (await next(projectId, 'alice')).json();
    await submit(task.task_id, { label: 'pos' });
    const res = await release(task.task_id);
    expect(res.statusCode).toBe(409);
    expect(res.json().type).toBe('https://alder.dev/problems/already-annotated');
    expect((await h.http({ method: 'DELETE', url: `/v1/tasks/${MISSING}` })).statusCode).toBe(404);
  });
});
