// Exports (resolved labels with provenance, a model version's training set), streamed from a
// cursor: content and filters, flat memory, what an aborted or failed stream leaves behind; and
// deleting a project, whose audit trail outlives it.
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createLogger } from '@alder/logger';
import { processRankPool } from '@alder/sampling';
import { processTrainModel } from '@alder/trainer';
import { createProject, insertItems, insertModel, publishColdStart, startHarness, type Harness, type Member } from './harness';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
});

const sql = (text: string, values: unknown[] = []) => h.db.pool.query(text, values);
const lines = (body: string) => (body === '' ? [] : body.trimEnd().split('\n').map((line) => JSON.parse(line)));

/** RFC 4180 with quoted fields (commas, quotes, newlines inside): enough to read what the export writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

async function annotate(projectId: string, itemId: number, by: { userId: string | null; name: string }, label: string, at: string, shown: { modelId?: number; strategy?: string; score?: number; late?: boolean; rationale?: string } = {}): Promise<number> {
  const { rows } = await sql(
    `INSERT INTO annotations (project_id, item_id, label, rationale, annotator, source, user_id, model_id, selection_strategy, selection_score, late, created_at)
     VALUES ($1, $2, $3, $4, $5, 'annotator', $6, $7, $8, $9, $10, $11) RETURNING id`,
    [projectId, itemId, label, shown.rationale ?? null, by.name, by.userId, shown.modelId ?? null, shown.strategy ?? 'cold_start', shown.score ?? null, shown.late ?? false, at],
  );
  return Number(rows[0].id);
}

async function resolve(projectId: string, itemId: number, label: string, rule: string, annotationIds: number[], at: string, by: { reviewId?: string; userId?: string } = {}): Promise<number> {
  const { rows } = await sql(
    `INSERT INTO item_resolutions (project_id, item_id, label, rule, review_id, decided_by, annotation_ids, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [projectId, itemId, label, rule, by.reviewId ?? null, by.userId ?? null, annotationIds, at],
  );
  return Number(rows[0].id);
}

async function review(projectId: string, itemId: number, reviewerId: string, decision: string, at: string): Promise<string> {
  const { rows } = await sql(
    `INSERT INTO reviews (id, project_id, item_id, stage, reviewer_id, expires_at, decision, decided_at, created_at)
     VALUES (gen_random_uuid(), $1, $2, 'review', $3, $4, $5, $4, $4) RETURNING id`,
    [projectId, itemId, reviewerId, at, decision],
  );
  return rows[0].id;
}

/**
 * Five pool items and a test item: a agreed on by two annotators, b accepted by a reviewer
 * (a late annotation), c resolved and then corrected by an expert, d annotated but unresolved,
 * e untouched. A neighbour project's resolved item must never show.
 */
