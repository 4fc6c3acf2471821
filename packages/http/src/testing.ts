import type { FastifyInstance } from 'fastify';

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
