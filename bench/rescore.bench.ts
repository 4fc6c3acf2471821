// Re-scoring the pool: the sampling service's rank-pool job (read texts, features, forward pass,
// uncertainty, rationale, COPY of the entries, publish) on N unlabeled items, next to the bare
// forward pass of the same model over the same texts (features + predictProba) in the same run.
// The job runs as the sampling service runs it: on the host's compute threads (COMPUTE_THREADS,
// default 2), and once more on its own thread alone (inlineCompute) for comparison.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { readFileSync } from 'node:fs';
import { createLogger } from '@alder/logger';
import { createTestDatabase } from '@alder/testkit';
import { initBackend, predictProba, serializeModel, trainClassifier } from '@alder/learning';
import { createComputePool, inlineCompute } from '@alder/compute';
import { processRankPool } from '@alder/sampling';
import { machine, texts } from './harness';

const N = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 5_000;
const log = createLogger({ level: 'silent' });
const backend = await initBackend();

const trec = readFileSync('../../shared/datasets/trec/train.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string });
const labels = [...new Set(trec.map((r) => r.label))].sort();
const train = trec.slice(0, 2_000);
const model = await trainClassifier(train.map((r) => r.text), train.map((r) => labels.indexOf(r.label)), labels.length, { seed: 1 });

const db = await createTestDatabase();
const { rows } = await db.pool.query(`INSERT INTO projects (name, labels, strategy) VALUES ('rescore', $1, 'margin') RETURNING id`, [labels]);
const projectId = rows[0].id as string;
const pool = texts(N);
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const client = await db.pool.connect();
await pipeline(
  Readable.from(pool.map((text, i) => `${projectId}\tp${i}\t${escape(text)}\tpool\t\\\\x00\n`)),
  client.query(copyStreams.from('COPY items (project_id, external_id, text, split, content_hash) FROM STDIN')),
);
client.release();
const modelRow = await db.pool.query(
  `INSERT INTO models (project_id, version, status, request_key, labels, params, backend, train_count, finished_at)
   VALUES ($1, 1, 'ready', 'bench', $2, $3, $4, $5, now()) RETURNING id`,
  [projectId, labels, Buffer.from(serializeModel(model)), backend, train.length],
);
await db.pool.query('UPDATE projects SET current_model_id = $2 WHERE id = $1', [projectId, modelRow.rows[0].id]);
await db.pool.query('ANALYZE items');

let started = performance.now();
for (let offset = 0; offset < N; offset += CHUNK) predictProba(model, pool.slice(offset, offset + CHUNK));
const bareSeconds = (performance.now() - started) / 1000;

const threads = Number(process.env.COMPUTE_THREADS ?? process.env.SAMPLING_THREADS ?? 2);
const compute = createComputePool({ threads: Math.max(1, threads) });
await Promise.all(Array.from({ length: threads }, () => compute.backend())); // outside the timing, as a running service has them

started = performance.now();
const result = await processRankPool({ pool: db.pool, compute }, { projectId, modelId: modelRow.rows[0].id }, { jobKey: 'bench:rescore', log });
const oursSeconds = (performance.now() - started) / 1000;
await compute.close();

started = performance.now();
await processRankPool({ pool: db.pool, compute: inlineCompute() }, { projectId, modelId: modelRow.rows[0].id }, { jobKey: 'bench:rescore-inline', log });
const inlineSeconds = (performance.now() - started) / 1000;

console.log(`machine: ${machine()}, tfjs backend for training: ${backend}`);
console.log(`rank-pool job, ${threads} compute threads, ${N} items (${JSON.stringify(result)}): ${oursSeconds.toFixed(1)} s = ${Math.round(N / oursSeconds)} items/s`);
console.log(`rank-pool job on its own thread only:  ${inlineSeconds.toFixed(1)} s = ${Math.round(N / inlineSeconds)} items/s`);
console.log(`bare forward pass (features + predictProba), same texts:  ${bareSeconds.toFixed(1)} s = ${Math.round(N / bareSeconds)} items/s`);
console.log(`ratio job (threads) / bare forward speed: ${(bareSeconds / oursSeconds).toFixed(2)}; job (own thread) / bare: ${(bareSeconds / inlineSeconds).toFixed(2)}`);
await db.drop();
