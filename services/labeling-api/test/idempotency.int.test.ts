// Idempotency-Key, walked over every operation the spec marks `x-alder-idempotent: true`, with the
// real handlers and Postgres: a creating POST that is not marked, or is marked without a fixture
// here, fails this file. The mechanism's finer points (a process that died, a client that gave up,
// 5xx, sealing, sizes) are in packages/http/test/idempotency.int.test.ts.
import { createIngestHandlers } from '@alder/ingest';
import { createUserWithKey, idempotentOperations, loadSpec, upsertMember } from '@alder/http';
import { startTestApp, type TestApp, type TestResponse } from '@alder/http/testing';
import { createLabelingHandlers } from '../src/index';
import { insertItems, publishColdStart } from './harness';

interface Caller {
  key: string;
  keyId: string;
}

/** One request that creates one thing, for a caller. */
interface Prepared {
  url: string;
  /** Variant `a` or another body, `b`. */
  body(variant: 'a' | 'b'): unknown;
}

interface Fixture {
  /** What the operation creates, counted. */
  count: string;
  /** Two callers allowed to call it (two users). */
  callers: [Caller, Caller];
  /** A fresh request: each call makes what it needs (a task for an annotation, new external ids). */
  prepare(caller: Caller): Promise<Prepared>;
}

let app: TestApp;
let projectId: string;
const fixtures: Record<string, Fixture> = {};
let n = 0;
const unique = () => `${++n}-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  // Subscriptions to a local address (nothing is delivered here: the dispatcher is not running).
  app = await startTestApp((deps) => ({ ...createLabelingHandlers(deps), ...createIngestHandlers(deps) }), { WEBHOOK_ALLOW_PRIVATE_TARGETS: true });
  const pool = app.db.pool;
  const res = await app.client({ method: 'POST', url: '/v1/projects', headers: { authorization: `Bearer ${app.adminKey}` }, payload: { name: 'walk', labels: ['pos', 'neg'] } });
  projectId = res.json().id;
  await insertItems(pool, projectId, 40);
  await publishColdStart(pool, projectId);

  const admins = [await createUserWithKey(pool, { name: 'admin 1', role: 'admin' }), await createUserWithKey(pool, { name: 'admin 2', role: 'admin' })] as [Caller, Caller];
  const members = [await createUserWithKey(pool, { name: 'member 1' }), await createUserWithKey(pool, { name: 'member 2' })] as [Caller, Caller];
  const integrators = [await createUserWithKey(pool, { name: 'integrator 1' }), await createUserWithKey(pool, { name: 'integrator 2' })] as [Caller & { userId: string }, Caller & { userId: string }];
  for (const user of integrators) await upsertMember(pool, projectId, user.userId, 'integrator');
  const annotators = [await createUserWithKey(pool, { name: 'annotator 1' }), await createUserWithKey(pool, { name: 'annotator 2' })] as [Caller & { userId: string }, Caller & { userId: string }];
  for (const user of annotators) await upsertMember(pool, projectId, user.userId, 'annotator');

  const same = (url: string, make: (variant: 'a' | 'b') => unknown): Prepared => ({ url, body: make });
  fixtures.createProject = {
    count: 'SELECT count(*)::int AS n FROM projects',
    callers: admins,
    prepare: async () => same('/v1/projects', (v) => ({ name: `project ${v}`, labels: v === 'a' ? ['pos', 'neg'] : ['x', 'y'] })),
  };
  fixtures.createUser = {
    count: 'SELECT count(*)::int AS n FROM users',
    callers: admins,
    prepare: async () => same('/v1/users', (v) => ({ name: `user ${v}` })),
  };
  fixtures.createApiKey = {
    count: 'SELECT count(*)::int AS n FROM api_keys',
    callers: members,
    prepare: async () => same('/v1/api-keys', (v) => ({ name: `key ${v}` })),
  };
  // JSON batches: an NDJSON stream or a multipart file does not use the key (its body is read after
  // the key would be compared); ndjson.int.test.ts and file-import.int.test.ts check that.
  fixtures.ingestItems = {
    count: 'SELECT count(*)::int AS n FROM items',
    callers: integrators,
    prepare: async () => {
      const batch = unique();
      return same(`/v1/projects/${projectId}/items`, (v) => ({ items: [{ external_id: `walk-${batch}-1`, text: `first ${v}` }, { external_id: `walk-${batch}-2`, text: 'second' }] }));
    },
  };
  const managers = [await createUserWithKey(pool, { name: 'manager 1' }), await createUserWithKey(pool, { name: 'manager 2' })] as [Caller & { userId: string }, Caller & { userId: string }];
  for (const user of managers) await upsertMember(pool, projectId, user.userId, 'manager');
  fixtures.createIntegration = {
    count: 'SELECT count(*)::int AS n FROM integrations',
    callers: managers,
    prepare: async () => same(`/v1/projects/${projectId}/integrations`, (v) => ({ name: `integration ${v}` })),
  };
  fixtures.rotateIntegrationSecret = {
    count: `SELECT count(*)::int AS n FROM audit_events WHERE kind = 'integration.secret_rotated'`,
    callers: managers,
    prepare: async (caller) => {
      const made = await app.client({ method: 'POST', url: `/v1/projects/${projectId}/integrations`, headers: { authorization: `Bearer ${caller.key}` }, payload: { name: `to rotate ${unique()}` } });
      if (made.statusCode !== 201) throw new Error(`no integration: ${made.statusCode} ${made.body}`);
      return same(`/v1/integrations/${made.json().id}/rotate-secret`, (v) => ({ overlap_seconds: v === 'a' ? 60 : 120 }));
    },
  };
  fixtures.createWebhook = {
    count: 'SELECT count(*)::int AS n FROM webhook_subscriptions',
    callers: managers,
    prepare: async () => same(`/v1/projects/${projectId}/webhooks`, (v) => ({ url: `http://127.0.0.1:9/hook-${v}` })),
  };
  fixtures.rotateWebhookSecret = {
    count: `SELECT count(*)::int AS n FROM audit_events WHERE kind = 'webhook.secret_rotated'`,
    callers: managers,
    prepare: async (caller) => {
      const made = await app.client({ method: 'POST', url: `/v1/projects/${projectId}/webhooks`, headers: { authorization: `Bearer ${caller.key}` }, payload: { url: `http://127.0.0.1:9/rotate-${unique()}` } });
      if (made.statusCode !== 201) throw new Error(`no subscription: ${made.statusCode} ${made.body}`);
      return same(`/v1/projects/${projectId}/webhooks/${made.json().id}/rotate-secret`, (v) => ({ overlap_seconds: v === 'a' ? 60 : 120 }));
    },
  };
  fixtures.submitAnnotation = {
    count: 'SELECT count(*)::int AS n FROM annotations',
    callers: annotators,
    prepare: async (caller) => {
      const task = await app.client({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, headers: { authorization: `Bearer ${caller.key}` } });
      if (task.statusCode !== 200) throw new Error(`no task: ${task.statusCode} ${task.body}`);
      return same(`/v1/tasks/${task.json().task_id}/annotation`, (v) => ({ label: v === 'a' ? 'pos' : 'neg' }));
    },
  };
});

