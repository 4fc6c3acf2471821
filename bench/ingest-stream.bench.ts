// NDJSON ingest at scale: TOTAL items of about 200 characters streamed to
// POST /v1/projects/{id}/items (application/x-ndjson) by a separate process, next to the raw
// ceiling measured in the same run: a plain COPY of the same rows into a bare table. The server's
// RSS (this process: the ingest service and the bench's own bookkeeping) is sampled throughout.
import { fork } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import copyStreams from 'pg-copy-streams';
import { machine, median, startStack, texts } from './harness';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const CLIENT = fileURLToPath(new URL('./ndjson-client.process.ts', import.meta.url));

/** About 200 characters of real text a row: dataset texts, repeated or cut to length. */
function twoHundred(text: string): string {
  let out = text;
  while (out.length < 200) out += ` ${text}`;
  return out.slice(0, 200);
}

const stack = await startStack();
const corpus = texts(50_000).map(twoHundred);
const ours: number[] = [];
const ceiling: number[] = [];
let rssPeak = 0;
const rssTimer = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100);

await stack.db.pool.query('CREATE TABLE bare_items (project_id uuid, external_id text, text text, meta jsonb, split text)');
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** The client process: streams the lines, prints the server's answer as JSON. */
function runClient(url: string): Promise<{ status: number; body: { inserted: number; rejected: number }; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(CLIENT, [url, stack.key, String(TOTAL)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}: ${out}`))));
  });
}

for (let run = 0; run < RUNS; run++) {
  const project = await fetch(`${stack.base}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `stream ${run}`, labels: ['a', 'b'] }),
  }).then((r) => r.json() as Promise<{ id: string }>);
  rssPeak = process.memoryUsage.rss();
  const answer = await runClient(`${stack.base}/v1/projects/${project.id}/items`);
  if (answer.status !== 200 || answer.body.inserted !== TOTAL) throw new Error(`stream answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  ours.push(TOTAL / answer.seconds);
  const peak = rssPeak;

  const started = performance.now();
  const client = await stack.db.pool.connect();
  try {
    const copy = client.query(copyStreams.from('COPY bare_items FROM STDIN'));
    async function* rows() {
      let chunk = '';
      for (let i = 0; i < TOTAL; i++) {
        chunk += `${project.id}\tbare${run}-${i}\t${escape(corpus[i % corpus.length]!)}\t{"n": ${i}}\tpool\n`;
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    await pipeline(Readable.from(rows()), copy);
  } finally {
    client.release();
  }
  ceiling.push(TOTAL / ((performance.now() - started) / 1000));
  await stack.db.pool.query('TRUNCATE bare_items');
  console.log(`run ${run + 1}: ours ${Math.round(ours[run]!)} items/s (${answer.seconds.toFixed(1)} s), bare COPY ${Math.round(ceiling[run]!)} rows/s, server RSS peak ${Math.round(peak / 2 ** 20)} MB`);
}
clearInterval(rssTimer);

const m = median(ours);
const c = median(ceiling);
console.log(`machine: ${machine()}`);
console.log(`NDJSON stream of ${TOTAL} items (~200 chars) from a separate process: median ${Math.round(m)} items/s (runs: ${ours.map(Math.round).join(', ')})`);
console.log(`ceiling, bare COPY of the same rows in the same run:  median ${Math.round(c)} rows/s (runs: ${ceiling.map(Math.round).join(', ')})`);
console.log(`ratio: ${(m / c).toFixed(2)}`);
await stack.close();
