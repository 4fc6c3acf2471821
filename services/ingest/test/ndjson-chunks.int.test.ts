import { createHash } from 'node:crypto';
import http from 'node:http';
import { MAX_COPIED_CHUNKS } from '../src/stream-chunks';
import { abortedBatch, insertProject, portOf, harnessForFile, type Harness } from './harness';

// A stream lands in chunks while it is read (stream-chunks.ts); here a chunk is 3 lines, so a
// handful of lines crosses several chunk boundaries: what one chunk wrote, a later one meets.
let h: Harness;
let port: number;
harnessForFile({ INGEST_CHUNK_ROWS: 3 }, (started) => ((h = started), (port = portOf(started))));

const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A stream request whose body the test writes in parts: `write`, then `end` or `cut`. */
function openStream(projectId: string) {
  let settle!: (answer: { status: number; json: any }) => void;
  const answer = new Promise<{ status: number; json: any }>((resolve) => (settle = resolve));
  const req = http.request({ host: '127.0.0.1', port, path: `/v1/projects/${projectId}/items`, method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/x-ndjson' } }, (res) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => settle({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
  });
  req.on('error', () => settle({ status: 0, json: null }));
  return {
    write: (body: string) => req.write(body),
    end: (body = '') => {
      req.end(body);
      return answer;
    },
    cut: () => req.destroy(),
  };
}

