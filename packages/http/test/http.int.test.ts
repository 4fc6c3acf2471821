import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@alder/config';
import { createLogger } from '@alder/logger';
import { withTransaction } from '@alder/db';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import {
  buildHttpApp,
  createApiKey,
  createMember,
  createUserWithKey,
  ensureBootstrapKey,
  hashApiKey,
  HttpProblem,
  listApiKeys,
  revokeApiKey,
  type HandlerMap,
} from '../src/index';
import { testClient, type TestClient } from '../src/testing';
import { stubProject } from './stub-project';

const log = createLogger({ level: 'silent' });
const config = { ...loadConfig({}), MAX_BODY_BYTES: 4096 };
const PROJECT_ID = '6f1c1d3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f';

const project = stubProject({ id: PROJECT_ID, strategy: 'margin' });

// Stand-ins for the services' handlers: this file tests the app builder, not the services.
const handlers: HandlerMap = {
  getProject: async () => ({ ...project, secret_column: 'dropped by the response schema' }) as typeof project,
  createProject: async (request, reply) => {
    reply.code(201);
    return { ...project, name: request.body.name, labels: request.body.labels };
  },
  listProjects: async () => {
    throw new Error('connection string postgres://user:hunter2@db');
  },
  getProgress: async () => {
    throw new HttpProblem(409, 'conflict', 'a handler problem');
  },
  // Managers only: what another project role is refused.
  updateProject: async () => project,
};

let db: TestDatabase;
let redis: TestRedis;
let producer: Redis;
let app: FastifyInstance;
let http: TestClient;
let adminKey: string;
let adminUserId: string;
/** Members of PROJECT_ID with a read-only and the managing role. */
let viewerKey: string;
let managerKey: string;
/** A user with a key who is in no project. */
let outsiderKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  app = await buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers });
  http = await testClient(app);
  // The stand-in handlers answer for PROJECT_ID, but the access hook finds it in the database.
  await db.pool.query(`INSERT INTO projects (id, name, labels) VALUES ($1, 'p', '{a,b}')`, [PROJECT_ID]);
  ({ key: adminKey, userId: adminUserId } = await createUserWithKey(db.pool, { name: 'admin', role: 'admin' }));
  viewerKey = (await createMember(db.pool, PROJECT_ID, 'viewer', 'ui')).key;
  managerKey = (await createMember(db.pool, PROJECT_ID, 'manager', 'lead')).key;
  outsiderKey = (await createUserWithKey(db.pool, { name: 'outsider' })).key;
});
afterAll(async () => {
  await app?.close();
  producer?.disconnect();
  await redis?.cleanup();
  await db?.drop();
});

const auth = (key = adminKey) => ({ authorization: `Bearer ${key}` });

