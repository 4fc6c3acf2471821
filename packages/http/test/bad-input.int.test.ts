// How the HTTP layer answers bad input, whatever the route: every refusal is problem+json with
// the status the input calls for, and a refused request never reaches its handler. Found by the
// spec-driven fuzz test (packages/fuzz), each of these was a 500 or an answer of another shape.
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@alder/config';
import { createLogger, type LogDestination } from '@alder/logger';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@alder/testkit';
import { buildHttpApp, createUserWithKey, HttpProblem, type HandlerMap } from '../src/index';
import { portOf, rawRequest, testClient, type RawRequest, type TestResponse } from '../src/testing';
import { clientErrorHandler } from '../src/client-errors';

const PROJECT_ID = '6f1c1d3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f';
const ORIGIN = 'https://ui.example';

/** What reached a handler, by operation: a refused request must add nothing here. */
const reached: { operation: string; body?: unknown; params?: unknown; query?: unknown }[] = [];
const reach = (operation: string) => async (request: { body?: unknown; params?: unknown; query?: unknown }) => {
  reached.push({ operation, body: request.body, params: request.params, query: request.query });
  throw new HttpProblem(409, 'conflict', `${operation} reached its handler`);
};
const handlers = {
  createProject: reach('createProject'),
  listProjects: reach('listProjects'),
  getItemHistory: reach('getItemHistory'),
  getModel: reach('getModel'),
} as unknown as HandlerMap;

let db: TestDatabase;
let redis: TestRedis;
let producer: Redis;
let app: FastifyInstance;
let port: number;
let adminKey: string;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const destination: LogDestination = { write: (line) => lines.push(JSON.parse(line)) };
  const log = createLogger({ level: 'debug', format: 'json', destination });
  app = await buildHttpApp({ config: { ...loadConfig({}), CORS_ORIGINS: [ORIGIN] }, pool: db.pool, redis: producer, log, handlers });
  await testClient(app);
  port = portOf(app);
  await db.pool.query(`INSERT INTO projects (id, name, labels) VALUES ($1, 'p', '{a,b}')`, [PROJECT_ID]);
  ({ key: adminKey } = await createUserWithKey(db.pool, { name: 'admin', role: 'admin' }));
});
afterAll(async () => {
  await app?.close();
  producer?.disconnect();
  await redis?.cleanup();
  await db?.drop();
});
beforeEach(() => {
  reached.length = 0;
});

const send = (request: RawRequest) => rawRequest(port, { ...request, headers: { authorization: `Bearer ${adminKey}`, ...request.headers } });
const json = (body: Buffer | string, contentType = 'application/json') => ({ method: 'POST', path: '/v1/projects', headers: { 'content-type': contentType }, body });

function expectProblem(res: TestResponse, status: number, type: string): Record<string, unknown> {
  expect({ status: res.statusCode, contentType: res.headers['content-type'] }).toEqual({ status, contentType: 'application/problem+json; charset=utf-8' });
  const body = res.json();
  expect(body).toMatchObject({ type: `https://alder.dev/problems/${type}`, title: expect.any(String), status, request_id: expect.any(String) });
  return body;
}

describe('the path', () => {
  it('400 problem+json for percent-encoding that is not UTF-8, on a route or off one', async () => {
    for (const path of ['/v1/projects/%E0%A4%A', `/v1/projects/${PROJECT_ID}/items/%ff/history`, `/v1/projects/${PROJECT_ID}/items/a%ED%A0%80b/history`, '/nowhere/%c3%28']) {
      expectProblem(await send({ method: 'GET', path }), 400, 'malformed-request');
    }
    expect(reached).toEqual([]);
  });

  it('414 problem+json for a path segment longer than the longest parameter the spec allows', async () => {
    expectProblem(await send({ method: 'GET', path: `/v1/projects/${'a'.repeat(1000)}` }), 414, 'uri-too-long');
    // The longest external id the spec allows (256 code points, each two UTF-16 units and four
    // bytes) still reaches its handler.
    const longest = encodeURIComponent('😀'.repeat(256));
    expect((await send({ method: 'GET', path: `/v1/projects/${PROJECT_ID}/items/${longest}/history` })).statusCode).toBe(409);
    expect(reached).toEqual([expect.objectContaining({ operation: 'getItemHistory', params: { project_id: PROJECT_ID, external_id: '😀'.repeat(256) } })]);
  });

  it('404 for a NUL in a path value (nothing stored can have it), before the handler', async () => {
    const res = await send({ method: 'GET', path: `/v1/projects/${PROJECT_ID}/items/a%00b/history` });
    expect(expectProblem(res, 404, 'not-found').detail).toBe('No such resource.');
    expect(reached).toEqual([]);
  });

  it('404 for an integer path value past its column (int4 here), 422 for a query value past int8', async () => {
    for (const version of ['2147483648', '99999999999999999999999', '1e400']) {
      expectProblem(await send({ method: 'GET', path: `/v1/projects/${PROJECT_ID}/models/${version}` }), 404, 'not-found');
    }
    expect((await send({ method: 'GET', path: `/v1/projects/${PROJECT_ID}/models/2147483647` })).statusCode).toBe(409);
    for (const offset of ['9223372036854775808', '9007199254740992', '1e400']) {
      const body = expectProblem(await send({ method: 'GET', path: `/v1/projects?offset=${offset}` }), 422, 'validation');
      expect(body.errors).toEqual([expect.objectContaining({ path: 'query/offset' })]);
    }
    expect((await send({ method: 'GET', path: '/v1/projects?offset=9007199254740991' })).statusCode).toBe(409);
    expect(reached.map((r) => r.operation)).toEqual(['getModel', 'listProjects']);
  });
});