async function labeledProject() {
  const projectId = await createProject(h, { name: 'Movie reviews: round 2' });
  const [a, b, c, d, e] = (await insertItems(h.db.pool, projectId, 5)) as [number, number, number, number, number];
  await insertItems(h.db.pool, projectId, 1, 'test');
  await sql(`UPDATE items SET text = $2, meta = '{"source":"web","tags":["x","y"]}' WHERE id = $1`, [a, 'He said "hi",\nthen left']);
  const ann1 = await h.as(projectId, 'ann1', 'annotator');
  const ann2 = await h.as(projectId, 'ann2', 'annotator');
  const reviewer = await h.as(projectId, 'rev', 'reviewer');
  const expert = await h.as(projectId, 'exp', 'expert');
  const modelId = await insertModel(h.db.pool, projectId, { version: 1 });
  const who = (m: Member, name: string) => ({ userId: m.userId, name });

  const a1 = await annotate(projectId, a, who(ann1, 'ann1'), 'pos', '2025-01-01T00:00:00Z', { modelId, strategy: 'margin', score: 0.25, rationale: 'clearly positive' });
  const a2 = await annotate(projectId, a, who(ann2, 'ann2'), 'pos', '2025-01-01T00:01:00Z', { modelId, strategy: 'margin', score: 0.5 });
  const resA = await resolve(projectId, a, 'pos', 'agreement', [a1, a2], '2025-01-01T00:02:00Z');
  const b1 = await annotate(projectId, b, who(ann1, 'ann1'), 'neg', '2025-01-20T00:00:00Z', { late: true });
  const reviewB = await review(projectId, b, reviewer.userId, 'accept', '2025-02-01T00:00:00Z');
  const resB = await resolve(projectId, b, 'neg', 'reviewer', [b1], '2025-02-01T00:00:00Z', { reviewId: reviewB, userId: reviewer.userId });
  const c1 = await annotate(projectId, c, who(ann2, 'ann2'), 'pos', '2025-01-10T00:00:00Z');
  const resC1 = await resolve(projectId, c, 'pos', 'single_annotator', [c1], '2025-01-15T00:00:00Z');
  const resC2 = await resolve(projectId, c, 'neg', 'expert', [c1], '2025-03-01T00:00:00Z', { userId: expert.userId });
  const d1 = await annotate(projectId, d, who(ann1, 'ann1'), 'neg', '2025-03-05T00:00:00Z');

  const neighbour = await createProject(h, { name: 'neighbour' });
  const [n] = (await insertItems(h.db.pool, neighbour, 1, 'pool', 'n')) as [number];
  const n1 = await annotate(neighbour, n, { userId: null, name: 'x' }, 'pos', '2025-01-01T00:00:00Z');
  await resolve(neighbour, n, 'pos', 'single_annotator', [n1], '2025-01-01T00:00:00Z');

  return { projectId, modelId, items: { a, b, c, d, e }, annotations: { a1, a2, b1, c1, d1 }, resolutions: { resA, resB, resC1, resC2 }, reviewB, ann1, ann2, reviewer, expert };
}

