// Ingest throughput: our HTTP batch path (validation, COPY into a staging table, dedupe insert,
// outbox) next to the raw ceiling, plain COPY of the same rows into a bare table, in the same run.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { machine, median, startStack, texts } from './harness';

const TOTAL = Number(process.argv[2] ?? 100_000);
const BATCH = 10_000;
const RUNS = 3;

const stack = await startStack();
const corpus = texts(TOTAL);
const ours: number[] = [];
const ceiling: number[] = [];

await stack.db.pool.query('CREATE TABLE bare_items (project_id uuid, external_id text, text text, meta jsonb, split text)');
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

for (let run = 0; run < RUNS; run++) {
  const project = await fetch(`${stack.base}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench ${run}`, labels: ['a', 'b'] }),
  }).then((r) => r.json() as Promise<{ id: string }>);

  let started = performance.now();
  for (let offset = 0; offset < TOTAL; offset += BATCH) {
    const items = corpus.slice(offset, offset + BATCH).map((text, i) => ({ external_id: `r${run}-${offset + i}`, text, meta: { n: offset + i } }));
    const res = await fetch(`${stack.base}/v1/projects/${project.id}/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
  ours.push(TOTAL / ((performance.now() - started) / 1000));

  started = performance.now();
  const client = await stack.db.pool.connect();
  try {
    const copy = client.query(copyStreams.from('COPY bare_items FROM STDIN'));
    const lines = corpus.map((text, i) => `${project.id}\tbare${run}-${i}\t${escape(text)}\t{"n": ${i}}\tpool\n`);
    await pipeline(Readable.from(lines), copy);
  } finally {
    client.release();
  }
  ceiling.push(TOTAL / ((performance.now() - started) / 1000));
}

const m = median(ours);
const c = median(ceiling);
console.log(`machine: ${machine()}`);
console.log(`ingest ${TOTAL} items in batches of ${BATCH} over HTTP: median ${Math.round(m)} items/s (runs: ${ours.map(Math.round).join(', ')})`);
console.log(`ceiling, bare COPY of the same rows:          median ${Math.round(c)} rows/s (runs: ${ceiling.map(Math.round).join(', ')})`);
console.log(`ratio: ${(m / c).toFixed(2)}`);
await stack.close();
