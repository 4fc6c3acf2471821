import { counts, createProject, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ CORS_ORIGINS: ['https://ui.example', 'http://localhost:5173'] });
});
afterAll(async () => {
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createUser(body: Record<string, unknown>) {
  const res = await h.http({ method: 'POST', url: '/v1/users', payload: body });
  expect(res.statusCode).toBe(201);
  return res.json();
}
async function keyFor(userId: string, extra: Record<string, unknown> = {}) {
  const res = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'k', user_id: userId, ...extra } });
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe('users', () => {
  it('creates, lists, reads and changes users; email is unique regardless of case', async () => {
    const ann = await createUser({ name: 'Ann', email: 'ann@example.org' });
    expect(ann).toEqual({ id: expect.any(String), name: 'Ann', email: 'ann@example.org', role: 'member', active: true, created_at: expect.any(String), updated_at: expect.any(String) });
    const taken = await h.http({ method: 'POST', url: '/v1/users', payload: { name: 'Other', email: 'ANN@example.org' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().type).toBe('https://alder.dev/problems/email-taken');
    expect((await h.http({ method: 'GET', url: `/v1/users/${ann.id}` })).json().name).toBe('Ann');
    const renamed = await h.http({ method: 'PATCH', url: `/v1/users/${ann.id}`, payload: { name: 'Ann B.', email: null } });
    expect(renamed.json()).toMatchObject({ name: 'Ann B.', email: null });
    const list = (await h.http({ method: 'GET', url: '/v1/users?limit=200' })).json();
    expect(list.data.map((u: { id: string }) => u.id)).toContain(ann.id);
    expect((await h.http({ method: 'GET', url: `/v1/users/${MISSING}` })).statusCode).toBe(404);
  });

  it('refuses mass assignment and bad fields, writing nothing', async () => {
    const before = await counts(h.db.pool);
    for (const body of [{ name: 'x', id: MISSING }, { name: 'x', active: false }, { name: 'x', created_at: '2020-01-01T00:00:00Z' }, { name: '' }, { name: 'x', email: 'not an email' }, { name: 'x', role: 'owner' }]) {
      const res = await h.http({ method: 'POST', url: '/v1/users', payload: body });
      expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 422]);
    }
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('a member sees themselves only; a deactivated user\'s keys stop at once', async () => {
    const bo = await createUser({ name: 'Bo' });
    const other = await createUser({ name: 'Cy' });
    const { key } = await keyFor(bo.id);
    expect((await h.http({ method: 'GET', url: `/v1/users/${bo.id}`, headers: bearer(key) })).statusCode).toBe(200);
    const peek = await h.http({ method: 'GET', url: `/v1/users/${other.id}`, headers: bearer(key) });
    const missing = await h.http({ method: 'GET', url: `/v1/users/${MISSING}`, headers: bearer(key) });
    expect([peek.statusCode, peek.json().detail.replace(other.id, '<id>')]).toEqual([404, missing.json().detail.replace(MISSING, '<id>')]);
    expect((await h.http({ method: 'GET', url: '/v1/users', headers: bearer(key) })).statusCode).toBe(403);
    expect((await h.http({ method: 'PATCH', url: `/v1/users/${bo.id}`, headers: bearer(key), payload: { role: 'admin' } })).statusCode).toBe(403);
    expect((await h.http({ method: 'PATCH', url: `/v1/users/${bo.id}`, payload: { active: false } })).json().active).toBe(false);
    expect((await h.http({ method: 'GET', url: `/v1/users/${bo.id}`, headers: bearer(key) })).statusCode).toBe(401);
  });

  it('never leaves the deployment without an active admin', async () => {
    const { rows } = await h.db.pool.query(`SELECT u.id FROM users u JOIN api_keys k ON k.user_id = u.id WHERE u.role = 'admin' AND k.revoked_at IS NULL`);
    const adminIds = [...new Set(rows.map((r) => r.id as string))];
    expect(adminIds).toHaveLength(1);
    const res = await h.http({ method: 'PATCH', url: `/v1/users/${adminIds[0]}`, payload: { role: 'member' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().type).toBe('https://alder.dev/problems/last-admin');
    const second = await createUser({ name: 'Second admin', role: 'admin' });
    const { key } = await keyFor(second.id);
    expect((await h.http({ method: 'PATCH', url: `/v1/users/${second.id}`, payload: { active: false } })).statusCode).toBe(200);
    expect((await h.http({ method: 'GET', url: '/v1/users', headers: bearer(key) })).statusCode).toBe(401);
  });
});

describe('API keys', () => {
  it('belong to a user, are shown once, hashed with a visible prefix, and expire', async () => {
    const dee = await createUser({ name: 'Dee' });
    const created = await keyFor(dee.id, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(created).toMatchObject({ user_id: dee.id, key: expect.stringMatching(/^alder_/), key_prefix: created.key.slice(0, 12), revoked_at: null });
    const stored = await h.db.pool.query('SELECT key_hash, key_prefix FROM api_keys WHERE id = $1', [created.id]);
    expect(stored.rows[0].key_hash).not.toContain(created.key);
    expect(JSON.stringify((await h.http({ method: 'GET', url: '/v1/api-keys' })).json())).not.toContain(created.key);
    expect((await h.http({ method: 'GET', url: `/v1/users/${dee.id}`, headers: bearer(created.key) })).statusCode).toBe(200);
    const used = await h.db.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [created.id]);
    expect(used.rows[0].last_used_at).not.toBeNull();
    await h.db.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id]);
    const expired = await h.http({ method: 'GET', url: `/v1/users/${dee.id}`, headers: bearer(created.key) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().type).toBe('https://alder.dev/problems/unauthorized');
    const past = await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'old', user_id: dee.id, expires_at: '2020-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(422);
    expect((await h.http({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', user_id: MISSING } })).statusCode).toBe(404);
  });

  it('a member manages their own keys only; revoking takes effect at once', async () => {
    const eve = await createUser({ name: 'Eve' });
    const fay = await createUser({ name: 'Fay' });
    const eveKey = await keyFor(eve.id);
    const fayKey = await keyFor(fay.id);
    const own = await h.http({ method: 'POST', url: '/v1/api-keys', headers: bearer(eveKey.key), payload: { name: 'laptop' } });
    expect(own.statusCode).toBe(201);
    expect(own.json().user_id).toBe(eve.id);
    // Someone else's user id, or key, reads as missing.
    const forOther = await h.http({ method: 'POST', url: '/v1/api-keys', headers: bearer(eveKey.key), payload: { name: 'x', user_id: fay.id } });
    expect(forOther.statusCode).toBe(404);
    const listed = (await h.http({ method: 'GET', url: '/v1/api-keys', headers: bearer(eveKey.key) })).json().data;
    expect(listed.every((k: { user_id: string }) => k.user_id === eve.id)).toBe(true);
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${fayKey.id}`, headers: bearer(eveKey.key) })).statusCode).toBe(404);
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${own.json().id}`, headers: bearer(eveKey.key) })).statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: `/v1/users/${eve.id}`, headers: bearer(own.json().key) })).statusCode).toBe(401);
    expect((await h.http({ method: 'DELETE', url: `/v1/api-keys/${fayKey.id}` })).statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: `/v1/users/${fay.id}`, headers: bearer(fayKey.key) })).statusCode).toBe(401);
  });
});

