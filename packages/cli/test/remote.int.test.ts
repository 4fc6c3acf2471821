import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFullApp } from '../../client/test/full-app';

// The remote commands as a user runs them: `node bin/alder.js ...` in a child process, against
// a started app (every operation on one port, a fresh database), with ALDER_URL / ALDER_API_KEY.

const bin = fileURLToPath(new URL('../bin/alder.js', import.meta.url));
// Each child loads tsx: seconds on a busy machine, never a minute.
const CHILD_TIMEOUT_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let app: Awaited<ReturnType<typeof startFullApp>>;
let dir: string;
let env: Record<string, string>;

function alder(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...env, ...extraEnv } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const jsonl = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => JSON.stringify({ external_id: `q${from + i}`, text: `question number ${from + i}` })).join('\n') + '\n';
const itemCount = async (projectId: string) =>
  (await app.db.pool.query('SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS d FROM items WHERE project_id = $1', [projectId])).rows[0] as { n: number; d: number };

async function createProject(name: string): Promise<string> {
  const run = await alder(['projects', 'create', '--name', name, '--labels', 'pos,neg']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return run.stdout.trim();
}

beforeAll(async () => {
  app = await startFullApp();
  dir = await mkdtemp(join(tmpdir(), 'alder-cli-'));
  env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ALDER_URL: app.url, ALDER_API_KEY: app.adminKey };
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

it('projects: create prints the id, list shows it as a table and as JSON', async () => {
  const id = await createProject('cli projects');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const table = await alder(['projects']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^ID +NAME +LABELS +LABELED +STRATEGY +CREATED\n/);
  expect(table.stdout).toMatch(new RegExp(`^${id}  cli projects +pos,neg +0 +auto `, 'm'));
  const json = await alder(['projects', 'list', '--json']);
  expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toContain(id);
  const bad = await alder(['projects', 'create', '--name', 'x', '--labels', 'one']);
  expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/^alder projects create: --labels needs at least two labels/) });
}, CHILD_TIMEOUT_MS * 4);

it('ingest: a JSONL file lands whole (exit 0); sent again, every line is a duplicate', async () => {
  const project = await createProject('cli jsonl');
  const file = join(dir, 'items.jsonl');
  await writeFile(file, jsonl(0, 50));
  const first = await alder(['ingest', file, '--project', project]);
  expect(first).toMatchObject({ code: 0, stderr: '' });
  expect(first.stdout).toMatch(/^batch [0-9a-f-]{36}: 50 read, 50 new, 0 already in the project, 0 refused, 0 labels imported\n$/);
  const again = await alder(['ingest', file, '-p', project, '--json']);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ received: 50, inserted: 0, duplicates: 50 });
  expect(await itemCount(project)).toEqual({ n: 50, d: 50 });
}, CHILD_TIMEOUT_MS * 2);

it('ingest: a JSONL file with bad lines lands the good ones and names the bad (exit 1)', async () => {
  const project = await createProject('cli bad lines');
  const file = join(dir, 'bad.jsonl');
  await writeFile(file, ['{"external_id":"a","text":"fine","label":"pos"}', '{"external_id":"b","text":""}', 'not json', '', '{"external_id":"c","text":"x","label":"maybe"}', '{"text":"no id"}'].join('\n'));
  const run = await alder(['ingest', file, '--project', project]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/: 5 read, 1 new, 0 already in the project, 4 refused, 1 labels imported\n/);
  expect(run.stdout).toMatch(/^ {2}line 2 \/text: .+$/m);
  expect(run.stdout).toMatch(/^ {2}line 3: is not valid JSON/m);
  expect(run.stdout).toMatch(/^ {2}line 5 \/label: "maybe" is not one of the project's labels$/m);
  expect(run.stdout).toMatch(/^ {2}line 6: must have required property 'external_id'$/m);
  expect(run.stderr).toBe(
    `alder ingest: 4 of 5 lines of ${file} refused, the other 1 landed; fix them and run the same command again (what landed counts as duplicates)\n` +
      'hint: items need an external_id; --map external_id=@line numbers them by line\n',
  );
}, CHILD_TIMEOUT_MS);

it('ingest: a dataset without ids, numbered by line with --map', async () => {
  const project = await createProject('cli map');
  const file = join(dir, 'train.jsonl');
  await writeFile(file, '{"text":"good film","label":"pos"}\n{"text":"bad film","label":"neg","meta":{"src":"x"}}\n');
  const run = await alder(['ingest', file, '--project', project, '--map', 'external_id=@line', '--json']);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ inserted: 2, labels_imported: 2 });
  const { rows } = await app.db.pool.query('SELECT external_id, meta FROM items WHERE project_id = $1 ORDER BY external_id', [project]);
  expect(rows).toEqual([{ external_id: '1', meta: {} }, { external_id: '2', meta: { src: 'x' } }]);
}, CHILD_TIMEOUT_MS);

