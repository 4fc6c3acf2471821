import { ApiError, createApiClient, RANKING_PENDING, RANKING_PENDING_TRIES } from '../src/simulate/api.client';

// nextTask right after ingest: the API answers 503 ranking-pending (with Retry-After) until
// sampling has published the cold start; the client asks again after each Retry-After.

const task = { task_id: 't1', project_id: 'p', item: { id: 1, external_id: 'e1', text: 'x', meta: {} }, expires_at: '2030-01-01T00:00:00Z', selection: {} };
const problem = (type: string, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type, title: 'x', status, detail: 'not yet' }), { status, headers: { 'content-type': 'application/problem+json', ...headers } });

function clientAnswering(answers: (() => Response)[]) {
  const slept: number[] = [];
  let calls = 0;
  const client = createApiClient({
    url: 'http://alder.test',
    ingestUrl: 'http://alder.test',
    key: 'k',
    fetch: (async () => answers[Math.min(calls++, answers.length - 1)]!()) as typeof fetch,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { client, slept, calls: () => calls };
}

describe('nextTask while the first ranking is pending', () => {
  it('asks again after each Retry-After until the task comes', async () => {
    const pending = () => problem(RANKING_PENDING, 503, { 'retry-after': '2' });
    const { client, slept, calls } = clientAnswering([pending, pending, () => Response.json(task)]);
    expect(await client.nextTask('p')).toEqual(task);
    expect(calls()).toBe(3);
    expect(slept).toEqual([2000, 2000]);
  });

  it('gives up after RANKING_PENDING_TRIES answers, naming the problem', async () => {
    const { client, calls } = clientAnswering([() => problem(RANKING_PENDING, 503, { 'retry-after': '1' })]);
    await expect(client.nextTask('p')).rejects.toThrow(/got 503 x: not yet/);
    expect(calls()).toBe(RANKING_PENDING_TRIES);
  });

  it('does not retry any other 503 (a backing service away), nor a 204', async () => {
    const away = clientAnswering([() => problem('https://alder.dev/problems/unavailable', 503, { 'retry-after': '5' })]);
    const error = await away.client.nextTask('p').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, problemType: 'https://alder.dev/problems/unavailable', retryAfterSeconds: 5 });
    expect(away.calls()).toBe(1);
    const empty = clientAnswering([() => new Response(null, { status: 204 })]);
    expect(await empty.client.nextTask('p')).toBeNull();
    expect(empty.slept).toEqual([]);
  });
});