const stream = (projectId: string, body: string) => openStream(projectId).end(body);
const json = (projectId: string, items: unknown[]) =>
  h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}` }, payload: { items } });
const stored = async (projectId: string) =>
  (await h.db.pool.query('SELECT id, external_id, text, batch_id, batch_line, required_annotations FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows;
const eventOf = async (projectId: string, kind: string) =>
  (await h.db.pool.query(`SELECT after FROM audit_events WHERE project_id = $1 AND kind = $2 ORDER BY id`, [projectId, kind])).rows.map((r) => r.after);

/** Waits (polling, no deadline of its own: jest's is the bound) until the stream's first chunk has been inserted, uncommitted. */
async function firstChunkInserted(): Promise<void> {
  const inserting = `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                     JOIN pg_stat_activity a ON a.pid = l.pid WHERE c.relname = 'items' AND l.mode = 'RowExclusiveLock' AND a.datname = current_database()`;
  while (!(await h.db.pool.query(inserting)).rowCount) await new Promise((r) => setTimeout(r, 20));
}

describe('an NDJSON stream landed in chunks', () => {
  it('lands every line in order across chunks; each item names its batch and line; the audit digest is that of the items', async () => {
    const projectId = await insertProject(h.db.pool);
    const rows = Array.from({ length: 10 }, (_, i) => ({ external_id: `e${i}`, text: `text ${i}`, ...(i === 4 && { label: 'pos' }) }));
    const res = await stream(projectId, lines(...rows));
    expect(res.json).toMatchObject({ received: 10, inserted: 10, duplicates: 0, rejected: 0, labels_imported: 1 });
    const items = await stored(projectId);
    expect(items.map((i) => [i.external_id, i.batch_id, i.batch_line])).toEqual(rows.map((r, i) => [r.external_id, res.json.batch_id, i + 1]));
    const [ingested] = await eventOf(projectId, 'items.ingested');
    expect(ingested).toMatchObject({ inserted: 10, first_item_id: Number(items[0].id), last_item_id: Number(items[9].id) });
    // The digest's definition: the new items' external ids and content hashes in line order
    // (here id order too: no line landed late).
    expect(ingested.digest).toBe(sha256(items.map((i) => `${i.external_id}\t${sha256(i.text)}`).join('\n')));
    const annotations = await h.db.pool.query('SELECT item_id FROM annotations WHERE project_id = $1', [projectId]);
    expect(annotations.rows).toEqual([{ item_id: items[4].id }]);
  });

  it('stages the chunks past the copied ones Postgres keeps as subtransactions (MAX_COPIED_CHUNKS), landing the same', async () => {
    const projectId = await insertProject(h.db.pool);
    const rows = Array.from({ length: 3 * (MAX_COPIED_CHUNKS + 3) }, (_, i) => ({ external_id: `m${i}`, text: `text ${i}` }));
    const res = await stream(projectId, lines(...rows));
    expect(res.json).toMatchObject({ received: rows.length, inserted: rows.length, rejected: 0 });
    const items = await stored(projectId);
    expect(items.map((i) => i.external_id)).toEqual(rows.map((r) => r.external_id));
    const [ingested] = await eventOf(projectId, 'items.ingested');
    expect(ingested.digest).toBe(sha256(items.map((i) => `${i.external_id}\t${sha256(i.text)}`).join('\n')));
  });

  it('refuses a line repeating an earlier line\'s external_id, in its chunk or an earlier one, naming the first line', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await stream(projectId, lines({ external_id: 'a', text: '1' }, { external_id: 'b', text: '2' }, { external_id: 'a', text: '3' }, { external_id: 'c', text: '4' }, { external_id: 'd', text: '5' }, { external_id: 'e', text: '6' }, { external_id: 'b', text: '7' }, { external_id: 'f', text: '8' }));
    expect(res.json).toMatchObject({ received: 8, inserted: 6, duplicates: 0, rejected: 2 });
    expect(res.json.errors).toEqual([
      { line: 3, pointer: '/external_id', reason: 'repeats the external_id of line 1' },
      { line: 7, pointer: '/external_id', reason: 'repeats the external_id of line 2' },
    ]);
    expect((await stored(projectId)).map((i) => i.text)).toEqual(['1', '2', '4', '5', '6', '8']);
  });

  it('tells re-sends of stored items from repeats: update writes the first line, a later repeat of it is refused; the audit digest covers the updates', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_resend: 'update' });
    await json(projectId, [{ external_id: 'old1', text: 'first' }, { external_id: 'old2', text: 'kept' }]);
    const before = await stored(projectId);
    const res = await stream(projectId, lines({ external_id: 'n1', text: 'a' }, { external_id: 'n2', text: 'b' }, { external_id: 'n3', text: 'c' }, { external_id: 'old1', text: 'rewritten' }, { external_id: 'old2', text: 'kept' }, { external_id: 'n4', text: 'd' }, { external_id: 'old1', text: 'again' }));
    expect(res.json).toMatchObject({ received: 7, inserted: 4, updated: 1, duplicates: 1, rejected: 1 });
    expect(res.json.errors).toEqual([{ line: 7, pointer: '/external_id', reason: 'repeats the external_id of line 4' }]);
    const after = await stored(projectId);
    expect(after.find((i) => i.external_id === 'old1')).toMatchObject({ text: 'rewritten', batch_id: res.json.batch_id, batch_line: 4 });
    expect(after.find((i) => i.external_id === 'old2')).toMatchObject({ text: 'kept', batch_id: before[1].batch_id });
    const [updated] = await eventOf(projectId, 'items.updated');
    expect(updated).toEqual({ updated: 1, item_ids: [Number(before[0].id)], digest: sha256(`old1\t${sha256('first')}\t${sha256('rewritten')}`) });
  });

  it('under reject refuses changed re-sends line by line, across chunks; unchanged ones are duplicates', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_resend: 'reject' });
    await json(projectId, [{ external_id: 'x', text: 'one' }, { external_id: 'y', text: 'two' }]);
    const res = await stream(projectId, lines({ external_id: 'n1', text: 'a' }, { external_id: 'n2', text: 'b' }, { external_id: 'n3', text: 'c' }, { external_id: 'x', text: 'changed' }, { external_id: 'y', text: 'two' }));
    expect(res.json).toMatchObject({ received: 5, inserted: 3, duplicates: 1, rejected: 1, errors: [{ line: 4, pointer: '/text', reason: expect.stringMatching(/on_resend: reject/) }] });
    expect((await stored(projectId)).find((i) => i.external_id === 'x')).toMatchObject({ text: 'one' });
  });

  it('lands nothing when the client goes after chunks were inserted', async () => {
    const projectId = await insertProject(h.db.pool);
    const s = openStream(projectId);
    s.write(lines(...Array.from({ length: 7 }, (_, i) => ({ external_id: `c${i}`, text: 't' }))));
    await firstChunkInserted();
    s.cut();
    const found = await abortedBatch(h, projectId);
    expect(found).toMatchObject({ status: 'aborted', inserted: 0, abort_reason: 'the client went away before the end of the stream' });
    expect(found.stopped_at_line).toBeGreaterThanOrEqual(3);
    expect(await stored(projectId)).toEqual([]);
  });

  it('refuses the whole stream (409, nothing landed) when the labels of a project without items changed while it was read', async () => {
    const projectId = await insertProject(h.db.pool);
    const s = openStream(projectId);
    s.write(lines(...Array.from({ length: 4 }, (_, i) => ({ external_id: `l${i}`, text: 't', label: 'pos' }))));
    await firstChunkInserted();
    // Another client changes the labels meanwhile (the project had no committed items).
    await h.db.pool.query(`UPDATE projects SET labels = '{good,bad}' WHERE id = $1`, [projectId]);
    const res = await s.end(lines({ external_id: 'l9', text: 't' }));
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ type: expect.stringMatching(/labels-changed$/) });
    expect(await stored(projectId)).toEqual([]);
    const batches = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches`, headers: { authorization: `Bearer ${h.adminKey}` } })).json().data;
    expect(batches[0]).toMatchObject({ status: 'aborted', inserted: 0 });
  });

  it("lands a project with overlap the staged way, each item taking the project's annotations", async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { overlap: { annotators: 3, fraction: 1 } });
    const res = await stream(projectId, lines(...Array.from({ length: 5 }, (_, i) => ({ external_id: `k${i}`, text: `t${i}` }))));
    expect(res.json).toMatchObject({ inserted: 5 });
    expect((await json(projectId, [{ external_id: 'k9', text: 'json' }])).json()).toMatchObject({ inserted: 1 });
    expect((await stored(projectId)).map((i) => i.required_annotations)).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it('gives its new items the overlap the project has at the end, if it changed while the stream was read', async () => {
    const projectId = await insertProject(h.db.pool);
    const s = openStream(projectId);
    s.write(lines(...Array.from({ length: 4 }, (_, i) => ({ external_id: `o${i}`, text: 't' }))));
    await firstChunkInserted();
    await h.db.pool.query('UPDATE projects SET overlap_annotators = 2, overlap_fraction = 1 WHERE id = $1', [projectId]);
    const res = await s.end(lines({ external_id: 'o9', text: 't' }));
    expect(res.json).toMatchObject({ inserted: 5 });
    expect((await stored(projectId)).map((i) => i.required_annotations)).toEqual([2, 2, 2, 2, 2]);
  });
});
