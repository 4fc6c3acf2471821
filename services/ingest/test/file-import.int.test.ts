import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { abortedBatch, batchOpened, insertProject, startHarness, type Harness } from './harness';

// File import: POST .../items as multipart/form-data, against real Postgres and Redis.

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({ MAX_BODY_BYTES: 64 * 1024, MAX_INFLATED_BYTES: 256 * 1024 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await h?.close();
});

/** ../shared/datasets from the repository root. */
const dataset = (name: string, file: string) => fileURLToPath(new URL(`../../../../shared/datasets/${name}/${file}`, import.meta.url));
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; label: string });

const BOUNDARY = 'alder-test-boundary-7f3a';
interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}
/** A multipart/form-data body, its parts in the order given. */
function form(parts: Part[], { close = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: ${disposition}\r\n${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}
const file = (value: string | Buffer, filename = 'items.csv', type = 'text/csv'): Part => ({ name: 'file', value, filename, type });
const field = (name: string, value: string): Part => ({ name, value });

/** A raw request over the socket. */
function send(path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; json: any; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null, headers: res.headers });
      });
    });
    // A server that answers before reading the whole body may close the connection under a write.
    req.on('error', reject);
    req.end(body);
  });
}
const upload = (projectId: string, parts: Part[], headers: Record<string, string> = {}) =>
  send(`/v1/projects/${projectId}/items`, form(parts), { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers });
const get = (url: string) => h.http({ method: 'GET', url, headers: { authorization: `Bearer ${h.adminKey}` } });
const batches = async (projectId: string) => (await get(`/v1/projects/${projectId}/batches`)).json().data as any[];
const batchOf = async (projectId: string, batchId: string) => (await get(`/v1/projects/${projectId}/batches/${batchId}`)).json();
const itemsOf = async (projectId: string) =>
  (await h.db.pool.query('SELECT external_id, text, meta, split FROM items WHERE project_id = $1 ORDER BY id', [projectId])).rows as { external_id: string; text: string; meta: unknown; split: string }[];
const byLine = (errors: { line: number; pointer: string; reason: string }[]) => Object.fromEntries(errors.map((e) => [e.line, `${e.pointer} ${e.reason}`]));

/** A CSV cell, quoted when it must be. */
const cell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const csv = (rows: string[][]) => rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';