describe('the query', () => {
  it('422 naming the parameter for a NUL, before the handler', async () => {
    const body = expectProblem(await send({ method: 'GET', path: `/v1/projects/${PROJECT_ID}/items/x/history?after=1&note=a%00b` }), 422, 'validation');
    expect(body.errors).toEqual([{ path: 'query/note', message: 'must not contain a NUL character (\\u0000)' }]);
    expect(reached).toEqual([]);
  });
});

describe('the body', () => {
  it('400 for bytes that are not UTF-8, which used to be stored as U+FFFD', async () => {
    const labels = Buffer.concat([Buffer.from('{"name":"p","labels":["'), Buffer.from([0xff]), Buffer.from('","'), Buffer.from([0xfe]), Buffer.from('"]}')]);
    const overlong = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('","labels":["a","b"]}')]);
    const surrogate = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","labels":["a","b"]}')]);
    for (const body of [labels, overlong, surrogate]) {
      expect(expectProblem(await send(json(body)), 400, 'malformed-request').detail).toBe('The body is not valid UTF-8.');
    }
    expect(reached).toEqual([]);
  });

  it('415 for a charset other than UTF-8; UTF-8 by any of its names passes', async () => {
    const body = JSON.stringify({ name: 'p', labels: ['a', 'b'] });
    for (const type of ['application/json; charset=latin1', 'application/json;charset="ISO-8859-1"', 'application/json; charset=utf-16', 'application/json; charset=nonsense']) {
      expectProblem(await send(json(body, type)), 415, 'unsupported-media-type');
    }
    expect(reached).toEqual([]);
    for (const type of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=utf8', 'application/json']) {
      expect((await send(json(body, type))).statusCode).toBe(409);
    }
    expect(reached).toHaveLength(4);
  });

  it('415 for an NDJSON stream declared in another charset', async () => {
    expectProblem(await send(json('{"a":1}\n', 'application/x-ndjson; charset=windows-1252')), 415, 'unsupported-media-type');
  });

  it('422 naming the JSON pointer of a NUL or lone surrogate, as a value or a key (escaped per RFC 6901)', async () => {
    const body = expectProblem(await send(json('{"name":"p","labels":["a","b"],"label_descriptions":{"a/b~c\\u0000":"x","b":"\\udbff"}}')), 422, 'validation');
    expect(body.errors).toEqual([
      { path: 'body/label_descriptions/a~1b~0c\u0000', message: 'the key must not contain a NUL character or a lone surrogate' },
      { path: 'body/label_descriptions/b', message: 'must not contain a lone UTF-16 surrogate' },
    ]);
    expect(reached).toEqual([]);
  });
});

describe('numbers', () => {
  it('422 for a number past what a double holds (1e400 parses as Infinity, stored as null in free-form JSON)', async () => {
    const body = expectProblem(await send(json('{"name":"p","labels":["a","b"],"label_descriptions":{"a":-1e400}}')), 422, 'validation');
    expect(body.errors).toEqual([{ path: 'body/label_descriptions/a', message: expect.stringContaining('finite') }]);
    expect(reached).toEqual([]);
  });
});

describe('nesting', () => {
  it('422 for a body nested past 100 levels (a 5000-level one was answered as invalid JSON, and stored past that walk a 500)', async () => {
    const nested = (n: number) => '['.repeat(n) + '"x"' + ']'.repeat(n);
    const body = expectProblem(await send(json(`{"name":"p","labels":["a","b"],"label_descriptions":{"a":${nested(5000)}}}`)), 422, 'validation');
    expect(body.errors).toEqual([{ path: `body/label_descriptions/a${'/0'.repeat(99)}`, message: 'must not nest deeper than 100 levels' }]);
    expect(reached).toEqual([]);
  });
});

