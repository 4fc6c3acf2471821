import type { Schemas } from '@alder/api-types';
import type { ApiOptions } from './simulate.args';
import type { AlderClient } from '@alder/client';
import type { Dataset } from './dataset.loader';
import type { RoundInfo } from './in-process.loop';
import type { CurvePoint, FullDataResult, RunResult, StopPoint } from './simulate.types';

/** Items per ingest request: well under the API's default 10,000 items and 10 MiB. */
const INGEST_CHUNK = 2_000;
const POLL_MS = 250;

type ModelVersion = Schemas['ModelVersion'];

export interface ApiRunContext {
  client: AlderClient;
  api: ApiOptions;
  data: Dataset;
  datasetName: string;
  /** Appended to project names, so reruns against one server are told apart. */
  stamp: string;
  batch: number;
  budget: number;
  onRound?: (info: RoundInfo) => void;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The simulation went wrong (a failed model, a timeout, an unexpected item): the message says how. */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

async function ingest(ctx: ApiRunContext, projectId: string, items: Schemas['IngestItem'][]): Promise<void> {
  for (let start = 0; start < items.length; start += INGEST_CHUNK) {
    const chunk = items.slice(start, start + INGEST_CHUNK);
    const result = await ctx.client.ingestItems(projectId, { items: chunk });
    if (result.inserted !== chunk.length) throw new SimulationError(`ingest inserted ${result.inserted} of ${chunk.length} items (duplicates ${result.duplicates})`);
  }
}

const testItems = (data: Dataset): Schemas['IngestItem'][] =>
  data.test.texts.map((text, i) => ({ external_id: `test-${i}`, text, label: data.labels[data.test.y[i]], split: 'test' }));

/**
 * Waits for a ready model version above `after` trained on at least `labels` labels, and for
 * the pool to be re-ranked with it (so the next tasks come from that model). A failed version
 * fails the simulation; so does `waitTimeoutMs` passing, with the project's state in the message.
 */
async function waitForModel(ctx: ApiRunContext, projectId: string, after: number, labels: number, waitForRanking: boolean): Promise<ModelVersion> {
  const deadline = Date.now() + ctx.api.waitTimeoutMs;
  let offset = 0;
  let nudged = false;
  let model: ModelVersion | undefined;
  while (!model) {
    const page = await ctx.client.listModels(projectId, { limit: 1000, offset });
    const fresh = page.data.filter((m) => m.version > after);
    const failed = fresh.find((m) => m.status === 'failed');
    if (failed) throw new SimulationError(`model version ${failed.version} of project ${projectId} failed: ${failed.error ?? 'no error given'}`);
    model = fresh.find((m) => m.status === 'ready' && m.train_count >= labels);
    // A version that saw fewer labels means a training began before the last label landed;
    // without a follow-up it would never catch up, so ask for one once.
    const short = fresh.find((m) => m.status === 'ready' && m.train_count < labels);
    if (!model && short && !nudged && !fresh.some((m) => m.status === 'training')) {
      await ctx.client.requestTraining(projectId);
      nudged = true;
    }
    offset = Math.max(0, page.total - 3);
    if (model) break;
    if (Date.now() > deadline) throw new SimulationError(await timeoutMessage(ctx, projectId, `a model trained on ${labels} labels`));
    await sleep(POLL_MS);
  }
  if (waitForRanking) {
    for (;;) {
      const progress = await ctx.client.getProgress(projectId);
      if ((progress.ranking?.model_version ?? 0) >= model.version) break;
      if (Date.now() > deadline) throw new SimulationError(await timeoutMessage(ctx, projectId, `the pool to be ranked by model version ${model.version}`));
      await sleep(POLL_MS);
    }
  }
  return model;
}

async function timeoutMessage(ctx: ApiRunContext, projectId: string, what: string): Promise<string> {
  const state = await ctx.client.getProgress(projectId).then(
    (p) =>
      `labels ${p.label_count}, training ${p.training.in_progress ? `in progress (version ${p.training.version})` : 'not running'}, ` +
      `current model ${p.current_model ? `v${p.current_model.version} on ${p.current_model.train_count} labels` : 'none'}, ` +
      `ranking ${p.ranking ? `by ${p.ranking.model_version === null ? 'cold start' : `v${p.ranking.model_version}`}` : 'none'}`,
    (error: unknown) => `progress unavailable: ${(error as Error).message}`,
  );
  return `timed out after ${ctx.api.waitTimeoutMs / 1000} s waiting for ${what} in project ${projectId} (${state}); are the trainer and sampling workers running?`;
}

function pointOf(model: ModelVersion): CurvePoint {
  const accuracy = model.metrics?.accuracy;
  if (accuracy === null || accuracy === undefined) throw new SimulationError(`model version ${model.version} has no test accuracy (were the test items ingested?)`);
  return { labels: model.train_count, accuracy, macro_f1: model.metrics?.macro_f1 ?? 0 };
}

/**
 * Simulated annotators label up to `count` items concurrently, all as the key's user (with the
 * default overlap of one, a user may hold many leases at once): each takes the next task,
 * submits its hidden gold label and goes on. Returns how many were labeled (fewer when the
 * pool runs out).
 */
async function annotate(ctx: ApiRunContext, projectId: string, gold: Map<string, string>, count: number): Promise<number> {
  let claimed = 0;
  let done = 0;
  let exhausted = false;
  const annotator = async () => {
    while (!exhausted && claimed < count) {
      claimed++;
      const task = await ctx.client.nextTask(projectId);
      if (!task) {
        claimed--;
        exhausted = true;
        return;
      }
      const label = gold.get(task.item.external_id);
      if (label === undefined) throw new SimulationError(`task ${task.task_id} is for item "${task.item.external_id}", which the simulator did not ingest`);
      await ctx.client.submitAnnotation(task.task_id, { label, time_spent_ms: 0 });
      done++;
    }
  };
  await Promise.all(Array.from({ length: ctx.api.annotators }, () => annotator()));
  return done;
}

/**
 * One strategy in one repeat through a running Alder: a project with the dataset's labels, the
 * train items ingested with labels withheld (the paired initial set with its labels when
 * api.initial is 'import'), the test items as the `test` split; then annotators label batch
 * after batch while the real trainer and sampling workers retrain and re-rank. The curve is
 * each model version's train_count and test metrics as the API reports them; the stop is the
 * first version whose stopping evidence recommends stopping.
 */
export async function simulateRunViaApi(
  ctx: ApiRunContext,
  spec: { strategy: string; repeat: number; seed: number; initialCount: number; initial: readonly number[] | null },
): Promise<RunResult> {
  const began = performance.now();
  const { data, batch, budget } = ctx;
  // With no initial set given, annotators label the service's own cold-start picks.
  const importInitial = spec.initial !== null;
  const initialCount = Math.min(spec.initial?.length ?? spec.initialCount, budget);
  const project = await ctx.client.createProject({
    name: `simulate ${ctx.datasetName} ${spec.strategy} r${spec.repeat} ${ctx.stamp}`.slice(0, 200),
    labels: data.labels,
    strategy: spec.strategy as Schemas['Strategy'],
    retrain_every: initialCount,
  });
  const projectId = project.id;
  ctx.log?.(`api: project ${projectId} for ${spec.strategy} repeat ${spec.repeat}`);

  const gold = new Map<string, string>();
  const imported = new Set(spec.initial ?? []);
  const pool: Schemas['IngestItem'][] = [];
  const labeledPool: Schemas['IngestItem'][] = [];
  data.train.texts.forEach((text, i) => {
    const external_id = `train-${i}`;
    const label = data.labels[data.train.y[i]];
    if (imported.has(i)) labeledPool.push({ external_id, text, label, split: 'pool' });
    else {
      gold.set(external_id, label);
      pool.push({ external_id, text, split: 'pool' });
    }
  });
  // Test items first, so the first model is evaluated on all of them; the imported labels
  // last, in one request, so they cross the retrain threshold together.
  await ingest(ctx, projectId, testItems(data));
  await ingest(ctx, projectId, pool);
  let labeled = 0;
  if (importInitial) {
    await ingest(ctx, projectId, labeledPool);
    labeled = labeledPool.length;
  } else {
    await waitForColdStart(ctx, projectId);
    labeled = await annotate(ctx, projectId, gold, initialCount);
  }

  const curve: CurvePoint[] = [];
  let stop: StopPoint | null = null;
  let model = await waitForModel(ctx, projectId, 0, labeled, true);
  const record = (m: ModelVersion) => {
    const point = pointOf(m);
    curve.push(point);
    // The trainer's own stopping evidence for this version (the project has no label budget).
    if (!stop && m.stopping?.stop_recommended) stop = { labels: point.labels, accuracy: point.accuracy };
    ctx.onRound?.({ strategy: spec.strategy, repeat: spec.repeat, point });
  };
  record(model);
  if (batch !== initialCount) await ctx.client.updateProject(projectId, { retrain_every: batch });

  while (labeled < budget) {
    const want = Math.min(batch, budget - labeled);
    const got = await annotate(ctx, projectId, gold, want);
    labeled += got;
    if (got === 0) break;
    // A full batch crosses retrain_every by itself; a short last one needs asking.
    if (got < batch) await ctx.client.requestTraining(projectId);
    model = await waitForModel(ctx, projectId, model.version, labeled, labeled < budget && got === want);
    record(model);
    if (got < want) break;
  }

  return {
    strategy: spec.strategy,
    repeat: spec.repeat,
    seed: spec.seed,
    curve,
    stop,
    elapsed_ms: Math.round(performance.now() - began),
  };
}

async function waitForColdStart(ctx: ApiRunContext, projectId: string): Promise<void> {
  const deadline = Date.now() + ctx.api.waitTimeoutMs;
  // A ranking with entries: one published before the pool arrived (the test items come first) is empty.
  while (!(await ctx.client.getProgress(projectId)).ranking?.item_count) {
    if (Date.now() > deadline) throw new SimulationError(await timeoutMessage(ctx, projectId, 'the cold-start ranking'));
    await sleep(POLL_MS);
  }
}

/**
 * The full-data reference through the API: a project with every train item imported with its
 * label (retrain_every = their count, so exactly one training covers all of them). The trainer
 * trains with a fixed seed, so one reference serves every repeat.
 */
export async function fullDataViaApi(ctx: ApiRunContext): Promise<FullDataResult> {
  const began = performance.now();
  const { data } = ctx;
  const project = await ctx.client.createProject({
    name: `simulate ${ctx.datasetName} full-data ${ctx.stamp}`.slice(0, 200),
    labels: data.labels,
    retrain_every: data.train.texts.length,
  });
  await ingest(ctx, project.id, testItems(data));
  await ingest(
    ctx,
    project.id,
    data.train.texts.map((text, i) => ({ external_id: `train-${i}`, text, label: data.labels[data.train.y[i]], split: 'pool' as const })),
  );
  const model = await waitForModel(ctx, project.id, 0, data.train.texts.length, false);
  const point = pointOf(model);
  return { repeat: 0, seed: 0, labels: point.labels, accuracy: point.accuracy, macro_f1: point.macro_f1, train_ms: model.train_ms ?? Math.round(performance.now() - began) };
}
