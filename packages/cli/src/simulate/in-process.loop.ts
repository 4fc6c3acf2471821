import {
  argmaxRows,
  coldStartOrder,
  createRng,
  drawKey,
  evaluate,
  predictProba,
  rankPool,
  selectionContext,
  trainClassifier,
  trainCommittee,
  trainOptionsFor,
  type StrategyName,
  type TrainedModel,
} from '@alder/learning';
import type { Dataset } from './dataset.loader';
import type { CurvePoint, FullDataResult, RunResult, StopPoint } from './simulate.types';
import { createStopTracker } from './stopping.tracker';

/** What every run of one simulation shares. */
export interface LoopSettings {
  batch: number;
  budget: number;
}

/** One strategy in one repeat; `initial` (train indices) is the repeat's cold-start set. */
export interface RunSpec {
  strategy: string;
  repeat: number;
  seed: number;
  initial: readonly number[];
}

/** Reported after every model of a run. */
export interface RoundInfo {
  strategy: string;
  repeat: number;
  point: CurvePoint;
}

/** The first `initial` items of the learning package's cold-start order for this seed. */
export function initialSet(data: Dataset, initial: number, seed: number): number[] {
  return coldStartOrder(data.train.texts, { seed }).slice(0, Math.min(initial, data.train.texts.length));
}

/** How many models a run trains: one on the initial set, then one per batch until the budget or pool runs out. */
export function roundsOf(poolSize: number, settings: LoopSettings & { initial: number }): number {
  const cap = Math.min(settings.budget, poolSize);
  const first = Math.min(settings.initial, cap);
  return 1 + Math.ceil((cap - first) / settings.batch);
}

/** The random strategy's draws get a stream of their own, apart from the cold start's and training's. */
const drawSeed = (seed: number) => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0) ^ 0x2545f491;

function evaluateOn(model: TrainedModel, data: Dataset): { accuracy: number; macro_f1: number } {
  const predicted = argmaxRows(predictProba(model, data.test.texts), data.labels.length);
  const result = evaluate(data.test.y, predicted, data.labels);
  return { accuracy: result.accuracy, macro_f1: result.macroF1 };
}

/** Indices (into scores) of the `take` highest scores; ties go to the lower index so runs repeat exactly. */
export function topK(scores: Float32Array, take: number): number[] {
  const order = Array.from(scores.keys());
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, take);
}

/**
 * One active-learning run, in-process: train on the labels so far, evaluate on the test split,
 * score the unlabeled pool with the strategy, reveal the labels of the top `batch`, repeat until
 * the budget or the pool runs out. The strategy sees only the model's probabilities; gold labels
 * of the pool are read only when an item is "revealed". Every model is also judged by the
 * learning package's stopping rule; the first that it says to stop at is the run's `stop`
 * (the run goes on to the budget, so the curve shows what stopping there would have cost).
 */
export async function simulateRun(
  data: Dataset,
  spec: RunSpec,
  settings: LoopSettings,
  options: { onRound?: (info: RoundInfo) => void } = {},
): Promise<RunResult> {
  const began = performance.now();
  const { texts, y } = data.train;
  const k = data.labels.length;
  const strategy = spec.strategy as StrategyName;
  const labeled: number[] = [...spec.initial];
  const isLabeled = new Uint8Array(texts.length);
  for (const i of labeled) isLabeled[i] = 1;
  let unlabeled = texts.map((_, i) => i).filter((i) => !isLabeled[i]);
  const rng = createRng(drawSeed(spec.seed));
  // The repeat's fixed random order of the pool: random takes it in turn, and auto's random share
  // draws from it too, so paired runs share their random draws (common random numbers).
  const keys = Float64Array.from(texts, (_, i) => drawKey(drawSeed(spec.seed), i));
  const curve: CurvePoint[] = [];
  const stopTracker = createStopTracker(texts, k, spec.seed);
  let stop: StopPoint | null = null;
  let trainMs = 0;
  let scoreMs = 0;
  let stopMs = 0;

  for (;;) {
    let t = performance.now();
    const model = await trainClassifier(
      labeled.map((i) => texts[i]),
      labeled.map((i) => y[i]),
      k,
      { seed: spec.seed, ...trainOptionsFor(strategy) },
    );
    trainMs += performance.now() - t;
    const point = { labels: labeled.length, ...evaluateOn(model, data) };
    curve.push(point);
    t = performance.now();
    if (!stop && stopTracker.observe(model, labeled.length, unlabeled)) stop = { labels: point.labels, accuracy: point.accuracy };
    stopMs += performance.now() - t;
    options.onRound?.({ strategy: spec.strategy, repeat: spec.repeat, point });
    if (labeled.length >= settings.budget || unlabeled.length === 0) break;

    t = performance.now();
    const take = Math.min(settings.batch, settings.budget - labeled.length, unlabeled.length);
    // Every strategy, per-item score or batch, goes through the learning package's rankPool.
    const candidates = unlabeled.map((i) => texts[i]);
    let ctx = selectionContext(model, candidates, {
      labels: data.labels,
      labeledTexts: labeled.map((i) => texts[i]),
      labeledY: labeled.map((i) => y[i]),
      rng,
    });
    ctx = { ...ctx, drawKeys: Float64Array.from(unlabeled, (i) => keys[i]) };
    const committee =
      strategy === 'committee'
        ? (await trainCommittee(labeled.map((i) => texts[i]), labeled.map((i) => y[i]), k, { seed: spec.seed + labeled.length })).map((m) =>
            predictProba(m, candidates),
          )
        : undefined;
    const picked = rankPool(strategy, { ...ctx, committee }, take).order.slice(0, take).map((position) => unlabeled[position]);
    for (const i of picked) {
      isLabeled[i] = 1;
      labeled.push(i);
    }
    unlabeled = unlabeled.filter((i) => !isLabeled[i]);
    scoreMs += performance.now() - t;
  }

  return {
    strategy: spec.strategy,
    repeat: spec.repeat,
    seed: spec.seed,
    curve,
    stop,
    elapsed_ms: Math.round(performance.now() - began),
    train_ms: Math.round(trainMs),
    score_ms: Math.round(scoreMs),
    stop_ms: Math.round(stopMs),
  };
}

/** The reference: one model on every train item, with the repeat's seed. */
export async function fullDataRun(data: Dataset, repeat: number, seed: number): Promise<FullDataResult> {
  const began = performance.now();
  const model = await trainClassifier(data.train.texts, data.train.y, data.labels.length, { seed });
  const trainMs = Math.round(performance.now() - began);
  return { repeat, seed, labels: data.train.texts.length, ...evaluateOn(model, data), train_ms: trainMs };
}
