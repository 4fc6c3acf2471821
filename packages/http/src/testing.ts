import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@alder/config';
import { createLogger } from '@alder/logger';
import { createRedis } from '@alder/queues';
import { createTestDatabase, createTestRedis, type TestDatabase } from '@alder/testkit';
import { buildHttpApp, type HttpApp } from './app';
import { createUserWithKey } from './people';
/** What an Idempotency-Key is compared by (tests that write a key's row themselves). */
export { requestFingerprint } from './idempotency';
import type { HandlerDeps, HandlerMap } from './handler';

export interface TestRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as-is. */
  payload?: unknown;
}

export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

export type TestClient = (request: TestRequest) => Promise<TestResponse>;

/**
 * Requests against the app over a real socket (127.0.0.1, ephemeral port), shaped like
 * `app.inject`. `app.inject` itself can not run under jest on Node 20: light-my-request
 * require()s the ESM-only `cookie` package, which jest's module loader refuses before Node 24.9.
 */
export async function testClient(app: FastifyInstance): Promise<TestClient> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('app is not listening on a TCP port');
  const base = `http://127.0.0.1:${address.port}`;
  return async ({ method, url, headers = {}, payload }) => {
    let body: string | undefined;
    const sent = { ...headers };
    if (typeof payload === 'string') body = payload;
    else if (payload !== undefined) {
      body = JSON.stringify(payload);
      sent['content-type'] ??= 'application/json';
    }
    const res = await fetch(base + url, { method, headers: sent, body });
    const text = await res.text();
    return {
      statusCode: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      body: text,
      json: () => JSON.parse(text),
    };
  };
}

/** A request exactly as written: the path unnormalised, header values and body as bytes. */
export interface RawRequest {
  method: string;
  /** Sent as is (fetch would re-encode it): bad percent-encoding stays bad. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

/**
 * One request over a fresh connection to 127.0.0.1:`port`, with node:http instead of fetch, so
 * that what a hostile client sends arrives as sent: a path fetch would normalise, header values
 * of any byte (latin1), repeated headers, a body of any bytes. Never rejects for a status; a
 * connection the server closed without an answer rejects.
 */
export function rawRequest(port: number, { method, path, headers = {}, body }: RawRequest): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const sent = { ...headers };
    if (body !== undefined && !Object.keys(sent).some((name) => name.toLowerCase() === 'content-length')) sent['content-length'] = String(Buffer.byteLength(body));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: sent, agent: false, insecureHTTPParser: true }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const flat = Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
        resolve({ statusCode: res.statusCode ?? 0, headers: flat, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The port an app listens on (after `testClient` or `listen`). */
export function portOf(app: FastifyInstance): number {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('app is not listening on a TCP port');
  return address.port;
}

/** An app on a fresh test database, listening on a real socket, with an admin key. */
export interface TestApp {
  db: TestDatabase;
  app: HttpApp;
  client: TestClient;
  adminKey: string;
  close(): Promise<void>;
}

/** Builds the app with the given handlers on a fresh database and queue prefix (integration tests). */
export async function startTestApp(createHandlers: (deps: HandlerDeps) => HandlerMap, overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const redis = createTestRedis();
  const producer = createRedis(redis.url, 'producer');
  const config = { ...loadConfig({}), ...overrides };
  const log = createLogger({ level: 'silent' });
  const app = await buildHttpApp({ config, pool: db.pool, redis: producer, log, handlers: createHandlers({ config, pool: db.pool, log }) });
  const client = await testClient(app);
  const { key } = await createUserWithKey(db.pool, { name: 'test admin', role: 'admin' });
  return {
    db,
    app,
    client,
    adminKey: key,
    async close() {
      await app.close();
      producer.disconnect();
      await redis.cleanup();
      await db.drop();
    },
  };
}

