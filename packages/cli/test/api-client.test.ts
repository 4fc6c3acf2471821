import { AlderApiError } from '@alder/client';
import { createSimulatorClient, RANKING_PENDING_TRIES } from '../src/simulate/api.client';

// nextTask right after ingest: the API answers 503 ranking-pending (with Retry-After) until
// sampling has published the cold start; the simulator's client asks again after each
// Retry-After, up to RANKING_PENDING_TRIES times. (The retries themselves are tested against a
// server in packages/client; here only the simulator's patience with them.)

const task = { task_id: 't1', project_id: 'p', item: { id: 1, external_id: 'e1', text: 'x', meta: {} }, expires_at: '2030-01-01T00:00:00Z', selection: {} };
const pending = () =>
  new Response(JSON.stringify({ type: 'https://alder.dev/problems/ranking-pending', title: 'x', status: 503, detail: 'not yet' }), {
    status: 503,
    headers: { 'content-type': 'application/problem+json', 'retry-after': '2' },
  });

function clientAnswering(answers: (() => Response)[]) {
  const slept: number[] = [];
  let calls = 0;
  const client = createSimulatorClient({
    url: 'http://alder.test',
    ingestUrl: 'http://alder.test',
    key: 'k',
    fetch: (async () => answers[Math.min(calls++, answers.length - 1)]!()) as typeof fetch,
    sleep: async (ms: number) => void slept.push(ms),
  });
  return { client, slept, calls: () => calls };
}

it('asks again after each Retry-After until the task comes', async () => {
  const { client, slept, calls } = clientAnswering([pending, pending, () => Response.json(task)]);
  expect(await client.nextTask('p')).toEqual(task);
  expect(calls()).toBe(3);
  expect(slept).toEqual([2000, 2000]);
});

it('gives up after RANKING_PENDING_TRIES answers, naming the problem', async () => {
  const { client, calls } = clientAnswering([pending]);
  const error = await client.nextTask('p').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AlderApiError);
  expect((error as Error).message).toBe('next task in project p: not yet [503 ranking-pending]');
  expect(calls()).toBe(RANKING_PENDING_TRIES);
});

it('answers null when no item is free (204)', async () => {
  const { client, slept } = clientAnswering([() => new Response(null, { status: 204 })]);
  expect(await client.nextTask('p')).toBeNull();
  expect(slept).toEqual([]);
});
