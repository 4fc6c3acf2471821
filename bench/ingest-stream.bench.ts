// NDJSON ingest at scale: TOTAL items of about 200 characters streamed to
// POST /v1/projects/{id}/items (application/x-ndjson) by a client process, to the ingest service
// in a process of its own (ingest-server.process.ts, as deployed), next to the raw ceiling
// measured in the same run: a plain COPY of the same rows into a bare table, from this process.
// The ingest process's RSS is sampled throughout (every 50 ms).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import copyStreams from 'pg-copy-streams';
import { createUserWithKey } from '@alder/http';
import { insertProject } from '@alder/labeling-api';
import { createTestDatabase, createTestRedis } from '@alder/testkit';
import { machine, median, texts } from './harness';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const CLIENT = fileURLToPath(new URL('./ndjson-client.process.ts', import.meta.url));
const SERVER = fileURLToPath(new URL('./ingest-server.process.ts', import.meta.url));

/** About 200 characters of real text a row: dataset texts, repeated or cut to length. */
function twoHundred(text: string): string {
  let out = text;
  while (out.length < 200) out += ` ${text}`;
  return out.slice(0, 200);
}

const db = await createTestDatabase();
const redis = createTestRedis();
const server: ChildProcess = fork(SERVER, [db.url, redis.url, redis.prefix], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const [{ url: base }] = (await once(server, 'message')) as [{ url: string }];
const { key } = await createUserWithKey(db.pool, { name: 'bench', role: 'admin' });
/** The ingest process's highest RSS since the last call. */
async function serverRss(): Promise<number> {
  const answer = once(server, 'message') as Promise<[{ rss: number }]>;
  server.send('rss');
  return (await answer)[0].rss;
}
const corpus = texts(50_000).map(twoHundred);
/** Row i's text, as the client sends it (ndjson-client.process.ts): unique unless DUPLICATES=1. */
const textOf = process.env.DUPLICATES === '1' ? (i: number) => corpus[i % corpus.length]! : (i: number) => {
  const n = ` #${i}`;
  return corpus[i % corpus.length]!.slice(0, 200 - n.length) + n;
};
const ours: number[] = [];
const ceiling: number[] = [];
const peaks: number[] = [];
/** The ingest process's RSS just before each stream: what the stream added is the peak less this. */
const befores: number[] = [];

await db.pool.query('CREATE TABLE bare_items (project_id uuid, external_id text, text text, meta jsonb, split text)');
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** The client process: streams the lines, prints the server's answer as JSON. */
function runClient(url: string): Promise<{ status: number; body: { inserted: number; rejected: number }; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(CLIENT, [url, key, String(TOTAL)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}: ${out}`))));
  });
}

for (let run = 0; run < RUNS; run++) {
  const projectId = await insertProject(db.pool, { name: `stream ${run}`, labels: ['a', 'b'] }).then((p) => p.id);
  const project = { id: projectId };
  const before = await serverRss();
  befores.push(before);
  const answer = await runClient(`${base}/v1/projects/${project.id}/items`);
  if (answer.status !== 200 || answer.body.inserted !== TOTAL) throw new Error(`stream answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  ours.push(TOTAL / answer.seconds);
  const peak = await serverRss();
  peaks.push(peak);

  const started = performance.now();
  const client = await db.pool.connect();
  try {
    const copy = client.query(copyStreams.from('COPY bare_items FROM STDIN'));
    async function* rows() {
      let chunk = '';
      for (let i = 0; i < TOTAL; i++) {
        chunk += `${project.id}\tbare${run}-${i}\t${escape(textOf(i))}\t{"n": ${i}}\tpool\n`;
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
  await db.pool.query('TRUNCATE bare_items');
  console.log(`run ${run + 1}: ours ${Math.round(ours[run]!)} items/s (${answer.seconds.toFixed(1)} s), bare COPY ${Math.round(ceiling[run]!)} rows/s, ingest process RSS peak ${Math.round(peak / 2 ** 20)} MB (${Math.round(before / 2 ** 20)} MB before the stream)`);
}

const m = median(ours);
const c = median(ceiling);
console.log(`machine: ${machine()}`);
console.log(`NDJSON stream of ${TOTAL} items (~200 chars) from a separate process: median ${Math.round(m)} items/s (runs: ${ours.map(Math.round).join(', ')})`);
console.log(`ceiling, bare COPY of the same rows in the same run:  median ${Math.round(c)} rows/s (runs: ${ceiling.map(Math.round).join(', ')})`);
console.log(`ratio: ${(m / c).toFixed(2)}; ingest process RSS peak, highest of the runs: ${Math.round(Math.max(...peaks) / 2 ** 20)} MB`);
server.send('stop');
await once(server, 'exit');
await redis.cleanup();
await db.drop();
