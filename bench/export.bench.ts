// Export throughput and memory: GET /v1/projects/{id}/export (jsonl and csv) over HTTP from a
// server in a child process, N resolved items (default 1,000,000; `[N]` or EXPORT_BENCH_ITEMS),
// with the server's peak RSS while it streams. Ceilings beside it, in the same run: the same
// query read through the same cursor code with no HTTP, and Postgres alone writing the JSON
// lines (COPY ... TO STDOUT).
//   cd bench && node --import tsx export.bench.ts [N]
import { fork, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import copyStreams from 'pg-copy-streams';
import { createPool } from '@alder/db';
import { exportQuery, streamRows } from '../services/labeling-api/src/export.repository';
import { machine, startStack } from './harness';

const N = Number(process.argv[2] === 'server' ? process.argv[3] : (process.argv[2] ?? process.env.EXPORT_BENCH_ITEMS ?? 1_000_000));

/** Parent to server: start or stop an RSS window, or close. Server to parent: what it has. */
type ToServer = { kind: 'window-start' } | { kind: 'window-stop' } | { kind: 'close' };
type FromServer =
  | { kind: 'ready'; base: string; key: string; projectId: string; databaseUrl: string; seedMs: number; rssMb: number }
  | { kind: 'window'; baselineMb: number; maxMb: number }
  | { kind: 'closed'; lifetimeMaxRssMb: number };

const MB = 2 ** 20;

/**
 * One statement: N items (~200 characters of text, small meta), one annotation each, one
 * resolution each resting on it. Then ANALYZE, as autovacuum would have by the time anyone exports.
 */
const SEED_SQL = `
  WITH i AS (
    INSERT INTO items (project_id, external_id, text, meta, split, status, content_hash)
    SELECT $1, 'x-' || g, 'item ' || g || ': ' || repeat(md5(g::text) || ' ', 6), jsonb_build_object('n', g, 'source', 'bench'),
           'pool', 'labeled', decode(md5(g::text), 'hex')
      FROM generate_series(1, $2) g
    RETURNING id
  ), a AS (
    INSERT INTO annotations (project_id, item_id, label, annotator, source, selection_strategy, created_at)
    SELECT $1, id, CASE WHEN id % 2 = 0 THEN 'pos' ELSE 'neg' END, 'bench', 'import', 'margin', now() FROM i
    RETURNING id, item_id, label
  )
  INSERT INTO item_resolutions (project_id, item_id, label, rule, annotation_ids) SELECT $1, item_id, label, 'single_annotator', ARRAY[id] FROM a`;

async function server(): Promise<void> {
  const send = (message: FromServer) => process.send!(message);
  const stack = await startStack();
  const project = await fetch(`${stack.base}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'export bench', labels: ['pos', 'neg'] }),
  }).then((r) => r.json() as Promise<{ id: string }>);
  const began = performance.now();
  await stack.db.pool.query(SEED_SQL, [project.id, N]);
  await stack.db.pool.query('ANALYZE items; ANALYZE annotations; ANALYZE item_resolutions');
  const seedMs = performance.now() - began;
  let baseline = 0;
  let max = 0;
  const sampler = setInterval(() => (max = Math.max(max, process.memoryUsage.rss())), 10);
  process.on('message', async (message: ToServer) => {
    if (message.kind === 'window-start') baseline = max = process.memoryUsage.rss();
    else if (message.kind === 'window-stop') send({ kind: 'window', baselineMb: baseline / MB, maxMb: Math.max(max, process.memoryUsage.rss()) / MB });
    else {
      clearInterval(sampler);
      await stack.close();
      send({ kind: 'closed', lifetimeMaxRssMb: process.resourceUsage().maxRSS / 1024 });
      process.disconnect();
    }
  });
  send({ kind: 'ready', base: stack.base, key: stack.key, projectId: project.id, databaseUrl: stack.db.url, seedMs, rssMb: process.memoryUsage.rss() / MB });
}

function next(child: ChildProcess): Promise<FromServer> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the server exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (message: FromServer) => {
      child.off('exit', onExit);
      resolve(message);
    });
  });
}

async function client(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['server', String(N)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const ready = await next(child);
  if (ready.kind !== 'ready') throw new Error(`unexpected ${ready.kind}`);
  console.log(`machine: ${machine()}`);
  console.log(`seeded ${N} items with annotations and resolutions in one statement: ${(ready.seedMs / 1000).toFixed(1)} s`);

  const results: string[] = [];
  for (const format of ['jsonl', 'csv'] as const) {
    child.send({ kind: 'window-start' } satisfies ToServer);
    const began = performance.now();
    const res = await fetch(`${ready.base}/v1/projects/${ready.projectId}/export?format=${format}`, { headers: { authorization: `Bearer ${ready.key}` } });
    if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
    const firstByteMs = performance.now() - began;
    let bytes = 0;
    let newlines = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
    }
    const seconds = (performance.now() - began) / 1000;
    const records = format === 'csv' ? newlines - 1 : newlines;
    if (records !== N) throw new Error(`${format}: ${records} records, expected ${N}`);
    child.send({ kind: 'window-stop' } satisfies ToServer);
    const window = await next(child);
    if (window.kind !== 'window') throw new Error(`unexpected ${window.kind}`);
    results.push(
      `export ${format} over HTTP: ${Math.round(N / seconds)} rows/s, ${(bytes / MB / seconds).toFixed(1)} MB/s (${(bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s, first byte ${firstByteMs.toFixed(0)} ms); ` +
        `server RSS ${window.baselineMb.toFixed(0)} MB before, max ${window.maxMb.toFixed(0)} MB while streaming (+${(window.maxMb - window.baselineMb).toFixed(0)} MB)`,
    );
    console.log(results[results.length - 1]);
  }

  // Ceilings in this process: the same cursor code without HTTP, then Postgres alone.
  const pool = createPool(ready.databaseUrl, { max: 2 });
  const query = exportQuery('jsonl', { projectId: ready.projectId, status: 'resolved', resolvedBy: null, since: null });
  let began = performance.now();
  let count = 0;
  for await (const _row of streamRows<{ line: string }>(pool, query)) count++;
  const cursorRate = count / ((performance.now() - began) / 1000);
  console.log(`ceiling, the same query through the same cursor code, no HTTP: ${Math.round(cursorRate)} rows/s`);

  const literal = query.text
    .replace(/\$1\b/g, `'${ready.projectId}'::uuid`)
    .replace(/\$2::text/g, `'resolved'::text`)
    .replace(/\$3::text/g, 'NULL::text')
    .replace(/\$4::timestamptz/g, 'NULL::timestamptz');
  const copyClient = await pool.connect();
  let copied = 0;
  began = performance.now();
  try {
    // As the export's own transaction runs it (streamRows).
    await copyClient.query('SET jit = off');
    await pipeline(
      copyClient.query(copyStreams.to(`COPY (${literal}) TO STDOUT`)),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) copied++;
          callback();
        },
      }),
    );
  } finally {
    copyClient.release();
  }
  const copyRate = copied / ((performance.now() - began) / 1000);
  console.log(`ceiling, Postgres alone writing the same JSON lines (COPY TO STDOUT): ${Math.round(copyRate)} rows/s`);
  const { rows: plan } = await pool.query(`EXPLAIN ${query.text}`, query.values);
  console.log(`plan:\n  ${plan.map((r) => r['QUERY PLAN']).join('\n  ')}`);
  await pool.end();

  child.send({ kind: 'close' } satisfies ToServer);
  const closed = await next(child);
  if (closed.kind === 'closed') console.log(`server lifetime max RSS (seeding included): ${closed.lifetimeMaxRssMb.toFixed(0)} MB`);
}

if (process.argv[2] === 'server') await server();
else await client();
