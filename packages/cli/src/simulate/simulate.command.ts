import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { STRATEGY_NAMES } from '@alder/learning';
import { createSimulatorClient } from './api.client';
import { fullDataViaApi, simulateRunViaApi, type ApiRunContext } from './api.loop';
import { renderCurveSvg } from './curve.svg';
import { DatasetError, loadDataset, type Dataset } from './dataset.loader';
import { initialSet, roundsOf, type RoundInfo } from './in-process.loop';
import { runTasks } from './in-process.runner';
import { createProgress, type Progress } from './progress.reporter';
import type { SimTask } from './run.tasks';
import { parseSimulateArgs, SIMULATE_USAGE, UsageError, type SimulateEnv, type SimulateOptions } from './simulate.args';
import type { FullDataResult, RunResult, SimulationResults } from './simulate.types';
import { STOPPING_NOTE } from './stopping.tracker';
import { median, medianCurve, summarize } from './summary.metrics';
import { formatSummaryTable, tableLegend } from './summary.table';

/** Progress units of one full-data training (about as long as a few rounds). */
const FULL_DATA_UNITS = 3;

export interface SimulateIo {
  stdout: { write(chunk: string): unknown };
  stderr: { isTTY?: boolean; columns?: number; write(chunk: string): unknown };
}

/**
 * `alder simulate`: parses the arguments, runs the loop (in-process, or through --api), writes
 * DIR/results.json and DIR/learning-curve.svg and prints the summary table. `env` is read for
 * ALDER_API_KEY only (the entry point passes `process.env`). Returns the exit status: 0, 2 for
 * bad arguments or input files, 1 for a failure while running.
 */
