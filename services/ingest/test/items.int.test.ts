import { createHash } from 'node:crypto';
import { createMember, createUserWithKey } from '@alder/http';
import { counts, insertProject, outboxJobs, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MAX_BODY_BYTES: 64 * 1024, MAX_ITEMS_PER_BATCH: 50 });
});
afterAll(async () => {
  await h?.close();
});

const post = (projectId: string, payload: unknown, key = h.adminKey) =>
  h.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { authorization: `Bearer ${key}` }, payload });

describe('POST /v1/projects/{project_id}/items', () => {
  it('writes items, imports pool labels, keeps test labels as gold, and queues a re-ranking', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await post(projectId, {
      items: [
        { external_id: 'a', text: 'great film', label: 'pos', meta: { source: 'imdb', stars: 5 } },
        { external_id: 'b', text: 'dull', split: 'pool' },
        { external_id: 'c', text: 'awful', split: 'test', label: 'neg' },
        { external_id: 'd', text: 'fine', label: null, meta: null },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 4, inserted: 4, duplicates: 0, labels_imported: 1 });

    const items = await h.db.pool.query(
      'SELECT external_id, text, meta, split, gold_label, status, content_hash FROM items WHERE project_id = $1 ORDER BY id',
      [projectId],
    );
    expect(items.rows.map((r) => [r.external_id, r.split, r.gold_label, r.status])).toEqual([
      ['a', 'pool', 'pos', 'labeled'],
      ['b', 'pool', null, 'unlabeled'],
      ['c', 'test', 'neg', 'unlabeled'],
      ['d', 'pool', null, 'unlabeled'],
    ]);
    expect(items.rows[0].meta).toEqual({ source: 'imdb', stars: 5 });
    expect(items.rows[3].meta).toEqual({});
    expect(items.rows[0].content_hash).toEqual(createHash('sha256').update('great film').digest());

    const annotations = await h.db.pool.query('SELECT label, annotator, source, api_key_id FROM annotations WHERE project_id = $1', [projectId]);
    expect(annotations.rows).toEqual([{ label: 'pos', annotator: 'import', source: 'import', api_key_id: expect.any(String) }]);
    const project = await h.db.pool.query('SELECT label_count FROM projects WHERE id = $1', [projectId]);
    expect(project.rows[0].label_count).toBe(1);
    const jobs = (await outboxJobs(h.db.pool)).filter((j) => j.payload.projectId === projectId);
    expect(jobs).toEqual([{ queue: 'sampling', job_name: 'rank-pool', payload: { projectId, reason: 'items-ingested' } }]);
  });

  it('counts re-sent external ids as duplicates and changes nothing about them', async () => {
    const projectId = await insertProject(h.db.pool);
    await post(projectId, { items: [{ external_id: 'x', text: 'first' }] });
    const before = await counts(h.db.pool);
    const res = await post(projectId, { items: [{ external_id: 'x', text: 'changed', label: 'pos' }] });
    expect(res.json()).toMatchObject({ received: 1, inserted: 0, duplicates: 1, labels_imported: 0 });
    expect(await counts(h.db.pool)).toEqual(before);
    const { rows } = await h.db.pool.query('SELECT text, status FROM items WHERE project_id = $1', [projectId]);
    expect(rows).toEqual([{ text: 'first', status: 'unlabeled' }]);

    const mixed = await post(projectId, { items: [{ external_id: 'x', text: 'again' }, { external_id: 'y', text: 'new' }] });
    expect(mixed.json()).toMatchObject({ received: 2, inserted: 1, duplicates: 1, labels_imported: 0 });
  });

  it('stores any text exactly (quotes, commas, newlines, backslashes, Unicode)', async () => {
    const projectId = await insertProject(h.db.pool);
    const texts = ['say "hi", then\nleave', 'tab\there\r\nand \\N and \\.', '中文分词没有空格', 'emoji 🙂 and ,"', '\\', '""'];
    const res = await post(projectId, { items: texts.map((text, i) => ({ external_id: `t,"${i}"\n`, text, meta: { note: text } })) });
    expect(res.statusCode).toBe(200);
    const { rows } = await h.db.pool.query('SELECT external_id, text, meta FROM items WHERE project_id = $1 ORDER BY id', [projectId]);
    expect(rows.map((r) => r.text)).toEqual(texts);
    expect(rows.map((r) => r.external_id)).toEqual(texts.map((_, i) => `t,"${i}"\n`));
    expect(rows.map((r) => r.meta.note)).toEqual(texts);
  });

  it('refuses the whole batch, listing every bad row, and writes nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    const before = await counts(h.db.pool);
    const res = await post(projectId, {
      items: [
        { external_id: 'ok', text: 'fine', label: 'pos' },
        { external_id: 'dup', text: 'one' },
        { external_id: 'dup', text: 'two' },
        { external_id: 'u', text: 'x', label: 'maybe' },
        { external_id: 'v', text: 'y', label: 'nope', split: 'test' },
      ],
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.type).toBe('https://alder.dev/problems/validation');
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(['body/items/2/external_id', 'body/items/3/label', 'body/items/4/label']);
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('refuses schema violations (bad split, empty text, unknown field) with their rows', async () => {
    const projectId = await insertProject(h.db.pool);
    const before = await counts(h.db.pool);
    const res = await post(projectId, {
      items: [
        { external_id: 'a', text: 'ok' },
        { external_id: 'b', text: '', split: 'train' },
        { external_id: 'c', text: '   ' },
        { external_id: '', text: 'x', colour: 'red' },
      ],
    });
    expect(res.statusCode).toBe(422);
    const paths = res.json().errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body/items/1/text', 'body/items/1/split', 'body/items/2/text', 'body/items/3/external_id', 'body/items/3/colour']));
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await post(projectId, { items: [] })).statusCode).toBe(422);
    expect((await post(projectId, {})).statusCode).toBe(422);
  });

  it('refuses U+0000, which Postgres can not store', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await post(projectId, { items: [{ external_id: 'a', text: 'nul \u0000 here' }, { external_id: 'b', text: 'ok', meta: { k: '\u0000' } }] });
    expect(res.statusCode).toBe(422);
    // Refused for the whole body by the app (packages/http, storable-strings.ts), naming each string.
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(['body/items/0/text', 'body/items/1/meta/k']);
  });

  it('404 for an unknown project, 401 without a valid key, 400 for malformed JSON', async () => {
    const before = await counts(h.db.pool);
    const missing = await post('00000000-0000-4000-8000-000000000000', { items: [{ external_id: 'a', text: 'x' }] });
    expect(missing.statusCode).toBe(404);
    expect((await post('00000000-0000-4000-8000-000000000000', { items: [] }, 'alder_wrong')).statusCode).toBe(401);
    const projectId = await insertProject(h.db.pool);
    const malformed = await h.http({
      method: 'POST',
      url: `/v1/projects/${projectId}/items`,
      headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' },
      payload: '{"items": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().type).toBe('https://alder.dev/problems/malformed-request');
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('413 for a body over MAX_BODY_BYTES or more items than MAX_ITEMS_PER_BATCH', async () => {
    const projectId = await insertProject(h.db.pool);
    const before = await counts(h.db.pool);
    const big = await post(projectId, { items: [{ external_id: 'a', text: 'x'.repeat(70 * 1024) }] });
    expect(big.statusCode).toBe(413);
    expect(big.json().type).toBe('https://alder.dev/problems/payload-too-large');
    const many = await post(projectId, { items: Array.from({ length: 51 }, (_, i) => ({ external_id: `${i}`, text: 't' })) });
    expect(many.statusCode).toBe(413);
    expect(many.json().detail).toMatch(/At most 50 items/);
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('applies the retrain rule to imported labels: one train-model at the threshold', async () => {
    const projectId = await insertProject(h.db.pool, ['pos', 'neg'], 3);
    const mine = async () => (await outboxJobs(h.db.pool)).filter((j) => j.payload.projectId === projectId && j.queue === 'training');
    await post(projectId, { items: [{ external_id: '1', text: 'a', label: 'pos' }, { external_id: '2', text: 'b', label: 'neg' }] });
    expect(await mine()).toEqual([]);
    await post(projectId, { items: [3, 4, 5, 6].map((n) => ({ external_id: `${n}`, text: `t${n}`, label: 'pos' })) });
    expect(await mine()).toEqual([{ queue: 'training', job_name: 'train-model', payload: { projectId, reason: 'labels' } }]);
    const { rows } = await h.db.pool.query('SELECT label_count, train_requested_at_count FROM projects WHERE id = $1', [projectId]);
    expect(rows[0]).toEqual({ label_count: 6, train_requested_at_count: 6 });
    // Test-split labels are gold labels, not annotations: they do not count.
    await post(projectId, { items: [7, 8, 9].map((n) => ({ external_id: `${n}`, text: `t${n}`, label: 'neg', split: 'test' })) });
    expect(await mine()).toHaveLength(1);
  });

  it('does not queue a re-ranking when only test items arrive', async () => {
    const projectId = await insertProject(h.db.pool);
    await post(projectId, { items: [{ external_id: 'g', text: 'gold', split: 'test', label: 'pos' }] });
    expect((await outboxJobs(h.db.pool)).filter((j) => j.payload.projectId === projectId)).toEqual([]);
  });

  it('lets managers and integrators of the project ingest, records their key, and refuses other roles', async () => {
    const projectId = await insertProject(h.db.pool);
    const integrator = await createMember(h.db.pool, projectId, 'integrator');
    const manager = await createMember(h.db.pool, projectId, 'manager');
    const ok = await post(projectId, { items: [{ external_id: 'a', text: 'x', label: 'pos' }] }, integrator.key);
    expect(ok.statusCode).toBe(200);
    expect((await post(projectId, { items: [{ external_id: 'b', text: 'y' }] }, manager.key)).statusCode).toBe(200);
    const imported = await h.db.pool.query('SELECT api_key_id, user_id FROM annotations WHERE project_id = $1', [projectId]);
    // An import is the key's doing, and nobody's label: no annotating user.
    expect(imported.rows).toEqual([{ api_key_id: integrator.keyId, user_id: null }]);

    const before = await counts(h.db.pool);
    for (const role of ['annotator', 'reviewer', 'expert', 'viewer'] as const) {
      const member = await createMember(h.db.pool, projectId, role);
      const res = await post(projectId, { items: [{ external_id: `by-${role}`, text: 'z' }] }, member.key);
      expect([role, res.statusCode]).toEqual([role, 403]);
      expect(res.json().type).toBe('https://alder.dev/problems/forbidden');
    }
    // Someone in another project only: as if the project did not exist.
    const elsewhere = await createMember(h.db.pool, await insertProject(h.db.pool), 'integrator');
    expect((await post(projectId, { items: [{ external_id: 'c', text: 'z' }] }, elsewhere.key)).statusCode).toBe(404);
    const outsider = await createUserWithKey(h.db.pool, { name: 'outsider' });
    expect((await post(projectId, { items: [{ external_id: 'c', text: 'z' }] }, outsider.key)).statusCode).toBe(404);
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it("gives each new item the annotations its project's overlap asks of it", async () => {
    const everyItem = await insertProject(h.db.pool, ['pos', 'neg'], 20, { overlap: { annotators: 3 } });
    const once = await insertProject(h.db.pool);
    const half = await insertProject(h.db.pool, ['pos', 'neg'], 20, { overlap: { annotators: 2, fraction: 0.5 } });
    const items = Array.from({ length: 40 }, (_, i) => ({ external_id: `o-${i}`, text: `t${i}` }));
    for (const projectId of [everyItem, once, half]) expect((await post(projectId, { items })).statusCode).toBe(200);
    const required = async (projectId: string) =>
      (await h.db.pool.query<{ required_annotations: number }>('SELECT required_annotations FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows.map(
        (r) => r.required_annotations,
      );
    expect(new Set(await required(everyItem))).toEqual(new Set([3]));
    expect(new Set(await required(once))).toEqual(new Set([1]));
    // The fraction is a stable hash of (project, external id): the database's own overlap_member decides.
    const { rows } = await h.db.pool.query<{ required: number }>(
      `SELECT CASE WHEN overlap_member(project_id, external_id, 0.5) THEN 2 ELSE 1 END AS required FROM items WHERE project_id = $1 ORDER BY id`,
      [half],
    );
    const halves = await required(half);
    expect(halves).toEqual(rows.map((r) => r.required));
    expect(halves.filter((k) => k === 2).length).toBeGreaterThan(5);
    expect(halves.filter((k) => k === 1).length).toBeGreaterThan(5);
  });

  it('routes only ingest operations', async () => {
    const res = await h.http({ method: 'GET', url: '/v1/projects', headers: { authorization: `Bearer ${h.adminKey}` } });
    expect(res.statusCode).toBe(404);
  });
});

describe('a full-size batch', () => {
  it('ingests MAX_ITEMS_PER_BATCH items (default 10000) through COPY in one request', async () => {
    const big = await startHarness();
    try {
      const projectId = await insertProject(big.db.pool);
      const items = Array.from({ length: 10_000 }, (_, i) => ({ external_id: `doc-${i}`, text: `document number ${i} with some words`, label: i % 10 === 0 ? 'pos' : undefined }));
      const started = performance.now();
      const res = await big.http({ method: 'POST', url: `/v1/projects/${projectId}/items`, headers: { 'x-api-key': big.adminKey }, payload: { items } });
      const ms = performance.now() - started;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ received: 10_000, inserted: 10_000, duplicates: 0, labels_imported: 1_000 });
      expect(ms).toBeLessThan(10_000);
      const { rows } = await big.db.pool.query('SELECT min(id) AS first, max(id) AS last FROM items WHERE project_id = $1', [projectId]);
      const order = await big.db.pool.query('SELECT external_id FROM items WHERE id IN ($1, $2) ORDER BY id', [rows[0].first, rows[0].last]);
      expect(order.rows.map((r) => r.external_id)).toEqual(['doc-0', 'doc-9999']);
    } finally {
      await big.close();
    }
  });
});