describe('file import: CSV', () => {
  it('lands a real dataset sent by a standard client (fetch, FormData), its columns mapped, as a batch of source file', async () => {
    const rows = readJsonl(dataset('sms_spam', 'test.jsonl'));
    const projectId = await insertProject(h.db.pool, ['ham', 'spam']);
    const body = csv([['id', 'message', 'category'], ...rows.map((r, i) => [`sms-${i + 1}`, r.text, r.label])]);
    const data = new FormData();
    data.set('mapping', JSON.stringify({ external_id: 'id', text: 'message', label: 'category' }));
    data.set('file', new Blob([body], { type: 'text/csv' }), 'sms_spam test.csv');
    const res = await fetch(`http://127.0.0.1:${port}/v1/projects/${projectId}/items`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}` }, body: data });
    const result: any = await res.json();
    expect(res.status).toBe(200);
    expect(result).toEqual({
      batch_id: expect.any(String),
      status: 'completed',
      received: rows.length,
      inserted: rows.length,
      duplicates: 0,
      updated: 0,
      skipped_changes: 0,
      // The dataset's repeated messages, reported (on_duplicate_text: report).
      duplicate_texts: rows.length - new Set(rows.map((r) => r.text)).size,
      rejected: 0,
      labels_imported: rows.length,
      errors: [],
    });
    const stored = await itemsOf(projectId);
    // Texts with commas and quotes come back as they were.
    expect(stored.map((i) => i.text)).toEqual(rows.map((r) => r.text));
    expect(stored[0]!.external_id).toBe('sms-1');
    expect(await batchOf(projectId, result.batch_id)).toMatchObject({ source: 'file', status: 'completed', file: { name: 'sms_spam test.csv', format: 'csv' }, received: rows.length, errors: [] });
    const labels = await h.db.pool.query(`SELECT label, count(*)::int AS n FROM annotations WHERE project_id = $1 AND source = 'import' GROUP BY label ORDER BY label`, [projectId]);
    expect(labels.rows).toEqual(['ham', 'spam'].map((label) => ({ label, n: rows.filter((r) => r.label === label).length })));

    // Sent again: every row is a duplicate, nothing changes.
    const again = await upload(projectId, [field('mapping', '{"external_id":"id","text":"message","label":"category"}'), file(body)]);
    expect(again.json).toMatchObject({ received: rows.length, inserted: 0, duplicates: rows.length, rejected: 0 });
  });

  it('refuses bad rows one by one, by the line where each record starts, the pointer of the item field and the column; the rest lands', async () => {
    const projectId = await insertProject(h.db.pool);
    const lines = [
      'id,body,category,attrs', // 1
      'r1,"first, with a comma",pos,"{""source"": ""web""}"', // 2
      'r2,"spans', // 3
      'two lines",neg,', // 4
      '', // 5 (skipped)
      'r3,too,many,cells,here', // 6
      'r4,,pos,', // 7: empty text
      'r5,he said "hi" and left,,', // 8: a quote inside an unquoted cell is taken as it is
      'r6,nul\u0000here,,', // 9
      'r7,fine,maybe,', // 10
      `r8,${'x'.repeat(200_001)},,`, // 11
      'r1,same id again,,', // 12
      'r9,meta broken,,{not json}', // 13
      'r10,"last one",neg,', // 14
    ];
    const bytes = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n'), Buffer.from('r11,caf'), Buffer.from([0xc3, 0x28]), Buffer.from(',pos,\r\n')]);
    const res = await upload(projectId, [field('mapping', JSON.stringify({ external_id: 'id', text: 'body', label: 'category', meta: 'attrs' })), file(bytes)]);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed', received: 12, inserted: 4, rejected: 8, labels_imported: 3 });
    expect(byLine(res.json.errors)).toEqual({
      6: ' has 5 cells where the header has 4 columns',
      7: '/text is missing: column "body" is empty',
      9: '/text must not contain a NUL character (\\u0000) (column "body")',
      10: `/label "maybe" is not one of the project's labels (column "category")`,
      11: '/text must NOT have more than 200000 characters (column "body")',
      12: '/external_id repeats the external_id of line 2',
      13: expect.stringMatching(/^\/meta is not JSON \(column "attrs": .+\)$/),
      15: '/text is not valid UTF-8 (column "body")',
    });
    expect(res.json.errors).toHaveLength(8);
    expect(await itemsOf(projectId)).toEqual([
      { external_id: 'r1', text: 'first, with a comma', meta: { source: 'web' }, split: 'pool' },
      { external_id: 'r2', text: 'spans\r\ntwo lines', meta: {}, split: 'pool' },
      { external_id: 'r5', text: 'he said "hi" and left', meta: {}, split: 'pool' },
      { external_id: 'r10', text: 'last one', meta: {}, split: 'pool' },
    ]);
    expect(await batchOf(projectId, res.json.batch_id)).toMatchObject({ source: 'file', file: { name: 'items.csv', format: 'csv' }, rejected: 8, errors: res.json.errors });
  });

  it('numbers rows for @line as the CLI does (1 for the first after the header), gathers listed columns into meta, takes columns named like the fields', async () => {
    const projectId = await insertProject(h.db.pool);
    const body = csv([
      ['text', 'label', 'split', 'source', 'lang', 'unused'],
      ['one', 'pos', 'pool', 'web', 'en', 'x'],
      ['two', '', 'test', '', 'de', 'y'],
    ]);
    // No filename and a generic type (curl -F 'file=<items.csv'): the format field says it.
    const res = await upload(projectId, [field('format', 'csv'), field('mapping', '{"external_id":"@line","meta":["source","lang"]}'), { name: 'file', value: body }]);
    expect(res.json).toMatchObject({ inserted: 2, rejected: 0, labels_imported: 1 });
    expect(await itemsOf(projectId)).toEqual([
      { external_id: '1', text: 'one', meta: { source: 'web', lang: 'en' }, split: 'pool' },
      { external_id: '2', text: 'two', meta: { lang: 'de' }, split: 'test' },
    ]);
    expect((await batchOf(projectId, res.json.batch_id)).file).toEqual({ name: null, format: 'csv' });
  });

  it('a quote never closed refuses the last record (the rest of the file was its cell), the rows before land', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await upload(projectId, [file('external_id,text\na,fine\nb,"never closed\nc,lost\n')]);
    expect(res.json).toMatchObject({ received: 2, inserted: 1, rejected: 1, errors: [{ line: 3, pointer: '', reason: expect.stringMatching(/never closed/) }] });
    expect((await itemsOf(projectId)).map((i) => i.external_id)).toEqual(['a']);
  });

  it('a record over 4 MiB stops the import: 422, nothing landed, the batch aborted where it stopped', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await upload(projectId, [file(`external_id,text\na,fine\nb,"${'y'.repeat(4 * 2 ** 20 + 10)}"\nc,after\n`)]);
    expect(res).toMatchObject({ status: 422, json: { type: 'https://alder.dev/problems/validation', detail: expect.stringMatching(/^Line 3: a CSV record longer than 4194304 bytes/) } });
    expect(await itemsOf(projectId)).toEqual([]);
    expect(await batches(projectId)).toEqual([expect.objectContaining({ source: 'file', status: 'aborted', inserted: 0, stopped_at_line: 2, abort_reason: res.json.detail })]);
  });

  it('refuses an empty file, a header that does not fit the mapping, a header without the fields: 422 before any batch', async () => {
    const projectId = await insertProject(h.db.pool);
    const empty = await upload(projectId, [file('')]);
    expect(empty).toMatchObject({ status: 422, json: { detail: expect.stringMatching(/The CSV file is empty/), errors: [{ path: 'body/file' }] } });
    const missing = await upload(projectId, [field('mapping', '{"text":"content","external_id":"id"}'), file('id,body\na,x\n')]);
    expect(missing).toMatchObject({
      status: 422,
      json: { detail: 'The mapping does not fit the file: column "content" (for text) is not in the CSV header: id, body.', errors: [{ path: 'body/mapping/text' }] },
    });
    // A file whose first row is data, not a header, is read as one: its "columns" are named in the answer.
    const headless = await upload(projectId, [file('r1,some text,pos\n')]);
    expect(headless).toMatchObject({
      status: 422,
      json: { detail: expect.stringContaining('the CSV header has no "external_id" column (r1, some text, pos): name one with "mapping": {"external_id": "COLUMN"} or "mapping": {"external_id": "@line"}'), errors: [{ path: 'body/file' }] },
    });
    expect(await batches(projectId)).toEqual([]);
  });
});