it('ingest: CSV rows through --csv-map, refused rows named by row and file line', async () => {
  const project = await createProject('cli csv');
  const file = join(dir, 'items.csv');
  await writeFile(file, 'id,body,category\nr1,"a text, with a comma",pos\nr2,"two\nlines",neg\nr3,,pos\nr4,fine,unknown\n');
  const run = await alder(['ingest', file, '--project', project, '--csv-map', 'text=body,external_id=id,label=category']);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/: 4 read, 2 new, 0 already in the project, 2 refused, 2 labels imported\n/);
  // r3 is row 3 and ends on line 5 (the header is line 1, r2 spans lines 3 and 4).
  expect(run.stdout).toMatch(/^ {2}row 3 \(line 5\): must have required property 'text'$/m);
  expect(run.stdout).toMatch(/^ {2}row 4 \(line 6\) \/label: "unknown" is not one of the project's labels$/m);
  expect(run.stderr).toMatch(/^alder ingest: 2 of 4 rows of .+ refused, the other 2 landed/);
  const { rows } = await app.db.pool.query('SELECT external_id, text FROM items WHERE project_id = $1 ORDER BY external_id', [project]);
  expect(rows).toEqual([{ external_id: 'r1', text: 'a text, with a comma' }, { external_id: 'r2', text: 'two\nlines' }]);

  // A column the header lacks: said before anything is sent, so no batch is opened.
  const wrong = await alder(['ingest', file, '--project', project, '--csv-map', 'text=content,external_id=id']);
  expect(wrong).toMatchObject({ code: 2, stdout: '' });
  expect(wrong.stderr).toMatch(/^alder ingest: column "content" \(for text\) is not in the CSV header: id, body, category\n/);
  const batches = await app.db.pool.query('SELECT count(*)::int AS n FROM ingest_batches WHERE project_id = $1', [project]);
  expect(batches.rows[0].n).toBe(1);
}, CHILD_TIMEOUT_MS * 2);