describe('GET /v1/projects/{project_id}/export', () => {
  let p: Awaited<ReturnType<typeof labeledProject>>;
  let viewer: Member;
  beforeAll(async () => {
    p = await labeledProject();
    viewer = await h.as(p.projectId, 'viewer', 'viewer');
  });
  const get = (query = '', as: Member = viewer) => as.http({ method: 'GET', url: `/v1/projects/${p.projectId}/export${query}` });

  it('streams one JSON line per resolved item, its latest resolution with who annotated and reviewed it', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['content-disposition']).toBe('attachment; filename="Movie-reviews-round-2-labels.jsonl"');
    const records = lines(res.body);
    expect(records.map((r) => [r.item.id, r.label, r.rule])).toEqual([
      [p.items.a, 'pos', 'agreement'],
      [p.items.b, 'neg', 'reviewer'],
      // The correction, not the first resolution.
      [p.items.c, 'neg', 'expert'],
    ]);
    expect(records[0]).toEqual({
      item: { id: p.items.a, external_id: 'i-pool-1', text: 'He said "hi",\nthen left', meta: { source: 'web', tags: ['x', 'y'] }, duplicate_of: null },
      label: 'pos',
      rule: 'agreement',
      resolved_at: '2025-01-01T00:02:00.000Z',
      resolved_by: null,
      review: null,
      annotations: [
        { annotation_id: p.annotations.a1, user_id: p.ann1.userId, annotator: 'ann1', label: 'pos', rationale: 'clearly positive', late: false, created_at: '2025-01-01T00:00:00.000Z', model_version: 1, strategy: 'margin', score: 0.25 },
        { annotation_id: p.annotations.a2, user_id: p.ann2.userId, annotator: 'ann2', label: 'pos', rationale: null, late: false, created_at: '2025-01-01T00:01:00.000Z', model_version: 1, strategy: 'margin', score: 0.5 },
      ],
    });
    expect(records[1]).toMatchObject({
      resolved_by: p.reviewer.userId,
      review: { id: p.reviewB, decision: 'accept', reviewer_id: p.reviewer.userId, decided_at: '2025-02-01T00:00:00.000Z' },
      annotations: [{ annotation_id: p.annotations.b1, late: true, model_version: null, strategy: 'cold_start', score: null }],
    });
    expect(records[2]).toMatchObject({ resolved_at: '2025-03-01T00:00:00.000Z', resolved_by: p.expert.userId, review: null, annotations: [{ annotation_id: p.annotations.c1 }] });
  });

  it('with status=all lists every pool item, the unresolved ones with a null label and their annotations so far', async () => {
    const records = lines((await get('?status=all')).body);
    expect(records.map((r) => [r.item.id, r.label])).toEqual([
      [p.items.a, 'pos'],
      [p.items.b, 'neg'],
      [p.items.c, 'neg'],
      [p.items.d, null],
      [p.items.e, null],
    ]);
    expect(records[3]).toEqual({
      item: { id: p.items.d, external_id: 'i-pool-4', text: 'text of i-pool-4', meta: {}, duplicate_of: null },
      label: null,
      rule: null,
      resolved_at: null,
      resolved_by: null,
      review: null,
      annotations: [expect.objectContaining({ annotation_id: p.annotations.d1, label: 'neg', user_id: p.ann1.userId })],
    });
    expect(records[4].annotations).toEqual([]);
  });

  it("exports a linked item (a repeated text, on_duplicate_text link) with its original's resolution", async () => {
    const q = await labeledProject();
    const linked = await sql(
      `INSERT INTO items (project_id, external_id, text, split, content_hash, status, duplicate_of)
       SELECT project_id, 'again-a', text, 'pool', content_hash, 'linked', id FROM items WHERE id = $1 RETURNING id`,
      [q.items.a],
    );
    const qViewer = await h.as(q.projectId, 'viewer', 'viewer');
    const records = lines((await qViewer.http({ method: 'GET', url: `/v1/projects/${q.projectId}/export` })).body);
    const record = records.find((r) => r.item.external_id === 'again-a');
    expect(record).toMatchObject({ item: { id: Number(linked.rows[0].id), duplicate_of: q.items.a }, label: 'pos', rule: 'agreement' });
    expect(record.annotations.map((a: { annotation_id: number }) => a.annotation_id)).toEqual([q.annotations.a1, q.annotations.a2]);
  });

  it('filters by the rule and the time of the latest resolution', async () => {
    const ids = async (query: string) => lines((await get(query)).body).map((r) => r.item.id);
    expect(await ids('?resolved_by=reviewer')).toEqual([p.items.b]);
    // c's first resolution was single_annotator: only the latest counts.
    expect(await ids('?resolved_by=single_annotator')).toEqual([]);
    expect(await ids('?resolved_by=expert')).toEqual([p.items.c]);
    expect(await ids('?since=2025-02-01T00:00:00Z')).toEqual([p.items.b, p.items.c]);
    expect(await ids(`?since=${encodeURIComponent('2025-02-01T01:00:00+01:00')}`)).toEqual([p.items.b, p.items.c]);
    expect(await ids('?since=2025-02-01T00:00:00.001Z')).toEqual([p.items.c]);
    expect(await ids('?status=all&resolved_by=agreement')).toEqual([p.items.a]);
    expect(await ids('?since=2030-01-01T00:00:00Z')).toEqual([]);
    expect((await get('?since=2030-01-01T00:00:00Z')).body).toBe('');
  });

  it('writes CSV with a header row, nested fields as JSON', async () => {
    const res = await get('?format=csv&status=all');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="Movie-reviews-round-2-labels.csv"');
    const [header, ...rows] = parseCsv(res.body);
    expect(header).toEqual(['item_id', 'external_id', 'text', 'meta', 'label', 'rule', 'resolved_at', 'resolved_by', 'review', 'annotations']);
    expect(rows.map((r) => r[0])).toEqual([p.items.a, p.items.b, p.items.c, p.items.d, p.items.e].map(String));
    const [a, b, , d] = rows as [string[], string[], string[], string[]];
    expect(a.slice(0, 8)).toEqual([String(p.items.a), 'i-pool-1', 'He said "hi",\nthen left', '{"tags": ["x", "y"], "source": "web"}', 'pos', 'agreement', '2025-01-01T00:02:00.000Z', '']);
    expect(a[8]).toBe('');
    expect(JSON.parse(a[9]!)).toEqual(lines((await get()).body)[0].annotations);
    expect(JSON.parse(b[8]!)).toEqual({ id: p.reviewB, decision: 'accept', reviewer_id: p.reviewer.userId, decided_at: '2025-02-01T00:00:00.000Z' });
    expect(b[7]).toBe(p.reviewer.userId);
    expect(d.slice(4, 9)).toEqual(['', '', '', '', '']);
    expect(JSON.parse(d[9]!)).toHaveLength(1);
  });

  it('writes only the header row when nothing matches', async () => {
    const res = await get('?format=csv&since=2030-01-01T00:00:00Z');
    expect(res.body).toBe('item_id,external_id,text,meta,label,rule,resolved_at,resolved_by,review,annotations\n');
  });

  it('answers HEAD with the headers alone, without reading a row', async () => {
    const res = await viewer.http({ method: 'HEAD', url: `/v1/projects/${p.projectId}/export?format=csv` });
    expect([res.statusCode, res.headers['content-type'], res.headers['content-disposition'], res.body]).toEqual([
      200,
      'text/csv; charset=utf-8',
      'attachment; filename="Movie-reviews-round-2-labels.csv"',
      '',
    ]);
  });

  it('answers problem+json before streaming: bad parameters, missing projects, roles', async () => {
    for (const query of ['?format=xml', '?status=some', '?resolved_by=nobody', '?since=yesterday']) {
      const res = await get(query);
      expect([query, res.statusCode, res.headers['content-type']]).toEqual([query, 422, 'application/problem+json; charset=utf-8']);
    }
    const annotator = await h.as(p.projectId, 'ann1');
    expect((await get('', annotator)).statusCode).toBe(403);
    const integrator = await h.as(p.projectId, 'integrator', 'integrator');
    expect((await get('', integrator)).statusCode).toBe(200);
    const missing = await h.http({ method: 'GET', url: '/v1/projects/00000000-0000-4000-8000-000000000000/export' });
    expect([missing.statusCode, missing.headers['content-type']]).toEqual([404, 'application/problem+json; charset=utf-8']);
  });
});

