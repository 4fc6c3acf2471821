import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAlder, type AlderUnderTest } from '../../e2e/src/alder-under-test';
import { runSimulateCommand } from '../src/simulate/simulate.command';
import type { SimulationResults } from '../src/simulate/simulate.types';

// `alder simulate --api` against the four services as separate processes (as in packages/e2e):
// the curve must come from the real trainer's model versions.

const lines = (path: string, n: number) => readFileSync(path, 'utf8').trim().split('\n').slice(0, n).join('\n') + '\n';
let alder: AlderUnderTest;
let dir: string;
let api: string;
let ingest: string;
let adminKey: string;
const logs = () => alder.logs();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alder-simulate-api-'));
  await writeFile(join(dir, 'train.jsonl'), lines('../shared/datasets/trec/train.jsonl', 400));
  await writeFile(join(dir, 'test.jsonl'), lines('../shared/datasets/trec/test.jsonl', 100));
  alder = await startAlder('services');
  ({ api, ingest, adminKey } = alder);
}, 90_000);

afterAll(async () => {
  await alder?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

it('drives the services through the API and records the trainer\'s model metrics', async () => {
  const out = join(dir, 'out');
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runSimulateCommand(
    [
      '--train', join(dir, 'train.jsonl'), '--test', join(dir, 'test.jsonl'), '--strategies', 'random,margin',
      '--initial', '20', '--batch', '20', '--budget', '50', '--repeats', '1',
      '--api', api, '--ingest-url', ingest, '--api-key', adminKey, '--wait-timeout', '40', '--out', out,
    ],
    io,
  );
  if (code !== 0) throw new Error(`exit ${code}\n${stderr}\n${logs()}`);

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults;
  expect(results.mode).toBe('api');
  expect(results.full_data).toEqual([expect.objectContaining({ labels: 400 })]);
  for (const run of results.runs) {
    // 20 imported, a batch of 20, then a last short batch of 10 (trained on request).
    expect(run.curve.map((p) => p.labels)).toEqual([20, 40, 50]);
    for (const p of run.curve) expect(p.accuracy).toBeGreaterThan(0);
  }
  // Paired: the same imported initial set and the trainer's fixed seed give the same first model.
  expect(results.runs[0].curve[0]).toEqual(results.runs[1].curve[0]);
  expect(stdout).toMatch(/^margin\s/m);
}, 60_000);
