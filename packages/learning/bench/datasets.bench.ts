// Trains on each dataset's full train split and scores its test split. Run from the repo root:
//   node --import tsx packages/learning/bench/datasets.bench.ts [name ...]
// A script, not part of the package (which reads no environment). Environment:
//   ALDER_BENCH_OPTS='{"seed":2}'  JSON TrainOptions overriding the defaults
//   ALDER_BENCH_SPLIT=dev          train on a seeded 80% of train, score the other 20% (for tuning)
//   ALDER_TF_BACKEND=cpu           initBackend preference (auto, tfjs-node-gpu, tfjs-node, wasm, cpu)
import { readFileSync } from 'node:fs';
import { argmaxRows, evaluate, initBackend, predictProba, trainClassifier, type TrainOptions } from '../src/index';
import { createRng, permutation } from '../src/rng';

const ALL = ['trec', 'sms_spam', 'subj', 'mr', 'chnsenticorp_htl'];
const REF_TEST: Record<string, number> = { trec: 0.876, sms_spam: 0.99, subj: 0.915, mr: 0.773, chnsenticorp_htl: 0.894 };

function load(path: string): { text: string; label: string }[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const REF: Record<string, number> = process.env.ALDER_BENCH_SPLIT === 'dev' ? {} : REF_TEST;
const names = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const opts: TrainOptions = JSON.parse(process.env.ALDER_BENCH_OPTS ?? '{}');
const backend = await initBackend((m) => console.error(m), (process.env.ALDER_TF_BACKEND as never) ?? 'auto');
for (const name of names) {
  let train = load(`../shared/datasets/${name}/train.jsonl`);
  let test = load(`../shared/datasets/${name}/test.jsonl`);
  if (process.env.ALDER_BENCH_SPLIT === 'dev') {
    // Hyperparameters were chosen on this split, never on test.
    const order = permutation(train.length, createRng(7));
    const cut = Math.floor(train.length * 0.8);
    test = Array.from(order.subarray(cut), (i) => train[i]);
    train = Array.from(order.subarray(0, cut), (i) => train[i]);
  }
  const labels = [...new Set(train.map((r) => r.label))].sort();
  const y = train.map((r) => labels.indexOf(r.label));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const model = await trainClassifier(train.map((r) => r.text), y, labels.length, opts);
  const trainS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const trainCpuS = (cpu.user + cpu.system) / 1e6;
  const t1 = performance.now();
  const p = predictProba(model, test.map((r) => r.text));
  const predS = (performance.now() - t1) / 1000;
  const yPred = argmaxRows(p, labels.length);
  const { accuracy: acc, macroF1 } = evaluate(test.map((r) => labels.indexOf(r.label)), yPred, labels);
  console.log(`${name.padEnd(18)} acc ${acc.toFixed(3)} (ref ${REF[name]}) macroF1 ${macroF1.toFixed(3)} train ${trainS.toFixed(1)}s wall ${trainCpuS.toFixed(1)}s cpu on ${backend}, predict ${(test.length / predS).toFixed(0)} docs/s, epochs ${model.meta.epochs}`);
}