describe('system routes', () => {
  it('GET /healthz is 200 without a key', async () => {
    const res = await http({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('GET /readyz checks Postgres and Redis', async () => {
    const res = await http({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('GET /readyz is a 503 problem when Redis is unreachable', async () => {
    // Port 1 is closed: the producer connection fails fast, as in production.
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 1_000 });
    dead.on('error', () => undefined);
    const other = await buildHttpApp({ config, pool: db.pool, redis: dead, log, handlers: {} });
    try {
      const res = await (await testClient(other))({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ type: 'https://alder.dev/problems/unavailable', status: 503, detail: 'postgres: ok, redis: unavailable' });
    } finally {
      await other.close();
      dead.disconnect();
    }
  });

  it('GET /openapi.json is the whole spec, whichever operations this app routes', async () => {
    const res = await http({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json();
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.paths['/v1/projects/{project_id}/items'].post.operationId).toBe('ingestItems');
    expect(spec.paths['/v1/tasks/{task_id}/annotation'].post.operationId).toBe('submitAnnotation');
  });

  it('GET /openapi.json names every parameter where Swagger UI looks for it', async () => {
    const spec = (await http({ method: 'GET', url: '/openapi.json' })).json();
    const resolve = (p: { $ref?: string }) => (p.$ref ? spec.components.parameters[p.$ref.split('/').pop()!] : p);
    let pathLevel = 0;
    for (const [path, item] of Object.entries<Record<string, any>>(spec.paths)) {
      // Swagger UI merges these into an operation unresolved: each must carry its name itself.
      for (const p of item.parameters ?? []) {
        pathLevel++;
        expect({ path, $ref: p.$ref, named: typeof p.name === 'string' && typeof p.in === 'string' }).toEqual({ path, $ref: undefined, named: true });
        if (p.in === 'path') expect(path).toContain(`{${p.name}}`);
      }
      for (const op of Object.values<any>(item)) {
        for (const p of Array.isArray(op?.parameters) ? op.parameters : []) expect(resolve(p)).toMatchObject({ name: expect.any(String), in: expect.any(String) });
      }
    }
    expect(pathLevel).toBeGreaterThan(10);
    expect(spec.paths['/v1/projects/{project_id}'].parameters).toEqual([
      { name: 'project_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
    ]);
  });

  it('GET /openapi.json points "Try it out" at the server that served it, whatever its port', async () => {
    const res = await http({ method: 'GET', url: '/openapi.json' });
    const spec = res.json();
    const { port } = app.server.address() as { port: number };
    const documentUrl = `http://127.0.0.1:${port}/openapi.json`;
    expect(spec.servers).toHaveLength(1);
    // A relative server URL is resolved against the document's own URL (OpenAPI 3.1, 4.8.1).
    expect(new URL(spec.servers[0].url, documentUrl).origin).toBe(`http://127.0.0.1:${port}`);
  });

  it('GET /docs serves Swagger UI on the spec', async () => {
    const page = await http({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
    const init = await http({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain("url: '/openapi.json'");
    const bundle = await http({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect((await http({ method: 'GET', url: '/docs/static/..%2Fpackage.json' })).statusCode).toBe(404);
  });
});

describe('routing from the spec', () => {
  it('routes only the operations that have a handler', async () => {
    const res = await http({ method: 'POST', url: `/v1/projects/${PROJECT_ID}/items`, headers: auth(), payload: { items: [] } });
    expect(res.statusCode).toBe(404);
    expect(res.json().type).toBe('https://alder.dev/problems/not-found');
  });

  it('refuses a handler for an operation the spec does not have', async () => {
    await expect(buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers: { nope: async () => ({}) } as never })).rejects.toThrow(/nope/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await http({ method: 'GET', url: '/v2/whatever?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'https://alder.dev/problems/not-found', title: 'Not found', status: 404, instance: '/v2/whatever' });
  });

  it('serialises responses through the spec (unknown fields are dropped)', async () => {
    const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(project);
  });

  it('turns a malformed id in the path into a 404', async () => {
    const res = await http({ method: 'GET', url: '/v1/projects/not-a-uuid', headers: auth() });
    expect(res.statusCode).toBe(404);
    expect(res.json().type).toBe('https://alder.dev/problems/not-found');
  });
});

describe('authentication', () => {
  it('401 without a key, with a WWW-Authenticate challenge', async () => {
    const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}` });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toMatchObject({ type: 'https://alder.dev/problems/unauthorized', status: 401 });
  });

  it('401 for a wrong key and for a malformed Authorization header', async () => {
    for (const headers of [auth('alder_wrong'), { authorization: 'Basic abc' }, { 'x-api-key': 'alder_wrong' }]) {
      const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers });
      expect(res.statusCode).toBe(401);
    }
  });

  it('authenticates before reading the body', async () => {
    const res = await http({ method: 'POST', url: '/v1/projects', headers: { 'content-type': 'application/json' }, payload: '{oops' });
    expect(res.statusCode).toBe(401);
  });

  it('accepts Bearer and X-API-Key, and records last use', async () => {
    const created = await createApiKey(db.pool, { name: 'fresh', userId: adminUserId });
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(created.key) })).statusCode).toBe(200);
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: { 'x-api-key': created.key } })).statusCode).toBe(200);
    const behindProxy = { authorization: 'Basic cHJveHk6cGFzcw==', 'x-api-key': created.key };
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: behindProxy })).statusCode).toBe(200);
    const { rows } = await db.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [created.id]);
    expect(rows[0].last_used_at).toBeInstanceOf(Date);
  });

  it('refuses a revoked key at once', async () => {
    const created = await createApiKey(db.pool, { name: 'soon revoked', userId: adminUserId });
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(created.key) })).statusCode).toBe(200);
    expect((await withTransaction(db.pool, (client) => revokeApiKey(client, created.id))).outcome).toBe('revoked');
    const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(created.key) });
    expect(res.statusCode).toBe(401);
  });

  it('refuses an expired key, and every key of an inactive user, at once', async () => {
    const expiring = await createApiKey(db.pool, { name: 'soon expired', userId: adminUserId, expiresAt: new Date(Date.now() + 60_000) });
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(expiring.key) })).statusCode).toBe(200);
    await db.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id]);
    const expired = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(expiring.key) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().type).toBe('https://alder.dev/problems/unauthorized');

    const leaving = await createMember(db.pool, PROJECT_ID, 'viewer', 'leaving');
    const second = await createApiKey(db.pool, { name: 'second key', userId: leaving.userId });
    for (const key of [leaving.key, second.key]) expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(key) })).statusCode).toBe(200);
    await db.pool.query('UPDATE users SET active = false WHERE id = $1', [leaving.userId]);
    for (const key of [leaving.key, second.key]) expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(key) })).statusCode).toBe(401);
    await db.pool.query('UPDATE users SET active = true WHERE id = $1', [leaving.userId]);
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(leaving.key) })).statusCode).toBe(200);
  });
});

describe('access', () => {
  it('lets a member call only what their project role allows', async () => {
    expect((await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(viewerKey) })).statusCode).toBe(200);
    const patch = (key: string) => http({ method: 'PATCH', url: `/v1/projects/${PROJECT_ID}`, headers: auth(key), payload: { name: 'x' } });
    const refused = await patch(viewerKey);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ type: 'https://alder.dev/problems/forbidden', detail: expect.stringContaining('"viewer"') });
    expect((await patch(managerKey)).statusCode).toBe(200);
    expect((await patch(adminKey)).statusCode).toBe(200);
  });

  it('keeps operations for admins from members, whatever their project roles', async () => {
    for (const key of [viewerKey, managerKey, outsiderKey]) {
      const res = await http({ method: 'POST', url: '/v1/projects', headers: auth(key), payload: { name: 'x', labels: ['a', 'b'] } });
      expect(res.statusCode).toBe(403);
      expect(res.json().type).toBe('https://alder.dev/problems/forbidden');
    }
    expect((await http({ method: 'POST', url: '/v1/projects', headers: auth(), payload: { name: 'x', labels: ['a', 'b'] } })).statusCode).toBe(201);
  });

  it('answers a non-member exactly as for a missing project, before any role or body check', async () => {
    const MISSING = '00000000-0000-4000-8000-000000000000';
    const strip = (body: { detail?: string; instance?: string; request_id?: string }) => ({ ...body, detail: body.detail?.replace(PROJECT_ID, MISSING), instance: undefined, request_id: undefined });
    const notMember = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: auth(outsiderKey) });
    const missing = await http({ method: 'GET', url: `/v1/projects/${MISSING}`, headers: auth(adminKey) });
    expect(notMember.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(strip(notMember.json())).toEqual(strip(missing.json()));
    // Not a 403 for a role, nor a 422 for the body: nothing tells that the project exists.
    const patched = await http({ method: 'PATCH', url: `/v1/projects/${PROJECT_ID}`, headers: auth(outsiderKey), payload: { colour: 'red' } });
    expect(patched.statusCode).toBe(404);
    expect((await http({ method: 'GET', url: `/v1/projects/${MISSING}`, headers: auth(viewerKey) })).statusCode).toBe(404);
  });
});

describe('request errors are problem+json', () => {
  it('400 for malformed JSON and for an empty JSON body', async () => {
    const bad = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"name": "x",' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ type: 'https://alder.dev/problems/malformed-request', status: 400 });
    const empty = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'text/plain' }, payload: 'name=x' });
    expect(res.statusCode).toBe(415);
    expect(res.json().type).toBe('https://alder.dev/problems/unsupported-media-type');
  });

  it('415 for an NDJSON stream or a multipart form to an operation that takes JSON only, and for an encoding other than gzip', async () => {
    const ndjson = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'application/x-ndjson' }, payload: '{"name":"x"}\n' });
    expect(ndjson.statusCode).toBe(415);
    expect(ndjson.json()).toMatchObject({ type: 'https://alder.dev/problems/unsupported-media-type', detail: 'This operation takes application/json bodies only.' });
    const multipart = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=b' }, payload: '--b--\r\n' });
    expect(multipart.json()).toMatchObject({ status: 415, type: 'https://alder.dev/problems/unsupported-media-type', detail: 'This operation takes application/json bodies only.' });
    const deflated = await http({ method: 'POST', url: '/v1/projects', headers: { ...auth(), 'content-type': 'application/json', 'content-encoding': 'deflate' }, payload: '{}' });
    expect(deflated.statusCode).toBe(415);
  });

  it('413 for a body over MAX_BODY_BYTES', async () => {
    const res = await http({ method: 'POST', url: '/v1/projects', headers: auth(), payload: { name: 'x'.repeat(5000), labels: ['a', 'b'] } });
    expect(res.statusCode).toBe(413);
    expect(res.json().type).toBe('https://alder.dev/problems/payload-too-large');
  });

  it('422 lists every schema violation with its path', async () => {
    const res = await http({
      method: 'POST',
      url: '/v1/projects',
      headers: auth(),
      payload: { labels: ['a', 'a', ''], strategy: 'psychic', retrain_every: 0, colour: 'red' },
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.type).toBe('https://alder.dev/problems/validation');
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body/name', 'body/colour', 'body/labels/2', 'body/labels', 'body/strategy', 'body/retrain_every']));
  });

  it('422 when a required body is missing', async () => {
    const res = await http({ method: 'POST', url: '/v1/projects', headers: auth() });
    expect(res.statusCode).toBe(422);
  });

  it('a handler problem keeps its status and type', async () => {
    const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}/progress`, headers: auth() });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ type: 'https://alder.dev/problems/conflict', title: 'Conflict', detail: 'a handler problem' });
  });

  it('500 says nothing internal', async () => {
    const res = await http({ method: 'GET', url: '/v1/projects', headers: auth() });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ type: 'https://alder.dev/problems/internal', status: 500 });
    expect(body.request_id).toBeDefined();
    expect(res.body).not.toMatch(/hunter2|postgres|stack/);
  });
});

describe('API keys', () => {
  it('createApiKey stores only the hash of an alder_ key, as a key of its user', async () => {
    const user = await createUserWithKey(db.pool, { name: 'k' });
    const created = await createApiKey(db.pool, { name: 'k', userId: user.userId });
    expect(created.key).toMatch(/^alder_[0-9A-Za-z]{32}$/);
    expect(created).toMatchObject({ user_id: user.userId, expires_at: null, revoked_at: null });
    expect(created).not.toHaveProperty('role');
    const { rows } = await db.pool.query('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(rows[0]).toMatchObject({ key_hash: hashApiKey(created.key), key_prefix: created.key.slice(0, 12), user_id: user.userId });
    // The key's role is its user's now.
    expect(rows[0]).not.toHaveProperty('role');
    expect(JSON.stringify(rows)).not.toContain(created.key);
    expect((await listApiKeys(db.pool, { userId: user.userId })).map((k) => k.id).sort()).toEqual([user.keyId, created.id].sort());
  });

  it('ensureBootstrapKey creates an admin key, of an admin user, only when no admin key is usable', async () => {
    const fresh = await createTestDatabase();
    try {
      const first = await ensureBootstrapKey(fresh.pool);
      expect(first.created).toBe(true);
      expect(first.key).toMatch(/^alder_/);
      const owner = await fresh.pool.query('SELECT u.id, u.role, u.active FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1', [hashApiKey(first.key!)]);
      expect(owner.rows).toEqual([{ id: expect.any(String), role: 'admin', active: true }]);
      expect(await ensureBootstrapKey(fresh.pool)).toEqual({ created: false });
      await fresh.pool.query('UPDATE api_keys SET revoked_at = now()');
      const again = await ensureBootstrapKey(fresh.pool);
      expect(again.created).toBe(true);
      // An expired admin key is no usable one either; the admin user is the same one throughout.
      await fresh.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_hash = $1`, [hashApiKey(again.key!)]);
      expect((await ensureBootstrapKey(fresh.pool)).created).toBe(true);
      const users = await fresh.pool.query('SELECT role FROM users');
      expect(users.rows).toEqual([{ role: 'admin' }]);
      // A member's key does not administer the deployment.
      await fresh.pool.query('UPDATE api_keys SET revoked_at = now()');
      await createUserWithKey(fresh.pool, { name: 'member' });
      expect((await ensureBootstrapKey(fresh.pool)).created).toBe(true);
    } finally {
      await fresh.drop();
    }
  });

  it('creates one bootstrap key when replicas start together, and never revokes the last admin key', async () => {
    const fresh = await createTestDatabase();
    try {
      const started = await Promise.all([ensureBootstrapKey(fresh.pool), ensureBootstrapKey(fresh.pool), ensureBootstrapKey(fresh.pool)]);
      expect(started.filter((s) => s.created)).toHaveLength(1);
      const second = await createUserWithKey(fresh.pool, { name: 'second admin', role: 'admin' });
      const member = await createUserWithKey(fresh.pool, { name: 'member' });
      const admins = await fresh.pool.query<{ id: string }>(`SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.role = 'admin'`);
      expect(admins.rows.map((k) => k.id)).toContain(second.keyId);
      expect(admins.rows).toHaveLength(2);
      expect(await listApiKeys(fresh.pool)).toHaveLength(3);
      // Two revocations at once of the last two admin keys: the lock lets one through.
      const outcomes = await Promise.all(admins.rows.map((k) => withTransaction(fresh.pool, async (client) => (await revokeApiKey(client, k.id)).outcome)));
      expect(outcomes.sort()).toEqual(['last-admin', 'revoked']);
      // A member's only key is no admin key: it can go.
      expect((await withTransaction(fresh.pool, (client) => revokeApiKey(client, member.keyId))).outcome).toBe('revoked');
      expect((await listApiKeys(fresh.pool)).filter((k) => k.revoked_at === null)).toHaveLength(1);
    } finally {
      await fresh.drop();
    }
  });

  it('ensureBootstrapKey stores a configured key once, as a key of the first admin user', async () => {
    const configured = 'configured-admin-key-0123456789';
    expect(await ensureBootstrapKey(db.pool, configured)).toEqual({ created: true });
    expect(await ensureBootstrapKey(db.pool, configured)).toEqual({ created: false });
    const { rows } = await db.pool.query('SELECT user_id FROM api_keys WHERE key_hash = $1', [hashApiKey(configured)]);
    expect(rows).toEqual([{ user_id: adminUserId }]);
    const res = await http({ method: 'GET', url: `/v1/projects/${PROJECT_ID}`, headers: { 'x-api-key': configured } });
    expect(res.statusCode).toBe(200);
  });
});
