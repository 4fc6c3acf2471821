import { createUserWithKey } from '@alder/http';
import { countLabels } from '@alder/retraining/testing';
import { counts, createProject, insertItems, outboxFor, startHarness, type Harness } from './harness';

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
      on_resend: 'skip',
      on_duplicate_text: 'report',
      lease_seconds: 600,
      label_budget: null,
      overlap: { annotators: 1, fraction: 1 },
      label_descriptions: {},
      policy: { rationale_required: 'never', review_model_disagreement: 0.9, review_low_confidence: null, review_late: true, min_agreement: 0.5, gold_rate: 0 },
      label_count: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await h.http({ method: 'GET', url: `/v1/projects/${res.json().id}` });
    expect(got.json()).toEqual(res.json());
  });

  it('sets on_resend at creation and by PATCH (skip, update, reject; anything else 422), audited', async () => {
    const res = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'R', labels: ['a', 'b'], on_resend: 'reject' } });
    expect(res.json().on_resend).toBe('reject');
    const changed = await h.http({ method: 'PATCH', url: `/v1/projects/${res.json().id}`, payload: { on_resend: 'update' } });
    expect(changed.json().on_resend).toBe('update');
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${res.json().id}`, payload: { on_resend: 'overwrite' } })).statusCode).toBe(422);
    const events = await h.db.pool.query(`SELECT before, after FROM audit_events WHERE project_id = $1 AND kind = 'project.updated'`, [res.json().id]);
    expect(events.rows).toEqual([{ before: { on_resend: 'reject' }, after: { on_resend: 'update' } }]);
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
      { name: 'x', labels: ['a', 'b'], overlap: { annotators: 0 } },
      { name: 'x', labels: ['a', 'b'], overlap: { annotators: 21 } },
      { name: 'x', labels: ['a', 'b'], overlap: { annotators: 2, fraction: 0 } },
      { name: 'x', labels: ['a', 'b'], overlap: { annotators: 2, fraction: 1.5 } },
      { name: 'x', labels: ['a', 'b'], overlap: { fraction: 0.5 } },
      { name: 'x', labels: ['a', 'b'], overlap: { annotators: 2, who: 'everyone' } },
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

  it('shows a member only the projects they are in; admins every project', async () => {
    const mine = [await createProject(h, { name: 'm1' }), await createProject(h, { name: 'm2' })];
    const notMine = await createProject(h, { name: 'm3' });
    const member = await h.as(mine[0]!, 'lister', 'viewer');
    await h.http({ method: 'PUT', url: `/v1/projects/${mine[1]}/members/${member.userId}`, payload: { role: 'annotator' } });
    const listed = (await member.http({ method: 'GET', url: '/v1/projects' })).json();
    expect(listed.data.map((p: { id: string }) => p.id)).toEqual([mine[1], mine[0]]);
    expect(listed.total).toBe(2);
    expect((await member.http({ method: 'GET', url: '/v1/projects?limit=1&offset=1' })).json().data.map((p: { id: string }) => p.id)).toEqual([mine[0]]);
    const all = (await h.http({ method: 'GET', url: '/v1/projects?limit=100' })).json();
    expect(all.data.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining([...mine, notMine]));
    expect(all.total).toBe(all.data.length);
    // In no project at all: an empty list, not a refusal.
    const { key } = await createUserWithKey(h.db.pool, { name: 'nowhere' });
    const none = await h.http({ method: 'GET', url: '/v1/projects', headers: { authorization: `Bearer ${key}` } });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toMatchObject({ data: [], total: 0 });
  });

  it('404 for an unknown project, and the same for a project one is not a member of', async () => {
    const res = await h.http({ method: 'GET', url: `/v1/projects/${MISSING}` });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${MISSING}`, payload: { name: 'x' } })).statusCode).toBe(404);
    expect((await h.http({ method: 'POST', url: `/v1/projects/${MISSING}/train` })).statusCode).toBe(404);

    const projectId = await createProject(h);
    const outsider = await h.as(await createProject(h), 'outsider', 'manager');
    const hidden = await outsider.http({ method: 'GET', url: `/v1/projects/${projectId}` });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toMatchObject({ type: res.json().type, title: res.json().title, detail: `No project ${projectId}.` });
    expect((await outsider.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { name: 'x' } })).statusCode).toBe(404);
    expect((await outsider.http({ method: 'POST', url: `/v1/projects/${projectId}/train` })).statusCode).toBe(404);
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().name).toBe('test');
  });

  it('lets only admins create projects, and only managers change or train them', async () => {
    const projectId = await createProject(h);
    const before = await counts(h.db.pool);
    for (const role of ['annotator', 'reviewer', 'expert', 'integrator', 'viewer'] as const) {
      const member = await h.as(projectId, `not a manager: ${role}`, role);
      const refused = [
        await member.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { name: 'taken over' } }),
        await member.http({ method: 'POST', url: `/v1/projects/${projectId}/train` }),
        await member.http({ method: 'POST', url: '/v1/projects', payload: { name: 'x', labels: ['a', 'b'] } }),
      ];
      expect([role, refused.map((r) => r.statusCode)]).toEqual([role, [403, 403, 403]]);
      expect(refused[0]!.json().type).toBe('https://alder.dev/problems/forbidden');
    }
    const manager = await h.as(projectId, 'manager', 'manager');
    expect((await manager.http({ method: 'POST', url: '/v1/projects', payload: { name: 'x', labels: ['a', 'b'] } })).statusCode).toBe(403);
    const after = await counts(h.db.pool);
    // Nothing but the members made above.
    expect({ ...after, users: 0, members: 0, api_keys: 0 }).toEqual({ ...before, users: 0, members: 0, api_keys: 0 });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().name).toBe('test');
    const renamed = await manager.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { name: 'managed' } });
    expect(renamed.json().name).toBe('managed');
    expect((await manager.http({ method: 'POST', url: `/v1/projects/${projectId}/train` })).statusCode).toBe(202);
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

  it('sets the overlap on create and applies a change to the items not yet labeled', async () => {
    const created = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'o', labels: ['pos', 'neg'], overlap: { annotators: 3, fraction: 0.3 } } });
    expect(created.statusCode).toBe(201);
    expect(created.json().overlap).toEqual({ annotators: 3, fraction: 0.3 });
    const projectId = created.json().id;
    const ids = await insertItems(h.db.pool, projectId, 20);
    await h.db.pool.query(`UPDATE items SET status = 'labeled' WHERE id = $1`, [ids[0]]);
    const required = async () =>
      (await h.db.pool.query('SELECT id, required_annotations AS k FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows.map((r) => r.k as number);
    expect(new Set(await required())).toEqual(new Set([1, 3]));

    const changed = await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 2 } } });
    expect(changed.statusCode).toBe(200);
    // The fraction defaults to all items.
    expect(changed.json().overlap).toEqual({ annotators: 2, fraction: 1 });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().overlap).toEqual({ annotators: 2, fraction: 1 });
    const k = await required();
    // A labeled item keeps what it had; every other item needs two annotators now.
    expect(k.slice(1)).toEqual(Array(19).fill(2));
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 1 } } })).json().overlap).toEqual({ annotators: 1, fraction: 1 });
    expect((await required()).slice(1)).toEqual(Array(19).fill(1));
    // Other settings leave it alone.
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { guidelines: 'g' } })).json().overlap).toEqual({ annotators: 1, fraction: 1 });
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 2, fraction: 2 } } })).statusCode).toBe(422);
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
  const adminUserId = async () => (await h.db.pool.query(`SELECT id FROM users WHERE name = 'test admin'`)).rows[0].id as string;
  const newUser = async (name: string) => {
    const res = await h.http({ method: 'POST', url: '/v1/users', payload: { name } });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };

  it('returns the plain key once, as a key of the user it is for; lists keys without it; a revoked key stops working', async () => {
    const userId = await newUser('annotation UI');
    const created = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'annotation UI', user_id: userId } });
    expect(created.statusCode).toBe(201);
    const key = created.json();
    expect(key).toEqual({
      id: expect.any(String),
      name: 'annotation UI',
      user_id: userId,
      key_prefix: expect.any(String),
      key: expect.any(String),
      created_at: expect.any(String),
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    });
    expect(key.key).toMatch(/^alder_[0-9A-Za-z]{32}$/);
    expect(key.key.startsWith(key.key_prefix)).toBe(true);

    // The key acts as its user: a member, in no project yet.
    const uiAuth = { authorization: `Bearer ${key.key}` };
    const projects = await h.http({ method: 'GET', url: '/v1/projects', headers: uiAuth });
    expect(projects.statusCode).toBe(200);
    expect(projects.json().total).toBe(0);
    expect((await h.http({ method: 'POST', url: '/v1/projects', headers: uiAuth, payload: { name: 'x', labels: ['a', 'b'] } })).statusCode).toBe(403);
    // A member lists their own keys only.
    const own = await h.http({ method: 'GET', url: '/v1/api-keys', headers: uiAuth });
    expect(own.statusCode).toBe(200);
    expect(own.json().data.map((k: { id: string }) => k.id)).toEqual([key.id]);

    const list = await h.http({ method: 'GET', url: '/v1/api-keys' });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key.key);
    expect(list.json().data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ name: 'annotation UI', user_id: userId, last_used_at: expect.any(String) });
    expect(list.json().data.every((k: object) => !('role' in k) && !('key' in k))).toBe(true);

    const revoked = await h.http({ method: 'DELETE', url: `/v1/api-keys/${key.id}` });
    expect(revoked.statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: uiAuth })).statusCode).toBe(401);
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${key.id}` })).statusCode).toBe(204);
  });

  it("lets a member manage their own keys and nobody else's", async () => {
    const projectId = await createProject(h);
    const alice = await h.as(projectId, 'alice');
    const bob = await h.as(projectId, 'bob');
    const mine = await alice.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'laptop' } });
    expect(mine.statusCode).toBe(201);
    expect(mine.json().user_id).toBe(alice.userId);
    // The new key is alice too: it takes her tasks.
    const laptop = { authorization: `Bearer ${mine.json().key}` };
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}`, headers: laptop })).statusCode).toBe(200);

    const keysBefore = (await counts(h.db.pool)).api_keys;
    // Another user's id answers as a missing user; another user's key as a missing key.
    const forBob = await alice.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'sneaky', user_id: bob.userId } });
    expect(forBob.statusCode).toBe(404);
    expect((await alice.http({ method: 'DELETE', url: `/v1/api-keys/${bob.keyId}` })).statusCode).toBe(404);
    expect((await counts(h.db.pool)).api_keys).toBe(keysBefore);
    expect((await bob.http({ method: 'GET', url: `/v1/projects/${projectId}` })).statusCode).toBe(200);
    const listed = (await alice.http({ method: 'GET', url: '/v1/api-keys' })).json().data.map((k: { id: string }) => k.id);
    expect(listed.sort()).toEqual([alice.keyId, mine.json().id].sort());

    expect((await alice.http({ method: 'DELETE', url: `/v1/api-keys/${mine.json().id}` })).statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}`, headers: laptop })).statusCode).toBe(401);
    expect((await alice.http({ method: 'GET', url: `/v1/projects/${projectId}` })).statusCode).toBe(200);
  });

  it('takes an expiry, and an expired key stops working', async () => {
    const userId = await newUser('temp');
    const past = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'late', user_id: userId, expires_at: new Date(Date.now() - 1000).toISOString() } });
    expect(past.statusCode).toBe(422);
    expect(past.json().errors.map((e: { path: string }) => e.path)).toEqual(['body/expires_at']);
    const expiresAt = new Date(Date.now() + 3_600_000);
    const created = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'temp', user_id: userId, expires_at: expiresAt.toISOString() } });
    expect(created.statusCode).toBe(201);
    expect(new Date(created.json().expires_at).getTime()).toBe(expiresAt.getTime());
    const auth = { authorization: `Bearer ${created.json().key}` };
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: auth })).statusCode).toBe(200);
    await h.db.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.json().id]);
    const expired = await h.http({ method: 'GET', url: '/v1/projects', headers: auth });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().type).toBe('https://alder.dev/problems/unauthorized');
  });

  it("stops an inactive user's keys at once, and gives them no new one", async () => {
    const userId = await newUser('leaver');
    const { key } = (await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'leaver', user_id: userId } })).json();
    const auth = { authorization: `Bearer ${key}` };
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: auth })).statusCode).toBe(200);
    expect((await h.http({ method: 'PATCH', url: `/v1/users/${userId}`, payload: { active: false } })).statusCode).toBe(200);
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: auth })).statusCode).toBe(401);
    const refused = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'again', user_id: userId } });
    expect(refused.statusCode).toBe(409);
    expect((await h.http({ method: 'PATCH', url: `/v1/users/${userId}`, payload: { active: true } })).statusCode).toBe(200);
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: auth })).statusCode).toBe(200);
  });

  it('404 for an unknown key or user; 409 for the last usable admin key', async () => {
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${MISSING}` })).statusCode).toBe(404);
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', user_id: MISSING } })).statusCode).toBe(404);
    const { rows } = await h.db.pool.query(`SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.role = 'admin' AND k.revoked_at IS NULL`);
    expect(rows).toHaveLength(1);
    const res = await h.http({ method: 'DELETE', url: `/v1/api-keys/${rows[0].id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().type).toBe('https://alder.dev/problems/last-admin-key');
    // Without user_id, a key for the caller: the admin's second key.
    const second = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'second admin' } });
    expect(second.json().user_id).toBe(await adminUserId());
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${second.json().id}` })).statusCode).toBe(204);
  });

  it('writes nothing on a refused request', async () => {
    const before = await counts(h.db.pool);
    // A key has no role of its own any more: its user's role says what it may do.
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', role: 'admin' } })).statusCode).toBe(422);
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', user_id: 'not-a-uuid' } })).statusCode).toBe(422);
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', headers: {}, payload: { name: 'x' } })).statusCode).toBe(401);
    expect(await counts(h.db.pool)).toEqual(before);
  });
});
