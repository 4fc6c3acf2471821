// Bad input to the real routes of labeling-api and ingest (one app, as the all-in-one serves
// them): each case was a 500, or a silent change of what was sent, before the HTTP layer refused
// it (packages/http: bad-input.int.test.ts has the layer's own cases; packages/fuzz finds more).
import { createIngestHandlers } from '@alder/ingest';
import { portOf, rawRequest, startTestApp, type RawRequest, type TestApp, type TestResponse } from '@alder/http/testing';
import { createLabelingHandlers } from '../src/index';
import { counts, insertItems, insertModel } from './harness';

let app: TestApp;
let projectId: string;
let port: number;

beforeAll(async () => {
  // A webhook subscription to a local address (nothing is delivered: the dispatcher is not running).
  app = await startTestApp((deps) => ({ ...createLabelingHandlers(deps), ...createIngestHandlers(deps) }), { WEBHOOK_ALLOW_PRIVATE_TARGETS: true });
  port = portOf(app.app);
  const res = await app.client({ method: 'POST', url: '/v1/projects', headers: { authorization: `Bearer ${app.adminKey}` }, payload: { name: 'bad input', labels: ['pos', 'neg'] } });
  projectId = res.json().id;
  await insertItems(app.db.pool, projectId, 3);
  await insertModel(app.db.pool, projectId, { version: 1 });
});
afterAll(() => app.close());

const send = (request: RawRequest) => rawRequest(port, { ...request, headers: { authorization: `Bearer ${app.adminKey}`, ...request.headers } });
const get = (path: string) => send({ method: 'GET', path });
const postJson = (path: string, body: Buffer | string, contentType = 'application/json') => send({ method: 'POST', path, headers: { 'content-type': contentType }, body });

async function projects(): Promise<number> {
  return Number((await app.db.pool.query('SELECT count(*) AS n FROM projects')).rows[0].n);
}

function expectProblem(res: TestResponse, status: number, type: string): { errors?: { path: string; message: string }[]; detail?: string } {
  expect({ status: res.statusCode, contentType: res.headers['content-type'], type: res.json().type }).toEqual({ status, contentType: 'application/problem+json; charset=utf-8', type: `https://alder.dev/problems/${type}` });
  return res.json();
}

describe('integers past their columns', () => {
  it('404 for a model version past int4, in both routes that name one', async () => {
    for (const path of [`/v1/projects/${projectId}/models/2147483648`, `/v1/projects/${projectId}/models/2147483648/training-set`, `/v1/projects/${projectId}/models/1e400`]) {
      expectProblem(await get(path), 404, 'not-found');
    }
    expect((await get(`/v1/projects/${projectId}/models/1`)).statusCode).toBe(200);
    expectProblem(await get(`/v1/projects/${projectId}/models/2147483647`), 404, 'not-found');
  });

  it('422 naming the parameter for an offset or an audit cursor past int8; the largest allowed answers an empty page', async () => {
    for (const path of ['/v1/projects?offset=9223372036854775808', `/v1/projects/${projectId}/batches?offset=9223372036854775808`, `/v1/projects/${projectId}/audit?after=9223372036854775808`, `/v1/projects/${projectId}/items/i-pool-1/history?after=1e400`]) {
      const body = expectProblem(await get(path), 422, 'validation');
      expect(body.errors?.map((e) => e.path)).toEqual([path.includes('after') ? 'query/after' : 'query/offset']);
    }
    const last = await get(`/v1/projects?offset=${Number.MAX_SAFE_INTEGER}`);
    expect({ status: last.statusCode, data: last.json().data }).toEqual({ status: 200, data: [] });
    expect((await get(`/v1/projects/${projectId}/audit?after=${Number.MAX_SAFE_INTEGER}`)).statusCode).toBe(200);
  });

  it('404 for a webhook delivery id past int8', async () => {
    const hook = (await postJson(`/v1/projects/${projectId}/webhooks`, JSON.stringify({ url: 'http://127.0.0.1:9/hook' }))).json().id;
    for (const id of ['9223372036854775808', '9007199254740992', '1', String(Number.MAX_SAFE_INTEGER)]) {
      const res = await send({ method: 'POST', path: `/v1/projects/${projectId}/webhooks/${hook}/deliveries/${id}/replay` });
      expect(expectProblem(res, 404, 'not-found').detail).toMatch(id.length > 15 && id !== String(Number.MAX_SAFE_INTEGER) ? /^No such resource/ : /delivery/i);
    }
  });
});