describe('members', () => {
  it('managers add, change and remove members; roles decide what a key may do', async () => {
    const projectId = await createProject(h);
    const manager = await h.as(projectId, 'manager', 'manager');
    const gil = await createUser({ name: 'Gil' });
    const gilKey = await keyFor(gil.id);
    // Not yet a member: the project reads as missing.
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}`, headers: bearer(gilKey.key) })).statusCode).toBe(404);
    const added = await manager.http({ method: 'PUT', url: `/v1/projects/${projectId}/members/${gil.id}`, payload: { role: 'viewer' } });
    expect(added.statusCode).toBe(200);
    expect(added.json()).toMatchObject({ project_id: projectId, user_id: gil.id, name: 'Gil', role: 'viewer' });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}`, headers: bearer(gilKey.key) })).statusCode).toBe(200);
    expect((await h.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, headers: bearer(gilKey.key) })).statusCode).toBe(403);
    expect((await h.http({ method: 'GET', url: '/v1/projects', headers: bearer(gilKey.key) })).json().data.map((p: { id: string }) => p.id)).toEqual([projectId]);
    const members = (await manager.http({ method: 'GET', url: `/v1/projects/${projectId}/members` })).json().data;
    expect(members.map((m: { role: string }) => m.role).sort()).toEqual(['manager', 'viewer']);
    expect((await manager.http({ method: 'PUT', url: `/v1/projects/${projectId}/members/${gil.id}`, payload: { role: 'owner' } })).statusCode).toBe(422);
    expect((await manager.http({ method: 'PUT', url: `/v1/projects/${projectId}/members/${MISSING}`, payload: { role: 'viewer' } })).statusCode).toBe(404);
    expect((await manager.http({ method: 'DELETE', url: `/v1/projects/${projectId}/members/${gil.id}` })).statusCode).toBe(204);
    expect((await manager.http({ method: 'DELETE', url: `/v1/projects/${projectId}/members/${gil.id}` })).statusCode).toBe(204);
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}`, headers: bearer(gilKey.key) })).statusCode).toBe(404);
  });

  it('refuses role escalation: an annotator can not add members or change settings, nothing written', async () => {
    const projectId = await createProject(h);
    const annotator = await h.as(projectId, 'ann', 'annotator');
    const before = await counts(h.db.pool);
    const selfPromote = await annotator.http({ method: 'PUT', url: `/v1/projects/${projectId}/members/${annotator.userId}`, payload: { role: 'manager' } });
    expect(selfPromote.statusCode).toBe(403);
    expect((await annotator.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { overlap: { annotators: 5 } } })).statusCode).toBe(403);
    expect((await annotator.http({ method: 'POST', url: '/v1/users', payload: { name: 'sock puppet', role: 'admin' } })).statusCode).toBe(403);
    expect((await annotator.http({ method: 'PATCH', url: `/v1/users/${annotator.userId}`, payload: { role: 'admin' } })).statusCode).toBe(403);
    expect(await counts(h.db.pool)).toEqual(before);
  });
});

describe('CORS', () => {
  it('answers preflights from allowed origins and gives other origins no CORS headers', async () => {
    const preflight = await h.http({
      method: 'OPTIONS',
      url: '/v1/projects',
      headers: { origin: 'https://ui.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://ui.example');
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/authorization/);
    const actual = await h.http({ method: 'GET', url: '/v1/projects', headers: { origin: 'http://localhost:5173', authorization: `Bearer ${h.adminKey}` } });
    expect(actual.statusCode).toBe(200);
    expect(actual.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(actual.headers['access-control-expose-headers']).toMatch(/x-request-id/);
    for (const origin of ['https://evil.example', 'https://ui.example.evil.example', 'http://ui.example', 'null']) {
      const denied = await h.http({ method: 'OPTIONS', url: '/v1/projects', headers: { origin, 'access-control-request-method': 'GET' } });
      expect([origin, denied.headers['access-control-allow-origin']]).toEqual([origin, undefined]);
      const read = await h.http({ method: 'GET', url: '/v1/projects', headers: { origin, authorization: `Bearer ${h.adminKey}` } });
      expect(read.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('text that can not be stored as sent', () => {
  it('answers 422 naming the field for NUL characters and lone surrogates, writing nothing', async () => {
    const before = await counts(h.db.pool);
    for (const raw of ['{"name":"a\\u0000b"}', '{"name":"a\\ud800b"}', '{"name":"a\\udc00"}', '{"name":"ok","email":"\\u0000@x.org"}']) {
      const res = await h.http({ method: 'POST', url: '/v1/users', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, payload: raw });
      expect([raw, res.statusCode]).toEqual([raw, 422]);
      expect(res.json().errors[0].path).toMatch(/^body\/(name|email)$/);
    }
    // A well-formed pair (an emoji) is fine.
    const emoji = await h.http({ method: 'POST', url: '/v1/users', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, payload: '{"name":"\\ud83d\\ude00"}' });
    expect(emoji.statusCode).toBe(201);
    expect(emoji.json().name).toBe('\u{1F600}');
    expect((await counts(h.db.pool)).users).toBe(before.users + 1);
  });
});