describe('file import: JSONL', () => {
  it('lands a real dataset without ids through a mapping (@line), gzip-compressed, its format from the file name', async () => {
    const rows = readJsonl(dataset('trec', 'test.jsonl'));
    const projectId = await insertProject(h.db.pool, ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM']);
    const gz = gzipSync(readFileSync(dataset('trec', 'test.jsonl')));
    const res = await upload(projectId, [field('mapping', '{"external_id":"@line"}'), file(gz, 'trec-test.jsonl.gz', 'application/octet-stream')]);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ received: rows.length, inserted: rows.length, rejected: 0, labels_imported: rows.length });
    const stored = await itemsOf(projectId);
    expect(stored.map((i) => [i.external_id, i.text])).toEqual(rows.map((r, i) => [String(i + 1), r.text]));
    expect(await batchOf(projectId, res.json.batch_id)).toMatchObject({ source: 'file', file: { name: 'trec-test.jsonl.gz', format: 'jsonl' } });
  });

  it('without a mapping each line is an item as in a stream: bad lines refused by line, the others land', async () => {
    const projectId = await insertProject(h.db.pool);
    const body = ['{"external_id":"a","text":"fine","label":"pos"}', '', 'not json', '{"external_id":"b","text":"x","colour":"red"}', '{"external_id":"c","text":"last"}'].join('\n');
    const res = await upload(projectId, [file(body, 'items.ndjson', 'application/x-ndjson')]);
    expect(res.json).toMatchObject({ received: 4, inserted: 2, rejected: 2 });
    expect(byLine(res.json.errors)).toEqual({ 3: expect.stringMatching(/^ is not valid JSON/), 4: '/colour is not a field of an item' });
  });

  it('under a mapping names the key a refused field came from', async () => {
    const projectId = await insertProject(h.db.pool);
    const body = ['{"id":"a","body":"fine"}', '{"id":"b","body":""}', '{"id":"c","body":"x","tag":"maybe"}'].join('\n');
    const res = await upload(projectId, [field('mapping', '{"external_id":"id","text":"body","label":"tag"}'), file(body, 'x.jsonl', 'application/jsonl')]);
    expect(byLine(res.json.errors)).toEqual({ 2: '/text is missing: key "body" is absent or empty', 3: `/label "maybe" is not one of the project's labels (key "tag")` });
  });
});