describe('X-Request-Id', () => {
  const idOf = async (headers: Record<string, string | string[]>) => (await rawRequest(port, { method: 'GET', path: '/healthz', headers })).headers['x-request-id'];
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('echoes a client id of the safe form', async () => {
    for (const id of ['abc', 'trace-1.2:3_x', 'A'.repeat(128), '5f0c6c1e-8a2b-4c8e-9d3e-2f1a7b6c5d4e']) expect(await idOf({ 'x-request-id': id })).toBe(id);
  });

  it('makes a fresh id for any other, and logs that one, never the client\'s', async () => {
    lines.length = 0;
    const hostile = ['a b', '<script>', 'A'.repeat(129), 'caf\u00e9', 'x"y', 'line\tbreak'];
    for (const id of hostile) expect(await idOf({ 'x-request-id': id })).toMatch(UUID);
    expect(await idOf({ 'x-request-id': ['one', 'two'] })).toMatch(UUID);
    expect(await idOf({})).toMatch(UUID);
    const logged = JSON.stringify(lines);
    for (const id of hostile) expect(logged).not.toContain(JSON.stringify(id).slice(1, -1));
  });
});

describe("what fastify and Node answer on their own", () => {
  it('431 problem+json for headers over Node\'s limit', async () => {
    const res = await send({ method: 'GET', path: '/healthz', headers: { 'x-padding': 'x'.repeat(20_000) } });
    expectProblem(res, 431, 'headers-too-large');
    // To a HEAD, without the body (its client would read the body as the start of another answer).
    const head = await send({ method: 'HEAD', path: `/healthz?${'x'.repeat(20_000)}` });
    expect({ status: head.statusCode, type: head.headers['content-type'], body: head.body }).toEqual({ status: 431, type: 'application/problem+json; charset=utf-8', body: '' });
  });

  it('400 problem+json for bytes that are not HTTP', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(JSON.parse(body!)).toMatchObject({ type: 'https://alder.dev/problems/malformed-request', status: 400 });
  });

  it('408 problem+json when the request is not received in time', () => {
    // Node raises this after its headers timeout (a minute): the handler is called as Node would.
    const written: string[] = [];
    let destroyed = false;
    const socket = { destroyed: false, writable: true, write: (text: string) => written.push(text), destroy: () => (destroyed = true) };
    const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    clientErrorHandler.call({ log: { trace: () => undefined } }, timeout, socket as never);
    const [head, body] = written.join('').split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(head).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(JSON.parse(body!)).toMatchObject({ type: 'https://alder.dev/problems/request-timeout', title: 'Request timeout', status: 408 });
    expect(destroyed).toBe(true);
  });

  it('400 problem+json for a CORS preflight without its request method (a plugin\'s own text/plain answer)', async () => {
    const res = await rawRequest(port, { method: 'OPTIONS', path: '/v1/projects', headers: { origin: ORIGIN } });
    expect(expectProblem(res, 400, 'malformed-request').detail).toBe('Invalid Preflight Request');
  });

  it('503 problem+json for a request that arrives while the app closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const slow = { listProjects: async () => (started(), await gate, { data: [], total: 0, limit: 50, offset: 0 }) } as unknown as HandlerMap;
    const closing = await buildHttpApp({ config: loadConfig({}), pool: db.pool, redis: producer, log: createLogger({ level: 'silent' }), handlers: slow });
    await testClient(closing);
    const request = `GET /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\n\r\n`;
    const socket = connect(portOf(closing), '127.0.0.1', () => socket.write(request));
    let received = '';
    const answered = new Promise<void>((resolve) => socket.on('data', (chunk) => (received += chunk.toString()).includes('"offset":0}') && resolve()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await inFlight;
    const closingDone = closing.close();
    // The server stops listening once the preClose hooks have run; the first request is still held.
    while (closing.server.listening) await new Promise((resolve) => setImmediate(resolve));
    release();
    await answered;
    // A second request on the same kept-alive connection, now that the app is closing.
    socket.write(request);
    await closed;
    await closingDone;
    const second = received.slice(received.indexOf('HTTP/1.1', 10));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain('content-type: application/problem+json; charset=utf-8');
    expect(second).toContain('"type":"https://alder.dev/problems/unavailable"');
  });

  it('413 and 415 stay problem+json', async () => {
    // Declared over MAX_BODY_BYTES: refused before the body is read.
    expectProblem(await send({ ...json('{}'), headers: { 'content-type': 'application/json', 'content-length': String(loadConfig({}).MAX_BODY_BYTES + 1) } }), 413, 'payload-too-large');
    expectProblem(await send(json('name=x', 'text/plain')), 415, 'unsupported-media-type');
  });
});