afterAll(async () => {
  await app?.close();
});

function send(caller: Caller, prepared: Prepared, variant: 'a' | 'b', key?: string): Promise<TestResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${caller.key}` };
  if (key !== undefined) headers['idempotency-key'] = key;
  return app.client({ method: 'POST', url: prepared.url, headers, payload: prepared.body(variant) });
}

async function count(sql: string): Promise<number> {
  return (await app.db.pool.query(sql)).rows[0].n;
}
const auditEvents = () => count('SELECT count(*)::int AS n FROM audit_events');

/** Holds every write of an audit event (each creating operation writes one in its transaction) until released. */
async function holdAuditWrites(): Promise<{ blocked(): Promise<void>; release(): Promise<void> }> {
  const client = await app.db.pool.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
  return {
    // Until a request waits for the lock: no clock involved, only a bounded number of looks.
    async blocked() {
      for (let i = 0; i < 1_000; i++) {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'audit_events'::regclass AND NOT granted`);
        if (rows[0].n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('no request came to wait for the audit lock');
    },
    async release() {
      await client.query('ROLLBACK');
      client.release();
    },
  };
}

const marked = () => [...idempotentOperations(loadSpec())].sort();

describe('which operations take an Idempotency-Key', () => {
  it('every POST states x-alder-idempotent, and every POST that answers 201 is marked true', () => {
    const unstated: string[] = [];
    const creatingUnmarked: string[] = [];
    for (const [path, item] of Object.entries(loadSpec().paths ?? {})) {
      const op = item.post as { operationId?: string; responses?: Record<string, unknown>; 'x-alder-idempotent'?: unknown } | undefined;
      if (!op) continue;
      const name = op.operationId ?? `POST ${path}`;
      if (typeof op['x-alder-idempotent'] !== 'boolean') unstated.push(name);
      if (op.responses?.['201'] && op['x-alder-idempotent'] !== true) creatingUnmarked.push(name);
    }
    expect({ unstated, creatingUnmarked }).toEqual({ unstated: [], creatingUnmarked: [] });
  });

  it('every marked operation is walked here', () => {
    expect(marked()).toEqual(Object.keys(fixtures).sort());
  });
});

