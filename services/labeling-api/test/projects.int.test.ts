import { counts, createProject, insertItems, outboxFor, startHarness, type Harness } from './harness';
import { countLabels } from '@alder/retraining/testing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('projects', () => {
  it('creates a project with defaults', async () => {
    const res = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'Sentiment', labels: ['pos', 'neg', 'neutral'] } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      name: 'Sentiment',
      labels: ['pos', 'neg', 'neutral'],
      guidelines: '',
      strategy: 'auto',
      retrain_every: 20,
      lease_seconds: 600,
      label_budget: null,
      label_count: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await h.http({ method: 'GET', url: `/v1/projects/${res.json().id}` });
    expect(got.json()).toEqual(res.json());
  });

  it('refuses bad label sets and settings with 422', async () => {
    const cases = [
      { name: 'x', labels: ['only'] },
      { name: 'x', labels: ['a', 'a'] },
      { name: 'x', labels: ['a', ''] },
      { name: 'x', labels: ['a', '  '] },
      { name: 'x', labels: Array.from({ length: 1001 }, (_, i) => `l${i}`) },
      { name: 'x', labels: ['a', 'b'], strategy: 'expected_error_reduction' },
      { name: 'x', labels: ['a', 'b'], lease_seconds: 5 },
      { name: 'x', labels: ['a', 'b'], retrain_every: 0 },
      { name: '', labels: ['a', 'b'] },
      { name: 'x', labels: ['a', 'b'], owner: 'me' },
      // JSON bodies are not coerced: a string where the contract says integer, a number where it says string.
      { name: 'x', labels: ['a', 'b'], retrain_every: '20' },
      { name: 'x', labels: ['a', 'b'], lease_seconds: '600' },
      { name: 5, labels: ['a', 'b'] },
      { name: 'x', labels: ['a', 2] },
    ];
    const before = await h.db.pool.query('SELECT count(*)::int AS n FROM projects');
    for (const payload of cases) {
      const res = await h.http({ method: 'POST', url: '/v1/projects', payload });
      expect([JSON.stringify(payload).slice(0, 60), res.statusCode]).toEqual([JSON.stringify(payload).slice(0, 60), 422]);
    }
    const after = await h.db.pool.query('SELECT count(*)::int AS n FROM projects');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('lists projects newest first, with paging', async () => {
    const ids = [await createProject(h, { name: 'l1' }), await createProject(h, { name: 'l2' }), await createProject(h, { name: 'l3' })];
    const page = await h.http({ method: 'GET', url: '/v1/projects?limit=2&offset=0' });
    expect(page.statusCode).toBe(200);
    const body = page.json();
    expect(body.limit).toBe(2);
    expect(body.offset).toBe(0);
    expect(body.total).toBeGreaterThanOrEqual(3);
    expect(body.data.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1]]);
    expect((await h.http({ method: 'GET', url: '/v1/projects?limit=0' })).statusCode).toBe(422);
    expect((await h.http({ method: 'GET', url: '/v1/projects?limit=abc' })).statusCode).toBe(422);
    // Query parameters arrive as strings and are still read as numbers.
    expect((await h.http({ method: 'GET', url: '/v1/projects?limit=1' })).json().limit).toBe(1);
  });

  it('404 for an unknown project', async () => {
    const res = await h.http({ method: 'GET', url: `/v1/projects/${MISSING}` });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${MISSING}`, payload: { name: 'x' } })).statusCode).toBe(404);
    expect((await h.http({ method: 'POST', url: `/v1/projects/${MISSING}/train` })).statusCode).toBe(404);
  });

  it('changes settings; a new strategy queues a re-ranking, the same one does not', async () => {
    const projectId = await createProject(h);
    const same = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { strategy: 'auto', guidelines: 'Be kind.' } });
    expect(same.statusCode).toBe(200);
    expect(same.json().guidelines).toBe('Be kind.');
    expect(await outboxFor(h.db.pool, projectId)).toEqual([]);
    const changed = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { strategy: 'entropy', name: 'renamed' } });
    expect(changed.json()).toMatchObject({ strategy: 'entropy', name: 'renamed', labels: ['pos', 'neg'] });
    expect(await outboxFor(h.db.pool, projectId)).toEqual([{ queue: 'sampling', job_name: 'rank-pool', payload: { projectId, reason: 'strategy-changed' } }]);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: {} })).statusCode).toBe(422);
  });

  it('lets labels change until the project has items, then refuses with 409', async () => {
    const projectId = await createProject(h);
    const early = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { labels: ['spam', 'ham'] } });
    expect(early.json().labels).toEqual(['spam', 'ham']);
    await insertItems(h.db.pool, projectId, 1);
    const late = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { labels: ['spam', 'ham', 'eggs'], name: 'not applied' } });
    expect(late.statusCode).toBe(409);
    expect(late.json().type).toBe('https://alder.dev/problems/labels-locked');
    const unchanged = await h.http({ method: 'GET', url: `/v1/projects/${projectId}` });
    expect(unchanged.json()).toMatchObject({ labels: ['spam', 'ham'], name: 'test' });
    const sameList = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { labels: ['spam', 'ham'] } });
    expect(sameList.statusCode).toBe(200);
  });

  it('requests a training when retrain_every drops below the labels gathered', async () => {
    const projectId = await createProject(h, { retrain_every: 10 });
    await countLabels(h.db.pool, projectId, 4);
    await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { retrain_every: 5 } });
    expect(await outboxFor(h.db.pool, projectId)).toEqual([]);
    await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { retrain_every: 3 } });
    expect(await outboxFor(h.db.pool, projectId)).toEqual([{ queue: 'training', job_name: 'train-model', payload: { projectId, reason: 'labels' } }]);
    const { rows } = await h.db.pool.query('SELECT train_requested_at_count FROM projects WHERE id = $1', [projectId]);
    expect(rows[0].train_requested_at_count).toBe(4);
  });

  it('POST /train queues a manual training and restarts the count', async () => {
    const projectId = await createProject(h);
    await countLabels(h.db.pool, projectId, 7);
    const res = await h.http({ method: 'POST', url: `/v1/projects/${projectId}/train` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ project_id: projectId, job: 'train-model', reason: 'manual' });
    expect(await outboxFor(h.db.pool, projectId)).toEqual([{ queue: 'training', job_name: 'train-model', payload: { projectId, reason: 'manual' } }]);
    const { rows } = await h.db.pool.query('SELECT train_requested_at_count FROM projects WHERE id = $1', [projectId]);
    expect(rows[0].train_requested_at_count).toBe(7);
  });
});

describe('API keys', () => {
  it('returns the plain key once; lists keys without it; a revoked key stops working', async () => {
    const created = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'annotation UI', role: 'annotator' } });
    expect(created.statusCode).toBe(201);
    const key = created.json();
    expect(key).toMatchObject({ name: 'annotation UI', role: 'annotator', revoked_at: null, last_used_at: null });
    expect(key.key).toMatch(/^alder_[0-9A-Za-z]{32}$/);
    expect(key.key.startsWith(key.key_prefix)).toBe(true);

    const uiAuth = { authorization: `Bearer ${key.key}` };
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: uiAuth })).statusCode).toBe(200);
    expect((await h.http({ method: 'POST', url: '/v1/projects', headers: uiAuth, payload: { name: 'x', labels: ['a', 'b'] } })).statusCode).toBe(403);
    expect((await h.http({ method: 'GET', url: '/v1/api-keys', headers: uiAuth })).statusCode).toBe(403);

    const list = await h.http({ method: 'GET', url: '/v1/api-keys' });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key.key);
    expect(list.json().data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ name: 'annotation UI', last_used_at: expect.any(String) });

    const revoked = await h.http({ method: 'DELETE', url: `/v1/api-keys/${key.id}` });
    expect(revoked.statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: uiAuth })).statusCode).toBe(401);
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${key.id}` })).statusCode).toBe(204);
  });

  it('404 for an unknown key; 409 for the last active admin key', async () => {
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${MISSING}` })).statusCode).toBe(404);
    const { rows } = await h.db.pool.query(`SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL`);
    expect(rows).toHaveLength(1);
    const res = await h.http({ method: 'DELETE', url: `/v1/api-keys/${rows[0].id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().type).toBe('https://alder.dev/problems/last-admin-key');
    const second = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'second admin' } });
    expect(second.json().role).toBe('admin');
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${second.json().id}` })).statusCode).toBe(204);
  });

  it('writes nothing on a refused request', async () => {
    const before = await counts(h.db.pool);
    const keysBefore = await h.db.pool.query('SELECT count(*)::int AS n FROM api_keys');
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', role: 'root' } })).statusCode).toBe(422);
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', headers: {}, payload: { name: 'x' } })).statusCode).toBe(401);
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n).toBe(keysBefore.rows[0].n);
  });
});
