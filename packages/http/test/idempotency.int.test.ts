// The Idempotency-Key mechanism, on stand-in handlers whose timing the tests hold in their hands
// (the real creating operations are walked in services/labeling-api/test/idempotency.int.test.ts).
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@alder/config';
import { createLogger } from '@alder/logger';
import { startRetention } from '@alder/queues';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { buildHttpApp, createApiKey, createUserWithKey, HttpProblem, idempotencyKeysRetention, type HandlerMap } from '../src/index';
import { requestFingerprint, testClient, type TestClient, type TestResponse } from '../src/testing';
import { openAnswer } from '../src/response-seal';
import { stubProject } from './stub-project';

const log = createLogger({ level: 'silent' });
const config: Config = { ...loadConfig({}) };

const latches: (() => void)[] = [];
/** A latch the handler waits on while a test holds it closed. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  latches.push(open);
  return { open, opened };
}

let gate: ReturnType<typeof latch> | null = null;
let entered: ReturnType<typeof latch> | null = null;
let calls = 0;
let big = '';

// createProject stand-in: counts its runs, may be held open, and answers by the name it is sent.
const handlers: HandlerMap = {
  createProject: async (request, reply) => {
    calls++;
    entered?.open();
    if (gate) await gate.opened;
    const { name } = request.body;
    if (name === 'taken') throw new HttpProblem(409, 'conflict', 'a project is called that');
    if (name === 'boom') throw new Error('the database fell over');
    reply.code(201);
    return stubProject({ name, labels: request.body.labels, guidelines: name === 'big' ? big : '', label_count: calls });
  },
};

let db: TestDatabase;
let redis: TestRedis;
let producer: Redis;
let app: FastifyInstance;
let http: TestClient;
let admin: { key: string; keyId: string; userId: string };
let otherAdmin: { key: string; keyId: string; userId: string };

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  app = await buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers });
  http = await testClient(app);
  admin = await createUserWithKey(db.pool, { name: 'admin', role: 'admin' });
  otherAdmin = await createUserWithKey(db.pool, { name: 'other admin', role: 'admin' });
});
afterAll(async () => {
  // A test that failed while holding a request open must not keep the app from closing.
  for (const open of latches) open();
  await app?.close();
  producer?.disconnect();
  await redis?.cleanup();
  await db?.drop();
});
beforeEach(() => {
  gate = null;
  entered = null;
  calls = 0;
});

const body = (name = 'p', labels = ['a', 'b']) => ({ name, labels });
function post(payload: unknown, key?: string, apiKey = admin.key, client = http): Promise<TestResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (key !== undefined) headers['idempotency-key'] = key;
  return client({ method: 'POST', url: '/v1/projects', headers, payload });
}
const rows = async (key: string) => (await db.pool.query('SELECT * FROM idempotency_keys WHERE idempotency_key = $1 ORDER BY id', [key])).rows;
let n = 0;
const freshKey = () => `key-${++n}-${crypto.randomUUID()}`;

/** Sends a request that the stand-in holds open, and resolves once the handler runs it. */
async function heldOpen<T>(send: () => Promise<T>): Promise<{ response: Promise<T>; release: () => void }> {
  gate = latch();
  entered = latch();
  const held = gate;
  const response = send();
  await entered.opened;
  return { response, release: held.open };
}