describe.each(marked())('%s with an Idempotency-Key', (operationId) => {
  const fixture = () => fixtures[operationId]!;

  it('the same key and body twice: the first answer again, and one thing created', async () => {
    const { count: sql, callers, prepare } = fixture();
    const [caller] = callers;
    const request = await prepare(caller);
    const key = `same-${unique()}`;
    const before = await count(sql);
    const first = await send(caller, request, 'a', key);
    expect(first.statusCode).toBeLessThan(300);
    const created = await count(sql);
    expect(created).toBeGreaterThan(before);
    const events = await auditEvents();
    const again = await send(caller, request, 'a', key);
    expect({ status: again.statusCode, body: again.body, type: again.headers['content-type'], replayed: again.headers['idempotent-replayed'] }).toEqual({
      status: first.statusCode,
      body: first.body,
      type: first.headers['content-type'],
      replayed: 'true',
    });
    expect(await count(sql)).toBe(created);
    expect(await auditEvents()).toBe(events);
  });

  it('the same key with another body: 422 idempotency-key-mismatch, and nothing created', async () => {
    const { count: sql, callers, prepare } = fixture();
    const [caller] = callers;
    const request = await prepare(caller);
    const key = `other-${unique()}`;
    await send(caller, request, 'a', key);
    const created = await count(sql);
    const other = await send(caller, request, 'b', key);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ type: 'https://alder.dev/problems/idempotency-key-mismatch', errors: [{ path: 'header/idempotency-key' }] });
    expect(await count(sql)).toBe(created);
  });

  it('a second request while the first is in flight: 409; the first then answers, and its answer is kept', async () => {
    const { count: sql, callers, prepare } = fixture();
    const [caller] = callers;
    const request = await prepare(caller);
    const key = `flight-${unique()}`;
    const before = await count(sql);
    const hold = await holdAuditWrites();
    let first: Promise<TestResponse>;
    try {
      first = send(caller, request, 'a', key);
      await hold.blocked();
      const during = await send(caller, request, 'a', key);
      expect(during.statusCode).toBe(409);
      expect(during.json().type).toBe('https://alder.dev/problems/idempotency-key-in-flight');
      expect(during.headers['retry-after']).toBe('1');
    } finally {
      await hold.release();
    }
    const answered = await first;
    expect(answered.statusCode).toBeLessThan(300);
    expect((await send(caller, request, 'a', key)).body).toBe(answered.body);
    expect(await count(sql)).toBeGreaterThan(before);
  });

  it('after the key expired it can be used again, for a new request', async () => {
    const { count: sql, callers, prepare } = fixture();
    const [caller] = callers;
    const key = `expiry-${unique()}`;
    const first = await send(caller, await prepare(caller), 'a', key);
    expect(first.statusCode).toBeLessThan(300);
    await app.db.pool.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = $1`, [key]);
    const before = await count(sql);
    const reused = await send(caller, await prepare(caller), 'b', key);
    expect(reused.statusCode).toBeLessThan(300);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(await count(sql)).toBeGreaterThan(before);
  });

  it('without a key: as before (each request runs, nothing is kept)', async () => {
    const { callers, prepare } = fixture();
    const [caller] = callers;
    const request = await prepare(caller);
    const keys = () => count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE api_key_id = '${caller.keyId}'`);
    const kept = await keys();
    const first = await send(caller, request, 'a');
    const second = await send(caller, request, 'a');
    expect(first.statusCode).toBeLessThan(300);
    // The second ran too: a second project, duplicates of the items, 409 already-annotated, ...
    expect(second.body).not.toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(await keys()).toBe(kept);
  });

  it('two users with the same key never see each other\'s answers', async () => {
    const { count: sql, callers, prepare } = fixture();
    const key = `shared-${unique()}`;
    const [one, two] = callers;
    const [requestOne, requestTwo] = [await prepare(one), await prepare(two)];
    const before = await count(sql);
    const mine = await send(one, requestOne, 'a', key);
    const afterMine = await count(sql);
    const theirs = await send(two, requestTwo, 'a', key);
    expect([mine.statusCode, theirs.statusCode].every((status) => status < 300)).toBe(true);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    // Each created its own (an ingest answers only counts, so the bodies may be alike).
    expect(afterMine - before).toBeGreaterThan(0);
    expect((await count(sql)) - afterMine).toBe(afterMine - before);
    expect((await send(one, requestOne, 'a', key)).body).toBe(mine.body);
  });
});

describe('POST /v1/projects with an Idempotency-Key', () => {
  it('no longer creates two projects when the same request is sent twice', async () => {
    const headers = { authorization: `Bearer ${app.adminKey}`, 'idempotency-key': 'create-questions-project' };
    const payload = { name: 'questions', labels: ['ABBR', 'DESC'] };
    const first = await app.client({ method: 'POST', url: '/v1/projects', headers, payload });
    const second = await app.client({ method: 'POST', url: '/v1/projects', headers, payload });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
    expect((await app.db.pool.query(`SELECT count(*)::int AS n FROM projects WHERE name = 'questions'`)).rows[0].n).toBe(1);
  });
});