it('ingest: interrupted with Ctrl-C, then run again, lands every item once', async () => {
  const project = await createProject('cli resume');
  const half = join(dir, 'half.jsonl');
  const all = join(dir, 'all.jsonl');
  await writeFile(half, jsonl(0, 1500));
  await writeFile(all, jsonl(0, 3000));
  // An earlier run that got through the first half.
  expect((await alder(['ingest', half, '-p', project])).code).toBe(0);

  // A run cut short: the file comes through standard input, and stops coming in the middle.
  const child = spawn(process.execPath, [bin, 'ingest', '-', '-p', project], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    child.stdin.write(jsonl(0, 2000));
    // Until the server has opened the stream's batch (a count of polls, not a clock).
    const receiving = async () =>
      (await app.db.pool.query("SELECT count(*)::int AS n FROM ingest_batches WHERE project_id = $1 AND status = 'receiving'", [project])).rows[0].n as number;
    for (let i = 0; (await receiving()) === 0; i++) {
      if (i > 300) throw new Error(`the stream's batch never opened; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(stderr).toMatch(/^alder ingest: interrupted; nothing of this run landed \(its batch is aborted\)\. Run the same command again to resume/);
  child.stdin.destroy();
  // The server saw the client go: the batch is aborted, and nothing of it landed.
  for (let i = 0; ; i++) {
    const { rows } = await app.db.pool.query("SELECT status FROM ingest_batches WHERE project_id = $1 ORDER BY created_at DESC LIMIT 1", [project]);
    if (rows[0].status === 'aborted') break;
    if (i > 300) throw new Error(`the cut stream's batch is ${rows[0].status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await itemCount(project)).toEqual({ n: 1500, d: 1500 });

  const rerun = await alder(['ingest', all, '-p', project, '--json']);
  expect(rerun.code).toBe(0);
  expect(JSON.parse(rerun.stdout)).toMatchObject({ received: 3000, inserted: 1500, duplicates: 1500, rejected: 0 });
  expect(await itemCount(project)).toEqual({ n: 3000, d: 3000 });
}, CHILD_TIMEOUT_MS * 3);

it('batches: the list as a table or JSON lines, one batch with the rows it refused', async () => {
  const project = await createProject('cli batches');
  const file = join(dir, 'batches.jsonl');
  await writeFile(file, ['{"external_id":"a","text":"fine"}', '{"external_id":"b","text":""}', 'not json'].join('\n'));
  const ingested = await alder(['ingest', file, '--project', project, '--json']);
  const streamed = JSON.parse(ingested.stdout).batch_id as string;
  // A file import too, sent as a form.
  const form = new FormData();
  form.set('file', new Blob(['external_id,text\nc,from a file\nd,fine\n'], { type: 'text/csv' }), 'upload.csv');
  const uploaded = await fetch(`${app.url}/v1/projects/${project}/items`, { method: 'POST', headers: { authorization: `Bearer ${app.adminKey}` }, body: form });
  const imported = ((await uploaded.json()) as { batch_id: string }).batch_id;

  const table = await alder(['batches', '--project', project]);
  expect(table).toMatchObject({ code: 0, stderr: '' });
  expect(table.stdout).toMatch(/^ID +SOURCE +STATUS +READ +NEW +DUPLICATES +UPDATED +REFUSED +CREATED\n/);
  // Newest first.
  expect(table.stdout.split('\n').slice(1, 3)).toEqual([
    expect.stringMatching(new RegExp(`^${imported}  file csv upload.csv +completed +2 +2 +0 +0 +0 `)),
    expect.stringMatching(new RegExp(`^${streamed}  ndjson +completed +3 +1 +0 +0 +2 `)),
  ]);
  const one = await alder(['batches', '-p', project, streamed]);
  expect(one.code).toBe(0);
  expect(one.stdout).toMatch(new RegExp(`^batch ${streamed}\n  source +ndjson\n  status +completed\n`));
  expect(one.stdout).toMatch(/^ {2}refused +2$/m);
  expect(one.stdout).toMatch(/^ {2}repeated texts +0$/m);
  // The upload's second row says what the first batch's item says: reported, and landed.
  expect((await alder(['batches', '-p', project, imported])).stdout).toMatch(/^ {2}repeated texts +1 \(a text the project had under another id/m);
  // An empty text breaks two rules of the item schema: both are listed.
  expect(one.stdout).toMatch(/^refused rows:\n( {2}line 2 \/text: .+\n){2} {2}line 3: is not valid JSON/m);
  const limited = await alder(['batches', '-p', project, '--limit', '1', '--json']);
  expect(limited.stdout.trim().split('\n').map((l) => JSON.parse(l).batch_id)).toEqual([imported]);
  const missing = await alder(['batches', '-p', project, '00000000-0000-4000-8000-000000000000']);
  expect(missing).toMatchObject({ code: 3, stderr: expect.stringMatching(/^alder batches: batch 00000000-0000-4000-8000-000000000000: .+\[404 not-found\]\n$/) });
  const bad = await alder(['batches', '-p', project, '--limit', '0']);
  expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/^alder batches: --limit must be a whole number of at least 1/) });
}, CHILD_TIMEOUT_MS * 5);

it('export: JSON lines to standard output, CSV to a file', async () => {
  const project = await createProject('cli export');
  await app.client({ method: 'POST', url: `/v1/projects/${project}/items`, headers: { authorization: `Bearer ${app.adminKey}` }, payload: { items: [{ external_id: 'e1', text: 'one' }, { external_id: 'e2', text: 'two' }] } });
  const lines = await alder(['export', '--project', project, '--status', 'all']);
  expect(lines.code).toBe(0);
  expect(lines.stdout.trim().split('\n').map((l) => JSON.parse(l).item.external_id).sort()).toEqual(['e1', 'e2']);
  const out = join(dir, 'export.csv');
  const csv = await alder(['export', '-p', project, '--format', 'csv', '--status', 'all', '--out', out]);
  expect(csv).toMatchObject({ code: 0, stdout: '', stderr: `wrote ${out}\n` });
  const text = await readFile(out, 'utf8');
  expect(text.split('\n')[0]).toMatch(/^item_id,external_id,text,/);
  expect(text.trim().split('\n')).toHaveLength(3);
  const bad = await alder(['export', '-p', project, '--format', 'xml']);
  expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/^alder export: --format must be jsonl or csv, not "xml"\n/) });
}, CHILD_TIMEOUT_MS * 3);

