// One active-learning round at a pool of 100,000 items, through the services' own job
// processors on a real Postgres: the trainer's train-model job (load labels, train, evaluate on
// the test split, stop-set evidence, commit) on 2,000 labels, then the sampling service's
// rank-pool job with the hybrid strategy (features, forward pass, margins and rationales for
// every unlabeled item written with COPY, hybrid batch of 25 raised to the top, publish).
// The next round labels that batch (with the model's own top class: this measures speed, not
// accuracy) and goes again. Next to it, in the same run: the bare training call and the bare
// forward pass over the same texts, the raw work the round cannot avoid.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import copyStreams from 'pg-copy-streams';
import { createLogger } from '@alder/logger';
import { annotate, insertItems } from '@alder/fixtures';
import { createTestDatabase } from '@alder/testkit';
import { initBackend, predictProba, trainClassifier } from '@alder/learning';
import { createComputePool } from '@alder/compute';
import { processRankPool } from '@alder/sampling';
import { processTrainModel } from '@alder/trainer';
import { machine, median, texts } from './harness';

const POOL = Number(process.argv[2] ?? 100_000);
const LABELS = 2_000;
const BATCH = 25;
const ROUNDS = Number(process.argv[3] ?? 3);
const log = createLogger({ level: 'silent' });
const backend = await initBackend();

interface Row { text: string; label: string }
const read = (split: string): Row[] =>
  readFileSync(`../../shared/datasets/trec/${split}.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
const train = read('train').slice(0, LABELS);
const test = read('test');
const labels = [...new Set(train.map((r) => r.label))].sort();

const db = await createTestDatabase();
const { rows } = await db.pool.query(`INSERT INTO projects (name, labels, strategy, retrain_every) VALUES ('round', $1, 'hybrid', $2) RETURNING id`, [labels, BATCH]);
const projectId = rows[0].id as string;
const labeledIds = await insertItems(db.pool, projectId, train, 'pool', 'l');
await annotate(db.pool, projectId, labeledIds, train.map((r) => r.label));
await insertItems(db.pool, projectId, test, 'test', 't');
const unlabeled = texts(POOL - LABELS);
const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const client = await db.pool.connect();
await pipeline(
  Readable.from(unlabeled.map((text, i) => `${projectId}\tu${i}\t${escape(text)}\tpool\t\\\\x${i.toString(16).padStart(8, '0')}\n`)),
  client.query(copyStreams.from('COPY items (project_id, external_id, text, split, content_hash) FROM STDIN')),
);
client.release();
await db.pool.query('ANALYZE');

// Compute threads as the host runs them for trainer and sampling (COMPUTE_THREADS, default 2),
// started before the timing as a running service has them.
const threads = Number(process.env.COMPUTE_THREADS ?? process.env.SAMPLING_THREADS ?? 2);
const compute = createComputePool({ threads: Math.max(1, threads) });
await Promise.all(Array.from({ length: threads }, () => compute.backend()));

const rounds: { train: number; rank: number; total: number }[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const began = performance.now();
  const trained = await processTrainModel({ pool: db.pool, compute }, { projectId, reason: 'labels' }, { jobKey: `bench:train:${round}`, log });
  if (!('modelId' in trained) || 'failed' in trained) throw new Error(`training did not produce a model: ${JSON.stringify(trained)}`);
  const trainedAt = performance.now();
  const ranked = await processRankPool({ pool: db.pool, compute }, { projectId, modelId: trained.modelId }, { jobKey: `bench:rank:${round}`, log });
  if (!('rankingId' in ranked)) throw new Error(`ranking was skipped: ${JSON.stringify(ranked)}`);
  const end = performance.now();
  rounds.push({ train: (trainedAt - began) / 1000, rank: (end - trainedAt) / 1000, total: (end - began) / 1000 });
  console.log(`round ${round}: ${trained.trainCount} labels, train job ${((trainedAt - began) / 1000).toFixed(1)} s, rank-pool (hybrid) ${((end - trainedAt) / 1000).toFixed(1)} s over ${ranked.itemCount} items`);

  // Label the batch the hybrid raised to the top, as annotators would, before the next round.
  const batch = await db.pool.query<{ item_id: number; probs: number[] }>(
    'SELECT item_id, probs FROM ranking_entries WHERE ranking_id = $1 ORDER BY priority DESC, item_id LIMIT $2',
    [ranked.rankingId, BATCH],
  );
  const top = (probs: number[]) => labels[probs.indexOf(Math.max(...probs))]!;
  await annotate(db.pool, projectId, batch.rows.map((r) => r.item_id), batch.rows.map((r) => top(r.probs)));
}

await compute.close();

// The ceilings, same run: the bare training call on the same 2,000 labels and the bare forward pass.
let started = performance.now();
const model = await trainClassifier(train.map((r) => r.text), train.map((r) => labels.indexOf(r.label)), labels.length, { seed: 1 });
const bareTrain = (performance.now() - started) / 1000;
started = performance.now();
for (let offset = 0; offset < unlabeled.length; offset += 5_000) predictProba(model, unlabeled.slice(offset, offset + 5_000));
const bareForward = (performance.now() - started) / 1000;

const med = (key: 'train' | 'rank' | 'total') => median(rounds.map((r) => r[key]));
console.log(`machine: ${machine()}, tfjs backend: ${backend}`);
console.log(`pool ${POOL}, ${LABELS}+ labels, batch ${BATCH}, ${ROUNDS} rounds, ${threads} compute threads; medians:`);
console.log(`  train-model job:       ${med('train').toFixed(1)} s   (bare trainClassifier on 2,000: ${bareTrain.toFixed(1)} s)`);
console.log(`  rank-pool job, hybrid: ${med('rank').toFixed(1)} s   (bare forward pass over the pool: ${bareForward.toFixed(1)} s)`);
console.log(`  round:                 ${med('total').toFixed(1)} s   (bare train + forward: ${(bareTrain + bareForward).toFixed(1)} s; target < 15 s)`);
await db.drop();