export async function runSimulateCommand(argv: readonly string[], io: SimulateIo = process, env: SimulateEnv = {}): Promise<number> {
  let options: SimulateOptions;
  let data: Dataset;
  try {
    const parsed = parseSimulateArgs(argv, STRATEGY_NAMES, env);
    if (parsed === 'help') {
      io.stdout.write(SIMULATE_USAGE);
      return 0;
    }
    options = parsed;
    data = await loadDataset(options.train, options.test);
  } catch (error) {
    if (error instanceof UsageError || error instanceof DatasetError) {
      io.stderr.write(`alder simulate: ${error.message}\n(alder simulate --help lists the options)\n`);
      return 2;
    }
    throw error;
  }
  for (const note of options.notes) io.stderr.write(`alder simulate: note: ${note}\n`);
  try {
    const results = await simulate(options, data, io);
    await writeOutputs(options, results, io);
    return 0;
  } catch (error) {
    io.stderr.write(`\nalder simulate: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function simulate(options: SimulateOptions, data: Dataset, io: SimulateIo): Promise<SimulationResults> {
  const began = performance.now();
  const stoppingNote = options.api
    ? 'the first model version whose stopping evidence (GET /v1/projects/{id}/models, `stopping`) recommends stopping; the projects have no label budget'
    : STOPPING_NOTE;
  const datasetName = basename(dirname(resolve(options.train))) || 'dataset';
  const { strategies, repeats, batch, budget, initial, seed } = options;
  const rounds = roundsOf(data.train.texts.length, { batch, budget, initial });
  const fullUnits = options.api ? FULL_DATA_UNITS : repeats * FULL_DATA_UNITS;
  const progress = createProgress(strategies.length * repeats * rounds + fullUnits, io.stderr);
  const onRound = (info: RoundInfo) =>
    progress.advance(1, `${info.strategy} r${info.repeat}: ${info.point.labels} labels, acc ${info.point.accuracy.toFixed(3)}`);
  progress.log(
    `simulate ${datasetName}: ${data.train.texts.length} train / ${data.test.texts.length} test items, ${data.labels.length} labels; ` +
      `${strategies.join(', ')} x ${repeats} repeat(s), ${rounds} models each; ` +
      (options.api ? `through ${options.api.url}` : `in-process, ${Math.min(options.jobs, strategies.length * repeats + repeats)} job(s)`),
  );

  let fullData: FullDataResult[];
  let runs: RunResult[];
  if (options.api) ({ fullData, runs } = await simulateApi(options, data, datasetName, progress, onRound));
  else ({ fullData, runs } = await simulateInProcess(options, data, progress, onRound));
  progress.done();

  const summary = summarize(runs, fullData, strategies);
  // The API key stays out of results.json.
  const { api, notes: _notes, ...config } = options;
  return {
    format: 'alder-simulate/1',
    created_at: new Date().toISOString(),
    mode: api ? 'api' : 'in-process',
    config: {
      ...config,
      train: resolve(options.train),
      test: resolve(options.test),
      seeds: Array.from({ length: repeats }, (_, i) => seed + i),
      ...(api ? { api: api.url, ingest_url: api.ingestUrl, annotators: api.annotators, api_initial: api.initial } : {}),
    },
    dataset: { train: resolve(options.train), test: resolve(options.test), train_count: data.train.texts.length, test_count: data.test.texts.length, labels: data.labels },
    stopping: { note: stoppingNote },
    full_data: fullData,
    runs,
    summary,
    elapsed_ms: Math.round(performance.now() - began),
  };
}

async function simulateInProcess(options: SimulateOptions, data: Dataset, progress: Progress, onRound: (info: RoundInfo) => void) {
  const tasks: SimTask[] = [];
  // Repeat by repeat, so paired runs finish close together and a stopped run has whole repeats.
  for (let repeat = 0; repeat < options.repeats; repeat++) {
    const seed = options.seed + repeat;
    for (const strategy of options.strategies) tasks.push({ kind: 'run', strategy, repeat, seed });
    tasks.push({ kind: 'full', repeat, seed });
  }
  const settings = { batch: options.batch, budget: options.budget, initial: options.initial };
  const results = await runTasks(
    tasks,
    { data, init: { train: options.train, test: options.test, settings }, jobs: options.jobs },
    {
      onRound,
      onResult: (task, result) => {
        if (result.kind === 'full') progress.advance(FULL_DATA_UNITS, `full data r${task.repeat}: acc ${result.result.accuracy.toFixed(3)}`);
      },
    },
  );
  return {
    fullData: results.flatMap((r) => (r.kind === 'full' ? [r.result] : [])),
    runs: results.flatMap((r) => (r.kind === 'run' ? [r.result] : [])),
  };
}

async function simulateApi(
  options: SimulateOptions,
  data: Dataset,
  datasetName: string,
  progress: Progress,
  onRound: (info: RoundInfo) => void,
) {
  const api = options.api!;
  const client = createSimulatorClient({ url: api.url, ingestUrl: api.ingestUrl, key: api.key });
  await client.ready();
  const ctx: ApiRunContext = {
    client,
    api,
    data,
    datasetName,
    stamp: new Date().toISOString(),
    batch: options.batch,
    budget: options.budget,
    onRound,
    log: (line) => progress.log(line),
  };
  const full = await fullDataViaApi(ctx);
  progress.advance(FULL_DATA_UNITS, `full data: acc ${full.accuracy.toFixed(3)}`);
  const runs: RunResult[] = [];
  for (let repeat = 0; repeat < options.repeats; repeat++) {
    const seed = options.seed + repeat;
    const initial = api.initial === 'import' ? initialSet(data, options.initial, seed) : null;
    for (const strategy of options.strategies) {
      runs.push(await simulateRunViaApi(ctx, { strategy, repeat, seed, initialCount: options.initial, initial }));
    }
  }
  return { fullData: [full], runs };
}

async function writeOutputs(options: SimulateOptions, results: SimulationResults, io: SimulateIo): Promise<void> {
  await mkdir(options.out, { recursive: true });
  const resultsPath = join(options.out, 'results.json');
  const svgPath = join(options.out, 'learning-curve.svg');
  const fullAccuracy = median(results.full_data.map((f) => f.accuracy));
  const series = options.strategies.map((strategy) => ({
    strategy,
    band: medianCurve(results.runs.filter((r) => r.strategy === strategy).map((r) => r.curve)),
  }));
  const name = basename(dirname(resolve(options.train)));
  const title = `${name}: test accuracy vs labels (${results.mode}, ${options.repeats} repeat${options.repeats > 1 ? 's' : ''}, batch ${options.batch})`;
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(svgPath, renderCurveSvg(series, { title, fullAccuracy }));
  const table = formatSummaryTable(options.strategies.map((s) => results.summary[s]));
  io.stdout.write(`\n${table}\n\n${tableLegend(fullAccuracy, options.repeats, results.stopping.note)}\n\n`);
  io.stdout.write(`wrote ${resultsPath}\nwrote ${svgPath}\n(${(results.elapsed_ms / 1000).toFixed(1)} s)\n`);
}