describe('file import: refused requests', () => {
  const problem = (status: number, kind: string, path?: string) => ({ status, json: expect.objectContaining({ type: `https://alder.dev/problems/${kind}`, ...(path && { errors: [expect.objectContaining({ path })] }) }) });

  it('answers 415 or 422, naming the field, and leaves no batch, before the file is read', async () => {
    const projectId = await insertProject(h.db.pool);
    const cases: [Part[], ReturnType<typeof problem>][] = [
      [[field('format', 'csv')], problem(422, 'validation', 'body/file')],
      [[field('format', 'xlsx'), file('id,text\n')], problem(422, 'validation', 'body/format')],
      [[file('{}', 'items.json', 'application/json')], problem(422, 'validation', 'body/format')],
      [[field('format', 'jsonl'), file('id,text\n')], problem(422, 'validation', 'body/format')],
      [[field('delimiter', ';'), file('id,text\n')], problem(422, 'validation', 'body/delimiter')],
      [[field('mapping', '{"text":'), file('id,text\n')], problem(422, 'validation', 'body/mapping')],
      [[field('mapping', '{"body":"text"}'), file('id,text\n')], problem(422, 'validation', 'body/mapping/body')],
      [[field('mapping', '{"label":"@line"}'), file('id,text\n')], problem(422, 'validation', 'body/mapping/label')],
      [[field('format', 'csv'), field('format', 'csv'), file('id,text\n')], problem(422, 'validation', 'body/format')],
      [[{ name: 'data', value: 'x', filename: 'x.csv' }, file('id,text\n')], problem(422, 'validation', 'body/data')],
      [[file('\x89PNG', 'picture.png', 'image/png')], problem(415, 'unsupported-media-type', 'body/file')],
    ];
    for (const [parts, expected] of cases) expect([parts.map((p) => p.name), await upload(projectId, parts)]).toEqual([parts.map((p) => p.name), expect.objectContaining(expected)]);
    expect(await batches(projectId)).toEqual([]);
    const noBoundary = await send(`/v1/projects/${projectId}/items`, Buffer.from('x'), { 'content-type': 'multipart/form-data' });
    expect(noBoundary).toMatchObject(problem(400, 'malformed-request'));
    expect(await batches(projectId)).toEqual([]);
  });

  it('a field or a second file after the file: 422, the batch aborted, nothing landed', async () => {
    const projectId = await insertProject(h.db.pool);
    const later = await upload(projectId, [file('external_id,text\na,x\n'), field('mapping', '{}')]);
    expect(later).toMatchObject({ status: 422, json: { detail: expect.stringMatching(/^The field "mapping" came after the file part: send every field/) } });
    const second = await upload(projectId, [file('external_id,text\nb,x\n'), file('external_id,text\nc,x\n')]);
    expect(second).toMatchObject({ status: 422, json: { detail: expect.stringMatching(/more than one file part/) } });
    expect(await itemsOf(projectId)).toEqual([]);
    expect((await batches(projectId)).map((b) => [b.status, b.abort_reason])).toEqual([
      ['aborted', second.json.detail],
      ['aborted', later.json.detail],
    ]);
  });

  it('a form cut off before its closing boundary: 400, the batch aborted', async () => {
    const projectId = await insertProject(h.db.pool);
    const body = form([file('external_id,text\na,x\n')], { close: false });
    const res = await send(`/v1/projects/${projectId}/items`, body, { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` });
    expect(res).toMatchObject(problem(400, 'malformed-request'));
    expect(await itemsOf(projectId)).toEqual([]);
    expect((await batches(projectId)).map((b) => b.status)).toEqual(['aborted']);
  });

  it('gzip bombs: a compressed form or a compressed file part stops at MAX_INFLATED_BYTES (413), nothing landed, the batch aborted', async () => {
    const projectId = await insertProject(h.db.pool);
    // About 3 MB of lines in some 20 KB of gzip, against a cap of 256 KiB.
    const lines = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ external_id: `b${i}`, text: 'the same words' })).join('\n');
    const wholeForm = gzipSync(form([file(lines, 'bomb.jsonl', 'application/x-ndjson')]));
    expect(wholeForm.length).toBeLessThan(256 * 1024);
    const encoded = await send(`/v1/projects/${projectId}/items`, wholeForm, { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-encoding': 'gzip' });
    expect(encoded).toMatchObject(problem(413, 'payload-too-large'));
    const part = await upload(projectId, [file(gzipSync(lines), 'bomb.jsonl', 'application/gzip')]);
    expect(part).toMatchObject({ status: 413, json: { detail: expect.stringMatching(/inflated file is larger than this server accepts/) } });
    expect(await itemsOf(projectId)).toEqual([]);
    expect((await batches(projectId)).map((b) => b.status)).toEqual(['aborted', 'aborted']);
    // A whole form gzip-compressed within the cap is read like any other.
    const small = await send(`/v1/projects/${projectId}/items`, gzipSync(form([file('external_id,text\nz,zipped\n')])), {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-encoding': 'gzip',
    });
    expect(small.json).toMatchObject({ inserted: 1 });
  });

  it('lands nothing from an upload the client cuts short, and the batch says where it stopped', async () => {
    const projectId = await insertProject(h.db.pool);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: `/v1/projects/${projectId}/items`,
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      });
      req.on('error', () => resolve());
      const start = form([field('format', 'csv')], { close: false });
      req.write(Buffer.concat([start, Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="cut.csv"\r\n\r\nexternal_id,text\np1,one\np2,two\np3,thr`)]));
      // Gone mid-file, once the server has opened the batch.
      void batchOpened(h.db.pool, projectId).then(() => {
        req.destroy();
        resolve();
      });
    });
    const found = await abortedBatch(h, projectId);
    expect(found).toMatchObject({ source: 'file', status: 'aborted', inserted: 0, abort_reason: 'the client went away before the end of the stream' });
    // Rows 2 and 3 of the file, unless the server was slow to start reading.
    expect(found.received).toBeLessThanOrEqual(2);
    expect(found.stopped_at_line).toBe(found.received ? found.received + 1 : 0);
    expect(await itemsOf(projectId)).toEqual([]);
  });

  it('does not use an Idempotency-Key (a file is not compared): a resend runs and counts its rows as duplicates', async () => {
    const projectId = await insertProject(h.db.pool);
    const first = await upload(projectId, [file('external_id,text\nk1,x\n')], { 'idempotency-key': 'file-key' });
    const second = await upload(projectId, [file('external_id,text\nk1,x\nk2,y\n')], { 'idempotency-key': 'file-key' });
    expect(first.json).toMatchObject({ inserted: 1 });
    expect(second.json).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(second.headers['idempotent-replayed']).toBeUndefined();
  });

  it('415 for a form to an operation that takes JSON only', async () => {
    const projectId = await insertProject(h.db.pool);
    const res = await send(`/v1/projects/${projectId}/integrations`, form([field('name', 'x')]), { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` });
    expect(res).toMatchObject({ status: 415, json: { type: 'https://alder.dev/problems/unsupported-media-type', detail: 'This operation takes application/json bodies only.' } });
  });
});