it('keys: create prints the key once, list shows it, revoke stops it', async () => {
  const created = await alder(['keys', 'create', '--name', 'ci']);
  expect(created.code).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^alder_/);
  expect(created.stderr).toMatch(/^key ([0-9a-f-]{36}) \(ci\) for user [0-9a-f-]{36}: shown this once/);
  const id = /^key ([0-9a-f-]{36})/.exec(created.stderr)![1]!;
  const list = await alder(['keys']);
  expect(list.stdout).toMatch(new RegExp(`^${id}  ci +${key.slice(0, 8)}`, 'm'));
  expect(list.stdout).not.toContain(key);
  expect((await alder(['projects'], { ALDER_API_KEY: key })).code).toBe(0);
  expect(await alder(['keys', 'revoke', id])).toMatchObject({ code: 0, stderr: `revoked key ${id}\n` });
  expect(await alder(['keys', 'list', '--json'])).toMatchObject({ stdout: expect.stringContaining(`"id":"${id}"`) });
  const revoked = await alder(['projects'], { ALDER_API_KEY: key });
  expect(revoked.code).toBe(3);
}, CHILD_TIMEOUT_MS * 6);

it('a wrong key, a missing key and an unreachable server read as one line each', async () => {
  const wrong = await alder(['projects'], { ALDER_API_KEY: 'alder_wrong' });
  expect(wrong.code).toBe(3);
  expect(wrong.stderr).toMatch(/^alder projects: list projects: .+ \[401 unauthorized\] \(check ALDER_API_KEY or --api-key\)\n$/);
  const ingest = await alder(['ingest', join(dir, 'items.jsonl'), '-p', '00000000-0000-4000-8000-000000000000'], { ALDER_API_KEY: 'alder_wrong' });
  expect(ingest).toMatchObject({ code: 3, stderr: expect.stringMatching(/\[401 unauthorized\] \(check ALDER_API_KEY or --api-key\)\n$/) });
  const missing = await alder(['keys'], { ALDER_API_KEY: '' });
  expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/^alder keys: needs an API key: set ALDER_API_KEY/) });
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const nowhere = await alder(['projects', '--url', `http://127.0.0.1:${port}`]);
  expect(nowhere).toMatchObject({ code: 3, stderr: `alder projects: list projects: cannot reach Alder at http://127.0.0.1:${port} (ECONNREFUSED); is it running there?\n` });
  const notUrl = await alder(['projects'], { ALDER_URL: 'localhost:8080' });
  expect(notUrl).toMatchObject({ code: 2, stderr: expect.stringMatching(/^alder projects: ALDER_URL must be an http/) });
  for (const run of [wrong, ingest, missing, nowhere, notUrl]) expect(run.stderr).not.toMatch(/\n\s+at /);
}, CHILD_TIMEOUT_MS * 5);
