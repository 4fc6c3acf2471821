// What ingest's streams do with lines Postgres can not store as sent, found by the fuzz test
// (packages/fuzz): each was a 500 (the batch's record of the refused line could not be stored,
// or the item's meta could not be written) or a silent change of what was sent.
import { portOf, rawRequest } from '@alder/http/testing';
import { insertProject, startHarness, type Harness } from './harness';

let h: Harness;
let projectId: string;
beforeAll(async () => {
  h = await startHarness();
  projectId = await insertProject(h.db.pool);
});
afterAll(() => h?.close());

const stream = (body: string, contentType = 'application/x-ndjson') =>
  rawRequest(portOf(h.app), { method: 'POST', path: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': contentType }, body });
const stored = async (batchId: string) => (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches/${batchId}`, headers: { authorization: `Bearer ${h.adminKey}` } })).json();
const nested = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

it('refuses a line with a NUL or a lone surrogate in a key, and records the pointer escaped', async () => {
  const res = await stream(['{"\\u0000":"pos","external_id":"k1","text":"t"}', '{"external_id":"k2","text":"t","meta":{"a\\u0000b":1}}', '{"external_id":"k3","text":"t","meta":{"\\ud800":1}}', '{"external_id":"ok","text":"t"}'].join('\n') + '\n');
  expect(res.statusCode).toBe(200);
  const answer = res.json();
  expect(answer).toMatchObject({ received: 4, inserted: 1, rejected: 3 });
  const expected = [
    { line: 1, pointer: '/\\u0000', reason: 'is not a field of an item' },
    { line: 2, pointer: '/meta/a\\u0000b', reason: 'the key must not contain a NUL character or a lone surrogate' },
    { line: 3, pointer: '/meta/\\ud800', reason: 'the key must not contain a NUL character or a lone surrogate' },
  ];
  expect(answer.errors).toEqual(expected);
  expect((await stored(answer.batch_id)).errors).toEqual(expected);
});

it('refuses a line nested past 100 levels, or with a number past a double, and lands the rest', async () => {
  const res = await stream([`{"external_id":"d1","text":"t","meta":${nested(5000)}}`, '{"external_id":"d2","text":"t","meta":{"n":1e400}}', `{"external_id":"d3","text":"t","meta":${nested(50)}}`].join('\n') + '\n');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ received: 3, inserted: 1, rejected: 2, errors: [{ line: 1, reason: 'must not nest deeper than 100 levels' }, { line: 2, pointer: '/meta/n', reason: expect.stringContaining('finite') }] });
});

it('refuses a stream declared in another charset before any batch', async () => {
  const before = (await h.db.pool.query('SELECT count(*)::int AS n FROM ingest_batches')).rows[0].n;
  const res = await stream('{"external_id":"c1","text":"t"}\n', 'application/x-ndjson; charset=latin1');
  expect({ status: res.statusCode, type: res.json().type }).toEqual({ status: 415, type: 'https://alder.dev/problems/unsupported-media-type' });
  expect((await h.db.pool.query('SELECT count(*)::int AS n FROM ingest_batches')).rows[0].n).toBe(before);
});
