import { AlderApiError, createAlderClient, type RetryOptions } from '../src/index';
import { startScriptedServer } from './scripted-server';

// What a busy Alder answers (429, 503 with Retry-After) comes from a scripted local server;
// the waits are recorded instead of slept, so nothing here depends on the clock.

const project = {
  id: '00000000-0000-4000-8000-000000000001', name: 'p', labels: ['a', 'b'], guidelines: '', strategy: 'auto', retrain_every: 20, lease_seconds: 600,
  label_budget: null, overlap: { fraction: 0, annotators: 1 }, label_descriptions: {}, policy: {}, label_count: 0, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
};
const problem = (status: number, kind: string) => ({ type: `https://alder.dev/problems/${kind}`, title: kind, status, detail: `${kind} for now` });

function recordingRetry(extra: RetryOptions = {}) {
  const waits: number[] = [];
  const retry: RetryOptions = { backoff: (n) => 100 * n, sleep: async (ms) => void waits.push(ms), ...extra };
  return { waits, retry };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

it('retries 503 after its Retry-After and 429 after the backoff, with the same Idempotency-Key', async () => {
  const server = await startScriptedServer([
    { status: 503, headers: { 'retry-after': '2' }, body: problem(503, 'unavailable') },
    { status: 429, body: problem(429, 'rate-limited') },
    { status: 201, body: project },
  ]);
  close = server.close;
  const { waits, retry } = recordingRetry();
  const client = createAlderClient({ baseUrl: server.url, apiKey: 'k', retry });

  const created = await client.createProject({ name: 'p', labels: ['a', 'b'] });
  expect(created.id).toBe(project.id);
  expect(waits).toEqual([2000, 200]);
  expect(server.seen.map((s) => s.body)).toEqual(Array(3).fill(JSON.stringify({ name: 'p', labels: ['a', 'b'] })));
  const keys = server.seen.map((s) => s.headers['idempotency-key']);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Set(keys).size).toBe(1);
  expect(server.seen.every((s) => s.headers.authorization === 'Bearer k')).toBe(true);

  // Another call is another logical request: a key of its own.
  await client.createProject({ name: 'p', labels: ['a', 'b'] });
  expect(server.seen[3]!.headers['idempotency-key']).not.toBe(keys[0]);
});

it('gives up after the tries run out, with the last answer as a typed error', async () => {
  const server = await startScriptedServer([{ status: 503, headers: { 'retry-after': '1' }, body: problem(503, 'unavailable') }]);
  close = server.close;
  const { waits, retry } = recordingRetry({ attempts: 3 });
  const client = createAlderClient({ baseUrl: server.url, apiKey: 'k', retry });
  const error = await client.listProjects().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AlderApiError);
  expect(error).toMatchObject({ status: 503, kind: 'unavailable', retryAfterSeconds: 1, message: 'list projects: unavailable for now [503 unavailable]' });
  expect(server.seen).toHaveLength(3);
  expect(waits).toEqual([1000, 1000]);
});

it('does not wait for a Retry-After longer than maxRetryAfterMs, nor retry other errors', async () => {
  const server = await startScriptedServer([{ status: 503, headers: { 'retry-after': '3600' }, body: problem(503, 'unavailable') }]);
  close = server.close;
  const { waits, retry } = recordingRetry();
  const client = createAlderClient({ baseUrl: server.url, apiKey: 'k', retry });
  await expect(client.listProjects()).rejects.toMatchObject({ status: 503, retryAfterSeconds: 3600 });
  expect(server.seen).toHaveLength(1);
  expect(waits).toEqual([]);

  const other = await startScriptedServer([{ status: 500, body: problem(500, 'internal') }]);
  const client2 = createAlderClient({ baseUrl: other.url, apiKey: 'k', retry });
  await expect(client2.listProjects()).rejects.toMatchObject({ status: 500, kind: 'internal' });
  expect(other.seen).toHaveLength(1);
  await other.close();
});

it('sends a stream again from the top on a retry, gzip-compressed, under one key', async () => {
  const result = { batch_id: '00000000-0000-4000-8000-000000000002', status: 'completed', received: 2, inserted: 2, duplicates: 0, rejected: 0, labels_imported: 0, errors: [] };
  const server = await startScriptedServer([{ status: 503, headers: { 'retry-after': '1' }, body: problem(503, 'unavailable') }, { status: 200, body: result }]);
  close = server.close;
  const { waits, retry } = recordingRetry();
  const client = createAlderClient({ baseUrl: server.url, apiKey: 'k', retry });
  let opened = 0;
  const lines = '{"external_id":"a","text":"x"}\n{"external_id":"b","text":"y"}\n';
  const answer = await client.ingestStream('p1', () => {
    opened++;
    return [lines.slice(0, 10), lines.slice(10)];
  });
  expect(answer).toEqual(result);
  expect(opened).toBe(2);
  expect(waits).toEqual([1000]);
  for (const s of server.seen) {
    expect(s).toMatchObject({ method: 'POST', url: '/v1/projects/p1/items', body: lines });
    expect(s.headers).toMatchObject({ 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
  }
  expect(server.seen[0]!.headers['idempotency-key']).toBe(server.seen[1]!.headers['idempotency-key']);
});