describe('GET /v1/projects/{project_id}/models/{version}/training-set', () => {
  let p: Awaited<ReturnType<typeof labeledProject>>;
  let viewer: Member;
  beforeAll(async () => {
    p = await labeledProject();
    viewer = await h.as(p.projectId, 'viewer', 'viewer');
    await sql(
      `INSERT INTO model_training_set (model_id, item_id, label, source, source_id) VALUES
         ($1, $2, 'pos', 'resolution', $3), ($1, $4, 'pos', 'resolution', $5), ($1, $6, 'neg', 'annotation', $7)`,
      [p.modelId, p.items.a, p.resolutions.resA, p.items.c, p.resolutions.resC1, p.items.d, p.annotations.d1],
    );
  });
  const get = (version: number) => viewer.http({ method: 'GET', url: `/v1/projects/${p.projectId}/models/${version}/training-set` });

  it('streams the labels the version was trained on, as recorded, whatever was corrected since', async () => {
    const before = await get(1);
    expect(before.statusCode).toBe(200);
    expect(before.headers['content-type']).toBe('application/x-ndjson');
    expect(before.headers['content-disposition']).toBe('attachment; filename="Movie-reviews-round-2-v1-training-set.jsonl"');
    expect(lines(before.body)).toEqual([
      { item_id: p.items.a, external_id: 'i-pool-1', label: 'pos', source: 'resolution', source_id: p.resolutions.resA },
      // Trained before the expert's correction to neg.
      { item_id: p.items.c, external_id: 'i-pool-3', label: 'pos', source: 'resolution', source_id: p.resolutions.resC1 },
      { item_id: p.items.d, external_id: 'i-pool-4', label: 'neg', source: 'annotation', source_id: p.annotations.d1 },
    ]);
    // A correction after the training: the export moves, the training set does not.
    await resolve(p.projectId, p.items.a, 'neg', 'reviewer', [p.annotations.a1, p.annotations.a2], '2025-04-01T00:00:00Z', { userId: p.reviewer.userId });
    expect(lines((await viewer.http({ method: 'GET', url: `/v1/projects/${p.projectId}/export` })).body)[0]).toMatchObject({ label: 'neg', rule: 'reviewer' });
    expect((await get(1)).body).toBe(before.body);
  });

  it('serves an older version from its annotation lineage (model_training_labels)', async () => {
    const older = await insertModel(h.db.pool, p.projectId, { version: 2 });
    await sql('INSERT INTO model_training_labels (model_id, annotation_id) VALUES ($1, $2), ($1, $3), ($1, $4)', [older, p.annotations.d1, p.annotations.a2, p.annotations.b1]);
    expect(lines((await get(2)).body)).toEqual([
      { item_id: p.items.a, external_id: 'i-pool-1', label: 'pos', source: 'annotation', source_id: p.annotations.a2 },
      { item_id: p.items.b, external_id: 'i-pool-2', label: 'neg', source: 'annotation', source_id: p.annotations.b1 },
      { item_id: p.items.d, external_id: 'i-pool-4', label: 'neg', source: 'annotation', source_id: p.annotations.d1 },
    ]);
    // A version with neither: an empty set, not an error.
    await insertModel(h.db.pool, p.projectId, { version: 3, status: 'failed' });
    const empty = await get(3);
    expect([empty.statusCode, empty.body]).toEqual([200, '']);
  });

  it('is 404 problem+json for a version the project does not have, another project\'s included', async () => {
    const res = await get(9);
    expect([res.statusCode, res.headers['content-type']]).toEqual([404, 'application/problem+json; charset=utf-8']);
    expect(res.json()).toMatchObject({ status: 404, detail: `No model version 9 in project ${p.projectId}.` });
    const other = await createProject(h);
    await insertModel(h.db.pool, other, { version: 7 });
    expect((await get(7)).statusCode).toBe(404);
    const annotator = await h.as(p.projectId, 'ann1');
    expect((await annotator.http({ method: 'GET', url: `/v1/projects/${p.projectId}/models/1/training-set` })).statusCode).toBe(403);
  });
});

