import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createMember } from '@alder/http';
import { abortedBatch, batchOpened, insertProject, outboxJobs, startHarness, type Harness } from './harness';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({ MAX_BODY_BYTES: 64 * 1024, MAX_ITEMS_PER_BATCH: 50, MAX_INFLATED_BYTES: 256 * 1024 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await h?.close();
});

const NDJSON = 'application/x-ndjson';
const lines = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

/** A raw request over the socket (bodies as bytes: gzip, invalid UTF-8). */
function send(path: string, body: Buffer | string, headers: Record<string, string>, key = h.adminKey): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `Bearer ${key}`, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
const stream = (projectId: string, body: Buffer | string, extra: Record<string, string> = {}, key?: string) =>
  send(`/v1/projects/${projectId}/items`, body, { 'content-type': NDJSON, ...extra }, key);
const batch = async (projectId: string, batchId: string, key = h.adminKey) =>
  h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches/${batchId}`, headers: { authorization: `Bearer ${key}` } });
const itemsOf = async (projectId: string) =>
  (await h.db.pool.query('SELECT external_id, text, split, status FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows;

describe('POST /v1/projects/{project_id}/items as an NDJSON stream', () => {
  it('lands every line, in order, as one batch the project keeps, and queues a re-ranking', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await stream(projectId, lines({ external_id: 'a', text: 'great film', label: 'pos' }, '', { external_id: 'b', text: 'dull\tand "long"' }, { external_id: 'c', text: 'held out', split: 'test', label: 'neg' }));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ batch_id: expect.any(String), status: 'completed', received: 3, inserted: 3, duplicates: 0, updated: 0, skipped_changes: 0, duplicate_texts: 0, rejected: 0, labels_imported: 1, errors: [] });
    expect(await itemsOf(projectId)).toEqual([
      { external_id: 'a', text: 'great film', split: 'pool', status: 'labeled' },
      { external_id: 'b', text: 'dull\tand "long"', split: 'pool', status: 'unlabeled' },
      { external_id: 'c', text: 'held out', split: 'test', status: 'unlabeled' },
    ]);
    const stored = (await batch(projectId, res.json.batch_id)).json();
    expect(stored).toMatchObject({ source: 'ndjson', status: 'completed', received: 3, inserted: 3, rejected: 0, errors: [], stopped_at_line: null, finished_at: expect.any(String) });
    expect((await outboxJobs(h.db.pool)).filter((j) => j.payload.projectId === projectId).map((j) => j.job_name)).toEqual(['rank-pool']);
    const events = await h.db.pool.query(`SELECT subject_id, after FROM audit_events WHERE project_id = $1 AND kind = 'items.ingested'`, [projectId]);
    expect(events.rows).toEqual([{ subject_id: res.json.batch_id, after: expect.objectContaining({ received: 3, inserted: 3, rejected: 0 }) }]);
  });

  it('refuses bad lines one by one, with their line, pointer and reason, and lands the good ones', async () => {
    const projectId = await insertProject(h.db.pool);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"external_id":"u","text":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const body = Buffer.concat([
      Buffer.from(lines({ external_id: 'ok1', text: 'fine' }, '{"external_id": "broken", "text": ', { external_id: 'ok2', text: 'also fine' })),
      invalidUtf8,
      Buffer.from('\n'),
      Buffer.from(
        lines(
          { external_id: 'nul', text: 'a\u0000b' },
          { external_id: 'lab', text: 'x', label: 'maybe' },
          { external_id: 'extra', text: 'x', annotator: 'me' },
          { external_id: '', text: 'x' },
          [1, 2],
          { external_id: 'ok1', text: 'repeated id' },
          { external_id: 'gold', text: 'x', gold: true },
          { external_id: 'ok3', text: 'last', label: 'neg' },
        ),
      ),
    ]);
    const res = await stream(projectId, body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed', received: 12, inserted: 3, duplicates: 0, rejected: 9, labels_imported: 1 });
    const byLine = Object.fromEntries((res.json.errors as { line: number; pointer: string; reason: string }[]).map((e) => [e.line, `${e.pointer} ${e.reason}`]));
    expect(byLine).toEqual({
      2: expect.stringMatching(/^ is not valid JSON/),
      4: ' is not valid UTF-8',
      5: '/text must not contain a NUL character (\\u0000)',
      6: `/label "maybe" is not one of the project's labels`,
      7: '/annotator is not a field of an item',
      8: expect.stringMatching(/^\/external_id /),
      9: expect.stringMatching(/^ must be object/),
      10: '/external_id repeats the external_id of line 1',
      11: '/gold a gold item is a pool item with its known answer in label',
    });
    expect((await itemsOf(projectId)).map((i) => i.external_id)).toEqual(['ok1', 'ok2', 'ok3']);
    expect((await batch(projectId, res.json.batch_id)).json()).toMatchObject({ status: 'completed', rejected: 9, errors: res.json.errors });
  });

  it('counts lines whose external_id the project has as duplicates, changing nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    await stream(projectId, lines({ external_id: 'x', text: 'first' }));
    const res = await stream(projectId, lines({ external_id: 'x', text: 'changed' }, { external_id: 'y', text: 'new' }));
    expect(res.json).toMatchObject({ received: 2, inserted: 1, duplicates: 1, rejected: 0 });
    expect((await itemsOf(projectId)).map((i) => [i.external_id, i.text])).toEqual([
      ['x', 'first'],
      ['y', 'new'],
    ]);
  });

  it('takes gzip-compressed streams and JSON bodies; a corrupt one is 400, another encoding 415, nothing written', async () => {
    const projectId = await insertProject(h.db.pool);
    const zipped = await stream(projectId, gzipSync(lines({ external_id: 'z1', text: 'zipped' })), { 'content-encoding': 'gzip' });
    expect(zipped.json).toMatchObject({ status: 'completed', inserted: 1 });
    const json = await send(`/v1/projects/${projectId}/items`, gzipSync(JSON.stringify({ items: [{ external_id: 'z2', text: 'zipped json' }] })), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(json).toMatchObject({ status: 200, json: { inserted: 1 } });
    const corrupt = await stream(projectId, Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt).toMatchObject({ status: 400, json: { type: 'https://alder.dev/problems/malformed-request' } });
    const brotli = await stream(projectId, lines({ external_id: 'b', text: 'x' }), { 'content-encoding': 'br' });
    expect(brotli).toMatchObject({ status: 415, json: { type: 'https://alder.dev/problems/unsupported-media-type' } });
    expect((await itemsOf(projectId)).map((i) => i.external_id)).toEqual(['z1', 'z2']);
  });

  it('stops a gzip bomb at MAX_INFLATED_BYTES (413), lands nothing and says so in the batch', async () => {
    const projectId = await insertProject(h.db.pool);
    // 4 MB of lines in about 20 KB of gzip, against a cap of 256 KB inflated.
    const bomb = gzipSync(lines(...Array.from({ length: 40_000 }, (_, i) => ({ external_id: `b${i}`, text: 'the same words again and again' }))));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const res = await stream(projectId, bomb, { 'content-encoding': 'gzip' });
    expect(res).toMatchObject({ status: 413, json: { type: 'https://alder.dev/problems/payload-too-large' } });
    expect(await itemsOf(projectId)).toEqual([]);
    const [aborted] = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches`, headers: { authorization: `Bearer ${h.adminKey}` } })).json().data;
    expect(aborted).toMatchObject({ status: 'aborted', inserted: 0, abort_reason: expect.stringMatching(/larger than this server accepts/), stopped_at_line: expect.any(Number) });
  });

  it('lands nothing from a stream the client cuts short, and the batch says where it stopped', async () => {
    const projectId = await insertProject(h.db.pool);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: `/v1/projects/${projectId}/items`, method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': NDJSON } });
      req.on('error', () => resolve());
      req.write(lines({ external_id: 'p1', text: 'one' }, { external_id: 'p2', text: 'two' }) + '{"external_id": "p3", "te');
      // Gone mid-line, before the end of the body, once the server has opened the batch.
      void batchOpened(h.db.pool, projectId).then(() => {
        req.destroy();
        resolve();
      });
    });
    const found = await abortedBatch(h, projectId);
    // How many whole lines the server had read when the client went (2 unless it was slow to
    // start reading) is what the batch says it stopped at; nothing of them landed.
    expect(found).toMatchObject({ status: 'aborted', inserted: 0, abort_reason: 'the client went away before the end of the stream' });
    expect(found.received).toBeLessThanOrEqual(2);
    expect(found.stopped_at_line).toBe(found.received);
    expect(await itemsOf(projectId)).toEqual([]);
  });

  it('does not use an Idempotency-Key on a stream (it can not be compared): a resend counts its items as duplicates', async () => {
    const projectId = await insertProject(h.db.pool);
    const first = await stream(projectId, lines({ external_id: 'k1', text: 'x' }), { 'idempotency-key': 'same-key' });
    const second = await stream(projectId, lines({ external_id: 'k1', text: 'x' }, { external_id: 'k2', text: 'y' }), { 'idempotency-key': 'same-key' });
    expect(first.json).toMatchObject({ inserted: 1 });
    expect(second.json).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(second.json.batch_id).not.toBe(first.json.batch_id);
  });

  it('415 for NDJSON to an operation that takes JSON only, and for other content types', async () => {
    const projectId = await insertProject(h.db.pool);
    const other = await send(`/v1/projects/${projectId}/items`, 'external_id,text\na,b\n', { 'content-type': 'text/csv' });
    expect(other).toMatchObject({ status: 415 });
    expect(await itemsOf(projectId)).toEqual([]);
  });

  it('is for the project\'s managers and integrators; its batches are readable by viewers too, and by nobody outside', async () => {
    const projectId = await insertProject(h.db.pool);
    const integrator = await createMember(h.db.pool, projectId, 'integrator');
    const viewer = await createMember(h.db.pool, projectId, 'viewer');
    const outsider = await createMember(h.db.pool, await insertProject(h.db.pool), 'manager');
    const res = await stream(projectId, lines({ external_id: 'r', text: 'x' }), {}, integrator.key);
    expect(res.status).toBe(200);
    expect((await stream(projectId, lines({ external_id: 's', text: 'x' }), {}, viewer.key)).status).toBe(403);
    expect((await stream(projectId, lines({ external_id: 's', text: 'x' }), {}, outsider.key)).status).toBe(404);
    expect((await batch(projectId, res.json.batch_id, viewer.key)).json()).toMatchObject({ created_by: integrator.userId, status: 'completed' });
    expect((await batch(projectId, res.json.batch_id, outsider.key)).statusCode).toBe(404);
    const elsewhere = await insertProject(h.db.pool);
    expect((await batch(elsewhere, res.json.batch_id)).statusCode).toBe(404);
    expect((await batch(projectId, 'not-a-uuid')).statusCode).toBe(404);
  });

  it('records a JSON batch as a batch too', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}` }, payload: { items: [{ external_id: 'j', text: 'x' }] } });
    expect(res.json()).toEqual({ batch_id: expect.any(String), status: 'completed', received: 1, inserted: 1, duplicates: 0, updated: 0, skipped_changes: 0, duplicate_texts: 0, rejected: 0, labels_imported: 0, errors: [] });
    expect((await batch(projectId, res.json().batch_id)).json()).toMatchObject({ source: 'json', status: 'completed', received: 1, inserted: 1 });
    const empty = await h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}` } });
    expect(empty.statusCode).toBe(422);
  });
});

describe("a project's on_resend: what a re-sent item with another text or meta does", () => {
  const json = (projectId: string, items: unknown[]) =>
    h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}` }, payload: { items } });
  const stored = async (projectId: string) =>
    (await h.db.pool.query(`SELECT external_id, text, meta, encode(content_hash, 'hex') AS hash FROM items WHERE project_id = $1 ORDER BY id`, [projectId])).rows;

  it('skip (the default): counted, the stored item stays', async () => {
    const projectId = await insertProject(h.db.pool);
    await json(projectId, [{ external_id: 'a', text: 'first' }, { external_id: 'b', text: 'same' }]);
    const res = await stream(projectId, lines({ external_id: 'a', text: 'changed' }, { external_id: 'b', text: 'same' }, { external_id: 'c', text: 'new' }));
    expect(res.json).toMatchObject({ inserted: 1, duplicates: 2, updated: 0, skipped_changes: 1, rejected: 0 });
    expect((await stored(projectId)).map((r) => r.text)).toEqual(['first', 'same', 'new']);
  });

  it('update: the stored item takes the new text and meta (its hash too, its labels stay), recorded in the audit trail', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_resend: 'update' });
    await json(projectId, [{ external_id: 'a', text: 'first', label: 'pos' }, { external_id: 'b', text: 'same', meta: { k: 1 } }]);
    const [a] = await stored(projectId);
    const res = await json(projectId, [{ external_id: 'a', text: 'rewritten' }, { external_id: 'b', text: 'same', meta: { k: 2 } }, { external_id: 'c', text: 'new' }]);
    expect(res.json()).toMatchObject({ inserted: 1, duplicates: 0, updated: 2, skipped_changes: 0 });
    const after = await stored(projectId);
    expect(after.map((r) => [r.external_id, r.text, r.meta])).toEqual([
      ['a', 'rewritten', {}],
      ['b', 'same', { k: 2 }],
      ['c', 'new', {}],
    ]);
    expect(after[0].hash).not.toBe(a.hash);
    const labels = await h.db.pool.query('SELECT label FROM annotations WHERE project_id = $1', [projectId]);
    expect(labels.rows).toEqual([{ label: 'pos' }]);
    const events = await h.db.pool.query(`SELECT subject_id, after FROM audit_events WHERE project_id = $1 AND kind = 'items.updated'`, [projectId]);
    expect(events.rows).toEqual([{ subject_id: res.json().batch_id, after: { updated: 2, item_ids: expect.any(Array), digest: expect.stringMatching(/^[0-9a-f]{64}$/) } }]);
    expect(events.rows[0].after.item_ids).toHaveLength(2);
    // The same again changes nothing: identical re-sends are duplicates.
    expect((await json(projectId, [{ external_id: 'a', text: 'rewritten' }])).json()).toMatchObject({ duplicates: 1, updated: 0 });
  });

  it('reject: a JSON batch is refused whole (422, the rows named), a stream refuses the line alone', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_resend: 'reject' });
    await json(projectId, [{ external_id: 'a', text: 'first' }]);
    const refused = await json(projectId, [{ external_id: 'new', text: 'x' }, { external_id: 'a', text: 'changed' }]);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([{ path: 'body/items/1/text', message: 'differs from the stored item of this external_id (text or meta)' }]);
    expect((await stored(projectId)).map((r) => r.external_id)).toEqual(['a']);
    const res = await stream(projectId, lines({ external_id: 'new', text: 'x' }, { external_id: 'a', text: 'changed' }, { external_id: 'a2', text: 'y' }));
    expect(res.json).toMatchObject({ inserted: 2, rejected: 1, errors: [{ line: 2, pointer: '/text', reason: expect.stringMatching(/on_resend: reject/) }] });
    expect((await stored(projectId)).map((r) => [r.external_id, r.text])).toEqual([
      ['a', 'first'],
      ['new', 'x'],
      ['a2', 'y'],
    ]);
    const batchRow = (await batch(projectId, res.json.batch_id)).json();
    expect(batchRow).toMatchObject({ inserted: 2, rejected: 1, updated: 0, skipped_changes: 0 });
  });
});
