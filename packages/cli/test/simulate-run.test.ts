import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulateCommand } from '../src/simulate/simulate.command';
import type { SimulationResults } from '../src/simulate/simulate.types';

// A small in-process simulation on a slice of trec (jest runs from the repo root): two
// strategies, one repeat, two models each plus the full-data reference. Every model costs at
// least 300 mini-batch steps whatever the label count, so the model count sets the time.
const lines = (path: string, n: number) => readFileSync(path, 'utf8').trim().split('\n').slice(0, n).join('\n') + '\n';
let dir: string;
// About 8 s on 2 quiet cores: the budget holds at a tenth of that speed.
const RUN_BUDGET_MS = 150_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alder-simulate-'));
  await writeFile(join(dir, 'train.jsonl'), lines('../shared/datasets/trec/train.jsonl', 300));
  await writeFile(join(dir, 'test.jsonl'), lines('../shared/datasets/trec/test.jsonl', 100));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('runs random and margin to the budget and writes results.json and the svg', async () => {
  const out = join(dir, 'out');
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const args = ['--train', join(dir, 'train.jsonl'), '--test', join(dir, 'test.jsonl'), '--strategies', 'random,margin'];
  const code = await runSimulateCommand([...args, '--budget', '50', '--batch', '25', '--repeats', '1', '--jobs', '1', '--out', out], io);
  expect({ code, stderr: code ? stderr : '' }).toEqual({ code: 0, stderr: '' });

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults;
  expect(results.format).toBe('alder-simulate/1');
  expect(results.mode).toBe('in-process');
  expect(results.dataset).toMatchObject({ train_count: 300, test_count: 100, labels: ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'] });
  expect(results.runs.map((r) => [r.strategy, r.repeat])).toEqual([['random', 0], ['margin', 0]]);
  for (const run of results.runs) {
    expect(run.curve.map((p) => p.labels)).toEqual([25, 50]);
    for (const p of run.curve) {
      expect(p.accuracy).toBeGreaterThanOrEqual(0);
      expect(p.accuracy).toBeLessThanOrEqual(1);
      expect(p.macro_f1).toBeGreaterThanOrEqual(0);
    }
  }
  // Paired: both strategies start from the same cold-start set and training seed.
  expect(results.runs[0].curve[0]).toEqual(results.runs[1].curve[0]);
  expect(results.full_data).toHaveLength(1);
  expect(results.full_data[0].labels).toBe(300);
  expect(Object.keys(results.summary)).toEqual(['random', 'margin']);
  const margin = results.summary.margin;
  expect(margin.auc).toBeGreaterThan(0);
  expect(Object.keys(margin.labels_to_reach)).toEqual(['90', '95', '98']);
  expect(Object.keys(margin.saving_vs_random)).toEqual(['90', '95', '98']);
  expect(typeof margin.worst_gap_to_random).toBe('number');
  expect(results.summary.random.worst_gap_to_random).toBe(0);
  expect(margin.final?.labels).toBe(50);
  expect(margin).toHaveProperty('stop');

  const svg = readFileSync(join(out, 'learning-curve.svg'), 'utf8');
  expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('>margin</text>');
  expect(stdout).toMatch(/^strategy\s+AUC/m);
  expect(stdout).toMatch(/^margin\s/m);
  expect(existsSync(join(out, 'learning-curve.svg'))).toBe(true);
}, RUN_BUDGET_MS);

it('gives the same results on a pool of threads (piscina) as on this thread', async () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
  };
  const args = ['--train', join(dir, 'train.jsonl'), '--test', join(dir, 'test.jsonl'), '--strategies', 'random', '--budget', '50', '--batch', '25', '--repeats', '1'];
  const runs: SimulationResults['runs'][] = [];
  for (const jobs of ['1', '2']) {
    const out = join(dir, `jobs-${jobs}`);
    const { out: printed, io: sink } = io();
    const code = await runSimulateCommand([...args, '--jobs', jobs, '--out', out], sink);
    expect({ jobs, code, stderr: code ? printed.stderr : '' }).toEqual({ jobs, code: 0, stderr: '' });
    runs.push((JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults).runs);
  }
  // Same seeds, same learning code: the threads change where it runs, not what it computes.
  expect(runs[1]!.map((r) => r.curve)).toEqual(runs[0]!.map((r) => r.curve));
  expect(runs[1]![0]!.curve.map((p) => p.labels)).toEqual([25, 50]);
}, RUN_BUDGET_MS);
