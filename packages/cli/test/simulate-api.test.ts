import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAlder, type AlderUnderTest } from '../../e2e/src/alder-under-test';
import { runSimulateCommand } from '../src/simulate/simulate.command';
import type { SimulationResults } from '../src/simulate/simulate.types';

// `alder simulate --api` against the four services as separate processes (as in packages/e2e):
// the curve must come from the real trainer's model versions. Small: 150 train / 50 test items,
// two strategies of three models each plus the full-data model, about 20 s on 2 quiet cores;
// the budgets below hold at a tenth of that speed.
const START_BUDGET_MS = 300_000;
const RUN_BUDGET_MS = 300_000;
// Per model version: far above a training of a few seconds, and under the test's budget.
const WAIT_TIMEOUT_S = '240';

const lines = (path: string, n: number) => readFileSync(path, 'utf8').trim().split('\n').slice(0, n).join('\n') + '\n';
let alder: AlderUnderTest;
let dir: string;
let api: string;
let ingest: string;
let adminKey: string;
const logs = () => alder.logs();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alder-simulate-api-'));
  await writeFile(join(dir, 'train.jsonl'), lines('../shared/datasets/trec/train.jsonl', 150));
  await writeFile(join(dir, 'test.jsonl'), lines('../shared/datasets/trec/test.jsonl', 50));
  alder = await startAlder('services');
  ({ api, ingest, adminKey } = alder);
}, START_BUDGET_MS);

afterAll(async () => {
  await alder?.stop();
  await rm(dir, { recursive: true, force: true });
}, START_BUDGET_MS);

it('drives the services through the API and records the trainer\'s model metrics', async () => {
  const out = join(dir, 'out');
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runSimulateCommand(
    [
      '--train', join(dir, 'train.jsonl'), '--test', join(dir, 'test.jsonl'), '--strategies', 'random,margin',
      '--initial', '20', '--batch', '20', '--budget', '50', '--repeats', '1',
      '--api', api, '--ingest-url', ingest, '--wait-timeout', WAIT_TIMEOUT_S, '--out', out,
    ],
    io,
    // The key as a user should give it: from the environment, not the command line.
    { ALDER_API_KEY: adminKey },
  );
  if (code !== 0) throw new Error(`exit ${code}\n${stderr}\n${logs()}`);

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationResults;
  expect(results.mode).toBe('api');
  expect(results.full_data).toEqual([expect.objectContaining({ labels: 150 })]);
  for (const run of results.runs) {
    // 20 imported, a batch of 20, then a last short batch of 10 (trained on request).
    expect(run.curve.map((p) => p.labels)).toEqual([20, 40, 50]);
    for (const p of run.curve) expect(p.accuracy).toBeGreaterThan(0);
  }
  // Paired: the same imported initial set and the trainer's fixed seed give the same first model.
  expect(results.runs[0].curve[0]).toEqual(results.runs[1].curve[0]);
  expect(stdout).toMatch(/^margin\s/m);
}, RUN_BUDGET_MS);