describe('Idempotency-Key on a creating POST', () => {
  it('without the header: every request runs, as before, and nothing is kept', async () => {
    const a = await post(body());
    const b = await post(body());
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().id).not.toBe(b.json().id);
    expect(calls).toBe(2);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect((await db.pool.query('SELECT count(*)::int AS n FROM idempotency_keys')).rows[0].n).toBe(0);
  });

  it('the same key and body again: the first answer (status, body, content type), marked replayed; the handler ran once', async () => {
    const key = freshKey();
    const first = await post(body(), key);
    const again = await post(body(), key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(calls).toBe(1);
    expect(await rows(key)).toMatchObject([{ state: 'done', response_status: 201, operation_id: 'createProject' }]);
  });

  it('compares bodies as JSON: another key order or spacing is the same request', async () => {
    const key = freshKey();
    await post(body(), key);
    const reordered = await http({
      method: 'POST',
      url: '/v1/projects',
      headers: { authorization: `Bearer ${admin.key}`, 'idempotency-key': key, 'content-type': 'application/json' },
      payload: '{ "labels": ["a","b"],   "name": "p" }',
    });
    expect(reordered.statusCode).toBe(201);
    expect(reordered.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(1);
  });

  it('the same key with another body: 422 naming the header, and nothing runs', async () => {
    const key = freshKey();
    await post(body('p'), key);
    const other = await post(body('q'), key);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({
      type: 'https://alder.dev/problems/idempotency-key-mismatch',
      errors: [{ path: 'header/idempotency-key', message: 'was used with another request' }],
    });
    expect(calls).toBe(1);
    // The key still answers its own request.
    expect((await post(body('p'), key)).headers['idempotent-replayed']).toBe('true');
  });

  it('refuses a key that is not 1-255 printable ASCII characters with 422 at header/idempotency-key', async () => {
    const answers = [];
    for (const bad of ['', 'x'.repeat(256), 'caf\u00e9', 'tab\there']) {
      const res = await post(body(), bad);
      answers.push({ bad, status: res.statusCode, type: res.json().type, paths: res.json().errors?.map((e: { path: string }) => e.path) });
    }
    expect(answers).toEqual(
      ['', 'x'.repeat(256), 'caf\u00e9', 'tab\there'].map((bad) => ({ bad, status: 422, type: 'https://alder.dev/problems/validation', paths: ['header/idempotency-key'] })),
    );
    expect(calls).toBe(0);
    for (const good of ['~'.repeat(255), 'a b !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) expect((await post(body(), good)).statusCode).toBe(201);
  });

  it('while the first request runs: 409 with Retry-After; once it answered, its answer', async () => {
    const key = freshKey();
    const first = await heldOpen(() => post(body(), key));
    const during = await post(body(), key);
    expect(during.statusCode).toBe(409);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.json().type).toBe('https://alder.dev/problems/idempotency-key-in-flight');
    // Another body is refused the same way while it runs: nothing is known about it yet.
    expect((await post(body('q'), key)).statusCode).toBe(409);
    first.release();
    const answered = await first.response;
    expect(answered.statusCode).toBe(201);
    const after = await post(body(), key);
    expect(after.body).toBe(answered.body);
    expect(calls).toBe(1);
  });

  it('while the first request runs in another process (another lock session): 409 there too', async () => {
    const second = await buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers });
    try {
      const elsewhere = await testClient(second);
      const key = freshKey();
      const first = await heldOpen(() => post(body(), key));
      const during = await post(body(), key, admin.key, elsewhere);
      expect(during.statusCode).toBe(409);
      first.release();
      const answered = await first.response;
      expect((await post(body(), key, admin.key, elsewhere)).body).toBe(answered.body);
      expect(calls).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('a request that died in flight does not block its key: the same request takes it over', async () => {
    // What a crashed process leaves: the row in flight, its lock gone with its connection.
    const key = freshKey();
    const hash = requestFingerprint('POST', '/v1/projects', body());
    await db.pool.query(
      `INSERT INTO idempotency_keys (api_key_id, operation_id, idempotency_key, request_hash, state, attempt, expires_at)
       VALUES ($1, 'createProject', $2, $3, 'in_flight', gen_random_uuid(), now() + interval '1 hour')`,
      [admin.keyId, key, hash],
    );
    expect((await post(body('q'), key)).statusCode).toBe(422);
    const retried = await post(body(), key);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await rows(key)).toMatchObject([{ state: 'done', response_status: 201 }]);
    expect((await post(body(), key)).headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(1);
  });

  it('a client that gave up mid-request: the answer is still kept for its retry', async () => {
    const key = freshKey();
    const { port } = app.server.address() as { port: number };
    const aborter = new AbortController();
    const first = await heldOpen(() =>
      fetch(`http://127.0.0.1:${port}/v1/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body()),
        signal: aborter.signal,
      }),
    );
    aborter.abort();
    await expect(first.response).rejects.toThrow();
    first.release();
    // The handler goes on; its answer is recorded before it would have been sent.
    for (let i = 0; i < 500 && (await rows(key))[0]?.state !== 'done'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const retried = await post(body(), key);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(1);
  });

  it('keeps and replays a 4xx answer of the handler', async () => {
    const key = freshKey();
    const first = await post(body('taken'), key);
    const again = await post(body('taken'), key);
    expect(first.statusCode).toBe(409);
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(1);
  });

  it('keeps no 5xx answer: the key is forgotten and a retry runs again', async () => {
    const key = freshKey();
    const failed = await post(body('boom'), key);
    expect(failed.statusCode).toBe(500);
    expect(await rows(key)).toEqual([]);
    const retried = await post(body('boom'), key);
    expect(retried.statusCode).toBe(500);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('keeps nothing for a request the validation refused (nothing ran)', async () => {
    const key = freshKey();
    expect((await post({ name: 'p' }, key)).statusCode).toBe(422);
    expect(await rows(key)).toEqual([]);
    expect((await post(body(), key)).statusCode).toBe(201);
  });

  it('keeps keys per API key: two users, or two keys of one user, never see each other\'s answers', async () => {
    const key = freshKey();
    const mine = await post(body(), key);
    const theirs = await post(body(), key, otherAdmin.key);
    const spare = await createApiKey(db.pool, { name: 'spare', userId: admin.userId });
    const mySpare = await post(body('q'), key, spare.key);
    expect([mine.statusCode, theirs.statusCode, mySpare.statusCode]).toEqual([201, 201, 201]);
    expect(new Set([mine.json().id, theirs.json().id, mySpare.json().id]).size).toBe(3);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(calls).toBe(3);
    expect((await post(body(), key)).body).toBe(mine.body);
    expect((await post(body(), key, otherAdmin.key)).body).toBe(theirs.body);
  });

  it('keeps the body sealed with the API key: the database holds no answer in the clear', async () => {
    const key = freshKey();
    const name = `secret-${crypto.randomUUID()}`;
    const first = await post(body(name), key);
    const [row] = await rows(key);
    expect(row.response_body.toString('latin1')).not.toContain(name);
    expect(row.response_headers).toEqual({ 'content-type': first.headers['content-type'] });
    expect(openAnswer(admin.key, `createProject\n${key}`, row.response_body).toString()).toBe(first.body);
    expect(() => openAnswer(otherAdmin.key, `createProject\n${key}`, row.response_body)).toThrow();
    expect(() => openAnswer(admin.key, `createProject\nanother key`, row.response_body)).toThrow();
  });

  it('an answer larger than Alder keeps is sent whole; a replay says it was not kept (409) and runs nothing', async () => {
    big = 'g'.repeat(1024 * 1024 + 1);
    const key = freshKey();
    const first = await post(body('big'), key);
    expect(first.statusCode).toBe(201);
    expect(first.json().guidelines).toHaveLength(big.length);
    const again = await post(body('big'), key);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ type: 'https://alder.dev/problems/idempotency-response-too-large', detail: expect.stringContaining('answered 201') });
    expect(calls).toBe(1);
  });

  it('expires: after IDEMPOTENCY_KEY_TTL_HOURS the key is free for any request', async () => {
    const key = freshKey();
    await post(body('p'), key);
    const [row] = await rows(key);
    expect((row.expires_at.getTime() - row.created_at.getTime()) / 3_600_000).toBeCloseTo(config.IDEMPOTENCY_KEY_TTL_HOURS, 6);
    await db.pool.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [row.id]);
    const reused = await post(body('q'), key);
    expect(reused.statusCode).toBe(201);
    expect(reused.json().name).toBe('q');
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(calls).toBe(2);
    const [renewed] = await rows(key);
    expect(renewed.expires_at.getTime()).toBeGreaterThan(Date.now());
  });

  it('the retention sweep deletes expired keys only', async () => {
    const live = freshKey();
    const expired = freshKey();
    await post(body(), live);
    await post(body(), expired);
    await db.pool.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = $1`, [expired]);
    const sweeper = startRetention({ pool: db.pool, log, horizonHours: 1, intervalMs: 3_600_000, targets: [idempotencyKeysRetention] });
    try {
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { idempotency_keys: 1 } });
    } finally {
      await sweeper.close();
    }
    expect(await rows(expired)).toEqual([]);
    expect(await rows(live)).toHaveLength(1);
  });
});