describe('streaming a large export', () => {
  const ITEMS = 20_000;
  let projectId: string;
  let viewer: Member;
  beforeAll(async () => {
    projectId = await createProject(h, { name: 'big' });
    viewer = await h.as(projectId, 'viewer', 'viewer');
    // ~5 KB of text per item: a buffered export would hold ~100 MB.
    await sql(
      `WITH i AS (
         INSERT INTO items (project_id, external_id, text, split, content_hash)
         SELECT $1, 'big-' || g, repeat(md5(g::text), 160), 'pool', decode(md5(g::text), 'hex') FROM generate_series(1, $2) g
         RETURNING id
       ), a AS (
         INSERT INTO annotations (project_id, item_id, label, annotator, source) SELECT $1, id, 'pos', 'seed', 'import' FROM i RETURNING id, item_id
       )
       INSERT INTO item_resolutions (project_id, item_id, label, rule, annotation_ids) SELECT $1, item_id, 'pos', 'single_annotator', ARRAY[id] FROM a`,
      [projectId, ITEMS],
    );
  });
  const open = (signal?: AbortSignal, format = 'jsonl') =>
    fetch(`${base}/v1/projects/${projectId}/export?format=${format}`, { headers: { authorization: `Bearer ${viewer.key}` }, signal });
  const checkedOut = () => h.db.pool.totalCount - h.db.pool.idleCount;
  async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`still not true after 5 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  /** Export backends of this database other than ours, and what they are doing. */
  const exportBackends = async () =>
    (await sql(`SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '/* alder:export */%' AND state <> 'idle'`)).rows;

  it('keeps memory flat: what the process retains stays well under the body size while 20,000 records stream', async () => {
    // Retained memory, measured after a full collection, not RSS: how far the heap grows before
    // V8 collects depends on how busy the machine is (RSS grew by 110 MB on a loaded one), what
    // survives a collection does not. A server that gathered the body would retain all of it.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const retained = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    for (const format of ['jsonl', 'csv']) {
      const before = retained();
      let most = 0;
      let bytes = 0;
      let nextSample = 0;
      let newlines = 0;
      const res = await open(undefined, format);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
        // Every 10 MB received, mid-stream: the server is holding its cursor and pipe open.
        if (bytes >= nextSample) {
          most = Math.max(most, retained() - before);
          nextSample += 10 * 2 ** 20;
        }
      }
      expect(newlines).toBe(format === 'csv' ? ITEMS + 1 : ITEMS);
      expect(bytes).toBeGreaterThan(100_000_000);
      // About 10 MB on a quiet machine, 30 MB on a loaded one (more of the bounded buffers
      // between cursor and reader full at once); all of it would be over 100 MB.
      expect(most).toBeLessThan(bytes / 2);
    }
    await eventually(() => checkedOut() === 0, 'the export client is back in the pool');
  }, 120_000);

  it('closes the cursor and returns the client to the pool when the client goes away mid-stream', async () => {
    const idleBefore = h.db.pool.idleCount;
    const abort = new AbortController();
    const res = await open(abort.signal);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // The export holds its client and its cursor is open.
    expect(checkedOut()).toBe(1);
    expect(await exportBackends()).toHaveLength(1);
    abort.abort();
    const aborted = await reader.read().then(() => null, (error: { name?: string }) => error);
    expect(aborted?.name).toBe('AbortError');
    await eventually(() => checkedOut() === 0, 'the export client is back in the pool');
    // Closed, not discarded: the same connection is idle again, its cursor gone.
    expect(h.db.pool.idleCount).toBeGreaterThanOrEqual(idleBefore);
    await eventually(async () => (await exportBackends()).length === 0, 'no export backend is busy');
  });

  it('cuts the response short when the database fails mid-stream: no problem document after a 200, the client discarded', async () => {
    const res = await open();
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    const [backend] = await exportBackends();
    await sql('SELECT pg_terminate_backend($1)', [backend.pid]);
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      failure = error;
    }
    // undici: "terminated", the body ended without its last chunk.
    expect((failure as Error | undefined)?.message).toBe('terminated');
    const received = body.split('\n');
    expect(received.length).toBeLessThan(ITEMS);
    expect(body).not.toContain('problem');
    // Every complete line is a record: the cut falls at the end, nothing else was written.
    for (const line of received.slice(0, -1)) expect(JSON.parse(line).item.external_id).toMatch(/^big-/);
    await eventually(() => checkedOut() === 0, 'the failed client is no longer checked out');
    // The app goes on: the next export is whole.
    const again = await h.http({ method: 'GET', url: `/v1/projects/${projectId}/export?since=2100-01-01T00:00:00Z` });
    expect([again.statusCode, again.body]).toEqual([200, '']);
  });
});

describe('DELETE /v1/projects/{project_id}', () => {
  const log = createLogger({ level: 'silent' });
  let jobs = 0;
  const job = (queue: string) => ({ jobKey: `${queue}:deletion-${++jobs}`, log });

  /** Rows of the project in every table that holds them (item-keyed tables through its items). */
  async function rowsOf(projectId: string): Promise<Record<string, number>> {
    const { rows } = await sql(
      `WITH its AS (SELECT id FROM items WHERE project_id = $1), ms AS (SELECT id FROM models WHERE project_id = $1)
       SELECT (SELECT count(*) FROM projects WHERE id = $1)::int AS projects,
              (SELECT count(*) FROM its)::int AS items,
              (SELECT count(*) FROM annotations WHERE project_id = $1)::int AS annotations,
              (SELECT count(*) FROM task_leases WHERE project_id = $1)::int AS leases,
              (SELECT count(*) FROM item_slots WHERE project_id = $1)::int AS slots,
              (SELECT count(*) FROM project_members WHERE project_id = $1)::int AS members,
              (SELECT count(*) FROM item_resolutions WHERE project_id = $1)::int AS resolutions,
              (SELECT count(*) FROM reviews WHERE project_id = $1)::int AS reviews,
              (SELECT count(*) FROM review_queue WHERE project_id = $1)::int AS review_queue,
              (SELECT count(*) FROM ms)::int AS models,
              (SELECT count(*) FROM model_training_set WHERE model_id IN (SELECT id FROM ms))::int AS training_set,
              (SELECT count(*) FROM model_training_labels WHERE model_id IN (SELECT id FROM ms))::int AS training_labels,
              (SELECT count(*) FROM model_stop_predictions WHERE model_id IN (SELECT id FROM ms))::int AS stop_predictions,
              (SELECT count(*) FROM stop_set_items WHERE project_id = $1)::int AS stop_set,
              (SELECT count(*) FROM rankings WHERE project_id = $1)::int AS rankings,
              (SELECT count(*) FROM ranking_entries WHERE item_id IN (SELECT id FROM its))::int AS ranking_entries`,
      [projectId],
    );
    return rows[0];
  }

  /** A project with a row in every table, through the API where it can be: leases, slots, annotations, members. */
  async function populatedProject(name: string) {
    const projectId = await createProject(h, { name });
    const [x, y, z] = (await insertItems(h.db.pool, projectId, 3)) as [number, number, number];
    await publishColdStart(h.db.pool, projectId);
    const ann = await h.as(projectId, 'ann');
    const first = (await ann.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, payload: {} })).json();
    expect((await ann.http({ method: 'POST', url: `/v1/tasks/${first.task_id}/annotation`, payload: { label: 'pos' } })).statusCode).toBe(201);
    // A second lease left open: a live slot.
    expect((await ann.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next`, payload: {} })).statusCode).toBe(200);
    const labeledId = first.item.id as number;
    const [annotationId] = (await sql('SELECT id FROM annotations WHERE item_id = $1', [labeledId])).rows.map((r) => Number(r.id));
    const reviewer = await h.as(projectId, 'rev', 'reviewer');
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, current: true });
    const reviewId = await review(projectId, labeledId, reviewer.userId, 'accept', '2025-01-01T00:00:00Z');
    await resolve(projectId, labeledId, 'pos', 'single_annotator', [annotationId!], '2025-01-01T00:00:00Z');
    await resolve(projectId, labeledId, 'neg', 'reviewer', [annotationId!], '2025-01-02T00:00:00Z', { reviewId, userId: reviewer.userId });
    await sql(`INSERT INTO review_queue (item_id, project_id, priority, reasons, stage) VALUES ($1, $2, 1, '{late}', 'done')`, [labeledId, projectId]);
    await sql(`INSERT INTO model_training_set (model_id, item_id, label, source, source_id) VALUES ($1, $2, 'pos', 'annotation', $3)`, [modelId, labeledId, annotationId]);
    await sql('INSERT INTO model_training_labels (model_id, annotation_id) VALUES ($1, $2)', [modelId, annotationId]);
    await sql('INSERT INTO model_stop_predictions (model_id, predictions) VALUES ($1, $2)', [modelId, [0, 1]]);
    await sql('INSERT INTO stop_set_items (project_id, position, item_id) VALUES ($1, 0, $2), ($1, 1, $3)', [projectId, y, z]);
    // An annotation made with the model shown, so the model's delete meets a referencing annotation.
    await annotate(projectId, x, { userId: ann.userId, name: 'ann' }, 'neg', '2025-01-03T00:00:00Z', { modelId, strategy: 'margin', score: 0.5 });
    return { projectId, ann, reviewer };
  }

  it('deletes the project and every row of it in one go, leaving its audit trail ending in project.deleted', async () => {
    const doomed = await populatedProject('doomed');
    const kept = await populatedProject('kept');
    const before = await rowsOf(doomed.projectId);
    for (const [table, count] of Object.entries(before)) expect([table, count > 0]).toEqual([table, true]);
    const keptBefore = await rowsOf(kept.projectId);
    const eventsBefore = Number((await sql('SELECT count(*) FROM audit_events WHERE project_id = $1', [doomed.projectId])).rows[0].count);

    const manager = await h.as(doomed.projectId, 'boss', 'manager');
    const res = await manager.http({ method: 'DELETE', url: `/v1/projects/${doomed.projectId}` });
    expect([res.statusCode, res.body]).toEqual([204, '']);

    expect(Object.values(await rowsOf(doomed.projectId)).every((n) => n === 0)).toBe(true);
    expect(await rowsOf(kept.projectId)).toEqual(keptBefore);
    // People are the instance's, not the project's: they stay, without the membership.
    expect((await sql('SELECT count(*)::int AS n FROM users WHERE id = $1', [doomed.ann.userId])).rows[0].n).toBe(1);

    const { rows: trail } = await sql('SELECT kind, actor_user_id, actor_key_id, subject_type, subject_id, after FROM audit_events WHERE project_id = $1 ORDER BY id', [doomed.projectId]);
    expect(trail).toHaveLength(eventsBefore + 1);
    expect(trail[trail.length - 1]).toEqual({
      kind: 'project.deleted',
      actor_user_id: manager.userId,
      actor_key_id: manager.keyId,
      subject_type: 'project',
      subject_id: doomed.projectId,
      after: { name: 'doomed', items: 3, annotations: 2 },
    });

    // The project is gone for the API; its audit trail stays readable, by admins only.
    expect((await h.http({ method: 'GET', url: `/v1/projects/${doomed.projectId}` })).statusCode).toBe(404);
    const verify = await h.http({ method: 'GET', url: `/v1/projects/${doomed.projectId}/audit/verify` });
    expect(verify.statusCode).toBe(200);
    expect(verify.json()).toMatchObject({ ok: true, events: eventsBefore + 1, first_bad: null });
    const listed = await h.http({ method: 'GET', url: `/v1/projects/${doomed.projectId}/audit?kind=project.deleted` });
    expect([listed.statusCode, listed.json().data.map((e: { kind: string; after: unknown }) => [e.kind, e.after])]).toEqual([200, [['project.deleted', { name: 'doomed', items: 3, annotations: 2 }]]]);
    // The manager was a member: with the membership gone, the project is not found for them.
    expect((await manager.http({ method: 'GET', url: `/v1/projects/${doomed.projectId}/audit/verify` })).statusCode).toBe(404);
    expect((await h.http({ method: 'DELETE', url: `/v1/projects/${doomed.projectId}` })).statusCode).toBe(404);
  });

  it('leaves jobs queued for a deleted project nothing to do', async () => {
    const { projectId } = await populatedProject('queued');
    expect((await h.http({ method: 'DELETE', url: `/v1/projects/${projectId}` })).statusCode).toBe(204);
    expect(await processRankPool({ pool: h.db.pool }, { projectId, reason: 'items-ingested' }, job('sampling'))).toEqual({ skipped: 'no-project' });
    expect(await processTrainModel({ pool: h.db.pool }, { projectId, reason: 'manual' }, job('training'))).toEqual({ skipped: 'no-project' });
  });

  it('is for managers: 403 for another role, 404 for someone outside the project, nothing deleted', async () => {
    const { projectId, ann, reviewer } = await populatedProject('guarded');
    const viewer = await h.as(projectId, 'viewer', 'viewer');
    const before = await rowsOf(projectId);
    for (const member of [ann, reviewer, viewer]) {
      expect((await member.http({ method: 'DELETE', url: `/v1/projects/${projectId}` })).statusCode).toBe(403);
    }
    const elsewhere = await createProject(h, { name: 'elsewhere' });
    const outsider = await h.as(elsewhere, 'boss', 'manager');
    const res = await outsider.http({ method: 'DELETE', url: `/v1/projects/${projectId}` });
    expect([res.statusCode, res.json().detail]).toEqual([404, `No project ${projectId}.`]);
    expect(await rowsOf(projectId)).toEqual(before);
  });
});