describe('text Postgres can not store', () => {
  it('404 for a NUL in an external id in the path, whatever the operation', async () => {
    expectProblem(await get(`/v1/projects/${projectId}/items/i-pool-1%00/history`), 404, 'not-found');
    const gold = await send({ method: 'PUT', path: `/v1/projects/${projectId}/items/a%00b/gold`, headers: { 'content-type': 'application/json' }, body: '{"label":"pos"}' });
    expectProblem(gold, 404, 'not-found');
  });

  it('400 for a body that is not UTF-8: two invalid labels are not stored as two U+FFFD', async () => {
    const before = await projects();
    const body = Buffer.concat([Buffer.from('{"name":"p","labels":["'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","'), Buffer.from([0xed, 0xaf, 0xbf]), Buffer.from('"]}')]);
    expectProblem(await postJson('/v1/projects', body), 400, 'malformed-request');
    // The same as escapes: lone surrogates, refused by the JSON pointer.
    const escaped = expectProblem(await postJson('/v1/projects', '{"name":"p","labels":["\\ud800","\\udbff"]}'), 422, 'validation');
    expect(escaped.errors?.map((e) => e.path)).toEqual(['body/labels/0', 'body/labels/1']);
    expect(await projects()).toBe(before);
  });

  it('422 for a NUL in any string of a body, nothing written', async () => {
    const before = await counts(app.db.pool);
    const refused: [string, string][] = [
      ['/v1/projects', JSON.stringify({ name: 'n\u0000', labels: ['a', 'b'] })],
      ['/v1/projects', JSON.stringify({ name: 'n', labels: ['a', 'b'], guidelines: 'read\u0000me' })],
      ['/v1/api-keys', JSON.stringify({ name: 'key\u0000' })],
      [`/v1/projects/${projectId}/items`, JSON.stringify({ items: [{ external_id: 'x', text: 't', meta: { '\ud800': 1 } }] })],
    ];
    for (const [path, body] of refused) expectProblem(await postJson(path, body), 422, 'validation');
    expect(await counts(app.db.pool)).toEqual(before);
  });

  it('415 for a body in another charset, nothing written', async () => {
    const before = await projects();
    expectProblem(await postJson('/v1/projects', JSON.stringify({ name: 'p', labels: ['a', 'b'] }), 'application/json; charset=iso-8859-1'), 415, 'unsupported-media-type');
    expect(await projects()).toBe(before);
  });
});

describe('values a column can not hold', () => {
  it('422 for a share that a real column would take as an underflow', async () => {
    const before = await projects();
    for (const policy of [{ review_low_confidence: 5e-324 }, { min_agreement: 1e-300 }]) {
      const body = expectProblem(await postJson('/v1/projects', JSON.stringify({ name: 'p', labels: ['a', 'b'], policy })), 422, 'validation');
      expect(body.errors?.[0]?.path).toMatch(/^body\/policy\//);
    }
    const overlap = expectProblem(await postJson('/v1/projects', JSON.stringify({ name: 'p', labels: ['a', 'b'], overlap: { annotators: 2, fraction: 1e-50 } })), 422, 'validation');
    expect(overlap.errors?.[0]?.path).toBe('body/overlap/fraction');
    expect(await projects()).toBe(before);
    // A small share that a real holds (1e-40 is a float4 denormal) is stored.
    expect((await postJson('/v1/projects', JSON.stringify({ name: 'p', labels: ['a', 'b'], policy: { review_low_confidence: 1e-40 } }))).statusCode).toBe(201);
  });

  it('422 for a date-time of year 0, past 9999 in UTC, or with an offset of 16 hours or more', async () => {
    for (const since of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00%2B01:00', '9999-12-31T23:59:59-05:00', '2024-01-01T00:00:00%2B23:59']) {
      const body = expectProblem(await get(`/v1/projects/${projectId}/export?since=${since}`), 422, 'validation');
      expect(body.errors?.map((e) => e.path)).toEqual(['query/since']);
    }
    expect((await get(`/v1/projects/${projectId}/export?since=0001-01-01T00:00:00Z`)).statusCode).toBe(200);
    expect((await get(`/v1/projects/${projectId}/export?since=9999-12-31T23:59:59%2B15:59`)).statusCode).toBe(200);
    const key = expectProblem(await postJson('/v1/api-keys', JSON.stringify({ name: 'k', expires_at: '9999-12-31T23:30:00-01:00' })), 422, 'validation');
    expect(key.errors?.map((e) => e.path)).toEqual(['body/expires_at']);
  });
});
