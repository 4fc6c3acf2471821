import { createHash } from 'node:crypto';
import http from 'node:http';
import { insertProject, portOf, harnessForFile, type Harness } from './harness';

// Repeated texts (a new item whose text the project has under another external_id), by
// projects.on_duplicate_text; a stream chunk is 3 lines here, so repeats cross chunk boundaries.
let h: Harness;
let port: number;
harnessForFile({ INGEST_CHUNK_ROWS: 3 }, (started) => ((h = started), (port = portOf(started))));

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function stream(projectId: string, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: `/v1/projects/${projectId}/items`, method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/x-ndjson' } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const json = (projectId: string, items: unknown[]) =>
  h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${h.adminKey}` }, payload: { items } });
const stored = async (projectId: string) =>
  (await h.db.pool.query('SELECT id::int, external_id, text, status, duplicate_of::int FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows;
const idOf = (items: { id: number; external_id: string }[], externalId: string) => items.find((i) => i.external_id === externalId)!.id;

describe('repeated texts', () => {
  it('report (the default): lands them, counts them and names the original, in JSON batches and streams', async () => {
    const projectId = await insertProject(h.db.pool);
    const first = await json(projectId, [
      { external_id: 'a', text: 'same words' },
      { external_id: 'b', text: 'other words' },
      { external_id: 'c', text: 'same words' },
    ]);
    expect(first.json()).toMatchObject({ inserted: 3, duplicates: 0, duplicate_texts: 1 });
    // Across chunks and against stored items; a re-sent external_id is a re-send, not a repeated text.
    const res = await stream(projectId, lines({ external_id: 'a', text: 'same words' }, { external_id: 'd', text: 'new' }, { external_id: 'e', text: 'x' }, { external_id: 'f', text: 'other words' }, { external_id: 'g', text: 'new' }));
    expect(res.json).toMatchObject({ received: 5, inserted: 4, duplicates: 1, duplicate_texts: 2 });
    const items = await stored(projectId);
    expect(items.map((i) => [i.external_id, i.status, i.duplicate_of])).toEqual([
      ['a', 'unlabeled', null],
      ['b', 'unlabeled', null],
      ['c', 'unlabeled', idOf(items, 'a')],
      ['d', 'unlabeled', null],
      ['e', 'unlabeled', null],
      ['f', 'unlabeled', idOf(items, 'b')],
      ['g', 'unlabeled', idOf(items, 'd')],
    ]);
    const batch = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches/${res.json.batch_id}`, headers: { authorization: `Bearer ${h.adminKey}` } })).json();
    expect(batch).toMatchObject({ inserted: 4, duplicate_texts: 2 });
    const events = await h.db.pool.query(`SELECT after FROM audit_events WHERE project_id = $1 AND kind = 'items.ingested' ORDER BY id`, [projectId]);
    expect(events.rows.map((r) => r.after.duplicate_texts)).toEqual([1, 2]);
  });

  it('skip: leaves them out (not inserted, no label imported), the digest covering what landed', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_duplicate_text: 'skip' });
    expect((await json(projectId, [{ external_id: 'a', text: 't1' }, { external_id: 'b', text: 't1' }])).json()).toMatchObject({ inserted: 1, duplicates: 0, duplicate_texts: 1 });
    const res = await stream(
      projectId,
      lines({ external_id: 'c', text: 't2' }, { external_id: 'd', text: 't2', label: 'pos' }, { external_id: 'e', text: 't1' }, { external_id: 'f', text: 't3' }, { external_id: 'g', text: 't2', label: 'neg' }, { external_id: 'a', text: 't1' }),
    );
    expect(res.json).toMatchObject({ received: 6, inserted: 2, duplicates: 1, duplicate_texts: 3, labels_imported: 0, rejected: 0 });
    const items = await stored(projectId);
    expect(items.map((i) => i.external_id)).toEqual(['a', 'c', 'f']);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM annotations WHERE project_id = $1', [projectId])).rows[0].n).toBe(0);
    const events = await h.db.pool.query(`SELECT after FROM audit_events WHERE project_id = $1 AND kind = 'items.ingested' ORDER BY id`, [projectId]);
    const landed = items.filter((i) => ['c', 'f'].includes(i.external_id));
    expect(events.rows[1].after.digest).toBe(sha256(landed.map((i) => `${i.external_id}\t${sha256(i.text)}`).join('\n')));
  });

  it('link: lands unlabeled pool duplicates as linked (never offered), others only reported', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_duplicate_text: 'link' });
    const res = await stream(projectId, lines({ external_id: 'a', text: 'dup' }, { external_id: 'b', text: 'dup' }, { external_id: 'c', text: 'dup', label: 'pos' }, { external_id: 'd', text: 'dup', split: 'test' }));
    expect(res.json).toMatchObject({ inserted: 4, duplicate_texts: 3, labels_imported: 1 });
    const items = await stored(projectId);
    const a = idOf(items, 'a');
    expect(items.map((i) => [i.external_id, i.status, i.duplicate_of])).toEqual([
      ['a', 'unlabeled', null],
      ['b', 'linked', a],
      ['c', 'labeled', a],
      ['d', 'unlabeled', a],
    ]);
    // What the annotator path and sampling read: unlabeled pool items.
    const offerable = await h.db.pool.query(`SELECT external_id FROM items WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled' ORDER BY id`, [projectId]);
    expect(offerable.rows.map((r) => r.external_id)).toEqual(['a']);
  });

  it("follows a re-sent item's new text (on_resend update)", async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 20, { on_resend: 'update' });
    await json(projectId, [{ external_id: 'a', text: 'alpha' }, { external_id: 'b', text: 'beta' }]);
    // b now says what a says; a later item with b's old text is new again.
    expect((await json(projectId, [{ external_id: 'b', text: 'alpha' }])).json()).toMatchObject({ updated: 1 });
    expect((await json(projectId, [{ external_id: 'c', text: 'beta' }])).json()).toMatchObject({ inserted: 1, duplicate_texts: 0 });
    const items = await stored(projectId);
    expect(items.map((i) => [i.external_id, i.duplicate_of])).toEqual([
      ['a', null],
      ['b', idOf(items, 'a')],
      ['c', null],
    ]);
  });

  it('is a project setting: 422 for an unknown value, and the project answers it', async () => {
    const projectId = await insertProject(h.db.pool);
    const row = await h.db.pool.query('SELECT on_duplicate_text FROM projects WHERE id = $1', [projectId]);
    expect(row.rows[0].on_duplicate_text).toBe('report');
    await expect(h.db.pool.query(`UPDATE projects SET on_duplicate_text = 'merge' WHERE id = $1`, [projectId])).rejects.toThrow(/on_duplicate_text/);
  });
});
